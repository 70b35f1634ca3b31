"""Wishes: intake with validation, imports, and aggregation into candidate variants.

``records``, ``service`` (``app.wishes``), ``imports`` (CSV and JSON Lines), ``aggregation``
(weighted max-coverage with a minimum batch) and ``synthetic`` (seeded demo wishes).
"""

from typing import TYPE_CHECKING

from .records import (
    BATCH_SIZE,
    FIELDS,
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_REF,
    MAX_TEXT,
    STATE,
    TOP_UNCOVERED,
    AggregatedVariant,
    AggregationResult,
    ImportRejected,
    ImportReport,
    Rejected,
    StandardSizes,
    Wish,
    WishStats,
)

_LAZY = {"WishService"}


def __getattr__(name: str):
    """The stage's service names load on first use, so importing its records stays fast."""
    if name in _LAZY:
        from . import service

        value = getattr(service, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from .service import WishService


__all__ = [
    "AggregatedVariant",
    "AggregationResult",
    "BATCH_SIZE",
    "FIELDS",
    "ImportRejected",
    "ImportReport",
    "MAX_PRICE",
    "MAX_QUANTITY",
    "MAX_REF",
    "MAX_TEXT",
    "Rejected",
    "STATE",
    "StandardSizes",
    "TOP_UNCOVERED",
    "Wish",
    "WishService",
    "WishStats",
]
