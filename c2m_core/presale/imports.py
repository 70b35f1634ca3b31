"""Importing pledges in bulk: a shop's orders from a CSV or JSON Lines file, or from rows.

Columns (keys): ``variant``, ``customer``, ``quantity``, ``key`` (required) and ``region``.
The file is read by ``c2m_core.imports.ImportFile``, the reader every import shares.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from ..errors import C2MError, InvalidInput
from ..imports import ImportFile, Rejected, whole_number
from .service import MAX_COUNT as MAX_QUANTITY

COLUMNS = ("variant", "customer", "quantity", "key", "region")
REQUIRED = ("variant", "customer", "quantity", "key")


@attrs.frozen
class RejectedPledge(Rejected):
    """A pledge row that was not placed: its line, the row's key (if it had one) and why."""

    key: str = ""


@attrs.frozen
class PledgeImportReport:
    """What a pledge import did: rows read, pledges and units placed, rows rejected.

    ``committed`` is False when a strict import found a bad row and placed nothing.
    """

    rows: int
    placed: int
    units: int
    rejected: tuple[RejectedPledge, ...]
    strict: bool = False

    @property
    def committed(self) -> bool:
        return not (self.strict and self.rejected and not self.placed)

    def to_dict(self) -> dict:
        data = attrs.asdict(self, recurse=False)
        data["rejected"] = [attrs.asdict(r) for r in self.rejected]
        data["committed"] = self.committed
        return data


def read_pledges(source, format: str | None = None) -> ImportFile:
    """The checked pledge file (a path, a file object, or an iterable of mappings)."""
    return ImportFile(source, COLUMNS, REQUIRED, format)


def import_pledges(
    app,
    slug: str,
    source,
    strict: bool = False,
    format: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> PledgeImportReport:
    """Place every pledge of ``source``; see ``PresaleService.import_pledges``."""
    rows = source if isinstance(source, ImportFile) else read_pledges(source, format)
    on_sale = {offer.variant_id for offer in app.presale.offers(slug)}
    accepted: list[tuple[int, dict]] = []
    rejected: list[RejectedPledge] = []
    keys: dict[str, int] = {}
    count = 0
    for item in rows:
        count += 1
        if isinstance(item, Rejected):
            rejected.append(RejectedPledge(item.line, item.reason))
            continue
        line, data = item
        key = str(data.get("key") or "").strip()
        try:
            request = _request(data, on_sale)
            if key in keys:
                raise InvalidInput(
                    f"key: {key!r} repeats line {keys[key]}",
                    field="key",
                    value=key,
                    accepted="a key used on one line only",
                )
        except InvalidInput as ex:
            rejected.append(RejectedPledge(line, str(ex), key))
            continue
        keys[key] = line
        accepted.append((line, request))
    if strict and rejected:
        return PledgeImportReport(count, 0, 0, tuple(rejected), strict=True)
    placed = units = 0
    for line, request in accepted:
        try:
            pledge = app.presale.place(slug, **request)
        except C2MError as ex:
            rejected.append(RejectedPledge(line, str(ex), request["key"]))
        else:
            placed += 1
            units += pledge.quantity
        if progress is not None:
            progress(line)
    rejected.sort(key=lambda r: r.line)
    return PledgeImportReport(count, placed, units, tuple(rejected), strict=strict)


def _request(data: dict, on_sale: set[int]) -> dict:
    variant = whole_number(data, "variant", 1)
    if variant not in on_sale:
        shown = ", ".join(map(str, sorted(on_sale))) or "none"
        raise InvalidInput(
            f"variant: {variant} is not on sale; on sale: {shown}",
            field="variant",
            value=variant,
            accepted=shown,
        )
    region = str(data.get("region") or "").strip() or None
    return {
        "variant_id": variant,
        "customer": str(data.get("customer") or "").strip(),
        "quantity": whole_number(data, "quantity", 1, MAX_QUANTITY),
        "key": str(data.get("key") or "").strip(),
        "region": region,
    }
