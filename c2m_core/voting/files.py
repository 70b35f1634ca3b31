"""Reading ballot files: CSV with a header, or JSON Lines. Every row keeps its line number.

CSV: a ``voter`` column and one column per ballot field of the vote's method (``choice``,
``approve``, ``score``, ``would_buy``, ``rank``); empty cells are left out. JSON Lines: one
object per line with ``voter`` and the ballot fields. Values are read as the command line
reads them (``1,4``, ``1=4,2=3``, ``3>1=2>4``) or as JSON values.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from ..errors import InvalidInput

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


class BallotRow(NamedTuple):
    """One ballot to import: its line, the voter, the fields, or why it could not be read."""

    line: int
    voter: object
    ballot: Mapping | None
    error: str | None = None


def detect_format(path: Path, format: str | None = None) -> str:
    """``csv`` or ``jsonl``, from ``format`` or the file's suffix."""
    if format is not None:
        if format not in ("csv", "jsonl"):
            raise InvalidInput(
                f"format {format!r} is not csv or jsonl",
                field="format",
                value=format,
                accepted="csv, jsonl",
            )
        return format
    found = FORMATS.get(Path(path).suffix.lower())
    if found is None:
        raise InvalidInput(
            f"cannot tell the format of {Path(path).name!r} from its suffix; name it .csv or "
            ".jsonl, or pass --format csv|jsonl",
            field="file",
            value=str(path),
            accepted="a file named .csv or .jsonl, or a --format",
        )
    return found


def count_lines(path: Path) -> int:
    """The number of lines in a file (for a progress bar)."""
    lines = 0
    last = b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def read_ballots(
    path: Path, fields: Sequence[str], format: str | None = None
) -> Iterator[BallotRow]:
    """The rows of a ballot file; ``fields`` are the ballot fields the vote's method reads."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(
            f"ballot file {str(path)!r} does not exist or is not a file",
            field="file",
            value=str(path),
            accepted="an existing ballot file",
        )
    if detect_format(path, format) == "csv":
        yield from _read_csv(path, fields)
    else:
        yield from _read_jsonl(path)


def _read_csv(path: Path, fields: Sequence[str]) -> Iterator[BallotRow]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return
        header = [name.strip() for name in header]
        accepted = ["voter", *fields]
        unknown = [name for name in header if name not in accepted]
        if unknown or "voter" not in header:
            problem = f"column {unknown[0]!r} is not known" if unknown else "no 'voter' column"
            raise InvalidInput(
                f"{path.name}, line 1: {problem}; columns for this vote: {', '.join(accepted)}",
                field="header",
                value=header,
                accepted=", ".join(accepted),
            )
        if len(set(header)) != len(header):
            raise InvalidInput(
                f"{path.name}, line 1: a column is repeated: {', '.join(header)}",
                field="header",
                value=header,
                accepted="each column once",
            )
        voter_at = header.index("voter")
        width = len(header)
        end = reader.line_num
        for row in reader:
            line, end = end + 1, reader.line_num
            if not row:
                continue
            if len(row) != width:
                yield BallotRow(line, None, None, f"{len(row)} cells, but the header has {width}")
                continue
            ballot = {
                name: value.strip()
                for name, value in zip(header, row, strict=True)
                if name != "voter" and value.strip()
            }
            yield BallotRow(line, row[voter_at], ballot)


def _read_jsonl(path: Path) -> Iterator[BallotRow]:
    with open(path, encoding="utf-8-sig") as f:
        for line, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as ex:
                yield BallotRow(line, None, None, f"not valid JSON ({ex.msg})")
                continue
            if not isinstance(data, dict):
                yield BallotRow(line, None, None, "not a JSON object with a voter and fields")
                continue
            voter = data.pop("voter", None)
            yield BallotRow(line, voter, data)
