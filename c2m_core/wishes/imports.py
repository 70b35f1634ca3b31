"""Reading wishes from CSV and JSON Lines files, row by row, with line numbers.

CSV: a header row naming ``customer`` (required), any of ``quantity``, ``region``,
``price_ceiling``, ``note``, ``external_id``, ``raw``, and one column per catalog module whose
cells hold option ids (an empty cell leaves the module open). JSON Lines: one object per line
with those keys and ``configuration`` as an object of module ids to option ids.

A row that cannot be read is yielded as ``Rejected`` with its line number and reason; a file
that cannot be read at all (not UTF-8, unknown columns) raises ``InvalidInput`` before anything
is yielded.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..errors import InvalidInput
from .records import FIELDS, Rejected

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
CHUNK = 1 << 20
CSV_FIELDS = tuple(f for f in FIELDS if f != "configuration")


def detect_format(path: str | Path, given: str | None = None) -> str:
    """``csv`` or ``jsonl``, from ``given`` or else from the file's extension."""
    accepted = sorted(set(FORMATS.values()))
    if given is not None:
        if given not in accepted:
            raise InvalidInput(f"format {given!r} is not one of {', '.join(accepted)}")
        return given
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(
            f"{path}: cannot tell the format from the extension {suffix or '(none)'!r}; use "
            f"{', '.join(sorted(FORMATS))} or pass --format ({', '.join(accepted)})"
        )
    return FORMATS[suffix]


def check_utf8(path: str | Path) -> int:
    """Check the whole file is UTF-8 text; return its number of lines."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines, offset, last = 0, 0, b"\n"
    try:
        with open(path, "rb") as fp:
            while chunk := fp.read(CHUNK):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as ex:
                    line = lines + chunk.count(b"\n", 0, ex.start) + 1
                    raise InvalidInput(
                        f"{path}: not UTF-8 text: byte 0x{chunk[ex.start]:02x} at line {line} "
                        f"(byte {offset + ex.start}) cannot be decoded; save the file as UTF-8"
                    ) from None
                lines += chunk.count(b"\n")
                offset += len(chunk)
                last = chunk[-1:]
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise InvalidInput(
                    f"{path}: not UTF-8 text: it ends inside a multi-byte character; "
                    "save the file as UTF-8"
                ) from None
    except OSError as ex:
        raise InvalidInput(f"{path}: cannot read the file ({ex.strerror})") from None
    return lines + (last != b"\n")


def read_wishes(
    path: str | Path, module_ids: Sequence[str], format: str | None = None
) -> tuple[int, Iterator[tuple[int, dict] | Rejected]]:
    """(number of lines, rows) of a wish file; checks format and encoding first."""
    fmt = detect_format(path, format)
    lines = check_utf8(path)
    reader = _csv_rows if fmt == "csv" else _jsonl_rows
    rows = reader(path, tuple(module_ids))
    if fmt == "csv":
        next(rows)  # the header is checked before anything is stored
    return lines, rows


def _csv_rows(path, module_ids: tuple[str, ...]):
    with open(path, encoding="utf-8-sig", newline="") as fp:
        reader = csv.reader(fp)
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration:
            raise InvalidInput(f"{path}: the file is empty; it needs a header row") from None
        except csv.Error as ex:
            raise InvalidInput(f"{path}: line 1: the header row cannot be read ({ex})") from None
        accepted = CSV_FIELDS + module_ids
        for name in header:
            if name not in accepted:
                raise InvalidInput(
                    f"{path}: unknown column {name!r}; columns are {', '.join(CSV_FIELDS)} "
                    f"and the modules {', '.join(module_ids)}"
                )
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise InvalidInput(f"{path}: column {repeated[0]!r} appears more than once")
        if "customer" not in header:
            raise InvalidInput(f"{path}: the header needs a 'customer' column")
        fields = [(i, name) for i, name in enumerate(header) if name in CSV_FIELDS]
        modules = [(i, name) for i, name in enumerate(header) if name in module_ids]
        width = len(header)
        yield None
        end = reader.line_num
        while True:
            start = end + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as ex:
                end = reader.line_num
                yield Rejected(start, f"the row cannot be read as CSV ({ex})")
                continue
            end = reader.line_num
            if not row:
                continue
            if len(row) != width:
                yield Rejected(start, f"expected {width} fields like the header, got {len(row)}")
                continue
            data: dict[str, object] = {name: row[i] for i, name in fields if row[i]}
            data["configuration"] = {name: row[i].strip() for i, name in modules if row[i]}
            yield start, data


def _jsonl_rows(path, module_ids: tuple[str, ...]):
    with open(path, encoding="utf-8-sig") as fp:
        for line, text in enumerate(fp, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as ex:
                yield Rejected(line, f"not valid JSON ({ex.msg} at column {ex.colno})")
                continue
            if not isinstance(data, dict):
                yield Rejected(line, f"expected a JSON object, got {type(data).__name__}")
                continue
            unknown = sorted(set(data) - set(FIELDS))
            if unknown:
                yield Rejected(line, f"unknown key {unknown[0]!r}; keys are {', '.join(FIELDS)}")
                continue
            yield line, data
