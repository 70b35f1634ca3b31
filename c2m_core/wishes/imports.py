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
from operator import itemgetter
from pathlib import Path

from ..imports import ImportFile, detect_format
from .records import FIELDS, Rejected

__all__ = ["CSV_FIELDS", "detect_format", "open_wishes", "read_wishes"]

CSV_FIELDS = tuple(f for f in FIELDS if f != "configuration")
#: How many distinct module cell tuples a CSV read shares ``configuration`` mappings for.
CONFIGURATIONS_KEPT = 100_000


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
    return source.lines, _csv_wishes(source, frozenset(module_ids))


def _csv_wishes(source, modules: frozenset[str]) -> Iterator[tuple[int, dict] | Rejected]:
    """The rows of a CSV wish file as ``(line, data)``: the cells that are not blank, and the
    module cells as ``configuration`` (stripped).

    Rows with the same module cells share one ``configuration`` mapping (a file repeats a few
    thousand configurations a million times), which the intake judges once; it is read, never
    changed.
    """
    header = source.header
    fields = [(name, i) for i, name in enumerate(header) if name not in modules]
    chosen = [(name, i) for i, name in enumerate(header) if name in modules]
    names = [name for name, _ in fields]
    pick = _picker([i for _, i in fields])
    pick_modules = _picker([i for _, i in chosen])
    module_names = [name for name, _ in chosen]
    configurations: dict[tuple, dict] = {}
    for item in source.cells():
        if isinstance(item, Rejected):
            yield item
            continue
        line, cells = item
        data: dict[str, object] = {
            name: value for name, value in zip(names, pick(cells), strict=True) if value
        }
        key = pick_modules(cells)
        configuration = configurations.get(key)
        if configuration is None:
            configuration = {
                module: value.strip()
                for module, value in zip(module_names, key, strict=True)
                if value
            }
            if len(configurations) >= CONFIGURATIONS_KEPT:
                configurations.clear()
            configurations[key] = configuration
        data["configuration"] = configuration
        yield line, data


def _picker(indexes: list[int]):
    """A function from a row's cells to the cells at ``indexes``, as a tuple."""
    if not indexes:
        return lambda cells: ()
    if len(indexes) == 1:
        at = indexes[0]
        return lambda cells: (cells[at],)
    return itemgetter(*indexes)
