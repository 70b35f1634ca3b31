"""Demand forecast before the pre-sale. Reached as ``app.forecast``. See ``model`` for the model.

Reads only: the campaign's wishes, ballots and variants, and the closed pre-sales of the
campaigns created before it in the same database (so a campaign's forecast does not move when
later campaigns close).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from ..errors import InvalidInput
from . import model

BALLOTS = "ballots"
WISHES = "wishes"


@attrs.frozen
class VariantForecast:
    """One variant's forecast units at the pre-sale, with the suggestions that follow."""

    variant_id: int
    name: str
    signal: float
    mean: float
    low: int
    high: int
    chance_to_tip: float
    suggested_capacity: int
    actual: int | None = None

    def to_dict(self) -> dict:
        return attrs.asdict(self)


@attrs.frozen
class Forecast:
    """Forecast units per variant at ``level``, the calibration, and suggested pre-sale figures."""

    campaign: str
    source: str
    level: float
    participants: int
    ballots: int
    calibration: model.Calibration
    threshold: int
    variants: tuple[VariantForecast, ...]

    def suggested_command(self) -> str:
        """A ``c2m presale open`` line with the threshold and per-variant capacities."""
        parts = [f"c2m presale open {self.campaign} --deadline 14d --threshold {self.threshold}"]
        parts += [
            f"--variant-option {v.variant_id}:capacity={v.suggested_capacity}"
            for v in self.variants
        ]
        return " ".join(parts)

    def to_dict(self) -> dict:
        data = attrs.asdict(self, recurse=False)
        data["calibration"] = self.calibration.to_dict()
        data["variants"] = [v.to_dict() for v in self.variants]
        data["suggested_command"] = self.suggested_command()
        return data


@attrs.frozen
class Suggestion:
    """Pre-sale figures from a forecast: the threshold and a capacity per variant on sale."""

    threshold: int
    capacities: dict[int, int]
    forecast: Forecast

    def lines(self) -> list[str]:
        """What was chosen and why, one line each."""
        rows = {v.variant_id: v for v in self.forecast.variants}
        level = f"{self.forecast.level:.0%}"
        return [f"suggested threshold {self.threshold} (the campaign's minimum batch)"] + [
            f"suggested capacity of variant {v}: {capacity} (forecast {rows[v].mean:,.1f} units, "
            f"{level} interval {rows[v].low:,}-{rows[v].high:,}, "
            f"P(>= {self.threshold}) {rows[v].chance_to_tip:.0%})"
            for v, capacity in self.capacities.items()
        ]

    def to_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "capacities": {str(v): c for v, c in self.capacities.items()},
            "description": self.forecast.calibration.describe(),
        }


def ballot_choices(ballot: dict) -> list[int]:
    """The variants one ballot chooses (empty: the outside option)."""
    if "would_buy" in ballot or "score" in ballot:
        return list(ballot.get("would_buy", ()))
    if "choice" in ballot:
        return [ballot["choice"]]
    if "approve" in ballot:
        return list(ballot["approve"])
    if ballot.get("rank"):
        first = ballot["rank"][0]
        return list(first) if isinstance(first, list) else [first]
    return []


class ForecastService:
    """Forecast pledged units per variant before the pre-sale."""

    def __init__(self, app):
        self.app = app

    def signals(self, campaign) -> tuple[str, int, int, dict[int, tuple[float, float]]]:
        """``(source, participants, ballots, {variant: (expected choosers, variance)})``."""
        store = self.app.store
        variants = store.variants.for_campaign(campaign.id)
        participants = store.wishes.customers(campaign.id)
        vote = store.voting.for_campaign(campaign.id)
        if vote is not None:
            counts = dict.fromkeys(vote.candidates, 0.0)
            ballots = 0
            for cast in store.voting.ballots(vote.id):
                ballots += 1
                chosen = [v for v in ballot_choices(dict(cast.ballot)) if v in counts]
                for v in chosen:
                    counts[v] += 1 / len(chosen)
            if ballots:
                shares = model.choice_shares(counts, ballots)
                return (
                    BALLOTS,
                    participants,
                    ballots,
                    {v: model.choosers(shares[v], participants, ballots) for v in counts},
                )
        return (
            WISHES,
            participants,
            0,
            {v.id: (float(v.covered_quantity), 0.0) for v in variants},
        )

    def history(self, campaign, source: str) -> tuple[list[tuple[float, int]], int]:
        """Past (signal, pledged units) pairs of the same source, and how many campaigns."""
        store = self.app.store
        pairs, campaigns = [], 0
        for past in self.app.campaigns.list():
            if past.id >= campaign.id:
                continue
            presale = store.presale.presale(past.id)
            if presale is None or presale.state == "open":
                continue
            kind, _, _, signals = self.signals(past)
            if kind != source:
                continue
            used = False
            for offer in store.presale.offers(past.id):
                units = offer.units_at_close
                if units is None or offer.variant_id not in signals:
                    continue
                if offer.capacity is not None and units >= offer.capacity:
                    continue  # sold out: its demand is censored
                pairs.append((signals[offer.variant_id][0], units))
                used = True
            campaigns += used
        return pairs, campaigns

    def forecast(self, slug: str, level: float = 0.95) -> Forecast:
        """Units per variant at the pre-sale with a ``level`` prediction interval."""
        if level not in model.LEVELS and not (isinstance(level, float) and 0.5 <= level < 1):
            raise InvalidInput(
                f"level: {level!r} is not accepted; use 0.8, 0.9 or 0.95",
                field="level",
                value=level,
                accepted="0.8, 0.9 or 0.95",
            )
        campaign = self.app.campaigns.get(slug)
        source, participants, ballots, signals = self.signals(campaign)
        pairs, campaigns = self.history(campaign, source)
        calibration = model.calibrate(pairs, campaigns)
        threshold = int(campaign.setting("moq"))
        store = self.app.store
        names = {v.id: v.name for v in store.variants.for_campaign(campaign.id, True)}
        offers = {o.variant_id: o for o in store.presale.offers(campaign.id)}
        if offers:
            threshold = min(o.threshold for o in offers.values())
        rows = []
        for variant_id, (signal, variance) in signals.items():
            prediction = model.predict(signal, variance, calibration, level)
            offer = offers.get(variant_id)
            actual = None
            if offer is not None:
                actual = offer.units_at_close
                if actual is None:
                    actual = self.app.store.presale.held_units(campaign.id, variant_id)
            rows.append(
                VariantForecast(
                    variant_id=variant_id,
                    name=names.get(variant_id, str(variant_id)),
                    signal=round(signal, 3),
                    mean=round(prediction.mean, 1),
                    low=prediction.low,
                    high=prediction.high,
                    chance_to_tip=round(prediction.chance_at_least(threshold), 3),
                    suggested_capacity=max(prediction.high, threshold, 1),
                    actual=actual,
                )
            )
        return Forecast(
            campaign=campaign.slug,
            source=source,
            level=level,
            participants=participants,
            ballots=ballots,
            calibration=calibration,
            threshold=threshold,
            variants=tuple(rows),
        )

    def suggest(
        self, slug: str, variants: Iterable[int] | None = None, level: float = 0.95
    ) -> Suggestion:
        """The threshold and per-variant capacities to open the pre-sale with.

        ``variants``: the ones to sell (default: every variant the pre-sale may open on). The
        capacity is the forecast interval's upper end (at least the threshold).
        """
        from ..presale.service import sale_variants

        campaign = self.app.campaigns.get(slug)
        forecast = self.forecast(slug, level)
        if variants is None:
            selling = {v.id for v in sale_variants(self.app, campaign)}
        else:
            selling = set(variants)
        capacities = {
            v.variant_id: v.suggested_capacity for v in forecast.variants if v.variant_id in selling
        }
        return Suggestion(forecast.threshold, capacities, forecast)
