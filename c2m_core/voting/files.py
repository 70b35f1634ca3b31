"""Reading ballot files: CSV with a header, or JSON Lines. Every row keeps its line number.

CSV: a ``voter`` column and one column per ballot field of the vote's method (``choice``,
``approve``, ``score``, ``would_buy``, ``rank``); empty cells are left out. JSON Lines: one
object per line with ``voter`` and the ballot fields. Values are read as the command line
reads them (``1,4``, ``1=4,2=3``, ``3>1=2>4``) or as JSON values.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import NamedTuple

from ..errors import InvalidInput
from ..imports import ImportFile, Rejected
from . import vote

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


class BallotRow(NamedTuple):
    """One ballot to import: its line, the voter, the fields, or why it could not be read."""

    line: int
    voter: object
    ballot: Mapping | None
    error: str | None = None


_row = functools.partial(tuple.__new__, BallotRow)  # a BallotRow, without a Python call


class BallotBatch(NamedTuple):
    """Ballots read together (see ``read_ballot_batches``): each one's line, voter (as given)
    and field values (a tuple in the method's ``fields`` order; None, ``""`` or ``[]`` for a
    field not given), and the rows of the same lines that could not be read (or, cast by
    ``cast_many``, hold no usable ballot: rejected with their voter)."""

    lines: Sequence[int]
    voters: list
    values: list[tuple]
    rejected: Sequence[Rejected | vote.Rejected]


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
    """The rows of a ballot file; ``fields`` are the ballot fields the vote's method reads.

    Read by ``c2m_core.imports.ImportFile``, the reader every import shares: a file that
    cannot be used raises ``InvalidInput`` before the first row.
    """
    source = ImportFile(path, ["voter", *fields], ["voter"], format, nested=fields)
    return _ballots(source)


def read_ballot_batches(
    path: Path, fields: Sequence[str], format: str | None = None, size: int = 10_000
) -> Iterator[BallotBatch]:
    """The rows of a ballot file in batches of up to ``size`` lines (``read_ballots``, a
    batch at a time: a CSV file's cells are stripped, and a blank one is ``""``).

    A file that cannot be used raises ``InvalidInput`` before the first batch.
    """
    source = ImportFile(path, ["voter", *fields], ["voter"], format, nested=fields)
    return _ballot_batches(source, tuple(fields), size)


def _ballot_batches(source: ImportFile, fields: tuple, size: int) -> Iterator[BallotBatch]:
    if source.format == "csv":
        header = source.header
        assert header is not None
        voter = itemgetter(header.index("voter"))
        columns = [itemgetter(header.index(name)) if name in header else None for name in fields]
        for batch in source.batches(size):
            rows = batch.rows
            values = [
                [None] * len(rows) if column is None else map(str.strip, map(column, rows))
                for column in columns
            ]
            yield BallotBatch(
                batch.lines, list(map(voter, rows)), list(zip(*values, strict=True)), batch.rejected
            )
        return
    getters = [methodcaller("get", name) for name in fields]
    for batch in source.batches(size):
        rows = batch.rows
        yield BallotBatch(
            batch.lines,
            list(map(methodcaller("get", "voter"), rows)),
            list(zip(*(map(get, rows) for get in getters), strict=True)),
            batch.rejected,
        )


def _ballots(source: ImportFile) -> Iterator[BallotRow]:
    if source.format == "csv":
        yield from _csv_ballots(source)
        return
    for item in source:
        if isinstance(item, Rejected):
            yield BallotRow(item.line, None, None, item.reason)
            continue
        line, data = item
        voter = data.pop("voter", None)
        yield _row((line, voter, data, None))


def _csv_ballots(source: ImportFile) -> Iterator[BallotRow]:
    """The CSV rows as ballots: the voter's cell, and a mapping of the ballot fields whose
    cells are not blank (stripped)."""
    header = source.header
    assert header is not None  # a CSV file's header is read when it is opened
    at = header.index("voter")
    fields = [(name, i) for i, name in enumerate(header) if name != "voter"]
    for item in source.cells():
        if isinstance(item, Rejected):
            yield BallotRow(item.line, None, None, item.reason)
            continue
        line, cells = item
        ballot = {}
        for name, i in fields:
            value = cells[i]
            if value and (value := value.strip()):
                ballot[name] = value
        yield _row((line, cells[at], ballot, None))
