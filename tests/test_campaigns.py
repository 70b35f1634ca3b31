"""Campaigns: creation, the explicit state machine, frozen catalogs, recorded transitions."""

import json

import pytest
from click.testing import CliRunner

from c2m_core import C2M, Conflict, InvalidInput, hookimpl, load_catalog
from c2m_core.campaigns import IllegalTransition, UnknownCampaign
from c2m_core.cli import make_cli


def event_types(app):
    return [e.type for e in app.store.events_since(0)]


def test_create_defaults_from_the_catalog(tv_app):
    campaign = tv_app.campaigns.create("leader", "tv")
    assert campaign.state == "draft"
    assert campaign.currency == "CNY" and campaign.title == "leader"
    assert campaign.stages == ("wishes", "vote", "presale", "handoff")
    assert campaign.states == ("draft", "wishes", "vote", "presale", "handoff", "closed")
    assert campaign.setting("max_variants") == 5


def test_stages_keep_their_fixed_order_and_may_be_skipped(tv_app):
    campaign = tv_app.campaigns.create("designer", "tv", stages=["presale", "vote"])
    assert campaign.states == ("draft", "vote", "presale", "closed")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"slug": "Bad Slug"}, "is not valid"),
        ({"stages": ["wishes", "auction"]}, "unknown stage 'auction'"),
        ({"stages": []}, "at least one stage"),
        ({"currency": "XYZ"}, "not a supported ISO 4217"),
        ({"settings": {"moq": 0}}, "moq: 0 is out of range; accepted: an integer from 1 to"),
        ({"settings": {"colour": 1}}, "unknown campaign setting 'colour'"),
        ({"settings": {"moq": "ten"}}, "must be an integer"),
    ],
)
def test_bad_campaign_input_is_rejected_and_nothing_stored(tv_app, kwargs, message):
    arguments = {"slug": "ok", "category": "tv"} | kwargs
    with pytest.raises(InvalidInput, match=message):
        tv_app.campaigns.create(**arguments)
    assert tv_app.campaigns.list() == []


def test_duplicate_slug_is_a_conflict_naming_the_slug(tv_app):
    first = tv_app.campaigns.create("a", "tv")
    with pytest.raises(Conflict, match="already exists") as refused:
        tv_app.campaigns.create("a", "tv", title="Another")
    assert (refused.value.field, refused.value.value) == ("slug", "a")
    assert tv_app.campaigns.list() == [first]


def test_walk_through_every_state_and_record_each_transition(tv_app):
    tv_app.campaigns.create("a", "tv", stages=["wishes", "handoff"])
    states = [tv_app.campaigns.advance("a").state for _ in range(3)]
    assert states == ["wishes", "handoff", "closed"]
    advanced = [e.payload for e in tv_app.store.events_since(0) if e.type == "campaign.advanced"]
    assert advanced == [
        {"campaign": "a", "from": "draft", "to": "wishes"},
        {"campaign": "a", "from": "wishes", "to": "handoff"},
        {"campaign": "a", "from": "handoff", "to": "closed"},
    ]


def test_illegal_transition_names_current_and_allowed_state(tv_app):
    tv_app.campaigns.create("a", "tv")
    with pytest.raises(IllegalTransition) as info:
        tv_app.campaigns.advance("a", to="presale")
    assert "in state 'draft'" in str(info.value)
    assert "the only next state is 'wishes'" in str(info.value)
    assert tv_app.campaigns.get("a").state == "draft"


def test_closed_campaign_cannot_advance(tv_app):
    tv_app.campaigns.create("a", "tv", stages=["vote"])
    tv_app.campaigns.advance("a")
    tv_app.campaigns.advance("a")
    with pytest.raises(IllegalTransition, match="it has ended"):
        tv_app.campaigns.advance("a")


def test_unknown_campaign(tv_app):
    with pytest.raises(UnknownCampaign, match="no campaign 'ghost'"):
        tv_app.campaigns.get("ghost")


def test_plugins_can_refuse_a_transition_and_hear_about_one(tmp_path):
    heard = []

    class Gate:
        @hookimpl
        def validate_campaign_advance(self, campaign, target):
            if target == "vote":
                return ["no candidates yet"]

        @hookimpl
        def campaign_advanced(self, campaign, previous):
            heard.append((previous, campaign.state))

    app = C2M(tmp_path / "c2m.db", plugins=[Gate()])
    app.campaigns.create("a", "tv")
    app.campaigns.advance("a")
    with pytest.raises(IllegalTransition, match="cannot move from 'wishes' to 'vote': no cand"):
        app.campaigns.advance("a")
    assert app.campaigns.get("a").state == "wishes"
    assert heard == [("draft", "wishes")]


def test_opening_freezes_the_catalog_against_plugin_upgrades(
    tmp_path, write_catalog, mini_text, category_plugin
):
    db = tmp_path / "c2m.db"
    v1 = load_catalog(write_catalog(mini_text, "v1.toml"))
    v2 = load_catalog(write_catalog(mini_text.replace("price = 5000", "price = 9999"), "v2.toml"))
    with C2M(db, plugins=[category_plugin(v1)], load_entry_points=False) as app:
        app.campaigns.create("running", "mini")
        app.campaigns.create("later", "mini")
        app.campaigns.advance("running")
    with C2M(db, plugins=[category_plugin(v2, version="2.0.0")], load_entry_points=False) as app:
        running = app.campaigns.get("running")
        assert app.campaigns.catalog(running).option("size", "l").price == 5000
        assert app.campaigns.catalog(running).digest == v1.digest
        later = app.campaigns.get("later")
        assert app.campaigns.catalog(later).option("size", "l").price == 9999


def test_settings_can_change_until_closed(tv_app):
    tv_app.campaigns.create("a", "tv", stages=["vote"])
    assert tv_app.campaigns.configure("a", moq=50).setting("moq") == 50
    tv_app.campaigns.advance("a")
    tv_app.campaigns.advance("a")
    with pytest.raises(IllegalTransition, match="closed"):
        tv_app.campaigns.configure("a", moq=60)


def test_campaign_cli(tmp_path):
    app = C2M(tmp_path / "c2m.db")

    def run(*args):
        return CliRunner().invoke(make_cli(), list(args), obj=app)

    result = run(
        "campaign",
        "create",
        "leader",
        "--category",
        "tv",
        "--title",
        "Leader 2026",
        "--stages",
        "wishes,vote",
        "--moq",
        "200",
    )
    assert result.exit_code == 0, result.output
    assert "draft -> wishes -> vote -> closed" in result.output
    assert "leader" in run("campaign", "list").output
    assert run("campaign", "advance", "leader").output == "leader: draft -> wishes\n"
    shown = json.loads(run("campaign", "show", "leader", "--json").output)
    assert shown["state"] == "wishes" and shown["settings"]["moq"] == 200
    assert "[wishes]" in run("campaign", "show", "leader").output
    bad = run("campaign", "advance", "leader", "--to", "closed")
    assert bad.exit_code == 1 and "the only next state is 'vote'" in bad.output
    assert run("campaign", "show", "nobody").exit_code == 2
    assert run("campaign", "create", "x", "--category", "radio").exit_code == 2


def test_a_slug_with_a_trailing_newline_is_refused(tv_app):
    # Slugs end up in hand-off ids and file names, so "$" matching before "\n" would be a hole.
    with pytest.raises(InvalidInput, match="is not valid"):
        tv_app.campaigns.create("leader\n", "tv")


def test_a_frozen_snapshot_is_parsed_once_and_shared_by_thread_copies(tv_app, monkeypatch):
    tv_app.campaigns.create("a", "tv")
    campaign = tv_app.campaigns.advance("a")
    first = tv_app.campaigns.catalog(campaign)
    monkeypatch.setattr(tv_app.store.campaigns, "catalog_data", None)  # would fail if read
    assert tv_app.campaigns.catalog(campaign) is first
    copy = tv_app.for_thread()
    assert copy.campaigns.catalog(copy.campaigns.get("a")) is first
    copy.close()
