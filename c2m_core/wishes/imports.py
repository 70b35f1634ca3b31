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

import csv
import functools
from collections.abc import Iterator, Sequence
from itertools import chain, islice
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import IO

from ..errors import InvalidInput
from ..imports import MAX_FIELD, ImportFile, _too_long_message, csv_text, detect_format
from .records import FIELDS, MAX_PRICE, MAX_REF, MAX_TEXT, NewWish, NewWishes, Rejected

__all__ = ["CSV_FIELDS", "CsvWishRows", "detect_format", "open_wishes", "read_wishes"]

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
    return source.lines, CsvWishRows(source, module_ids)


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


_new_wish = functools.partial(tuple.__new__, NewWish)
#: Quantities as text, read without parsing (the rest goes through the intake's checks).
_QUANTITIES = {str(n): n for n in range(1, 101)}
_QUANTITY_CELLS = {"": 1, **_QUANTITIES}


class CsvWishRows:
    """The rows of a checked CSV wish file, read once.

    Iterated, they are ``(line, data)`` pairs and ``Rejected`` rows as every import reader
    gives them. ``WishService.submit_many`` reads them with ``fill`` instead, which makes the
    wishes to store directly: a plain line (no quote, at most ``MAX_FIELD`` characters, the
    header's number of cells) is split on its commas, its configuration is judged once per
    distinct text of its module cells, and its other cells are taken as they are when they are
    plain (a known quantity, a whole-number price, non-blank short text). Every other line
    (a quoted or blank one, a bad value, free text for a plugin to read) is read by
    ``csv.reader`` and checked by the intake exactly as the rows iterated are, so it is stored
    or rejected with the same result and message.
    """

    def __init__(self, source: ImportFile, module_ids: Sequence[str]):
        self.source = source
        self.modules = frozenset(module_ids)
        self._rows: Iterator[tuple[int, dict] | Rejected] | None = None
        self._text: IO[str] | None = None
        self._lines: Iterator[str] | None = None
        self._end = 0

    @property
    def unread(self) -> bool:
        """True while no row has been read (by iterating or by ``fill``)."""
        return self._rows is None and self._text is None

    def __iter__(self) -> Iterator[tuple[int, dict] | Rejected]:
        return self

    def __next__(self) -> tuple[int, dict] | Rejected:
        if self._rows is None:
            if self._text is not None:
                raise RuntimeError("the rows are being read with fill()")
            self._rows = _csv_wishes(self.source, self.modules)
        return next(self._rows)

    def fill(self, intake, batch: NewWishes, rejected: list[Rejected], size: int):
        """Read rows into ``batch`` (wishes) and ``rejected`` until ``batch`` holds ``size``
        wishes or the file ends; returns (rows read, the line of the last one, whether rows
        may follow).

        ``intake`` checks what this reads (``wishes.service._Intake``): ``wish(data)`` makes
        the wish of a row (``InvalidInput`` when it is refused), ``configuration_verdict``
        judges a configuration (``(configuration, valid, violations, suggestion)``, or the
        ``InvalidInput`` refusing it), ``has_normalizers`` says whether plugins read free text.
        """
        if self._rows is not None:
            raise RuntimeError("the rows are being read by iterating them")
        if self._text is None:
            self._start()
        assert self._text is not None and self._lines is not None
        rows = 0
        line = 0
        while self._tail and len(batch) < size:
            texts = list(islice(self._lines, size - len(batch)))
            if not texts:
                self._text.close()
                return rows, line, False
            if self._plain_lines(texts, intake, batch):
                rows += len(texts)
                self._end += len(texts)
                line = self._end
                continue
            # something to look at row by row: these lines again, then the rest
            self._lines = chain(texts, self._lines)
            break
        else:
            if self._tail:
                return rows, line, True
        lines = self._lines
        end = self._end
        width, tail = len(self._header), self._tail
        at = self._at
        customer_at, quantity_at, region_at = at["customer"], at["quantity"], at["region"]
        price_at, note_at, raw_at, external_at = (
            at["price_ceiling"],
            at["note"],
            at["raw"],
            at["external_id"],
        )
        pick_modules = self._pick_modules
        verdicts = self._verdicts
        free_text = intake.has_normalizers
        quantities = _QUANTITIES
        append = batch.append
        new = _new_wish
        tail_commas = width - tail - 1
        for text in lines:
            start = end + 1
            end = start
            key = None
            if '"' not in text and len(text) <= MAX_FIELD:
                if tail:
                    parts = text.split(",", tail)
                    if len(parts) == tail + 1 and parts[tail].count(",") == tail_commas:
                        key = parts[tail]
                else:
                    parts = text.rstrip("\r\n").split(",")
                    if len(parts) == width:
                        key = pick_modules(parts)
            if key is not None:
                parts.append("")  # the cell of every column the header does not have
                customer = parts[customer_at]
                given = parts[quantity_at]
                quantity = quantities.get(given) if given else 1
                region = parts[region_at] or None
                price = parts[price_at]
                ceiling = (
                    int(price)
                    if price and price.isdecimal() and price.isascii() and len(price) <= 16
                    else None
                )
                note = parts[note_at] or None
                raw = parts[raw_at] or None
                external_id = parts[external_at] or None
                if (
                    customer
                    and len(customer) <= MAX_REF
                    and not customer.isspace()
                    and quantity is not None
                    and (region is None or (len(region) <= MAX_REF and not region.isspace()))
                    and (not price or (ceiling is not None and ceiling <= MAX_PRICE))
                    and (note is None or (len(note) <= MAX_TEXT and not note.isspace()))
                    and (raw is None or not (free_text or len(raw) > MAX_TEXT or raw.isspace()))
                    and (
                        external_id is None
                        or (len(external_id) <= MAX_REF and not external_id.isspace())
                    )
                ):
                    verdict = verdicts.get(key)
                    if verdict is None:
                        verdict = self._judge(key, intake)
                    rows += 1
                    line = start
                    if verdict.__class__ is tuple:
                        ordered, valid, violations, suggestion = verdict
                        append(
                            new(
                                (
                                    customer,
                                    ordered,
                                    quantity,
                                    region,
                                    ceiling,
                                    note,
                                    raw,
                                    external_id,
                                    valid,
                                    violations,
                                    suggestion,
                                )
                            )
                        )
                        if len(batch) >= size:
                            break
                    else:
                        rejected.append(Rejected(start, str(verdict)))
                    continue
            end, counted = self._slow(text, start, intake, batch, rejected)
            if counted:
                rows += 1
                line = start
            if len(batch) >= size:
                break
        else:
            self._end = end
            self._text.close()
            return rows, line, False
        self._end = end
        return rows, line, True

    def _plain_lines(self, texts: list[str], intake, batch: NewWishes) -> bool:
        """Add the wishes of ``texts`` (lines, one row each) to ``batch`` when every line is
        plain and every cell a plain value, checked column by column (a few calls per column,
        not per row), and True; False (nothing added) when any is not: ``fill`` then reads
        them one by one. Only for files whose module columns come last."""
        tail = self._tail
        if '"' in "".join(texts) or max(map(len, texts)) > MAX_FIELD:
            return False
        try:  # the cells column by column: every line splits into as many as the first
            cells = list(zip(*map(methodcaller("split", ",", tail), texts), strict=True))
        except ValueError:
            return False
        if len(cells) != tail + 1:
            return False
        keys = cells[tail]
        count = len(texts)
        blank = ("",) * count
        nothing = (None,) * count

        def column(name: str) -> tuple[str, ...]:
            at = self._at[name]
            return cells[at] if at < tail else blank

        customers = column("customer")
        if (
            not min(map(len, customers))
            or max(map(len, customers)) > MAX_REF
            or any(map(str.isspace, customers))
        ):
            return False
        quantities = list(map(_QUANTITY_CELLS.get, column("quantity")))
        if None in quantities:
            return False
        texts_of: dict[str, Sequence[str | None]] = {}
        for name, limit in (
            ("region", MAX_REF),
            ("note", MAX_TEXT),
            ("raw", MAX_TEXT),
            ("external_id", MAX_REF),
        ):
            values = column(name)
            given: Sequence[str] = values if "" not in values else list(filter(None, values))
            if given and (
                max(map(len, given)) > limit
                or any(map(str.isspace, given))
                or (name == "raw" and intake.has_normalizers)
            ):
                return False
            if given is values:  # a value in every row
                texts_of[name] = values
            else:
                texts_of[name] = [cell or None for cell in values] if given else nothing
        prices = column("price_ceiling")
        priced = list(filter(None, prices))
        if priced:
            if (
                not all(map(str.isdecimal, priced))
                or not all(map(str.isascii, priced))
                or max(map(len, priced)) > 16
            ):
                return False
            ceilings: Sequence[int | None] = [int(price) if price else None for price in prices]
            if max(filter(None, ceilings), default=0) > MAX_PRICE:
                return False
        else:
            ceilings = nothing
        verdicts = self._verdicts
        judged = list(map(verdicts.get, keys))
        kinds = set(map(type, judged))
        if kinds != {tuple} and type(None) in kinds:  # configurations not judged yet
            new = set(keys).difference(verdicts)
            # every key judged has the header's number of module cells, so only new ones
            # are counted
            if set(map(methodcaller("count", ","), new)) != {len(self._header) - tail - 1}:
                return False
            for key in new:
                self._judge(key, intake)
            judged = list(map(verdicts.get, keys))
            kinds = set(map(type, judged))
        if kinds != {tuple}:  # a configuration refused (or forgotten)
            return False
        ordered, valid, violations, suggestions = zip(*judged, strict=True)
        batch.extend_columns(
            customers,
            ordered,
            quantities,
            texts_of["region"],
            ceilings,
            texts_of["note"],
            texts_of["raw"],
            texts_of["external_id"],
            valid,
            violations,
            suggestions,
        )
        return True

    def _start(self) -> None:
        header = self.source.header
        assert header is not None
        self._text, self._end = csv_text(self.source)
        self._lines = iter(self._text)
        self._header = header
        modules = self.modules
        fields = [(name, i) for i, name in enumerate(header) if name not in modules]
        chosen = [(name, i) for i, name in enumerate(header) if name in modules]
        self._names = [name for name, _ in fields]
        self._pick = _picker([i for _, i in fields])
        self._module_names = [name for name, _ in chosen]
        self._pick_modules = _picker([i for _, i in chosen])
        width = len(header)
        # module cells last, as files are usually written: the text after the other cells
        # is the configuration's key, split only the first time it is seen
        first = width - len(chosen)
        self._tail = first if chosen and [i for _, i in chosen] == list(range(first, width)) else 0
        missing = width  # ``fill`` appends one blank cell for the columns not in the header
        if self._tail:
            missing = self._tail + 1
        self._at = {name: header.index(name) if name in header else missing for name in FIELDS}
        self._verdicts: dict = {}

    def _judge(self, key, intake):
        """The intake's verdict on the configuration of the module cells ``key``."""
        cells = key.rstrip("\r\n").split(",") if self._tail else key
        configuration = {
            module: value.strip()
            for module, value in zip(self._module_names, cells, strict=True)
            if value
        }
        verdict = intake.configuration_verdict(configuration)
        if len(self._verdicts) >= CONFIGURATIONS_KEPT:
            self._verdicts.clear()
        self._verdicts[key] = verdict
        return verdict

    def _slow(self, text: str, start: int, intake, batch, rejected) -> tuple[int, int]:
        """Read the record starting with line ``text`` (line ``start``) with ``csv.reader``
        and check it as the rows iterated are; returns (its last line, 1 or 0 for a blank)."""
        reader = csv.reader(chain((text,), self._lines))  # type: ignore[arg-type]
        try:
            cells = next(reader)
        except csv.Error as ex:
            rejected.append(Rejected(start, f"the row cannot be read as CSV ({ex})"))
            return start - 1 + reader.line_num, 1
        end = start - 1 + reader.line_num
        first_cell = cells[0] if cells else ""
        if not ((first_cell and not first_cell.isspace()) or "".join(cells).strip()):
            return end, 0
        header = self._header
        if len(cells) != len(header):
            rejected.append(
                Rejected(start, f"{len(cells):,} fields, but the header has {len(header)}")
            )
            return end, 1
        if max(map(len, cells)) > MAX_FIELD:
            long = next(i for i, cell in enumerate(cells) if len(cell) > MAX_FIELD)
            rejected.append(Rejected(start, _too_long_message(header[long], len(cells[long]))))
            return end, 1
        data: dict[str, object] = {
            name: value for name, value in zip(self._names, self._pick(cells), strict=True) if value
        }
        data["configuration"] = {
            module: value.strip()
            for module, value in zip(self._module_names, self._pick_modules(cells), strict=True)
            if value
        }
        try:
            batch.append(intake.wish(data))
        except InvalidInput as ex:
            rejected.append(Rejected(start, str(ex)))
        return end, 1
