"""Per-unit work instructions: which personalised unit each work order makes, and with what.

Pledges of a tipped variant may carry personalisation per unit (an engraving, the sha256 of a
start-up photo). The hand-off gives every personalised unit a stable id and places it in a
work order of its pledge's region, filling that region's lots in order (pledges oldest first,
units in order), so that a lot's personalised units never exceed its quantity. Pure functions:
the service reads the pledges and uploads, this module decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from ..catalog import Catalog
from ..personalisation import ImageField, Upload
from .plan import DEFAULT_REGION, ProductionOrder


@attrs.frozen
class UnitValue:
    """One field's value for one unit: a text, or an image delivered as ``image.file_name``."""

    field: str
    kind: str
    title: str
    text: str | None = None
    image: Upload | None = None

    def to_dict(self) -> dict:
        if self.image is None:
            return {"kind": self.kind, "title": self.title, "text": self.text}
        return {
            "kind": self.kind,
            "title": self.title,
            "file": self.image.file_name,
            "sha256": self.image.sha256,
            "media_type": self.image.media_type,
            "width": self.image.width,
            "height": self.image.height,
        }


@attrs.frozen
class UnitInstruction:
    """A personalised unit: ``unit_id`` (stable), its work order, the pledge it was ordered
    with (the shop's key) and which of the pledge's units it is, and its values."""

    unit_id: str
    work_order_id: str
    order_key: str
    unit: int
    values: tuple[UnitValue, ...]

    def to_dict(self) -> dict:
        return {
            "unit_id": self.unit_id,
            "order_key": self.order_key,
            "unit": self.unit,
            "values": {value.field: value.to_dict() for value in self.values},
        }


def unit_id(handoff_id: str, pledge_id: int, unit: int) -> str:
    """``PU-<slug>-V<variant>-P<pledge id>-U<unit>``: from the hand-off id and stable numbers."""
    return f"PU-{handoff_id.removeprefix('HO-')}-P{pledge_id}-U{unit}"


def assign_units(
    order: ProductionOrder,
    catalog: Catalog,
    pledges: Sequence,
    uploads: Mapping[str, Upload],
) -> tuple[UnitInstruction, ...]:
    """The order's personalised units, each placed in a work order of its pledge's region.

    ``pledges`` are the variant's confirmed pledges (``id``, ``key``, ``region``,
    ``personalisation``); ``uploads`` maps every image value's sha256 to its ``Upload``.
    """
    free: dict[str, list[list]] = {}  # region -> [[work order id, units left], ...] by lot
    for wo in order.work_orders:
        free.setdefault(wo.region, []).append([wo.id, wo.quantity])
    instructions = []
    for pledge in sorted(pledges, key=lambda p: p.id):
        lots = free.get(pledge.region or DEFAULT_REGION, [])
        for number, values in enumerate(pledge.personalisation, 1):
            if not values:
                continue
            while lots and lots[0][1] == 0:
                lots.pop(0)
            if not lots:
                raise ValueError(f"pledge {pledge.key!r} has more units than its work orders")
            lots[0][1] -= 1
            instructions.append(
                UnitInstruction(
                    unit_id=unit_id(order.handoff_id, pledge.id, number),
                    work_order_id=lots[0][0],
                    order_key=pledge.key,
                    unit=number,
                    values=tuple(
                        _value(field, values[field.id], uploads)
                        for field in catalog.personalisation
                        if field.id in values
                    ),
                )
            )
    return tuple(instructions)


def _value(field, value: str, uploads: Mapping[str, Upload]) -> UnitValue:
    if isinstance(field, ImageField):
        return UnitValue(field.id, field.kind, field.title, image=uploads[value])
    return UnitValue(field.id, field.kind, field.title, text=value)


def images(instructions: Sequence[UnitInstruction]) -> list[Upload]:
    """Every image the instructions use, once each, by sha256."""
    found = {v.image.sha256: v.image for i in instructions for v in i.values if v.image}
    return [found[digest] for digest in sorted(found)]
