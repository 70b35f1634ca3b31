"""A campaign started from a previous one: its settings, and wishes seeded from its feedback."""

import json

import pytest
from click.testing import CliRunner
from loop_support import run_campaign

from c2m_core import C2M, InvalidInput
from c2m_core.cli import make_cli


@pytest.fixture
def delivered(tmp_path, mini_catalog, category_plugin):
    """Campaign ``c`` handed off, with feedback naming the stand (erin) and naming nothing."""
    app = C2M(tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog)])
    small, _ = run_campaign(app, tmp_path)
    app.campaigns.create("other", "mini", settings={"moq": 3})
    app.feedback.submit("c", small.id, "erin", "The stand is too low")
    app.feedback.submit("c", small.id, "gina", "Lovely")
    runner = CliRunner()

    def run(*args):
        return runner.invoke(make_cli(), list(args), obj=app, catch_exceptions=False)

    yield app, run
    app.close()


def test_campaign_create_from_a_previous_campaign(delivered):
    app, run = delivered
    result = run("campaign", "create", "c2", "--from", "c", "--moq", "7", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    source = app.campaigns.get("c")
    assert (data["category"], data["state"], data["stages"]) == (
        "mini",
        "wishes",
        list(source.stages),
    )
    assert data["settings"]["moq"] == 7  # given: wins over the previous campaign's
    assert data["seeded"]["imported"] == 1
    wishes = app.store.wishes.after(data["id"], 0)
    assert [(w.customer, w.note, dict(w.configuration)) for w in wishes] == [
        ("erin", "The stand is too low", {"size": "s"})  # the named module left open
    ]
    text = run("campaign", "create", "c3", "--from", "c").output
    assert "1 wish(es) seeded" in text


def test_the_library_call_and_refusals(delivered):
    app, run = delivered
    created = app.campaigns.create("c2", from_campaign="c", title="Round two")
    assert (created.state, created.title, created.category) == ("wishes", "Round two", "mini")
    assert len(app.store.wishes.after(created.id, 0)) == 1
    with pytest.raises(InvalidInput) as error:
        app.campaigns.create("c4", from_campaign="c", stages=("presale",))
    assert error.value.field == "stages"
    with pytest.raises(InvalidInput) as error:
        app.campaigns.create("c5")
    assert error.value.field == "category"
    for slug in ("c4", "c5"):
        assert app.store.campaigns.get(slug) is None  # nothing created
    result = run("campaign", "create", "c6", "--from", "nope")
    assert result.exit_code != 0 and "Traceback" not in result.output
    result = run("campaign", "create", "c7")
    assert result.exit_code == 2 and "--category" in result.output
    assert app.store.campaigns.get("c6") is None and app.store.campaigns.get("c7") is None
