"""``c2m demo``: one complete campaign on synthetic data, from wishes to the factory's files.

``run_demo(app, category)`` creates a fresh campaign (``demo-<category>``, ``-2``, ``-3``...),
then drives every stage through the same services a shop backend calls:

1. wishes: seeded synthetic wishes (``c2m_core.synthetic``: skewed popularity, some partial,
   some the rules forbid) plus free text the category's ``normalize_wish`` reads, imported with
   ``app.wishes.submit_many``, then aggregated into variants;
2. vote: a score vote whose ballots favour the variants that cover the most wished units, with
   "would buy" flags as the demand signal;
3. pre-sale: pledges from four regions in proportion to the would-buy flags; the threshold and
   capacity are picked from those figures, so the least wanted winner fails and the others tip
   (the most wanted one sells out);
4. hand-off of the tipped variants to ``dir:<folder>/factory`` (JSON, CSV, B2MML, spec sheets),
   then the campaign closes and its report is written to ``<folder>/report.html``.

Everything random comes from ``seed``: the same seed gives the same figures.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import attrs

from .errors import C2MError, InvalidInput
from .handoff.service import HandoffStatus
from .loop import LoopSummary, run_loop
from .presale.service import PresaleStatus, SoldOut
from .report import write_report
from .voting.result import VoteResult
from .wishes.service import AggregationResult, ImportReport, WishStats
from .wishes.synthetic import synthetic_wishes

DEFAULT_WISHES = 20_000
MIN_WISHES = 100
MAX_WISHES = 2_000_000
DEFAULT_OUT = "c2m-demo"
# region -> (warehouse, share of pledges in percent)
REGIONS = {
    "east": ("WH-SH", 40),
    "south": ("WH-GZ", 30),
    "north": ("WH-BJ", 20),
    "west": ("WH-CD", 10),
}
FREE_TEXT_SHARE = 0.04
BALLOT_SHARE = 0.3
WOULD_BUY_SHARE = 0.6
PLEDGE_RATE = 0.5
VOTE_WINNERS = 3
PHRASES = ("{}, please", "I'd buy: {}", "想要 {}", "{}!", "Looking for {}")

#: ``progress(step, done, total)``: ``total`` 0 means a step without a count.
Progress = Callable[[str, int, int], None]


@attrs.frozen
class DemoSummary:
    """What a demo run did: every stage's outcome and where its files are."""

    slug: str
    category: str
    folder: Path
    factory: Path
    report: Path
    wishes: ImportReport
    participants: int
    free_text: int
    read_from_text: int
    stats: WishStats
    aggregation: AggregationResult
    vote: VoteResult
    presale: PresaleStatus
    pledges: int
    sold_out: int
    handoff: HandoffStatus
    seconds: dict[str, float]
    loop: LoopSummary | None = None

    @property
    def tipped(self) -> list:
        return [v for v in self.presale.variants if v.state == "tipped"]

    @property
    def failed(self) -> list:
        return [v for v in self.presale.variants if v.state == "failed"]

    @property
    def units_produced(self) -> int:
        return sum(h.quantity for h in self.handoff.handoffs)


def fresh_slug(app, category: str, out: Path) -> str:
    """``demo-<category>``, else ``-2``, ``-3``...: the first with no campaign and no folder."""
    taken = {c.slug for c in app.campaigns.list()}
    base = f"demo-{category}"
    slug, n = base, 1
    while slug in taken or (out / slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def nice_between(low: int, high: int) -> int:
    """The roundest whole number in ``[low, high]`` (``high`` itself when nothing rounder fits)."""
    for step in (10_000, 5_000, 1_000, 500, 100, 50, 10, 5):
        value = high // step * step
        if value >= max(low, 1):
            return value
    return high


@attrs.frozen
class PresalePlan:
    """Units to pledge per variant id, and the threshold and capacity that follow from them."""

    units: dict[int, int]
    threshold: int
    capacity: int | None
    failing: int


def plan_presale(demand: dict[int, int]) -> PresalePlan:
    """From each winner's would-buy count, the units pledged and a threshold between them.

    The least wanted variant gets fewer units than the threshold and fails; every other one
    reaches it. The capacity lets the most wanted one sell out at about 90% of its demand.
    """
    if len(demand) < 2:
        raise C2MError("the demo needs at least two variants on sale")
    units = {v: max(round(n * PLEDGE_RATE), 3) for v, n in demand.items()}
    ranked = sorted(units, key=lambda v: -units[v])  # stable: ties keep candidate order
    failing, weakest_tip, top = ranked[-1], ranked[-2], ranked[0]
    units[failing] = min(units[failing], units[weakest_tip] * 2 // 3)
    threshold = nice_between(units[failing] + 1, units[weakest_tip])
    low = max(threshold, -(-units[top] * 85 // 100))
    capacity = nice_between(low, units[top] - 1) if low <= units[top] - 1 else None
    return PresalePlan(units, threshold, capacity, failing)


class _Steps:
    """Times each step and reports progress."""

    def __init__(self, progress: Progress | None):
        self.progress = progress
        self.seconds: dict[str, float] = {}

    def start(self, step: str, total: int = 0):
        self.step, self.started = step, time.perf_counter()
        self.tick(0, total)

    def tick(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(self.step, done, total)

    def stop(self) -> None:
        self.seconds[self.step] = time.perf_counter() - self.started


def _check_count(wishes) -> int:
    if (
        isinstance(wishes, bool)
        or not isinstance(wishes, int)
        or not (MIN_WISHES <= wishes <= MAX_WISHES)
    ):
        raise InvalidInput(
            f"wishes: {wishes!r} is not accepted; use a whole number from {MIN_WISHES} to "
            f"{MAX_WISHES:,}"
        )
    return wishes


def run_demo(
    app,
    category: str = "tv",
    wishes: int = DEFAULT_WISHES,
    seed: int = 1,
    out: str | Path = DEFAULT_OUT,
    slug: str | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Run a complete campaign of ``category`` on ``wishes`` synthetic wishes.

    :param app: the ``C2M`` instance (its database receives the campaign)
    :param category: a registered category name
    :param wishes: how many synthetic wishes to import
    :param seed: seeds every random choice
    :param out: the folder that receives ``<slug>/factory/`` and ``<slug>/report.html``
    :param slug: the campaign slug (default: a fresh ``demo-<category>[-n]``)
    :param progress: called as ``progress(step, done, total)`` while steps run
    """
    count = _check_count(wishes)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidInput(f"seed: {seed!r} is not a whole number")
    cat = app.category(category)
    out = Path(out)
    if slug is not None and (out / slug).exists():
        raise InvalidInput(
            f"slug: {out / slug} exists already; choose another --slug or --out (or leave out "
            "--slug for a fresh one)"
        )
    slug = slug or fresh_slug(app, cat.name, out)
    folder = out / slug
    factory = folder / "factory"
    steps = _Steps(progress)
    rng = random.Random(seed)

    moq = max(1, count // 100)
    app.campaigns.create(
        slug,
        cat.name,
        title=f"Demo: {cat.catalog.title}",
        settings={
            "max_variants": 5,
            "moq": moq,
            "spare_percent": 2,
            "warehouses": {region: code for region, (code, _) in REGIONS.items()},
        },
    )
    app.campaigns.advance(slug, to="wishes")

    steps.start("wishes", count)
    imported, free_text, read_from_text = _import_wishes(app, slug, count, seed, rng, steps)
    stats = app.wishes.stats(slug)
    participants = app.store.wishes.customers(app.campaigns.get(slug).id)
    steps.stop()

    steps.start("aggregation")
    aggregation = app.wishes.aggregate(slug)
    if len(aggregation.variants) < 3:
        aggregation = app.wishes.aggregate(slug, moq=1)
    if len(aggregation.variants) < 2:
        raise C2MError(
            f"aggregation found {len(aggregation.variants)} variant(s); the demo needs two. "
            "Try more wishes."
        )
    steps.stop()

    app.campaigns.advance(slug, to="vote")
    candidates = [v.variant.id for v in aggregation.variants]
    app.voting.open(slug, "score", winners=min(VOTE_WINNERS, len(candidates)))
    ballots = _ballots(aggregation, count, rng)
    steps.start("ballots", len(ballots))
    done = 0

    def ballot_progress(n):
        nonlocal done
        done += n
        steps.tick(done, len(ballots))

    app.voting.cast_many(slug, ballots, progress=ballot_progress)
    vote = app.voting.close(slug)
    steps.stop()

    app.campaigns.advance(slug, to="presale")
    winners = app.voting.winners(slug)
    plan = plan_presale({v: vote.total(v)["would_buy"] for v in winners})
    app.presale.open(slug, "14d", deposit="10%", threshold=plan.threshold, capacity=plan.capacity)
    pledges, sold_out = _pledge(app, slug, plan, count, rng, steps)
    presale = app.presale.close(slug)

    steps.start("hand-off")
    app.campaigns.configure(
        slug, max_lot_size=nice_between(max(plan.threshold // 3, 1), max(plan.threshold // 2, 1))
    )
    handoff = app.handoff.run(slug, [f"dir:{factory}"])
    if not handoff.undelivered():
        app.campaigns.advance(slug, to="closed")
    steps.stop()

    steps.start("loop")
    loop = run_loop(app, slug, rng)
    steps.stop()

    steps.start("report")
    report = write_report(app, slug, folder / "report.html")
    steps.stop()
    return DemoSummary(
        slug=slug,
        category=cat.name,
        folder=folder,
        factory=factory,
        report=report,
        wishes=imported,
        participants=participants,
        free_text=free_text,
        read_from_text=read_from_text,
        stats=stats,
        aggregation=aggregation,
        vote=vote,
        presale=presale,
        pledges=pledges,
        sold_out=sold_out,
        handoff=app.handoff.status(slug),
        seconds=steps.seconds,
        loop=loop,
    )


def _import_wishes(app, slug: str, count: int, seed: int, rng, steps):
    """Import synthetic wishes, a share of them as free text.

    Returns the import report, the number of free-text wishes, and how many of those a
    plugin's ``normalize_wish`` read the choices from (the others keep explicit choices).
    """
    campaign = app.campaigns.get(slug)
    category = app.campaigns.category(campaign)
    catalog = category.catalog
    # every valid configuration, from the wishes service's engine (built once, reused on import)
    valid = {frozenset(c.items()) for c in app.wishes._completions(category, {}, None)}
    read_cache: dict[frozenset, bool] = {}
    free_text = read = 0

    def reads(configuration: dict, text: str) -> bool:
        key = frozenset(configuration.items())
        if key not in read_cache:
            found = app.pm.hook.normalize_wish(
                app=app, category=category, raw=text, configuration={}
            )
            read_cache[key] = bool(found)
        return read_cache[key]

    def items():
        nonlocal free_text, read
        generated = synthetic_wishes(
            catalog, lambda c: frozenset(c.items()) in valid, count, seed=seed
        )
        for line, wish in enumerate(generated, start=1):
            configuration = wish["configuration"]
            if configuration and rng.random() < FREE_TEXT_SHARE:
                titles = [option.title for _, option in catalog.chosen_options(configuration)]
                text = rng.choice(PHRASES).format(", ".join(titles))
                wish["raw"] = text
                free_text += 1
                if reads(configuration, text):
                    wish["configuration"] = {}
                    read += 1
            yield line, wish

    report = app.wishes.submit_many(slug, items(), progress=lambda line: steps.tick(line, count))
    return report, free_text, read


def _ballots(aggregation: AggregationResult, count: int, rng) -> list[tuple[str, dict]]:
    """Score ballots that favour the variants covering the most wished units."""
    weights = {v.variant.id: max(v.covered, 1) for v in aggregation.variants}
    candidates = list(weights)
    top = max(weights.values())
    voters = rng.sample(range(count), max(round(count * BALLOT_SHARE), 10))
    ballots = []
    for voter in voters:
        favourite = rng.choices(candidates, weights=[weights[c] for c in candidates])[0]
        scores = {}
        for variant in candidates:
            base = 1 + 4 * weights[variant] / top
            scores[variant] = min(5, max(0, round(base + rng.gauss(0, 1.2))))
        scores[favourite] = 5
        ballot: dict[str, object] = {"score": scores}
        if rng.random() < WOULD_BUY_SHARE:
            ballot["would_buy"] = [favourite]
        ballots.append((f"customer-{voter}", ballot))
    return ballots


def _pledge(app, slug: str, plan: PresalePlan, count: int, rng, steps) -> tuple[int, int]:
    """Place pledges for the planned units from the four regions, in random order.

    A pledge larger than what is left takes the units left; one that finds the variant sold out
    is refused (and counted).
    """
    orders = []
    for variant, units in plan.units.items():
        while units > 0:
            quantity = min(units, rng.choices((1, 2, 3), weights=(85, 12, 3))[0])
            orders.append((variant, quantity))
            units -= quantity
    rng.shuffle(orders)
    regions = list(REGIONS)
    shares = [share for _, share in REGIONS.values()]
    steps.start("pledges", len(orders))
    placed = sold_out = 0
    for number, (variant, quantity) in enumerate(orders, start=1):
        customer = f"customer-{rng.randrange(count)}"
        region = rng.choices(regions, weights=shares)[0]
        key = f"{slug}-order-{number}"
        try:
            app.presale.place(slug, variant, customer, quantity, key, region=region)
            placed += 1
        except SoldOut as ex:
            if ex.units_left:
                app.presale.place(slug, variant, customer, ex.units_left, key, region=region)
                placed += 1
            else:
                sold_out += 1
        if number % 50 == 0 or number == len(orders):
            steps.tick(number, len(orders))
    steps.stop()
    return placed, sold_out
