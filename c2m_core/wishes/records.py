"""Wish records: a stored wish, import reports, aggregation results and statistics."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple, overload

import attrs

from ..catalog import Choice
from ..errors import InvalidInput
from ..imports import Rejected as Rejected
from ..variants.records import Variant

STATE = "wishes"
MAX_TEXT = 10_000
MAX_REF = 200
MAX_QUANTITY = 10**9
MAX_PRICE = 10**15
FIELDS = (
    "customer",
    "configuration",
    "quantity",
    "region",
    "price_ceiling",
    "note",
    "external_id",
    "raw",
)
BATCH_SIZE = 5000
TOP_UNCOVERED = 10


@attrs.frozen
class Wish:
    """A stored wish. ``violations`` are ``Violation.to_dict()`` dicts; ``suggestion`` is the
    nearest valid choice of the same modules (None for a valid wish). ``id`` is None only for
    a wish not stored yet. ``personalisation`` holds one mapping of field id -> value per unit
    (unit 1 first; ``c2m_core.personalisation``): it never changes the configuration."""

    id: int | None
    campaign_id: int
    customer: str
    configuration: Mapping[str, Choice]
    quantity: int = 1
    region: str | None = None
    price_ceiling: int | None = None
    note: str | None = None
    raw: str | None = None
    external_id: str | None = None
    valid: bool = True
    violations: tuple[dict, ...] = ()
    suggestion: Mapping[str, str] | None = None
    created_at: str | None = None
    personalisation: tuple[Mapping[str, str], ...] = ()

    def to_dict(self) -> dict:
        data = attrs.asdict(self)
        data["configuration"] = dict(self.configuration)
        data["personalisation"] = [dict(unit) for unit in self.personalisation]
        data["violations"] = list(self.violations)
        return data


class NewWish(NamedTuple):
    """A checked wish not stored yet, as the intake makes it for the store
    (``WishesArea.insert_batch`` takes these or ``Wish`` records): the fields of ``Wish``
    that a caller gives, without the ones the store assigns. A tuple, so an import of a
    million rows makes it cheaply."""

    customer: str
    configuration: Mapping[str, Choice]
    quantity: int = 1
    region: str | None = None
    price_ceiling: int | None = None
    note: str | None = None
    raw: str | None = None
    external_id: str | None = None
    valid: bool = True
    violations: tuple[dict, ...] = ()
    suggestion: Mapping[str, str] | None = None


class NewWishes(Sequence[NewWish]):
    """``NewWish`` tuples held column by column, one list per field: what an import gathers
    for ``WishesArea.insert_batch``, which writes the columns as they are instead of taking a
    million tuples apart again. Read like any sequence of ``NewWish``."""

    __slots__ = ("columns",)

    def __init__(self, wishes: Iterable[NewWish] = ()):
        self.columns: tuple[list, ...] = tuple([] for _ in NewWish._fields)
        for wish in wishes:
            self.append(wish)

    def __len__(self) -> int:
        return len(self.columns[0])

    @overload
    def __getitem__(self, index: int) -> NewWish: ...

    @overload
    def __getitem__(self, index: slice) -> NewWishes: ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            part = NewWishes()
            for column, values in zip(part.columns, self.columns, strict=True):
                column.extend(values[index])
            return part
        return NewWish._make(column[index] for column in self.columns)

    def __iter__(self) -> Iterator[NewWish]:
        return map(NewWish._make, zip(*self.columns, strict=True))

    def append(self, wish: NewWish) -> None:
        """Add one wish."""
        for column, value in zip(self.columns, wish, strict=True):
            column.append(value)

    def extend_columns(self, *columns: Iterable) -> None:
        """Add wishes given as one iterable per field of ``NewWish``, in field order."""
        for column, values in zip(self.columns, columns, strict=True):
            column.extend(values)

    def clear(self) -> None:
        """Remove every wish."""
        for column in self.columns:
            column.clear()


@attrs.frozen
class WishBatch:
    """What the store did with a batch of wishes: the ids it stored (ascending) and how many
    of those are invalid. Wishes whose external id the campaign had already are not stored."""

    wish_ids: tuple[int, ...]
    invalid: int

    @property
    def stored(self) -> int:
        return len(self.wish_ids)


@attrs.frozen
class DemandGroup:
    """Identical stored wishes collapsed: their configuration, how many, their total quantity."""

    configuration: Mapping[str, Choice]
    wishes: int
    quantity: int


@attrs.frozen
class ViolationGroup:
    """Invalid wishes with the same violations (``Violation.to_dict()`` dicts) collapsed."""

    violations: tuple[dict, ...]
    wishes: int
    quantity: int


@attrs.frozen
class CommonTexts:
    """Consumer text of one field: how many wishes have it, and the most frequent texts with
    their number of wishes, most frequent first (ties by text)."""

    total: int
    common: tuple[tuple[str, int], ...]


@attrs.frozen
class ImportReport:
    """What an import did. ``duplicates`` are rows whose external id was already stored."""

    rows: int
    imported: int
    invalid: int
    duplicates: int
    rejected: tuple[Rejected, ...]
    strict: bool = False

    @property
    def committed(self) -> bool:
        return not (self.strict and self.rejected)

    def to_dict(self) -> dict:
        data = attrs.asdict(self)
        data["rejected"] = [r.to_dict() for r in self.rejected]
        data["committed"] = self.committed
        return data


class ImportRejected(InvalidInput):
    """A strict import found bad rows and stored nothing; ``report`` lists them."""

    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__(
            f"{len(report.rejected)} of {report.rows} rows rejected; nothing was imported "
            "(strict: all or nothing)"
        )


@attrs.frozen
class AggregatedVariant:
    """A chosen variant with the quantity assigned to it and its share of valid demand."""

    variant: Variant
    covered: int
    wishes: int
    share: float

    def to_dict(self) -> dict:
        return {
            "variant": self.variant.to_dict(),
            "covered_quantity": self.covered,
            "wishes": self.wishes,
            "share": self.share,
        }


@attrs.frozen
class StandardSizes:
    """The production sizes aggregation chose for one numeric module (docs/sizes.md).

    ``batches[i]`` wished units go to ``sizes[i]``; ``assigned_quantity`` of the
    ``total_quantity`` units that chose a value of the module accept one of the sizes;
    ``deviation`` is the sum of units times their distance (in ``unit``) from the wished value.
    """

    module: str
    unit: str
    sizes: tuple[int, ...]
    batches: tuple[int, ...]
    assigned_quantity: int
    total_quantity: int
    deviation: int

    def to_dict(self) -> dict:
        return {
            "module": self.module,
            "unit": self.unit,
            "sizes": [
                {"size": s, "quantity": q} for s, q in zip(self.sizes, self.batches, strict=True)
            ],
            "assigned_quantity": self.assigned_quantity,
            "total_quantity": self.total_quantity,
            "deviation": self.deviation,
        }


@attrs.frozen
class AggregationResult:
    """The variants aggregation chose and how much of the valid demand they cover."""

    campaign: str
    max_variants: int
    moq: int
    variants: tuple[AggregatedVariant, ...]
    total_quantity: int
    covered_quantity: int
    invalid_quantity: int
    candidates: int
    uncovered: tuple[tuple[Mapping[str, str], int], ...]
    sizes: tuple[StandardSizes, ...] = ()

    @property
    def share(self) -> float:
        return self.covered_quantity / self.total_quantity if self.total_quantity else 0.0

    @property
    def uncovered_quantity(self) -> int:
        return self.total_quantity - self.covered_quantity

    def to_dict(self) -> dict:
        return {
            "campaign": self.campaign,
            "max_variants": self.max_variants,
            "moq": self.moq,
            "variants": [v.to_dict() for v in self.variants],
            "total_quantity": self.total_quantity,
            "covered_quantity": self.covered_quantity,
            "uncovered_quantity": self.uncovered_quantity,
            "share": self.share,
            "invalid_quantity": self.invalid_quantity,
            "candidates": self.candidates,
            "uncovered": [{"configuration": dict(c), "quantity": q} for c, q in self.uncovered],
            "sizes": [s.to_dict() for s in self.sizes],
        }


@attrs.frozen
class WishStats:
    """Totals, valid share, demand per module option and the most common violations."""

    campaign: str
    wishes: int
    quantity: int
    valid_wishes: int
    valid_quantity: int
    complete_wishes: int
    options: tuple[dict, ...]
    violations: tuple[dict, ...]

    @property
    def valid_share(self) -> float:
        return self.valid_quantity / self.quantity if self.quantity else 0.0

    def to_dict(self) -> dict:
        data = attrs.asdict(self)
        data["options"] = list(self.options)
        data["violations"] = list(self.violations)
        data["valid_share"] = self.valid_share
        return data
