"""Pledges placed with a share code are attributed as they are placed, in the same transaction."""

import json
import multiprocessing

import pytest
from click.testing import CliRunner

from c2m_core import C2M, InvalidInput, NotFound
from c2m_core.cli import make_cli
from c2m_core.rewards import AlreadyAttributed, ReferralLimit, SelfReferral


@pytest.fixture
def sale(tmp_path, mini_catalog, category_plugin):
    """Campaign ``c`` on pre-sale with two variants, a referral rule (limit 2) and alice's code."""
    app = C2M(tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog)])
    app.campaigns.create("c", "mini", stages=("presale",))
    small = app.variants.add("c", {"size": "s", "stand": "feet"})
    large = app.variants.add("c", {"size": "l", "stand": "wall"})
    app.campaigns.advance("c", to="presale")
    app.presale.open("c", "7d", deposit="10%", threshold=1)
    app.rewards.set_rule("c", referral_per_unit=10, referral_limit=2)
    code = app.rewards.share("c", "alice", small.id).code
    yield app, small, large, code
    app.close()


def stored(app, key):
    campaign = app.campaigns.get("c")
    pledge = app.store.presale.pledge_by_key(campaign.id, key)
    return pledge, (None if pledge is None else app.store.rewards.attribution(pledge.id))


def test_a_pledge_placed_with_a_code_is_attributed_to_its_referrer(sale):
    app, small, _, code = sale
    pledge = app.presale.place("c", small.id, "bob", 2, "k1", share_code=code)
    _, attribution = stored(app, "k1")
    assert (attribution.pledge_id, attribution.code, attribution.referrer) == (
        pledge.id,
        code,
        "alice",
    )
    again = app.presale.place("c", small.id, "bob", 2, "k1", share_code=code)  # a replay
    assert again.id == pledge.id
    assert [a.pledge_id for a in app.store.rewards.attributions(pledge.campaign_id)] == [pledge.id]
    funnel = app.rewards.funnel("c")[0]
    assert (funnel.pledges, funnel.units) == (1, 2)
    events = [e.type for e in app.store.events_since(campaign_id=pledge.campaign_id)]
    assert "referral.attributed" in events


def test_refused_attributions_refuse_the_pledge_and_store_nothing(sale):
    app, small, large, code = sale
    with pytest.raises(SelfReferral) as error:
        app.presale.place("c", small.id, "alice", 1, "own", share_code=code)
    assert error.value.field == "code"
    with pytest.raises(NotFound):
        app.presale.place("c", small.id, "bob", 1, "unknown", share_code="nope")
    with pytest.raises(InvalidInput) as error:
        app.presale.place("c", large.id, "bob", 1, "other-variant", share_code=code)
    assert error.value.field == "code"
    app.presale.place("c", small.id, "bob", 1, "k1", share_code=code)
    app.presale.place("c", small.id, "carol", 1, "k2", share_code=code)
    with pytest.raises(ReferralLimit):
        app.presale.place("c", small.id, "dave", 1, "k3", share_code=code)  # limit 2
    for key in ("own", "unknown", "other-variant", "k3"):
        assert stored(app, key) == (None, None)
    assert app.store.presale.held_units(app.campaigns.get("c").id, small.id) == 2
    # without the code, the refused pledge goes through (the shop's choice)
    assert app.presale.place("c", small.id, "dave", 1, "k3").state == "committed"
    assert stored(app, "k3")[1] is None


def test_one_attribution_per_pledge_at_placement_and_later(sale):
    app, small, _, code = sale
    other = app.rewards.share("c", "erin", small.id).code
    app.presale.place("c", small.id, "bob", 1, "k1", share_code=code)
    with pytest.raises(AlreadyAttributed):
        app.presale.place("c", small.id, "bob", 1, "k1", share_code=other)
    with pytest.raises(AlreadyAttributed):
        app.rewards.attribute("c", "k1", other)
    assert stored(app, "k1")[1].code == code
    # a shop that attributes later keeps the separate call
    app.presale.place("c", small.id, "carol", 1, "k2")
    assert app.rewards.attribute("c", "k2", other).referrer == "erin"


def test_the_code_limit_holds_for_pledges_placed_by_racing_processes(sale, tmp_path):
    import loop_workers

    app, small, _, code = sale
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=loop_workers.place_with_code,
            args=(
                app.db_path,
                tmp_path / "catalog.toml",
                code,
                small.id,
                range(w, 12, 4),
                barrier,
                results,
            ),
        )  # fmt: skip
        for w in range(4)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert sum(results.get(timeout=10) for _ in workers) == 2
    campaign_id = app.campaigns.get("c").id
    pledges = app.store.presale.pledges(campaign_id, small.id)
    attributed = {a.pledge_id for a in app.store.rewards.attributions(campaign_id)}
    assert len(pledges) == 2 and {p.id for p in pledges} == attributed  # none unattributed


def test_pledge_add_with_a_code(sale):
    app, small, _, code = sale
    runner = CliRunner()

    def run(*args):
        return runner.invoke(make_cli(), list(args), obj=app, catch_exceptions=False)

    args = ("pledge", "add", "c", "--variant", str(small.id), "--quantity", "1")
    result = run(*args, "--customer", "bob", "--key", "k1", "--code", code, "--json")
    assert result.exit_code == 0, result.output
    assert stored(app, json.loads(result.output)["key"])[1].referrer == "alice"
    result = run(*args, "--customer", "alice", "--key", "k2", "--code", code)
    assert result.exit_code != 0 and "own code" in result.output
    assert "Traceback" not in result.output
    assert stored(app, "k2") == (None, None)
