"""The forecast where decisions are made: `c2m vote results` and `c2m presale open --suggest`."""

import json

import pytest
from click.testing import CliRunner

from c2m_core import C2M
from c2m_core.cli import make_cli

CONFIGURATIONS = (
    {"size": "s", "stand": "feet"},
    {"size": "l", "stand": "wall"},
    {"size": "s", "stand": "wall"},
)


@pytest.fixture
def voted(tmp_path, mini_catalog, category_plugin):
    """A past campaign with a closed pre-sale (6, 2, 4 units), and ``next``, voted, in presale."""
    app = C2M(tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog)])
    for slug, units in (("past", (6, 2, 4)), ("next", None)):
        app.campaigns.create(slug, "mini", stages=("wishes", "vote", "presale"))
        app.campaigns.advance(slug, to="wishes")
        for n in range(40):
            app.wishes.submit(slug, f"w{n}", {"size": "s"})
        variants = [app.variants.add(slug, c) for c in CONFIGURATIONS]
        app.campaigns.advance(slug, to="vote")
        app.voting.open(slug, "plurality", winners=3)
        choices = [variants[0]] * 10 + [variants[1]] * 4 + [variants[2]] * 6
        for n, variant in enumerate(choices):
            app.voting.cast(slug, f"w{n}", {"choice": variant.id})
        app.voting.close(slug)
        app.campaigns.advance(slug, to="presale")
        if units is None:
            break
        app.presale.open(slug, "7d", deposit="10%", threshold=1)
        for variant, count in zip(variants, units, strict=True):
            for k in range(count):
                app.presale.place(slug, variant.id, f"b{k}", 1, f"{variant.id}-{k}")
        app.presale.close(slug)
    runner = CliRunner()

    def run(*args, code=0):
        result = runner.invoke(make_cli(), list(args), obj=app, catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    yield app, variants, run
    app.close()


def test_vote_results_show_the_forecast(voted):
    app, variants, run = voted
    data = json.loads(run("vote", "results", "next", "--json").stdout)
    forecast = data["forecast"]
    assert forecast["source"] == "ballots" and forecast["calibration"]["calibrated"]
    # 20, 8 and 12 expected choosers at 0.3 units each, from the past campaign
    assert [v["mean"] for v in forecast["variants"]] == [6.0, 2.4, 3.6]
    assert forecast == app.forecast.forecast("next").to_dict()
    text = run("vote", "results", "next").stdout
    assert "Demand forecast at the pre-sale" in text
    assert "conversion 0.300" in text and "c2m presale open next" in text


def test_presale_open_suggest_fills_threshold_and_capacities_explicit_options_win(voted):
    app, variants, run = voted
    suggestion = app.forecast.suggest("next")
    expected = {v.variant_id: v.suggested_capacity for v in app.forecast.forecast("next").variants}
    assert suggestion.capacities == expected
    assert suggestion.threshold == app.campaigns.get("next").setting("moq")
    first = variants[0].id
    result = run("presale", "open", "next", "--deadline", "7d", "--suggest", "--threshold", "2",
                 "--variant-option", f"{first}:capacity=99", "--json")  # fmt: skip
    json.loads(result.stdout)  # the figures it chose went to stderr, the JSON stays clean
    assert f"suggested capacity of variant {variants[1].id}: {expected[variants[1].id]}" in (
        result.stderr
    )
    offers = {o.variant_id: o for o in app.presale.offers("next")}
    assert offers[first].capacity == 99  # explicit per-variant option wins
    for variant in variants[1:]:
        assert offers[variant.id].capacity == expected[variant.id]
    assert {o.threshold for o in offers.values()} == {2}  # explicit threshold wins


def test_presale_open_suggest_with_a_capacity_for_all_keeps_it(voted):
    app, variants, run = voted
    result = run("presale", "open", "next", "--deadline", "7d", "--suggest", "--capacity", "7")
    assert "suggested threshold" in result.output
    offers = app.presale.offers("next")
    assert {o.capacity for o in offers} == {7}
    assert {o.threshold for o in offers} == {app.campaigns.get("next").setting("moq")}
