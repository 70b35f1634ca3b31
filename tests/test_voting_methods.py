"""Plurality, approval and score on hand-counted cases; ballot normalisation and its errors."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from c2m_core.errors import InvalidInput
from c2m_core.voting import Approval, InvalidBallot, Plurality, Score, VoteResult
from c2m_core.voting.ballots import careful_scores, format_ranking, ranking, scores
from c2m_core.voting.result import rank_by_totals

CANDIDATES = (11, 12, 13, 14)


def counted(method, ballots, candidates=CANDIDATES, options=None):
    """Normalise plain ballots and pair each with a count of 1."""
    options = options or {}
    return [(method.normalise(b, candidates, options), 1) for b in ballots]


def test_plurality_hand_count():
    method = Plurality()
    # 12: 3 votes, 14: 2 votes, 11: 1 vote, 13: none.
    ballots = [{"choice": c} for c in (12, 14, 12, "11", 14, 12)]
    result = method.tally(counted(method, ballots), CANDIDATES, 2, {})
    assert [t["votes"] for t in result.totals] == [1, 3, 0, 2]
    assert result.ranking == (12, 14, 11, 13)
    assert result.winners == (12, 14)
    assert result.ballots == 6
    assert result.tie_breaks == ()


def test_plurality_tie_for_the_last_winner_place_is_broken_by_candidate_order_and_stated():
    method = Plurality()
    ballots = [{"choice": c} for c in (13, 12, 14, 13, 14)]
    result = method.tally(counted(method, ballots), CANDIDATES, 1, {})
    # 13 and 14 tie with 2 votes; 13 comes first in candidate order.
    assert result.winners == (13,)
    assert result.ranking == (13, 14, 12, 11)
    assert result.tie_breaks == (
        "variants 13 and 14 tied with 2 votes each for places 1 to 2; they are placed in "
        "candidate order (13, 14), earlier variant first; variant 13 advances, variant 14 "
        "does not",
    )


def test_counts_are_weighted_by_multiplicity():
    method = Plurality()
    result = method.tally([({"choice": 14}, 5), ({"choice": 11}, 4)], CANDIDATES, 1, {})
    assert result.total(14)["votes"] == 5
    assert result.ballots == 9


def test_approval_hand_count_and_limit():
    method = Approval()
    options = method.check_options({"max_approvals": 2}, CANDIDATES)
    ballots = [{"approve": "11,12"}, {"approve": [12, 14]}, {"approve": "12"}, {"approve": 13}]
    result = method.tally(counted(method, ballots, options=options), CANDIDATES, 1, options)
    assert [t["approvals"] for t in result.totals] == [1, 3, 1, 1]
    assert result.winners == (12,)
    # 11, 13 and 14 tie with one approval each below the winner.
    assert result.ranking == (12, 11, 13, 14)
    assert len(result.tie_breaks) == 1
    assert (
        "variants 11, 13 and 14 tied with 1 approval each for places 2 to 4"
        in (result.tie_breaks[0])
    )
    assert result.tie_breaks[0].endswith("none of them advances")
    with pytest.raises(InvalidBallot, match="3 variants approved, but this vote allows at most 2"):
        method.normalise({"approve": "11,12,13"}, CANDIDATES, options)


@pytest.mark.parametrize("bad", [0, 5, -1, "2", True])
def test_approval_limit_must_be_between_one_and_the_number_of_candidates(bad):
    with pytest.raises(InvalidInput, match="option max_approvals"):
        Approval().check_options({"max_approvals": bad}, CANDIDATES)


def test_options_a_method_does_not_have_are_refused():
    with pytest.raises(InvalidInput, match="voting method plurality has no option 'max_approvals'"):
        Plurality().check_options({"max_approvals": 2}, CANDIDATES)


def test_score_hand_count_with_would_buy_demand():
    method = Score()
    ballots = [
        {"score": "11=5,12=3", "would_buy": "11"},
        {"score": {12: 4, 13: 0, 14: 1}, "would_buy": [12, 14]},
        {"score": [[11, 2], [14, 5]]},
    ]
    result = method.tally(counted(method, ballots), CANDIDATES, 2, {})
    by_variant = {t["variant"]: t for t in result.totals}
    assert by_variant[11] == {"variant": 11, "points": 7, "scored": 2, "would_buy": 1}
    assert by_variant[12] == {"variant": 12, "points": 7, "scored": 2, "would_buy": 1}
    assert by_variant[13] == {"variant": 13, "points": 0, "scored": 1, "would_buy": 0}
    assert by_variant[14] == {"variant": 14, "points": 6, "scored": 2, "would_buy": 1}
    assert result.ranking == (11, 12, 14, 13)
    assert result.winners == (11, 12)
    assert result.tie_breaks[0].endswith("both advance")


def test_score_canonical_form_is_candidate_ordered():
    normal = Score().normalise({"score": "14=1, 11=5", "would_buy": "14 11"}, CANDIDATES, {})
    assert normal == {"score": [[11, 5], [14, 1]], "would_buy": [11, 14]}


@pytest.mark.parametrize(
    ("ballot", "message"),
    [
        ({"score": "11=6"}, "score '6' for variant 11 is not a whole number from 0 to 5"),
        ({"score": "11=-1"}, "score '-1' for variant 11 is not a whole number from 0 to 5"),
        ({"score": "11=x"}, "score 'x' for variant 11"),
        ({"score": "11"}, "'11' is not variant=score pairs"),
        ({"score": "11=1,11=2"}, "variant 11 is scored twice"),
        ({"score": "99=1"}, "variant 99 is not a candidate of this vote; candidates are 11, 12"),
        ({"score": {11: True}}, "score True for variant 11"),
        ({"score": ""}, "score at least one variant"),
        ({"score": "11=1", "would_buy": "15"}, "ballot field 'would_buy': variant 15"),
        ({"would_buy": "11"}, "a score ballot needs 'score'"),
    ],
)
def test_score_ballot_errors_name_field_and_value(ballot, message):
    with pytest.raises(InvalidBallot, match=message.replace("(", r"\(").replace(")", r"\)")):
        Score().normalise(ballot, CANDIDATES, {})


@pytest.mark.parametrize(
    ("ballot", "message"),
    [
        ({}, "a plurality ballot needs 'choice'"),
        ({"choice": "abc"}, "ballot field 'choice': 'abc' is not a variant id"),
        ({"choice": 10}, "variant 10 is not a candidate of this vote"),
        ({"choice": True}, "True is not a variant id"),
        ({"choice": 1.5}, "1.5 is not a variant id"),
    ],
)
def test_plurality_ballot_errors(ballot, message):
    with pytest.raises(InvalidBallot, match=message):
        Plurality().normalise(ballot, CANDIDATES, {})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("11,11", "variant 11 is given twice"),
        ("", "approve at least one variant"),
        ({"a": 1}, "is not a list of variant ids"),
    ],
)
def test_approval_ballot_errors(value, message):
    with pytest.raises(InvalidBallot, match=message):
        Approval().normalise({"approve": value}, CANDIDATES, {})


def test_ranking_text_and_lists_normalise_alike():
    assert ranking("rank", "13>11=12", CANDIDATES) == [[13], [11, 12], [14]]
    assert ranking("rank", [13, [12, 11]], CANDIDATES) == [[13], [11, 12], [14]]
    assert ranking("rank", " 14 > 13 > 12 > 11 ", CANDIDATES) == [[14], [13], [12], [11]]
    assert format_ranking([[13], [11, 12], [14]]) == "13>11=12>14"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "is empty"),
        ("11>>12", "has an empty place"),
        ("11=", "has an empty place"),
        ("11>12=11", "variant 11 is given twice"),
        ("11>99", "variant 99 is not a candidate"),
        ("a>b", "'a' is not a variant id"),
        (12.5, "is not a ranking such as 3>1=2>4"),
    ],
)
def test_ranking_errors(value, message):
    with pytest.raises(InvalidBallot, match=message):
        ranking("rank", value, CANDIDATES)


def test_every_tie_group_is_stated_with_whether_it_decided_who_advances():
    values = {1: 5, 2: 5, 3: 2, 4: 2, 5: 2, 6: 0}
    ranking_, won, ties = rank_by_totals((1, 2, 3, 4, 5, 6), values, 3, "votes")
    assert ranking_ == (1, 2, 3, 4, 5, 6)
    assert won == (1, 2, 3)
    assert len(ties) == 2
    assert ties[0].startswith("variants 1 and 2 tied with 5 votes each for places 1 to 2")
    assert ties[0].endswith("both advance")
    assert ties[1].startswith("variants 3, 4 and 5 tied with 2 votes each for places 3 to 5")
    assert ties[1].endswith("variant 3 advances, variants 4 and 5 do not")


def test_result_round_trips_through_its_dict():
    result = Plurality().tally([({"choice": 12}, 2)], CANDIDATES, 1, {})
    data = result.to_dict()
    assert data["tie_rule"].startswith("ties are broken by candidate order")
    assert VoteResult.from_dict(data) == result


SCORE_PAIR = st.tuples(
    st.sampled_from(["9", "11", "12", "14", "016", " 13"]),
    st.sampled_from(["=", ":", " = "]),
    st.sampled_from(["0", "3", "5", "6", "-1", "05", "x"]),
    st.sampled_from([",", ";", " ", ", ", ""]),
)
SCORE_TEXT = st.one_of(
    st.lists(SCORE_PAIR, min_size=1, max_size=5).map(lambda ps: "".join("".join(p) for p in ps)),
    st.text(alphabet="0123456789=:,; -", max_size=12),
)


@settings(max_examples=500, deadline=None)
@given(SCORE_TEXT)
def test_the_fast_path_for_score_text_agrees_with_the_careful_one(text):
    def read(reader):
        try:
            return reader("score", text, CANDIDATES, 0, 5)
        except InvalidBallot as ex:
            return str(ex)

    assert read(scores) == read(careful_scores)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(["11", "12", "13", "14", "9", "011", ">", "=", " ", ","]), max_size=9)
)
def test_the_fast_path_for_ranking_text_agrees_with_reading_its_groups(parts):
    text = "".join(parts)

    def read(value):
        try:
            return ranking("rank", value, CANDIDATES)
        except InvalidBallot:
            return "rejected"

    groups = [group.split("=") for group in text.strip().split(">")] if text.strip() else text
    assert read(text) == read(groups)
