"""The voting service: opening, casting, replacing, closing, results, winners, hooks."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from voting_support import Clock, voting_campaign

from c2m_core import C2M, C2MError, InvalidInput, hookimpl
from c2m_core.campaigns import IllegalTransition
from c2m_core.voting import InvalidBallot, Plurality, VoteResult, VotingMethod
from c2m_core.voting.service import NoVote, VoteNotOpen


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def app(tmp_path, clock):
    with C2M(db_path=tmp_path / "c2m.db", clock=clock) as app:
        yield app


def events(app, *types):
    return [e for e in app.store.events_since(0, limit=10_000) if not types or e.type in types]


# Opening ------------------------------------------------------------------------------------


def test_open_takes_every_variant_in_position_order_by_default(app):
    ids = voting_campaign(app, variants=3)
    vote = app.voting.open("tv26", "plurality")
    assert vote.candidates == tuple(ids)
    assert vote.state == "open" and vote.winners == 1 and vote.closes_at is None
    assert vote.opens_at == app.store.now()
    assert [e.type for e in events(app, "vote.opened")] == ["vote.opened"]


def test_open_keeps_chosen_variants_in_position_order(app):
    ids = voting_campaign(app, variants=4)
    vote = app.voting.open("tv26", "approval", variants=f"{ids[3]},{ids[1]}")
    assert vote.candidates == (ids[1], ids[3])


def test_open_requires_the_vote_state(app):
    voting_campaign(app)
    app.campaigns.create("early", "tv")
    with pytest.raises(IllegalTransition, match="advance it with `c2m campaign advance early`"):
        app.voting.open("early", "plurality")
    app.campaigns.create("novote", "tv", stages=["presale"])
    with pytest.raises(IllegalTransition, match="it does not use the vote stage"):
        app.voting.open("novote", "plurality")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "borda"}, "unknown voting method 'borda'; methods: plurality, approval, score"),
        ({"variants": "1,99"}, "variants: '99' is not a variant of campaign 'tv26'; variants: 1"),
        ({"variants": "1,1"}, "variant 1 is listed twice"),
        ({"variants": "1"}, "a vote needs at least two candidate variants"),
        ({"winners": 4}, "winners: 4 is not between 1 and the number of candidates \\(3\\)"),
        ({"winners": 0}, "winners: 0 is not between 1"),
        ({"options": {"max_approvals": 2}}, "voting method plurality has no option"),
        ({"closes": "2026-11-01T11:00:00Z"}, "closes: .* is not after both the opening time"),
        ({"closes": "2026-12-01T12:00"}, "closes: '2026-12-01T12:00' has no UTC offset"),
        ({"opens": "tomorrow"}, "opens: 'tomorrow' is not an ISO 8601 time"),
        (
            {"opens": "2026-11-03T00:00:00Z", "closes": "2026-11-02T00:00:00Z"},
            "is not after both the opening time",
        ),
    ],
)
def test_open_refuses_bad_requests_with_what_is_accepted(app, kwargs, message):
    voting_campaign(app)
    request = {"method": "plurality"} | kwargs
    with pytest.raises(InvalidInput, match=message):
        app.voting.open("tv26", **request)
    assert app.voting.get("tv26") is None


def test_a_campaign_holds_one_vote(app):
    voting_campaign(app)
    app.voting.open("tv26", "plurality")
    with pytest.raises(IllegalTransition, match="already has a vote"):
        app.voting.open("tv26", "schulze")


# Casting ------------------------------------------------------------------------------------


def test_cast_stores_the_canonical_ballot_and_records_a_replacement(app, clock):
    ids = voting_campaign(app)
    app.voting.open("tv26", "schulze")
    first = app.voting.cast("tv26", "alice", {"rank": f"{ids[2]}>{ids[0]}"})
    assert first.ballot == {"rank": [[ids[2]], [ids[0]], [ids[1]]]}
    assert first.replaced is None
    clock.advance(minutes=5)
    second = app.voting.cast("tv26", " alice ", {"rank": [[ids[0], ids[1]]]})
    assert second.voter == "alice"
    assert second.replaced == first.ballot
    assert app.voting.count_ballots("tv26") == 1
    assert app.voting.ballot("tv26", "alice").ballot == second.ballot
    (old,) = app.voting.history("tv26", "alice")
    assert old.ballot == first.ballot
    assert old.cast_at == first.cast_at and old.replaced_at == second.cast_at
    (replaced,) = events(app, "ballot.replaced")
    assert replaced.payload["old"] == first.ballot
    assert replaced.payload["ballot"] == second.ballot
    assert len(events(app, "ballot.cast")) == 2


@pytest.mark.parametrize(
    ("ballot", "error", "message"),
    [
        ({"choice": 99}, InvalidBallot, "variant 99 is not a candidate of this vote"),
        ({"rank": "1>2"}, InvalidBallot, "ballot field 'rank' is not read by the plurality"),
        ({}, InvalidBallot, "a plurality ballot needs 'choice'"),
        ("1", InvalidBallot, "a plurality ballot is a mapping of its fields \\(choice\\)"),
    ],
)
def test_a_bad_ballot_is_refused_and_nothing_is_stored(app, ballot, error, message):
    voting_campaign(app)
    app.voting.open("tv26", "plurality")
    app.voting.cast("tv26", "bob", {"choice": 1})
    before = events(app)
    with pytest.raises(error, match=message):
        app.voting.cast("tv26", "bob", ballot)
    assert app.voting.ballot("tv26", "bob").ballot == {"choice": 1}
    assert app.voting.history("tv26") == []
    assert events(app) == before


@pytest.mark.parametrize("voter", ["", "   ", None, 7, "x" * 201])
def test_a_voter_reference_must_be_given(app, voter):
    voting_campaign(app)
    app.voting.open("tv26", "plurality")
    with pytest.raises(InvalidInput, match="voter"):
        app.voting.cast("tv26", voter, {"choice": 1})
    assert app.voting.count_ballots("tv26") == 0


def test_ballots_outside_the_window_are_refused(app, clock):
    voting_campaign(app)
    app.voting.open(
        "tv26", "plurality", opens="2026-11-02T00:00:00+00:00", closes="2026-11-03T08:00:00+08:00"
    )
    with pytest.raises(VoteNotOpen, match="the vote opens at 2026-11-02T00:00:00"):
        app.voting.cast("tv26", "carol", {"choice": 1})
    clock.advance(days=1)
    app.voting.cast("tv26", "carol", {"choice": 1})
    clock.advance(hours=12)  # 2026-11-03T00:00Z is the closing time given as +08:00.
    with pytest.raises(VoteNotOpen, match="the voting window ended at 2026-11-03T00:00:00"):
        app.voting.cast("tv26", "dave", {"choice": 2})
    with pytest.raises(VoteNotOpen):
        app.voting.cast_many("tv26", [("dave", {"choice": 2})])
    assert app.voting.count_ballots("tv26") == 1


def test_after_close_ballots_are_refused_and_the_result_is_kept(app):
    ids = voting_campaign(app)
    app.voting.open("tv26", "plurality", winners=2)
    for voter, choice in [("a", ids[1]), ("b", ids[1]), ("c", ids[2])]:
        app.voting.cast("tv26", voter, {"choice": choice})
    result = app.voting.close("tv26")
    assert result.winners == (ids[1], ids[2])
    assert result.ballots == 3
    with pytest.raises(VoteNotOpen, match="the vote closed at"):
        app.voting.cast("tv26", "d", {"choice": ids[0]})
    with pytest.raises(VoteNotOpen, match="`c2m vote results tv26` shows its result"):
        app.voting.close("tv26")
    assert app.voting.results("tv26") == result
    assert app.voting.get("tv26").result == result
    assert app.voting.winners("tv26") == [ids[1], ids[2]]
    (closed,) = events(app, "vote.closed")
    assert closed.payload["winners"] == [ids[1], ids[2]]


def test_results_while_open_are_a_provisional_count(app):
    ids = voting_campaign(app)
    app.voting.open("tv26", "score")
    app.voting.cast("tv26", "a", {"score": {ids[0]: 2, ids[1]: 5}, "would_buy": [ids[1]]})
    provisional = app.voting.results("tv26")
    assert provisional.total(ids[1]) == {
        "variant": ids[1],
        "points": 5,
        "scored": 1,
        "would_buy": 1,
    }
    assert app.voting.get("tv26").state == "open"
    with pytest.raises(VoteNotOpen, match="still open; run `c2m vote close tv26`"):
        app.voting.winners("tv26")


def test_without_a_vote_every_variant_advances_and_casting_is_a_clear_error(app):
    ids = voting_campaign(app)
    assert app.voting.winners("tv26") == ids
    with pytest.raises(NoVote, match="open one with `c2m vote open tv26 --method METHOD`"):
        app.voting.cast("tv26", "a", {"choice": 1})


def test_the_campaign_cannot_leave_vote_while_the_vote_is_open(app):
    voting_campaign(app)
    app.voting.open("tv26", "plurality")
    with pytest.raises(
        IllegalTransition, match="the vote is still open; run `c2m vote close tv26`"
    ):
        app.campaigns.advance("tv26")
    assert app.campaigns.get("tv26").state == "vote"
    app.voting.close("tv26")
    assert app.campaigns.advance("tv26").state == "presale"


def test_the_pre_sale_opens_on_the_vote_winners_only(app):
    ids = voting_campaign(app)
    app.voting.open("tv26", "approval", winners=2)
    app.voting.cast("tv26", "a", {"approve": [ids[0], ids[2]]})
    app.voting.cast("tv26", "b", {"approve": [ids[2]]})
    assert app.voting.close("tv26").winners == (ids[2], ids[0])
    app.campaigns.advance("tv26", to="presale")
    app.presale.open("tv26", "7d")
    assert sorted(o.variant_id for o in app.presale.offers("tv26")) == [ids[0], ids[2]]


def test_approval_limit_is_enforced_through_the_service(app):
    ids = voting_campaign(app)
    app.voting.open("tv26", "approval", options={"max_approvals": 2})
    app.voting.cast("tv26", "a", {"approve": [ids[0], ids[2]]})
    with pytest.raises(InvalidBallot, match="allows at most 2"):
        app.voting.cast("tv26", "b", {"approve": ids})


# Hooks --------------------------------------------------------------------------------------


class Recorder:
    def __init__(self):
        self.cast = []
        self.closed = []

    @hookimpl
    def ballot_cast(self, campaign, vote, voter, ballot, replaced):
        self.cast.append((campaign.slug, vote.method, voter, ballot, replaced))

    @hookimpl
    def vote_closed(self, campaign, vote, result):
        self.closed.append((campaign.slug, vote.state, result))


def test_ballot_cast_and_vote_closed_notify_plugins(tmp_path):
    recorder = Recorder()
    with C2M(db_path=tmp_path / "c2m.db", plugins=[recorder]) as app:
        ids = voting_campaign(app)
        app.voting.open("tv26", "plurality")
        app.voting.cast("tv26", "a", {"choice": ids[0]})
        app.voting.cast("tv26", "a", {"choice": ids[1]})
        app.voting.cast_many("tv26", [("b", {"choice": ids[2]}), ("a", {"choice": ids[2]})])
        result = app.voting.close("tv26")
    assert recorder.cast == [
        ("tv26", "plurality", "a", {"choice": ids[0]}, None),
        ("tv26", "plurality", "a", {"choice": ids[1]}, {"choice": ids[0]}),
        ("tv26", "plurality", "b", {"choice": ids[2]}, None),
        ("tv26", "plurality", "a", {"choice": ids[2]}, {"choice": ids[1]}),
    ]
    assert recorder.closed == [("tv26", "closed", result)]
    assert result.winners == (ids[2],)


class Borda(VotingMethod):
    """A plugin's method: Borda count over full rankings (n-1 points for first, ...)."""

    name = "borda"
    title = "rank every variant; Borda points"
    fields = ("rank",)

    def normalise(self, ballot, candidates, options):
        order = [int(x) for x in str(ballot["rank"]).split(">")]
        if sorted(order) != sorted(candidates):
            raise InvalidBallot(f"ballot field 'rank': rank all of {list(candidates)}")
        return {"rank": order}

    def tally(self, ballots, candidates, winners, options):
        points = dict.fromkeys(candidates, 0)
        total = 0
        for ballot, count in ballots:
            total += count
            for place, variant in enumerate(ballot["rank"]):
                points[variant] += (len(candidates) - 1 - place) * count
        ranking = sorted(candidates, key=lambda c: -points[c])
        return VoteResult(
            self.name,
            candidates,
            total,
            [{"variant": c, "points": points[c]} for c in candidates],
            ranking,
            ranking[:winners],
        )


class BordaPlugin:
    @hookimpl
    def register_voting_methods(self, app):
        return [Borda()]


def test_a_plugin_adds_a_voting_method(tmp_path):
    with C2M(db_path=tmp_path / "c2m.db", plugins=[BordaPlugin()]) as app:
        assert list(app.voting.methods) == ["plurality", "approval", "score", "schulze", "borda"]
        a, b, c = voting_campaign(app)
        app.voting.open("tv26", "borda")
        app.voting.cast("tv26", "x", {"rank": f"{c}>{a}>{b}"})
        app.voting.cast("tv26", "y", {"rank": f"{a}>{c}>{b}"})
        app.voting.cast("tv26", "z", {"rank": f"{c}>{b}>{a}"})
        with pytest.raises(InvalidBallot, match="rank all of"):
            app.voting.cast("tv26", "w", {"rank": f"{c}>{a}"})
        assert app.voting.close("tv26").winners == (c,)


class LoudPlurality(Plurality):
    title = "plurality, replaced by a plugin"


class ReplacePlurality:
    @hookimpl
    def register_voting_methods(self):
        return [LoudPlurality()]


def test_a_plugin_replaces_a_default_method_but_two_plugins_cannot_claim_one_name(tmp_path):
    with C2M(db_path=tmp_path / "a.db", plugins=[ReplacePlurality()]) as app:
        assert isinstance(app.voting.method("plurality"), LoudPlurality)
    app = C2M(db_path=tmp_path / "b.db", plugins=[BordaPlugin(), BordaPlugin()])
    with pytest.raises(C2MError, match="voting method 'borda' is registered twice"):
        app.voting.method("borda")


class BadMethods:
    @hookimpl
    def register_voting_methods(self):
        return ["plurality"]


def test_a_plugin_returning_something_else_is_named(tmp_path):
    app = C2M(db_path=tmp_path / "c.db", plugins=[BadMethods()])
    with pytest.raises(C2MError, match="register_voting_methods must return named"):
        app.voting.method("plurality")


# Properties ---------------------------------------------------------------------------------

METHOD_BALLOTS = {
    "plurality": st.builds(lambda c: {"choice": c}, st.integers(1, 3)),
    "approval": st.builds(
        lambda c: {"approve": sorted(c)}, st.sets(st.integers(1, 3), min_size=1, max_size=3)
    ),
    "score": st.builds(
        lambda s, w: {"score": s, "would_buy": sorted(w)},
        st.dictionaries(st.integers(1, 3), st.integers(0, 5), min_size=1),
        st.sets(st.integers(1, 3)),
    ),
    "schulze": st.builds(
        lambda order, cut: {"rank": ">".join(map(str, order[:cut]))},
        st.permutations([1, 2, 3]),
        st.integers(1, 3),
    ),
}


@st.composite
def casts(draw):
    method = draw(st.sampled_from(sorted(METHOD_BALLOTS)))
    voters = st.sampled_from(["ann", "ben", "cat", "dan"])
    sequence = draw(st.lists(st.tuples(voters, METHOD_BALLOTS[method]), min_size=1, max_size=12))
    return method, sequence


def tally_of(method, sequence, bulk=False):
    with C2M(db_path=":memory:") as app:
        voting_campaign(app)  # variants 1, 2, 3
        app.voting.open("tv26", method, winners=2)
        if bulk:
            report = app.voting.cast_many("tv26", sequence, batch_size=3)
            assert report.imported == len(sequence) and not report.rejected
        else:
            for voter, ballot in sequence:
                app.voting.cast("tv26", voter, ballot)
        return app.voting.close("tv26")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(casts())
def test_recasting_equals_casting_only_each_voters_last_ballot(case):
    method, sequence = case
    last = dict(sequence)
    assert tally_of(method, sequence) == tally_of(method, list(last.items()))
    assert tally_of(method, sequence, bulk=True) == tally_of(method, list(last.items()))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(casts(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_the_order_ballots_were_cast(case, rng):
    method, sequence = case
    final = list(dict(sequence).items())
    shuffled = list(final)
    rng.shuffle(shuffled)
    assert tally_of(method, final) == tally_of(method, shuffled)


def test_vote_events_name_the_campaign_the_voters_and_the_variants(app):
    ids = voting_campaign(app, variants=3)
    app.voting.open("tv26", "plurality")
    app.voting.cast("tv26", "alice", {"choice": ids[0]})
    report = app.voting.cast_many(
        "tv26",
        [("bob", {"choice": ids[1]}), ("alice", {"choice": ids[1]}), ("carol", {"choice": 99})],
        batch_size=10,
    )
    assert report.imported == 2
    app.voting.close("tv26")
    (opened,) = events(app, "vote.opened")
    assert (opened.payload["campaign"], opened.payload["candidates"]) == ("tv26", ids)
    (cast,) = events(app, "ballot.cast")
    assert cast.payload | {"vote_id": 0} == {
        "campaign": "tv26",
        "vote_id": 0,
        "voter": "alice",
        "ballot": {"choice": ids[0]},
        "replaced": False,
    }
    (bulk,) = events(app, "ballots.imported")
    assert bulk.payload["campaign"] == "tv26"
    assert bulk.payload["voters"] == ["bob", "alice"]
    assert bulk.payload["replaced_voters"] == ["alice"]
    (closed,) = events(app, "vote.closed")
    assert (closed.payload["campaign"], closed.payload["winners"]) == ("tv26", [ids[1]])
    advanced = events(app, "campaign.advanced")
    assert advanced and {e.payload["campaign"] for e in advanced} == {"tv26"}
