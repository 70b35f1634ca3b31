"""Production planning for a hand-off: pure functions of the demand, the catalog and settings.

For one tipped variant: the order quantity (confirmed plus spare), the bill of materials (per unit
and total, aggregated by part number), the due date (the longest option lead time plus assembly
days, counted from the hand-off date) and the work orders, split by destination region and then
by line capacity so that the lots add up to the order exactly.

Ids are built from stable content only (campaign slug, variant id, region, lot number), so the
same campaign plans the same ids on every run. Region names come from shops and consumers; they
appear in ids only when they are plain letters and digits, otherwise as a short hash.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Mapping, Sequence

import attrs

from ..catalog import Catalog, Choice, Part
from ..errors import InvalidInput
from ..money import Money
from ..variants import Variant

DEFAULT_REGION = "default"
_PLAIN_REGION = re.compile(r"^[A-Za-z0-9]{1,24}\Z")


def _positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(
            f"{name} must be an integer of at least {minimum}, got {value!r}",
            field=name.replace(" ", "."),
            value=value,
            accepted=f"an integer of at least {minimum}",
        )
    return value


def _check_by_region(instance, attribute, value):
    if not isinstance(value, Mapping) or not value:
        raise InvalidInput(
            f"demand by_region must be a non-empty mapping, got {value!r}",
            field="demand.by_region",
            value=value,
            accepted="a non-empty mapping of regions to units",
        )
    for region, units in value.items():
        if not isinstance(region, str) or not region:
            raise InvalidInput(
                f"demand by_region: region {region!r} must be a non-empty string",
                field="demand.by_region",
                value=region,
                accepted="a non-empty region name",
            )
        _positive_int(f"demand by_region[{region!r}]", units, minimum=0)


def _units_by_region(by_region: Mapping[str, int]) -> dict[str, int]:
    return dict(by_region)


@attrs.frozen
class DemandLine:
    """Confirmed demand for one variant: the same shape as the pre-sale stage's ``Demand``.

    ``by_region`` maps destination regions (``"default"`` for none) to confirmed units and must
    add up to ``quantity``. ``unit_price`` is the price consumers paid, when known.
    """

    variant: Variant
    quantity: int
    by_region: Mapping[str, int] = attrs.field(
        converter=_units_by_region, validator=_check_by_region
    )
    unit_price: Money | None = None

    def __attrs_post_init__(self):
        if not isinstance(self.variant, Variant):
            raise InvalidInput(
                f"demand variant must be a Variant, got {self.variant!r}",
                field="demand.variant",
                value=self.variant,
                accepted="a c2m_core.Variant",
            )
        _positive_int("demand quantity", self.quantity)
        if sum(self.by_region.values()) != self.quantity:
            raise InvalidInput(
                f"demand for variant {self.variant.id}: by_region adds up to "
                f"{sum(self.by_region.values())} units but quantity is {self.quantity}",
                field="demand.by_region",
                value=dict(self.by_region),
                accepted=f"units adding up to the quantity, {self.quantity}",
            )

    @classmethod
    def of(cls, demand) -> DemandLine:
        """A ``DemandLine`` from any object with ``variant``, ``quantity``, ``by_region``."""
        if isinstance(demand, cls):
            return demand
        try:
            return cls(
                variant=demand.variant,
                quantity=demand.quantity,
                by_region=demand.by_region,
                unit_price=getattr(demand, "unit_price", None),
            )
        except AttributeError as ex:
            raise InvalidInput(
                f"demand {demand!r} lacks {ex.name!r}; give variant, quantity and by_region",
                field="demand",
                value=demand,
                accepted="objects with variant, quantity and by_region",
            ) from None


@attrs.frozen
class PlanSettings:
    """The campaign settings planning uses (see ``c2m_core.campaigns.SETTINGS``)."""

    spare_percent: int = 0
    assembly_days: int = 0
    max_lot_size: int = 0
    warehouses: Mapping[str, str] = attrs.field(factory=dict, converter=dict)

    @classmethod
    def from_campaign(cls, campaign) -> PlanSettings:
        return cls(
            spare_percent=campaign.setting("spare_percent"),
            assembly_days=campaign.setting("assembly_days"),
            max_lot_size=campaign.setting("max_lot_size"),
            warehouses=campaign.setting("warehouses") or {},
        )


@attrs.frozen
class BomLine:
    """One part number of a bill of materials; ``sources`` are the ``module.option`` using it.

    ``lead_time_days`` is the longest lead time of those options (None for parts a plugin added
    that no option lists).
    """

    part_number: str
    per_unit: int
    total: int
    lead_time_days: int | None = None
    sources: tuple[str, ...] = ()


@attrs.frozen
class Destination:
    """Where part of the order goes: a region, its warehouse, confirmed and spare units."""

    region: str
    warehouse: str | None
    confirmed: int
    spare: int

    @property
    def quantity(self) -> int:
        return self.confirmed + self.spare


@attrs.frozen
class WorkOrder:
    """One lot: ``lot`` of ``lots`` for ``region``, at most the line capacity."""

    id: str
    region: str
    warehouse: str | None
    lot: int
    lots: int
    quantity: int


@attrs.frozen
class ProductionOrder:
    """Everything the factory needs to build one variant: the plan behind every document."""

    handoff_id: str
    sku: str
    campaign_slug: str
    variant: Variant
    confirmed: int
    spare_percent: int
    spare: int
    destinations: tuple[Destination, ...]
    bom: tuple[BomLine, ...]
    lead_time_days: int
    assembly_days: int
    handed_off_at: datetime.datetime
    due_date: datetime.date
    work_orders: tuple[WorkOrder, ...]
    unit_price: Money | None = None

    @property
    def quantity(self) -> int:
        """Units to build: confirmed plus spare; the work orders add up to exactly this."""
        return self.confirmed + self.spare


# Ids ----------------------------------------------------------------------------------------------


def handoff_id(slug: str, variant_id: int) -> str:
    """``HO-<slug>-V<variant id>``: slugs are lower case, so the ``-V`` is unambiguous."""
    return f"HO-{slug}-V{variant_id}"


def sku(slug: str, variant_id: int) -> str:
    """The produced material's code: ``SKU-<slug>-V<variant id>``."""
    return f"SKU-{slug}-V{variant_id}"


def region_token(region: str) -> str:
    """The region as it appears in ids: itself when plain letters and digits, else a hash.

    Hashed tokens contain ``_``, which plain ones never do, so two regions never share a token.
    """
    if _PLAIN_REGION.fullmatch(region):
        return region
    return "h_" + hashlib.sha256(region.encode()).hexdigest()[:12]


def work_order_id(handoff: str, region: str, lot: int) -> str:
    """``WO-<slug>-V<variant>-<region token>-L<lot>``, from the hand-off id."""
    return f"WO-{handoff.removeprefix('HO-')}-{region_token(region)}-L{lot}"


# Quantities ---------------------------------------------------------------------------------------


def spare_units(confirmed: int, percent: int) -> int:
    """``percent`` of ``confirmed``, rounded up: 5% of 101 is 6."""
    return -(-confirmed * percent // 100)


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder; ties to the earlier).

    The shares add up to ``total`` exactly and each is within one unit of its exact quota.
    """
    whole = sum(weights)
    if total == 0 or whole == 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares


def split_lots(quantity: int, max_lot: int) -> list[int]:
    """Split ``quantity`` into the fewest lots of at most ``max_lot`` (0: no limit).

    Lots are as even as possible (they differ by at most one unit, larger first), so no line
    runs a tiny tail lot; they add up to ``quantity`` exactly.
    """
    if quantity <= 0:
        return []
    if max_lot <= 0 or quantity <= max_lot:
        return [quantity]
    count = -(-quantity // max_lot)
    base, extra = divmod(quantity, count)
    return [base + 1] * extra + [base] * (count - extra)


def warehouse_for(region: str, warehouses: Mapping[str, str]) -> str | None:
    """The warehouse a region ships to: its own entry, else ``default``; None when unmapped.

    Once a campaign maps any region, every region must resolve, so no units go astray.
    """
    if not warehouses:
        return None
    found = warehouses.get(region) or warehouses.get(DEFAULT_REGION)
    if found is None:
        raise InvalidInput(
            f"region {region!r} has no warehouse: the campaign's warehouses setting maps "
            f"{', '.join(map(repr, sorted(warehouses)))}; add it or a 'default' entry",
            field="region",
            value=region,
            accepted=", ".join(sorted(warehouses)),
        )
    return found


# Bill of materials --------------------------------------------------------------------------------


def catalog_parts(catalog: Catalog, configuration: Mapping[str, Choice]) -> list[Part]:
    """The parts one unit needs, from the chosen options in catalog order (not aggregated)."""
    return [part for _, option in catalog.chosen_options(configuration) for part in option.parts]


def expand_bom(
    catalog: Catalog, configuration: Mapping[str, Choice], parts: Sequence[Part], quantity: int
) -> tuple[BomLine, ...]:
    """Aggregate per-unit ``parts`` by part number (first appearance order), with totals."""
    per_unit: dict[str, int] = {}
    for part in parts:
        per_unit[part.number] = per_unit.get(part.number, 0) + part.quantity
    sources: dict[str, list[str]] = {number: [] for number in per_unit}
    lead: dict[str, int] = {}
    for module, option in catalog.chosen_options(configuration):
        for part in option.parts:
            if part.number in sources and f"{module.id}.{option.id}" not in sources[part.number]:
                sources[part.number].append(f"{module.id}.{option.id}")
                lead[part.number] = max(lead.get(part.number, 0), option.lead_time_days)
    return tuple(
        BomLine(number, units, units * quantity, lead.get(number), tuple(sources[number]))
        for number, units in per_unit.items()
    )


def lead_time_days(catalog: Catalog, configuration: Mapping[str, Choice]) -> int:
    """The longest lead time of the chosen options: the last part's arrival."""
    return max((o.lead_time_days for _, o in catalog.chosen_options(configuration)), default=0)


# The order ----------------------------------------------------------------------------------------


def plan_order(
    slug: str,
    catalog: Catalog,
    demand: DemandLine,
    settings: PlanSettings,
    handed_off_at: datetime.datetime,
    parts: Sequence[Part] | None = None,
) -> ProductionOrder:
    """Plan the production order of one variant.

    :param slug: the campaign's slug (part of every id)
    :param catalog: the campaign's frozen catalog
    :param demand: the variant's confirmed demand
    :param settings: spare percentage, assembly days, line capacity, region -> warehouse
    :param handed_off_at: when the hand-off happens (UTC); the due date counts from its date
    :param parts: the per-unit parts (a plugin's); default: the chosen options' parts
    """
    variant = demand.variant
    assert variant.id is not None, "only stored variants are planned"
    configuration = variant.configuration
    ho_id = handoff_id(slug, variant.id)
    spare = spare_units(demand.quantity, settings.spare_percent)
    regions = sorted(r for r, units in demand.by_region.items() if units > 0)
    confirmed = [demand.by_region[r] for r in regions]
    destinations = tuple(
        Destination(region, warehouse_for(region, settings.warehouses), units, extra)
        for region, units, extra in zip(
            regions, confirmed, apportion(spare, confirmed), strict=True
        )
    )
    work_orders = []
    for destination in destinations:
        lots = split_lots(destination.quantity, settings.max_lot_size)
        for number, units in enumerate(lots, start=1):
            work_orders.append(
                WorkOrder(
                    id=work_order_id(ho_id, destination.region, number),
                    region=destination.region,
                    warehouse=destination.warehouse,
                    lot=number,
                    lots=len(lots),
                    quantity=units,
                )
            )
    total = demand.quantity + spare
    if parts is None:
        parts = catalog_parts(catalog, configuration)
    lead = lead_time_days(catalog, configuration)
    return ProductionOrder(
        handoff_id=ho_id,
        sku=sku(slug, variant.id),
        campaign_slug=slug,
        variant=variant,
        confirmed=demand.quantity,
        spare_percent=settings.spare_percent,
        spare=spare,
        destinations=destinations,
        bom=expand_bom(catalog, configuration, parts, total),
        lead_time_days=lead,
        assembly_days=settings.assembly_days,
        handed_off_at=handed_off_at,
        due_date=handed_off_at.astimezone(datetime.UTC).date()
        + datetime.timedelta(days=lead + settings.assembly_days),
        work_orders=tuple(work_orders),
        unit_price=demand.unit_price,
    )
