"""Reading wishes from CSV and JSON Lines files, row by row, with line numbers.

CSV: a header row naming ``customer`` (required), any of ``quantity``, ``region``,
``price_ceiling``, ``note``, ``external_id``, ``raw``, and one column per catalog module whose
cells hold option ids (an empty cell leaves the module open). JSON Lines: one object per line
with those keys and ``configuration`` as an object of module ids to option ids.

The file is read by ``c2m_core.imports.ImportFile``, the reader every import shares: a row that
cannot be read is yielded as ``Rejected`` with its line number and reason; a file that cannot be
read at all (not UTF-8, unknown columns, empty) raises ``InvalidInput`` before anything is
yielded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from ..imports import ImportFile, detect_format
from .records import FIELDS, Rejected

__all__ = ["CSV_FIELDS", "detect_format", "open_wishes", "read_wishes"]

CSV_FIELDS = tuple(f for f in FIELDS if f != "configuration")


def open_wishes(source, module_ids: Sequence[str], format: str | None = None) -> ImportFile:
    """The checked wish file (a path, a file object, or an iterable of mappings)."""
    module_ids = tuple(module_ids)
    fmt = format
    if fmt is None and isinstance(source, str | Path):
        fmt = detect_format(source)
    if fmt == "csv" or (fmt is None and str(getattr(source, "name", "")).endswith(".csv")):
        return ImportFile(source, CSV_FIELDS + module_ids, ("customer",), "csv")
    return ImportFile(source, FIELDS, (), fmt, nested=("configuration",))


def read_wishes(
    path, module_ids: Sequence[str], format: str | None = None
) -> tuple[int, Iterator[tuple[int, dict] | Rejected]]:
    """(number of lines, rows) of a wish file; checks format and encoding first."""
    source = open_wishes(path, module_ids, format)
    if source.format != "csv":
        return source.lines, iter(source)
    modules = frozenset(module_ids)
    return source.lines, _split_modules(source, modules)


def _split_modules(rows, modules: frozenset[str]):
    for item in rows:
        if isinstance(item, Rejected):
            yield item
            continue
        line, cells = item
        data: dict[str, object] = {k: v for k, v in cells.items() if k not in modules}
        data["configuration"] = {k: v.strip() for k, v in cells.items() if k in modules and v}
        yield line, data
