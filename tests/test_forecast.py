"""Demand forecast: interval coverage on synthetic campaigns with a known conversion."""

import math
import random

import pytest

from c2m_core import C2M
from c2m_core.forecast import model
from c2m_core.forecast.service import ballot_choices
from c2m_core.forecast.synthetic import synthetic_campaign

SEEDS = range(200)


def history_pairs(campaigns):
    pairs = []
    for c in campaigns:
        shares = model.choice_shares(c.choices, c.ballots)
        pairs += [
            (model.choosers(shares[v], c.participants, c.ballots)[0], c.units[v]) for v in shares
        ]
    return pairs


def test_interval_covers_true_pledged_units_for_at_least_90_percent_of_variants():
    covered = total = 0
    for seed in SEEDS:
        rng = random.Random(seed)
        conversion, ballot_share = rng.uniform(0.1, 0.8), rng.uniform(0.1, 0.5)

        def campaign(rng=rng, conversion=conversion, ballot_share=ballot_share):
            return synthetic_campaign(
                rng,
                participants=rng.randint(500, 5000),
                ballot_share=ballot_share,
                conversion=conversion,
            )

        past = [campaign() for _ in range(3)]
        calibration = model.calibrate(history_pairs(past), len(past))
        assert calibration.calibrated
        new = campaign()
        shares = model.choice_shares(new.choices, new.ballots)
        for v, share in shares.items():
            signal, variance = model.choosers(share, new.participants, new.ballots)
            prediction = model.predict(signal, variance, calibration)
            total += 1
            covered += prediction.low <= new.units[v] <= prediction.high
    assert total == 800
    assert covered / total >= 0.90


def test_calibrated_rate_recovers_the_true_conversion():
    rng = random.Random(7)
    past = [synthetic_campaign(rng, participants=20_000, conversion=0.3) for _ in range(5)]
    calibration = model.calibrate(history_pairs(past), 5)
    # units per chooser: 0.3 * E[quantity] = 0.3 * (0.9 + 0.1 * 2.5) = 0.345
    assert calibration.rate == pytest.approx(0.345, rel=0.05)


def test_choice_shares_are_the_logit_maximum_likelihood():
    """The MNL with one constant per alternative and an outside option: compare with a brute-force
    maximisation of its log-likelihood over a grid of utilities."""
    counts, outside = {1: 30, 2: 10}, 60
    ballots = sum(counts.values()) + outside

    def loglik(u1, u2):
        z = 1 + math.exp(u1) + math.exp(u2)
        return 30 * u1 + 10 * u2 - ballots * math.log(z)

    grid = [i / 50 for i in range(-200, 50)]
    best = max((loglik(a, b), a, b) for a in grid for b in grid)
    _, u1, u2 = best
    z = 1 + math.exp(u1) + math.exp(u2)
    shares = model.choice_shares(counts, ballots)
    assert shares[1] == pytest.approx(math.exp(u1) / z, abs=0.01)
    assert shares[2] == pytest.approx(math.exp(u2) / z, abs=0.01)


def test_t_table_agrees_with_scipy():
    stats = pytest.importorskip("scipy.stats")
    for level in model.LEVELS:
        for df in (1, 2, 5, 11, 30):
            assert model.t_quantile(level, df) == pytest.approx(
                stats.t.ppf(0.5 + level / 2, df), abs=0.002
            )


def test_ballot_choices_per_method():
    assert ballot_choices({"score": [[1, 5]], "would_buy": [1]}) == [1]
    assert ballot_choices({"score": [[1, 5]]}) == []
    assert ballot_choices({"choice": 3}) == [3]
    assert ballot_choices({"approve": [1, 2]}) == [1, 2]
    assert ballot_choices({"rank": [[2, 3], [1]]}) == [2, 3]


def test_uncalibrated_forecast_says_so_and_brackets_the_prior():
    calibration = model.calibrate([], 0)
    assert not calibration.calibrated and "not calibrated" in calibration.describe()
    prediction = model.predict(100.0, 0.0, calibration)
    assert prediction.low <= 10 and prediction.high >= 100


def test_service_forecasts_from_ballots_and_calibrates_from_the_past_campaign(
    tmp_path, mini_catalog, category_plugin
):
    with C2M(tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog)]) as app:
        for slug, units in (("past", (6, 2, 4)), ("next", None)):
            app.campaigns.create(slug, "mini", stages=("wishes", "vote", "presale"))
            app.campaigns.advance(slug, to="wishes")
            for n in range(40):
                app.wishes.submit(slug, f"w{n}", {"size": "s"})
            variants = [
                app.variants.add(slug, c)
                for c in ({"size": "s", "stand": "feet"}, {"size": "l", "stand": "wall"},
                          {"size": "s", "stand": "wall"})
            ]  # fmt: skip
            app.campaigns.advance(slug, to="vote")
            app.voting.open(slug, "plurality", winners=3)
            choices = [variants[0]] * 10 + [variants[1]] * 4 + [variants[2]] * 6
            for n, variant in enumerate(choices):
                app.voting.cast(slug, f"w{n}", {"choice": variant.id})
            app.voting.close(slug)
            if units is None:
                break
            app.campaigns.advance(slug, to="presale")
            app.presale.open(slug, "7d", deposit="10%", threshold=1)
            for variant, count in zip(variants, units, strict=True):
                for k in range(count):
                    app.presale.place(slug, variant.id, f"b{k}", 1, f"{variant.id}-{k}")
            app.presale.close(slug)
        forecast = app.forecast.forecast("next")
        assert forecast.source == "ballots" and forecast.calibration.calibrated
        assert (forecast.participants, forecast.ballots) == (40, 20)
        # 40 participants, 20 ballots: 20, 8 and 12 expected choosers; 12 units over 40: 0.3
        assert [v.signal for v in forecast.variants] == [20.0, 8.0, 12.0]
        assert forecast.calibration.rate == pytest.approx(0.3)
        assert [v.mean for v in forecast.variants] == [6.0, 2.4, 3.6]
        for row in forecast.variants:
            assert row.low <= row.mean <= row.high
        assert "--variant-option" in forecast.suggested_command()
        assert forecast.to_dict()["calibration"]["calibrated"] is True
        past = app.forecast.forecast("past")
        assert not past.calibration.calibrated  # nothing closed before it
        assert [v.actual for v in past.variants] == [6, 2, 4]
