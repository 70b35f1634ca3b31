"""Running tallies: every ballot changes the vote's counters in its transaction; closing reads
them; ``audit`` (``c2m vote audit``) recounts the ballots and must agree."""

import itertools

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_votes import BordaPlugin
from voting_support import voting_campaign

from c2m_core import C2M
from c2m_core.cli import make_cli
from c2m_core.voting import IncrementalMethod

VARIANTS = 3
VOTERS = ["ann", "bob", "cat", "dan", "eve"]
SLUGS = itertools.count()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with C2M(db_path=tmp_path_factory.mktemp("tally") / "c2m.db") as app:
        yield app


def ranking_text(order, ties) -> str:
    text = str(order[0])
    for ident, tie in zip(order[1:], ties, strict=False):
        text += ("=" if tie else ">") + str(ident)
    return text


@st.composite
def ballot(draw, method: str, candidates):
    """A valid ballot of ``method`` over ``candidates``, in one of the forms voters send."""
    pick = st.sampled_from(candidates)
    if method == "plurality":
        return {"choice": draw(pick)}
    if method == "approval":
        return {"approve": draw(st.lists(pick, min_size=1, unique=True))}
    if method == "score":
        scores = draw(st.dictionaries(pick, st.integers(0, 5), min_size=1))
        would_buy = draw(st.lists(pick, unique=True))
        return {"score": scores, "would_buy": would_buy}
    order = draw(st.permutations(candidates))[: draw(st.integers(1, len(candidates)))]
    ties = draw(st.lists(st.booleans(), min_size=len(order), max_size=len(order)))
    return {"rank": ranking_text(order, ties)}


# A run: steps of single casts or small bulk imports, voters drawn from a small pool so that
# most ballots replace an earlier one (sometimes within one bulk batch).
STEPS = st.lists(
    st.tuples(st.booleans(), st.lists(st.sampled_from(VOTERS), min_size=1, max_size=4)),
    min_size=1,
    max_size=8,
)


@pytest.mark.parametrize("method", ["plurality", "approval", "score", "schulze"])
@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), steps=STEPS)
def test_the_running_tally_equals_a_recount_after_casts_and_recasts(app, method, data, steps):
    slug = f"t{next(SLUGS)}"
    voting_campaign(app, slug, variants=VARIANTS)
    vote = app.voting.open(slug, method)
    assert vote.running and isinstance(app.voting.method(method), IncrementalMethod)
    final = {}
    for bulk, voters in steps:
        cast = [(voter, data.draw(ballot(method, list(vote.candidates)))) for voter in voters]
        if bulk:
            assert app.voting.cast_many(slug, cast, batch_size=2).imported == len(cast)
        else:
            for voter, raw in cast:
                app.voting.cast(slug, voter, raw)
        final.update(cast)
    counter = app.voting.method(method)
    reference = counter.tally(  # a recount from the voters' last ballots, outside the store
        [(app.voting.normalise(vote, raw), 1) for raw in final.values()],
        vote.candidates,
        vote.winners,
        vote.options,
    )
    audit = app.voting.audit(slug)
    assert audit.running and audit.ok and audit.counters, audit
    assert app.voting.recount(vote) == reference
    assert app.voting.close(slug) == reference
    assert app.voting.audit(slug).ok  # the tally stays checkable after closing


def test_a_plugin_method_without_an_incremental_form_is_counted_from_the_ballots(tmp_path):
    with C2M(db_path=tmp_path / "c2m.db", plugins=[BordaPlugin()]) as app:
        voting_campaign(app, variants=3)
        vote = app.voting.open("tv26", "borda")
        assert not vote.running
        a, b, c = vote.candidates
        app.voting.cast("tv26", "ann", {"rank": f"{a}>{b}>{c}"})
        app.voting.cast("tv26", "bob", {"rank": f"{c}>{b}>{a}"})
        app.voting.cast("tv26", "ann", {"rank": f"{b}>{a}>{c}"})
        assert app.store.voting.running_tally(vote.id) == {}
        audit = app.voting.audit("tv26")
        assert audit.ok and not audit.running and audit.counters == ()
        result = app.voting.close("tv26")
        assert result.winners == (b,) and result.ballots == 2


def test_closing_reads_the_running_tally_not_the_ballots(tmp_path):
    with C2M(db_path=tmp_path / "c2m.db") as app:
        voting_campaign(app, variants=2)
        vote = app.voting.open("tv26", "plurality")
        a, b = vote.candidates
        app.voting.cast_many("tv26", [("ann", {"choice": a}), ("bob", {"choice": b})])
        app.voting.cast("tv26", "cat", {"choice": b})
        assert app.store.voting.running_tally(vote.id) == {
            "ballots": 3,
            f"votes/{a}": 1,
            f"votes/{b}": 2,
        }
        # Ballots written behind the store's back change the recount, not the tally.
        app.store.execute("DELETE FROM ballots WHERE voter = 'cat'")
        assert app.voting.results("tv26").winners == (b,)
        assert app.voting.recount(vote).winners == (a,)
        assert not app.voting.audit("tv26").ok


@pytest.fixture
def c2m(tmp_path):
    db = str(tmp_path / "c2m.db")

    def run(*args):
        return CliRunner().invoke(make_cli(), ["--db", db, *args])

    with C2M(db_path=db) as app:
        voting_campaign(app, variants=3)
        app.voting.open("tv26", "score")
        first = app.voting.get("tv26").candidates[0]
        app.voting.cast("tv26", "ann", {"score": {first: 4}})
        app.voting.cast("tv26", "ann", {"score": {first: 5}, "would_buy": [first]})
    run.db, run.first = db, first
    return run


def test_vote_audit_agrees_after_casts_and_exits_1_naming_what_differs(c2m):
    ok = c2m("vote", "audit", "tv26")
    assert ok.exit_code == 0, ok.output
    assert f"points/{c2m.first}" in ok.stdout and "DIFFERS" not in ok.stdout
    with C2M(db_path=c2m.db) as app:
        app.store.execute(
            "UPDATE vote_counters SET value = value + 1 WHERE counter = ?",
            [f"points/{c2m.first}"],
        )
    bad = c2m("vote", "audit", "tv26")
    assert bad.exit_code == 1
    assert "DIFFERS" in bad.stdout
    assert (
        f"the running tally of tv26 differs from a recount of its ballots in 1 counter(s): "
        f"points/{c2m.first}" in bad.stderr
    )
    data = c2m("vote", "audit", "tv26", "--json")
    assert data.exit_code == 1
    assert '"ok": false' in data.stdout
