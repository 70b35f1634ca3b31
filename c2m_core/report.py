"""The campaign report: one self-contained HTML page a brand team shows in a meeting.

``build_report(app, slug)`` reads the campaign from the store into plain values (``Report``);
``render_report`` fills the ``report.html`` template with them (autoescape, ``StrictUndefined``;
a category plugin may ship its own ``report.html``). Every stage is optional: a section the
campaign skipped or has not reached says so instead of showing figures. Charts are inline SVG
drawn by the template from the shares computed here; the page loads nothing from anywhere.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from .loop import loop_section
from .presale.records import COMMITTED_STATES
from .store.database import isoformat

TEMPLATE = "report.html"
TEXT_SAMPLES = 8
SKIPPED = "skipped: the campaign does not use this stage"


@attrs.frozen
class Bar:
    """One bar of a chart: ``share`` (0 to 1) of the chart's width, ``text`` beside it."""

    label: str
    value: int
    share: float
    text: str
    highlight: bool = False


def bars(rows, text=lambda value: f"{value:,}", scale: int | None = None) -> tuple[Bar, ...]:
    """Bars from ``(label, value[, highlight])`` rows, scaled to the largest value or ``scale``."""
    rows = [tuple(row) for row in rows]
    top = scale if scale is not None else max((row[1] for row in rows), default=0)
    return tuple(
        Bar(row[0], row[1], row[1] / top if top else 0.0, text(row[1]), bool(row[2:] and row[2]))
        for row in rows
    )


@attrs.frozen
class FunnelStep:
    """A stage of the funnel; ``value`` is None when the campaign skipped or has not reached it.

    ``share`` is its value against the largest step's."""

    key: str
    label: str
    value: int | None
    note: str = ""
    share: float = 0.0
    highlight: bool = False


@attrs.frozen
class ModuleDemand:
    """Wished units per option of one module (valid wishes), and the units that left it open."""

    id: str
    title: str
    bars: tuple[Bar, ...]
    open_quantity: int


@attrs.frozen
class WishSection:
    wishes: int
    quantity: int
    valid_wishes: int
    valid_quantity: int
    invalid_wishes: int
    complete_wishes: int
    free_text: int
    notes: int
    modules: tuple[ModuleDemand, ...]
    violations: tuple[dict, ...]
    texts: tuple[tuple[str, str, int], ...]

    @property
    def partial_wishes(self) -> int:
        return self.valid_wishes - self.complete_wishes


@attrs.frozen
class VariantRow:
    """A variant the campaign offers; ``share``: its covered units against the largest."""

    id: int
    name: str
    source: str
    covered: int
    share: float = 0.0
    highlight: bool = False


@attrs.frozen
class AggregationSection:
    max_variants: int
    moq: int
    variants: int
    total_quantity: int
    covered_quantity: int
    invalid_quantity: int

    @property
    def share(self) -> float:
        return self.covered_quantity / self.total_quantity if self.total_quantity else 0.0

    @property
    def coverage(self) -> tuple[Bar, ...]:
        """Covered, uncovered and invalid wished units, on one scale."""
        total = self.total_quantity + self.invalid_quantity
        return bars(
            [
                ("covered by the variants", self.covered_quantity, True),
                ("valid, not covered", self.total_quantity - self.covered_quantity),
                ("invalid (left out)", self.invalid_quantity),
            ],
            scale=total,
        )


@attrs.frozen
class VoteRow:
    """One candidate: its place, its totals, and ``share``: its main figure against the best."""

    variant_id: int
    name: str
    rank: int
    winner: bool
    figures: tuple[tuple[str, int], ...]
    share: float = 0.0

    @property
    def highlight(self) -> bool:
        return self.winner


@attrs.frozen
class VoteSection:
    method: str
    state: str
    ballots: int
    winners: tuple[int, ...]
    figure: str
    rows: tuple[VoteRow, ...]
    tie_breaks: tuple[str, ...]
    tie_rule: str

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.rows[0].figures) if self.rows else ()


@attrs.frozen
class PresaleRow:
    variant_id: int
    name: str
    state: str
    units: int
    threshold: int
    capacity: int | None
    pledges: int
    unit_price: str
    deposits: str
    value: str

    @property
    def scale(self) -> int:
        return max(self.units, self.threshold, self.capacity or 0, 1)

    @property
    def units_share(self) -> float:
        return self.units / self.scale

    @property
    def threshold_share(self) -> float:
        return self.threshold / self.scale

    @property
    def capacity_share(self) -> float | None:
        return None if self.capacity is None else self.capacity / self.scale


@attrs.frozen
class PresaleSection:
    state: str
    deadline: str
    deposit: str
    cancellation: str
    pledges: int
    units: int
    rows: tuple[PresaleRow, ...]


@attrs.frozen
class OrderRow:
    handoff_id: str
    variant_id: int
    name: str
    confirmed: int
    spare: int
    quantity: int
    due_date: str
    destinations: tuple[dict, ...]
    work_orders: tuple[dict, ...]
    deliveries: tuple[tuple[str, str], ...]


@attrs.frozen
class ProductionSection:
    orders: tuple[OrderRow, ...]

    @property
    def units(self) -> int:
        return sum(order.quantity for order in self.orders)

    @property
    def work_orders(self) -> int:
        return sum(len(order.work_orders) for order in self.orders)


@attrs.frozen
class Report:
    """Everything the report shows. A section is None when ``reasons`` says why it is empty."""

    slug: str
    title: str
    category: str
    category_title: str
    currency: str
    state: str
    states: tuple[str, ...]
    generated_at: str
    funnel: tuple[FunnelStep, ...]
    wishes: WishSection | None
    aggregation: AggregationSection | None
    vote: VoteSection | None
    presale: PresaleSection | None
    production: ProductionSection | None
    variants: tuple[VariantRow, ...]
    reasons: dict[str, str]
    loop: object = None


def _reached(campaign, stage: str) -> bool:
    return campaign.states.index(campaign.state) >= campaign.states.index(stage)


def _why_empty(campaign, stage: str, not_yet: str) -> str:
    if stage not in campaign.stages:
        return SKIPPED
    return not_yet


def build_report(app, slug: str) -> Report:
    """Read campaign ``slug`` into a ``Report``."""
    campaign = app.campaigns.get(slug)
    category = app.campaigns.category(campaign)
    store = app.store
    offered = store.variants.for_campaign(campaign.id)
    names = {v.id: v.name for v in store.variants.for_campaign(campaign.id, True)}
    top = max((v.covered_quantity for v in offered), default=0)
    variants = tuple(
        VariantRow(
            v.id, v.name, v.source, v.covered_quantity, v.covered_quantity / top if top else 0
        )
        for v in offered
    )
    reasons: dict[str, str] = {}

    wishes = aggregation = None
    participants = None
    if "wishes" in campaign.stages and _reached(campaign, "wishes"):
        wishes = _wishes(app, campaign, category)
        participants = store.wishes.customers(campaign.id)
        aggregation = _aggregation(app, campaign)
        if aggregation is None:
            reasons["aggregation"] = "not run: no aggregation has chosen variants yet"
    else:
        reasons["wishes"] = _why_empty(campaign, "wishes", "not started: the campaign is a draft")
        reasons["aggregation"] = reasons["wishes"]

    vote = _vote(app, campaign, names)
    if vote is None:
        reasons["vote"] = _why_empty(campaign, "vote", "not started: no vote was opened")
    presale, pledges = _presale(app, campaign)
    if presale is None:
        reasons["presale"] = _why_empty(campaign, "presale", "not started: no pre-sale was opened")
    production = _production(app, campaign, names)
    if production is None:
        reasons["production"] = _why_empty(
            campaign, "handoff", "not started: nothing was handed off yet"
        )

    funnel: tuple[FunnelStep, ...] = (
        FunnelStep("participants", "Participants", participants, "distinct customers who wished"),
        FunnelStep("wishes", "Wishes", wishes.wishes if wishes else None),
        FunnelStep("valid_wishes", "Valid wishes", wishes.valid_wishes if wishes else None),
        FunnelStep("ballots", "Ballots", vote.ballots if vote else None),
        FunnelStep("pledges", "Pledges", pledges, "every pledge placed, including refunded ones"),
        FunnelStep(
            "units_produced",
            "Units produced",
            production.units if production else None,
            "confirmed plus spare",
        ),
    )
    top = max((step.value for step in funnel if step.value is not None), default=0)
    funnel = tuple(
        attrs.evolve(step, share=step.value / top) if step.value and top else step
        for step in funnel
    )
    return Report(
        slug=campaign.slug,
        title=campaign.title,
        category=campaign.category,
        category_title=category.catalog.title,
        currency=campaign.currency,
        state=campaign.state,
        states=campaign.states,
        generated_at=isoformat(app.clock()),
        funnel=funnel,
        wishes=wishes,
        aggregation=aggregation,
        vote=vote,
        presale=presale,
        production=production,
        variants=variants,
        reasons=reasons,
        loop=loop_section(app, campaign),
    )


def _wishes(app, campaign, category) -> WishSection:
    stats = app.wishes.stats(campaign.slug)
    catalog = category.catalog
    by_option = {(o["module"], o["option"]): o["quantity"] for o in stats.options}
    modules = []
    for module in catalog.modules:
        rows = [(option.title, by_option[(module.id, option.id)]) for option in module.options]
        chosen = sum(quantity for _, quantity in rows)
        modules.append(
            ModuleDemand(module.id, module.title, bars(rows), stats.valid_quantity - chosen)
        )
    store = app.store.wishes
    notes = store.common_texts(campaign.id, "note", TEXT_SAMPLES)
    free_text = store.common_texts(campaign.id, "raw", TEXT_SAMPLES)
    texts = [("free text", text, n) for text, n in free_text.common] + [
        ("note", text, n) for text, n in notes.common
    ]
    return WishSection(
        wishes=stats.wishes,
        quantity=stats.quantity,
        valid_wishes=stats.valid_wishes,
        valid_quantity=stats.valid_quantity,
        invalid_wishes=stats.wishes - stats.valid_wishes,
        complete_wishes=stats.complete_wishes,
        free_text=free_text.total,
        notes=notes.total,
        modules=tuple(modules),
        violations=stats.violations[:TEXT_SAMPLES],
        texts=tuple(sorted(texts, key=lambda item: (-item[2], item[0], item[1]))[:TEXT_SAMPLES]),
    )


def _aggregation(app, campaign) -> AggregationSection | None:
    found = None
    cursor = 0
    while True:
        events = app.events.since(cursor, campaign=campaign.slug, types=("wishes.aggregated",))
        if not events:
            break
        found, cursor = events[-1], events[-1].id
    if found is None:
        return None
    payload = found.payload
    invalid = sum(g.quantity for g in app.store.wishes.demand(campaign.id, valid=False))
    return AggregationSection(
        max_variants=payload["max_variants"],
        moq=payload["moq"],
        variants=len(payload["variants"]),
        total_quantity=payload["total_quantity"],
        covered_quantity=payload["covered_quantity"],
        invalid_quantity=invalid,
    )


def _vote(app, campaign, names) -> VoteSection | None:
    if "vote" not in campaign.stages:
        return None
    vote = app.voting.get(campaign.slug)
    if vote is None:
        return None
    result = vote.result if vote.result is not None else app.voting.tally(vote)
    data = result.to_dict()
    rank = {variant: place for place, variant in enumerate(result.ranking, start=1)}
    winners = set(result.winners)
    rows = []
    for total in result.totals:
        variant = total["variant"]
        figures = tuple((name, value) for name, value in total.items() if name != "variant")
        rows.append(
            VoteRow(variant, names.get(variant, ""), rank[variant], variant in winners, figures)
        )
    rows.sort(key=lambda row: row.rank)
    figure = rows[0].figures[0][0] if rows and rows[0].figures else ""
    top = max((dict(row.figures).get(figure, 0) for row in rows), default=0)
    if top:
        rows = [attrs.evolve(row, share=dict(row.figures)[figure] / top) for row in rows]
    return VoteSection(
        method=vote.method,
        state=vote.state,
        ballots=result.ballots,
        winners=tuple(result.winners),
        figure=figure,
        rows=tuple(rows),
        tie_breaks=tuple(result.tie_breaks),
        tie_rule=data["tie_rule"],
    )


def _presale(app, campaign) -> tuple[PresaleSection | None, int | None]:
    if "presale" not in campaign.stages or app.store.presale.presale(campaign.id) is None:
        return None, None
    status = app.presale.status(campaign.slug)
    counts: dict[int, dict[str, tuple[int, int]]] = {}
    for row in app.store.presale.units_by_state(campaign.id):
        counts.setdefault(row.variant_id, {})[row.state] = (row.pledges, row.units)
    rows = []
    for variant in status.variants:
        units = (
            variant.committed_units if variant.units_at_close is None else variant.units_at_close
        )
        by_state = counts.get(variant.variant_id, {})
        rows.append(
            PresaleRow(
                variant_id=variant.variant_id,
                name=variant.name,
                state=variant.state,
                units=units,
                threshold=variant.threshold,
                capacity=variant.capacity,
                pledges=sum(n for n, _ in by_state.values()),
                unit_price=variant.unit_price.format(),
                deposits=variant.deposits_committed.format(),
                value=variant.value_committed.format(),
            )
        )
    pledges = sum(n for by_state in counts.values() for n, _ in by_state.values())
    units = sum(
        u for by_state in counts.values() for s, (_, u) in by_state.items() if s in COMMITTED_STATES
    )
    section = PresaleSection(
        state=status.state,
        deadline=status.deadline,
        deposit=status.deposit,
        cancellation=status.cancellation,
        pledges=pledges,
        units=units,
        rows=tuple(rows),
    )
    return section, pledges


def _production(app, campaign, names) -> ProductionSection | None:
    if "handoff" not in campaign.stages:
        return None
    status = app.handoff.status(campaign.slug)
    if not status.handoffs:
        return None
    orders = []
    for handoff in status.handoffs:
        record = handoff.record
        orders.append(
            OrderRow(
                handoff_id=handoff.id,
                variant_id=handoff.variant_id,
                name=names.get(handoff.variant_id, record["variant"]["name"]),
                confirmed=record["quantity"]["confirmed"],
                spare=record["quantity"]["spare"],
                quantity=handoff.quantity,
                due_date=handoff.due_date,
                destinations=tuple(record["destinations"]),
                work_orders=tuple(record["work_orders"]),
                deliveries=tuple(
                    (d.target, d.state) for d in status.deliveries if d.handoff_id == handoff.id
                ),
            )
        )
    return ProductionSection(tuple(orders))


def render_report(app, report: Report) -> str:
    """The report as a self-contained HTML page."""
    category = app.category(report.category) if report.category in app.categories else None
    template = app.jinja_environment(category).get_template(TEMPLATE)
    return template.render(report=report)


def write_report(app, slug: str, path: str | Path) -> Path:
    """Build, render and write the report of campaign ``slug`` to ``path``; returns the path."""
    path = Path(path)
    html = render_report(app, build_report(app, slug))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
