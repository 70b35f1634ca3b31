"""Wishes: intake with validation, imports, and aggregation into candidate variants.

``records``, ``service`` (``app.wishes``), ``imports`` (CSV and JSON Lines), ``aggregation``
(weighted max-coverage with a minimum batch) and ``synthetic`` (seeded demo wishes).
"""

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
    Wish,
    WishStats,
)
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
    "TOP_UNCOVERED",
    "Wish",
    "WishService",
    "WishStats",
]
