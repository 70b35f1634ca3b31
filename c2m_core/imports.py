"""One reader for every bulk import (wishes, ballots, pledges) and the report they share.

Files are CSV (a header row, then one row per record) or JSON Lines (one object per line),
UTF-8 with or without a byte-order mark. Before any row is handed out the whole file is checked:
a file in another encoding, with NUL bytes, with more rows or longer lines than the limits
accept, an empty file or a CSV header with no rows raise ``InvalidInput`` naming the line and
what is accepted, so nothing is stored from a file that cannot be read. A row that cannot be
read is yielded as ``Rejected`` with its line number; the others as ``(line, data)``.

Exit codes of the import commands, the same for all three (see ``exit_code``): 0 every row
stored, 1 some rows rejected (with ``--strict``: none stored), 2 the file or the arguments
unusable (nothing stored).
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain, islice
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import IO, Any, NamedTuple, Protocol

import attrs

from .errors import InvalidInput

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
MAX_FIELD = 10_000
"""The most characters in one field (a CSV cell, a JSON string value)."""
MAX_COLUMNS = 256
"""The most columns of a CSV header (and keys of a JSON Lines object)."""
MAX_LINE = 16 << 20
"""The most bytes in one line of a file."""
MAX_ROWS = 10_000_000
"""The most rows in one file; split larger files."""
CHUNK = 1 << 20
BOMS = {
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
}
EXIT_STORED = 0
EXIT_REJECTED = 1
EXIT_UNUSABLE = 2
EXIT_CODES_HELP = (
    "Exit codes: 0 every row stored; 1 some rows rejected (each listed with its line number; "
    "with --strict nothing is stored); 2 the file or the arguments cannot be used (nothing "
    "is stored)."
)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while one import batch is read and stored.

    A batch makes tens of thousands of small lists and dicts that live until it is stored;
    each pass of the collector walks all of them again (about 40% of a ballot import). They
    hold no reference cycles, so reference counting frees them all anyway. The collector runs
    again as soon as the batch is done, even when it fails.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@attrs.frozen
class Rejected:
    """A row of an import that was not stored: its line number and why."""

    line: int
    reason: str

    def to_dict(self) -> dict:
        return attrs.asdict(self)


class ImportReport(Protocol):
    """What every import returns: rows read, rows rejected, whether anything was stored."""

    rejected: tuple

    def to_dict(self) -> dict: ...


def exit_code(report: ImportReport) -> int:
    """0 when every row was stored, 1 when some were rejected (or the import stopped early)."""
    if report.rejected or getattr(report, "stopped", None):
        return EXIT_REJECTED
    return EXIT_STORED


Row = tuple[int, dict]


class RowBatch(NamedTuple):
    """Rows read together by ``ImportFile.batches``: the line number of each row, the rows (a
    CSV file's cells in header order, a JSON Lines file's objects), and the rows of the same
    lines that could not be used."""

    lines: Sequence[int]
    rows: list
    rejected: list[Rejected]


def _unusable(name: str, problem: str, accepted: str, value: Any = None) -> InvalidInput:
    return InvalidInput(
        f"{name}: {problem}; accepted: {accepted}",
        field="file",
        value=name if value is None else value,
        accepted=accepted,
    )


def detect_format(name: str | Path, given: str | None = None) -> str:
    """``csv`` or ``jsonl``, from ``given`` or else from the file name's extension."""
    accepted = "csv, jsonl"
    if given is not None:
        if given not in ("csv", "jsonl"):
            raise InvalidInput(
                f"format {given!r} is not one of {accepted}",
                field="format",
                value=given,
                accepted=accepted,
            )
        return given
    suffix = Path(str(name)).suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(
            f"{name}: cannot tell the format from the extension {suffix or '(none)'!r}; name "
            f"the file {', '.join(sorted(FORMATS))} or pass --format csv|jsonl",
            field="format",
            value=str(name),
            accepted=f"a file named {', '.join(sorted(FORMATS))}, or --format csv|jsonl",
        )
    return FORMATS[suffix]


@attrs.frozen
class Checked:
    """What the check pass found: the number of lines (rows for a progress display)."""

    lines: int


def check_bytes(
    chunks: Iterable[bytes], name: str, max_rows: int = MAX_ROWS, *, max_line: int = MAX_LINE
) -> Checked:
    """Check a file's bytes are UTF-8 text without NUL bytes, within the limits (``max_rows``
    rows, lines of at most ``max_line`` bytes).

    Raises ``InvalidInput`` naming the line and what is accepted; returns the line count.
    """
    accepted = "UTF-8 text (with or without a byte-order mark), CSV or JSON Lines"
    long = f"lines of at most {max_line:,} bytes and fields of at most {MAX_FIELD:,} characters"
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines, offset, line_start, last, first = 0, 0, 0, b"\n", True
    content = False
    for chunk in chunks:
        if first:
            first = False
            for bom, encoding in sorted(BOMS.items(), key=lambda item: -len(item[0])):
                if chunk.startswith(bom):
                    raise _unusable(name, f"the file is {encoding} text, not UTF-8", accepted)
            if chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[len(codecs.BOM_UTF8) :]
                offset += len(codecs.BOM_UTF8)
                line_start = offset
        nul = chunk.find(b"\0")
        if nul >= 0:
            line = lines + chunk.count(b"\n", 0, nul) + 1
            raise _unusable(
                name, f"line {line} holds a NUL byte (byte {offset + nul}): not a text file",
                accepted,
            )  # fmt: skip
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as ex:
            line = lines + chunk.count(b"\n", 0, ex.start) + 1
            raise _unusable(
                name,
                f"line {line} is not UTF-8 text: byte 0x{chunk[ex.start]:02x} (byte "
                f"{offset + ex.start}) cannot be decoded; save the file as UTF-8",
                accepted,
            ) from None
        # The lines are counted, not walked: a line that starts and ends inside a window of
        # ``max_line`` bytes is within the limit, so only the line each window finishes
        # (begun before it) is measured.
        for start in range(0, len(chunk), max_line):
            end = start + max_line
            count = chunk.count(b"\n", start, end)
            if count:
                if offset + chunk.find(b"\n", start, end) - line_start > max_line:
                    raise _unusable(
                        name, f"line {lines + 1} is longer than {max_line:,} bytes", long
                    )
                lines += count
                line_start = offset + chunk.rfind(b"\n", start, end) + 1
        if offset + len(chunk) - line_start > max_line:
            raise _unusable(name, f"line {lines + 1} is longer than {max_line:,} bytes", long)
        if lines > max_rows + 1:
            raise _unusable(
                name, f"more than {max_rows:,} rows", f"at most {max_rows:,} rows per file; "
                "split it into several files",
            )  # fmt: skip
        content = content or bool(chunk.strip())
        offset += len(chunk)
        if chunk:
            last = chunk[-1:]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _unusable(
            name, "the file ends inside a multi-byte character: not UTF-8 text", accepted
        ) from None
    if not content:
        raise _unusable(name, "the file is empty", "a CSV header row and rows, or JSON Lines")
    return Checked(lines + (last != b"\n"))


class ImportFile:
    """A checked import file: ``lines`` for a progress display, ``rows()`` to read it once.

    :param source: a path, a binary or text file object, or an iterable of mappings (rows
        already parsed, numbered from 1: the library path for shops)
    :param columns: the columns (keys) accepted
    :param required: the columns every row must have
    :param format: ``csv`` or ``jsonl`` (default: from the file name)
    :param nested: JSON Lines keys whose value may be an object (``configuration``)
    :param unknown_keys: for JSON Lines, ``reject`` a row with a key not in ``columns`` or
        ``keep`` it (for readers that report unknown keys themselves)
    """

    def __init__(
        self,
        source: str | Path | IO | Iterable[Mapping],
        columns: Sequence[str],
        required: Sequence[str] = (),
        format: str | None = None,
        nested: Sequence[str] = (),
        *,
        max_rows: int = MAX_ROWS,
    ):
        self.columns = tuple(columns)
        self._column_set = frozenset(self.columns)
        self.required = tuple(required)
        self.nested = frozenset(nested)
        self.max_rows = max_rows
        self._records: Iterable[Mapping] | None = None
        self._data: bytes | None = None
        self._path: Path | None = None
        if isinstance(source, str | Path):
            self._path = Path(source)
            self.name = str(source)
            if not self._path.is_file():
                raise _unusable(
                    self.name, "no such file" if not self._path.exists() else "not a file",
                    "an existing CSV or JSON Lines file",
                )  # fmt: skip
            self.format = detect_format(self.name, format)
            try:
                self.lines = check_bytes(self._chunks(), self.name, max_rows).lines
            except OSError as ex:
                problem = f"cannot be read ({ex.strerror})"
                raise _unusable(self.name, problem, "a readable file") from None
        elif hasattr(source, "read"):
            self.name = str(getattr(source, "name", "<input>"))
            data = source.read()
            if isinstance(data, str):
                data = data.encode("utf-8", "surrogatepass")
            self._data = bytes(data)
            if format is None and Path(self.name).suffix.lower() not in FORMATS:
                format = (
                    "jsonl"
                    if self._data.lstrip(codecs.BOM_UTF8 + b" \t\r\n")[:1] == b"{"
                    else "csv"
                )
            self.format = detect_format(self.name, format)
            self.lines = check_bytes([self._data], self.name, max_rows).lines
        else:
            self.name = "<rows>"
            self.format = "rows"
            self._records = source
            self.lines = len(source) if isinstance(source, Sequence) else 0
        self._header: list[str] | None = None
        self._cells = False
        if self.format == "csv":
            self._rows = self._csv()
            next(self._rows)  # the header is checked now, before anything is stored
        elif self.format == "jsonl":
            self._rows = self._jsonl()
        else:
            self._rows = self._mappings()

    def rows(self) -> Iterator[Row | Rejected]:
        """``(line, data)`` for each row read, ``Rejected(line, reason)`` for each that is not."""
        return self._rows

    @property
    def header(self) -> list[str] | None:
        """A CSV file's column names, in file order (None for other formats)."""
        return self._header

    def cells(self) -> Iterator[tuple[int, list[str]] | Rejected]:
        """A CSV file's rows as ``(line, cells)``, the cells in ``header`` order and checked
        like ``rows()`` (blank cells kept, nothing stripped): for readers on a hot path that
        pick columns by position instead of building a mapping per row. Read the file once,
        with either this or ``rows()``."""
        if self.format != "csv":
            raise ValueError("cells() reads CSV files; use rows()")
        self._cells = True
        return self._rows

    def __iter__(self) -> Iterator[Row | Rejected]:
        return self._rows

    def batches(self, size: int) -> Iterator[RowBatch]:
        """The rows in batches of up to ``size`` lines, checked as ``cells()`` (CSV) or
        ``rows()`` check them, blank lines skipped: for imports that read, check and store a
        batch at a time instead of a row at a time. Read the file once, with this or
        ``rows()`` / ``cells()``.

        A batch whose lines are each one well-formed record is read and checked by a few
        calls over the whole batch (the ``csv`` module, ``json``'s scanner, ``map``); the first
        batch that is not (a quoted cell over several lines, a row that cannot be read, a
        blank line) and the rest of a CSV file are read record by record, with the same
        results.
        """
        if size < 1:
            raise ValueError("a batch holds at least one line")
        if self.format == "csv":
            self._rows.close()  # type: ignore[attr-defined]  # the header is checked
            return self._csv_batches(size)
        if self.format == "jsonl":
            self._rows.close()  # type: ignore[attr-defined]
            return self._jsonl_batches(size)
        return _batched(self._rows, size)

    def _csv_batches(self, size: int) -> Iterator[RowBatch]:
        header = self._header
        assert header is not None
        width = len(header)
        with self._text() as fp:
            reader = csv.reader(fp)
            next(reader)
            line = reader.line_num
            while lines := list(islice(fp, size)):
                rows: list | None
                try:
                    rows = list(csv.reader(lines))
                except csv.Error:
                    rows = None
                if (
                    rows is None
                    or len(rows) != len(lines)
                    or '"' in "".join(lines)
                    and _multi_line("\0".join(chain.from_iterable(rows)))
                ):  # a record over several lines: record by record from here on
                    records = self._csv_records(csv.reader(chain(lines, fp)), line)
                    yield from _batched(records, size)
                    return
                first = line + 1
                line += len(lines)
                if (
                    set(map(len, rows)) == {width}
                    and (  # no cell is longer than its line
                        max(map(len, lines)) <= MAX_FIELD
                        or max(map(len, chain.from_iterable(rows))) <= MAX_FIELD
                    )
                    and "" not in (firsts := list(map(_FIRST, rows)))
                    and not any(map(str.isspace, firsts))
                ):
                    yield RowBatch(range(first, line + 1), rows, [])
                    continue
                batch = RowBatch([], [], [])
                for number, row in enumerate(rows, start=first):
                    _add(batch, self._checked_cells(number, row))
                if batch.lines or batch.rejected:
                    yield batch

    def _csv_records(self, reader, before: int) -> Iterator:
        """``(line, cells)`` or ``Rejected`` of each record ``reader`` (a ``csv.reader``) reads
        after line ``before`` of the file, blank records skipped: the one loop that reads and
        checks the records of a CSV file (``rows()``, ``cells()``, ``batches()``)."""
        end = before + reader.line_num
        while True:
            start = end + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as ex:
                end = before + reader.line_num
                yield Rejected(start, f"the row cannot be read as CSV ({ex})")
                continue
            end = before + reader.line_num
            checked = self._checked_cells(start, row)
            if checked is not None:
                yield checked

    def _checked_cells(self, line: int, row: list[str]):
        """``(line, row)``, ``Rejected`` when it cannot be used, None for a blank record."""
        header = self._header
        assert header is not None
        first_cell = row[0] if row else ""
        if not ((first_cell and not first_cell.isspace()) or "".join(row).strip()):
            return None
        if len(row) != len(header):
            return Rejected(line, f"{len(row):,} fields, but the header has {len(header)}")
        if max(map(len, row)) > MAX_FIELD:
            long = next(i for i, cell in enumerate(row) if len(cell) > MAX_FIELD)
            return Rejected(line, _too_long_message(header[long], len(row[long])))
        return line, row

    def _jsonl_batches(self, size: int) -> Iterator[RowBatch]:
        with self._text() as fp:
            line = 0
            while lines := list(islice(fp, size)):
                first = line + 1
                line += len(lines)
                data = _objects(lines)
                if data is not None and self._plain_objects(data):
                    yield RowBatch(range(first, line + 1), data, [])
                    continue
                batch = RowBatch([], [], [])
                for number, text in enumerate(lines, start=first):
                    _add(batch, self._jsonl_line(number, text))
                if batch.lines or batch.rejected:
                    yield batch

    def _jsonl_line(self, line: int, text: str):
        """``(line, object)``, ``Rejected``, or None for a blank line, as ``rows()`` reads it."""
        if not text.strip():
            return None
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as ex:
            where = f" at column {ex.colno}" if isinstance(ex, json.JSONDecodeError) else ""
            message = ex.msg if isinstance(ex, json.JSONDecodeError) else "nested too deeply"
            return Rejected(line, f"not valid JSON ({message}{where})")
        problem = self._check_object(data)
        return (line, data) if problem is None else Rejected(line, problem)

    def _plain_objects(self, data: list) -> bool:
        """True when ``_check_object`` would find nothing wrong with any of ``data`` by its
        quick test (objects of known keys, the required ones given, short text values)."""
        try:
            return (
                set(map(type, data)) == {dict}
                and max(map(len, data)) <= MAX_COLUMNS
                and set(chain.from_iterable(data)) <= self._column_set
                and all(all(map(methodcaller("get", key), data)) for key in self.required)
                and max(map(len, map("".join, map(dict.values, data)))) <= MAX_FIELD
            )
        except TypeError:  # a value that is not text
            return False

    def _chunks(self) -> Iterator[bytes]:
        assert self._path is not None
        with open(self._path, "rb") as fp:
            while chunk := fp.read(CHUNK):
                yield chunk

    def _text(self) -> IO[str]:
        if self._path is not None:
            return open(self._path, encoding="utf-8-sig", newline="")
        assert self._data is not None
        return io.TextIOWrapper(io.BytesIO(self._data), encoding="utf-8-sig", newline="")

    def _accepted(self) -> str:
        required = ", ".join(self.required) or "none"
        return f"columns {', '.join(self.columns)} (required: {required})"

    def _csv(self) -> Iterator:
        with self._text() as fp:
            reader = csv.reader(fp)
            try:
                header = [name.strip() for name in next(reader)]
            except StopIteration:
                raise _unusable(self.name, "the file is empty", self._accepted()) from None
            except csv.Error as ex:
                raise _unusable(
                    self.name, f"line 1: the header cannot be read ({ex})", self._accepted()
                ) from None
            if len(header) > MAX_COLUMNS:
                raise _unusable(
                    self.name,
                    f"line 1: the header has {len(header):,} columns, more than {MAX_COLUMNS}",
                    self._accepted(),
                )
            missing = [name for name in self.required if name not in header]
            if missing:
                raise _unusable(
                    self.name,
                    f"line 1: missing column(s) {', '.join(missing)}",
                    self._accepted(),
                    value=missing,
                )
            unknown = [name for name in header if name not in self.columns]
            if unknown:
                raise _unusable(
                    self.name,
                    f"line 1: unknown column {unknown[0][:80]!r}",
                    self._accepted(),
                    value=unknown,
                )
            repeated = sorted({name for name in header if header.count(name) > 1})
            if repeated:
                raise _unusable(
                    self.name, f"line 1: column {repeated[0]!r} appears more than once",
                    f"each column once; {self._accepted()}",
                )  # fmt: skip
            self._header = header
            records = self._csv_records(reader, 0)
            first = next(records, None)
            if first is None:
                raise _unusable(
                    self.name, "line 1 is a header and no rows follow",
                    f"one row per line after the header; {self._accepted()}",
                )  # fmt: skip
            yield None  # the header is checked; the reader may ask for cells now
            if self._cells:
                yield first
                yield from records
                return
            for item in chain((first,), records):
                if isinstance(item, Rejected):
                    yield item
                else:
                    line, row = item
                    yield line, {name: cell for name, cell in zip(header, row, strict=True) if cell}

    def _check_object(self, data: Any) -> str | None:
        if (  # the common case, quickly: known keys with short text values, required present
            type(data) is dict
            and len(data) <= MAX_COLUMNS
            and data.keys() <= self._column_set
            and all(map(data.get, self.required))
        ):
            try:
                if len("".join(data.values())) <= MAX_FIELD:  # every value text, none too long
                    return None
            except TypeError:  # a value that is not text: checked below
                pass
        if not isinstance(data, dict):
            return f"expected a JSON object, got {type(data).__name__}"
        if len(data) > MAX_COLUMNS:
            return f"{len(data):,} keys, more than {MAX_COLUMNS}"
        unknown = [key for key in data if key not in self.columns]
        if unknown:
            return f"unknown key {unknown[0][:80]!r}; keys are {', '.join(self.columns)}"
        missing = [key for key in self.required if data.get(key) in (None, "")]
        if missing:
            return f"missing {', '.join(missing)}; required: {', '.join(self.required)}"
        for key, value in data.items():
            if isinstance(value, dict | list) and key not in self.nested:
                return f"{key}: expected a single value, got a JSON {type(value).__name__}"
            length = _longest(value)
            if length > MAX_FIELD:
                return _too_long_message(key, length)
        return None

    def _jsonl(self) -> Iterator:
        with self._text() as fp:
            for line, text in enumerate(fp, start=1):
                if not text.strip():
                    continue
                try:  # the common case, without json.loads's layers: a value from column 1
                    data, end = _scan(text, 0)
                except (StopIteration, ValueError, RecursionError):
                    end = -1
                if end < 0 or text[end:].lstrip(" \t\n\r"):  # JSON's whitespace only after it
                    try:  # anything else as json.loads reads it, with its error
                        data = json.loads(text)
                    except (json.JSONDecodeError, RecursionError) as ex:
                        where = (
                            f" at column {ex.colno}" if isinstance(ex, json.JSONDecodeError) else ""
                        )
                        message = (
                            ex.msg if isinstance(ex, json.JSONDecodeError) else "nested too deeply"
                        )
                        yield Rejected(line, f"not valid JSON ({message}{where})")
                        continue
                problem = self._check_object(data)
                if problem is not None:
                    yield Rejected(line, problem)
                    continue
                yield line, data

    def _mappings(self) -> Iterator:
        assert self._records is not None
        for line, data in enumerate(self._records, start=1):
            if line > self.max_rows:
                yield Rejected(line, f"more than {self.max_rows:,} rows; split the import")
                return
            if isinstance(data, Mapping):
                data = dict(data)
            problem = self._check_object(data)
            if problem is not None:
                yield Rejected(line, problem)
                continue
            yield line, data


_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_FIRST = itemgetter(0)


#: Two JSON objects side by side: ``}``, a comma, ``{``, with whitespace between.
_TWO_OBJECTS = re.compile(r"\}\s*,\s*\{")


def _objects(lines: list[str]) -> list | None:
    """One JSON value per line, read by one ``json.loads`` of the lines as an array; None
    when the lines are not one value each (then each line is read on its own).

    Commas join the lines, so a value spread over two lines would read as one and a line with
    two objects as two; neither is taken: the count of values must be the count of lines,
    and no line may hold ``},{`` (two objects side by side, the only way a line of objects
    yields two values; a string or nested list holding those characters is merely read
    line by line)."""
    if _TWO_OBJECTS.search("".join(lines)):
        return None
    try:
        data = json.loads("[" + ",".join(lines) + "]")
    except (ValueError, RecursionError):
        return None
    return data if len(data) == len(lines) else None


def _multi_line(cells: str) -> bool:
    return "\n" in cells or "\r" in cells


def _add(batch: RowBatch, item) -> None:
    """Add a checked row (``(line, row)``), a ``Rejected`` or nothing (None) to ``batch``."""
    if item is None:
        return
    if isinstance(item, Rejected):
        batch.rejected.append(item)
    else:
        batch.lines.append(item[0])  # type: ignore[attr-defined]
        batch.rows.append(item[1])


def _batched(items: Iterator, size: int) -> Iterator[RowBatch]:
    """Batches of ``size`` items (``(line, row)`` or ``Rejected``) as ``RowBatch`` tuples."""
    while chunk := list(islice(items, size)):
        batch = RowBatch([], [], [])
        for item in chunk:
            _add(batch, item)
        yield batch


def _longest(value: Any) -> int:
    """The length of the longest string in a JSON value."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max((max(len(str(k)), _longest(v)) for k, v in value.items()), default=0)
    if isinstance(value, list):
        return max(map(_longest, value), default=0)
    return 0


def _too_long_message(name: str, length: int) -> str:
    return f"{name}: {length:,} characters is too long; at most {MAX_FIELD:,} are accepted"


def whole_number(data: Mapping, name: str, minimum: int = 1, maximum: int = 2**63 - 1) -> int:
    """``data[name]`` as an int in ``[minimum, maximum]``, or ``InvalidInput`` naming the range."""
    value = data.get(name)
    accepted = f"a whole number from {minimum:,} to {maximum:,}"
    try:
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise ValueError
        number = int(value.strip() if isinstance(value, str) else value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        shown = value if not isinstance(value, str) else value[:40]
        raise InvalidInput(
            f"{name}: {shown!r} is not {accepted}", field=name, value=value, accepted=accepted
        ) from None
    if not minimum <= number <= maximum:
        raise InvalidInput(
            f"{name}: {number} is out of range; accepted: {accepted}",
            field=name,
            value=number,
            accepted=accepted,
        )
    return number


def csv_text(source: ImportFile) -> tuple[IO[str], int]:
    """The text of a checked CSV ``source`` after its header row, and the number of lines the
    header took: for a reader that splits plain lines itself and hands the others to
    ``csv.reader`` (wish imports). The file is read once: ``source.rows()`` and
    ``source.cells()`` read nothing after this. The caller closes the text."""
    if source.format != "csv":
        raise ValueError("csv_text() reads CSV files; use rows()")
    source._rows.close()  # type: ignore[attr-defined]  # the header is checked
    fp = source._text()
    reader = csv.reader(fp)
    next(reader)
    return fp, reader.line_num
