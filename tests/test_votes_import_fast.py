"""The import path's fast readings of ballots, checked against the careful ones, and the
running tally of imports with replacements (in one batch and across batches) against a
recount."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from voting_support import voting_campaign

from c2m_core import C2M
from c2m_core.voting import Approval, InvalidBallot, Plurality, Schulze, Score
from c2m_core.voting.schulze import pairwise_preferences
from c2m_core.voting.vote import ballot_text

CANDIDATES = (11, 12, 13, 14, 15)
METHODS = {"plurality": Plurality(), "approval": Approval(), "score": Score(), "schulze": Schulze()}
SLUGS = itertools.count()


def reading(method, ballot):
    """What ``normalise`` makes of ``ballot`` with its stored text, or its error message."""
    try:
        normal = method.normalise(ballot, CANDIDATES, {})
    except InvalidBallot as ex:
        return "error", str(ex)
    return normal, ballot_text(normal)


def fast_reading(method, ballot):
    try:
        return method.normaliser(CANDIDATES, {})(ballot)
    except InvalidBallot as ex:
        return "error", str(ex)


# Text the way voters and spreadsheets write it, well-formed or not: ids (known or not),
# separators of every kind, repeats, spaces, out-of-range and odd numbers.
IDS = st.sampled_from(["11", "12", "13", "14", "15", "16", "1", "011", "x", ""])
SEPARATORS = st.sampled_from([";", ",", " ", ", ", ";;", ""])
SCORES = st.sampled_from(["0", "1", "3", "5", "6", "-1", "05", "", "a"])


@st.composite
def score_text(draw):
    pairs = draw(st.lists(st.tuples(IDS, st.sampled_from(["=", ":", "=="]), SCORES), max_size=6))
    separator = draw(SEPARATORS)
    return separator.join(f"{i}{eq}{s}" for i, eq, s in pairs)


@st.composite
def id_text(draw):
    return draw(SEPARATORS).join(draw(st.lists(IDS, max_size=5)))


@st.composite
def rank_text(draw):
    groups = draw(st.lists(st.lists(IDS, min_size=1, max_size=3), max_size=6))
    ties = draw(st.sampled_from(["=", " = "]))
    return draw(st.sampled_from([">", " > "])).join(ties.join(group) for group in groups)


@settings(max_examples=300)
@given(score=score_text(), would_buy=st.one_of(st.none(), id_text()))
def test_the_fast_score_reading_equals_the_careful_one(score, would_buy):
    ballot = {"score": score} if would_buy is None else {"score": score, "would_buy": would_buy}
    assert fast_reading(Score(), ballot) == reading(Score(), ballot)


@settings(max_examples=300)
@given(rank=rank_text())
def test_the_fast_ranking_reading_equals_the_careful_one(rank):
    assert fast_reading(Schulze(), {"rank": rank}) == reading(Schulze(), {"rank": rank})


@settings(max_examples=100)
@given(
    name=st.sampled_from(sorted(METHODS)),
    ballot=st.dictionaries(
        st.sampled_from(["choice", "approve", "score", "would_buy", "rank"]),
        st.one_of(id_text(), score_text(), rank_text(), st.integers(10, 16)),
        max_size=3,
    ),
)
def test_every_method_reads_any_ballot_the_same_way_fast_or_careful(name, ballot):
    method = METHODS[name]
    assert fast_reading(method, ballot) == reading(method, ballot)


def test_repeated_ballots_read_fast_share_nothing_a_reader_can_break():
    read = Score().normaliser(CANDIDATES, {})
    first, _ = read({"score": "11=5;12=3", "would_buy": "11"})
    second, text = read({"score": "11=5;12=3", "would_buy": "11"})
    assert first == second == {"score": [[11, 5], [12, 3]], "would_buy": [11]}
    assert text == '{"score":[[11,5],[12,3]],"would_buy":[11]}'


@st.composite
def weighted_rankings(draw):
    ballot = st.lists(st.lists(st.sampled_from(CANDIDATES), min_size=1, max_size=3), max_size=5)
    found = []
    for groups, count in draw(st.lists(st.tuples(ballot, st.integers(-3, 3)), max_size=12)):
        seen, clean = set(), []
        for group in groups:
            group = [c for c in dict.fromkeys(group) if c not in seen]
            seen.update(group)
            if group:
                clean.append(group)
        if clean:
            found.append((Schulze().normalise({"rank": clean}, CANDIDATES, {}), count))
    return found


@settings(max_examples=200)
@given(ballots=weighted_rankings())
def test_pairwise_preferences_count_every_pair_of_every_ballot(ballots):
    n = len(CANDIDATES)
    expected = [[0] * n for _ in range(n)]
    for ballot, count in ballots:  # the definition: voters ranking a above b, one pair at a time
        place = {c: p for p, group in enumerate(ballot["rank"]) for c in group}
        for i, a in enumerate(CANDIDATES):
            for j, b in enumerate(CANDIDATES):
                if place[a] < place[b]:
                    expected[i][j] += count
    assert pairwise_preferences(ballots, CANDIDATES) == expected


@settings(max_examples=200)
@given(
    ballots=st.lists(
        st.tuples(
            st.dictionaries(st.sampled_from(CANDIDATES), st.integers(0, 5), min_size=1),
            st.lists(st.sampled_from(CANDIDATES), unique=True),
            st.integers(-3, 3),
        ),
        max_size=12,
    )
)
def test_score_counters_add_up_every_score_of_every_ballot(ballots):
    weighted = [
        (Score().normalise({"score": scores, "would_buy": buy}, CANDIDATES, {}), count)
        for scores, buy, count in ballots
    ]
    expected: dict[str, int] = {}
    for ballot, count in weighted:
        expected["ballots"] = expected.get("ballots", 0) + count
        for variant, score in ballot["score"]:
            expected[f"points/{variant}"] = expected.get(f"points/{variant}", 0) + score * count
            expected[f"scored/{variant}"] = expected.get(f"scored/{variant}", 0) + count
        for variant in ballot.get("would_buy", ()):
            expected[f"would_buy/{variant}"] = expected.get(f"would_buy/{variant}", 0) + count
    expected = {name: value for name, value in expected.items() if value}
    assert Score().counters(weighted, CANDIDATES, {}) == expected


# Imports with replacements ------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with C2M(db_path=tmp_path_factory.mktemp("fast") / "c2m.db") as app:
        yield app


def score_cell(candidates, draw):
    scores = draw(st.dictionaries(st.sampled_from(candidates), st.integers(0, 5), min_size=1))
    return ";".join(f"{c}={s}" for c, s in sorted(scores.items()))


def rank_cell(candidates, draw):
    order = draw(st.permutations(candidates))[: draw(st.integers(1, len(candidates)))]
    ties = draw(st.lists(st.booleans(), min_size=len(order), max_size=len(order)))
    text = str(order[0])
    for ident, tie in zip(order[1:], ties, strict=False):
        text += ("=" if tie else ">") + str(ident)
    return text


@pytest.mark.parametrize("method", ["score", "schulze"])
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    files=st.lists(
        st.lists(st.sampled_from(["ann", "bob", "cat", "dan"]), min_size=1, max_size=8),
        min_size=1,
        max_size=3,
    ),
    batch_size=st.integers(1, 4),
)
def test_imported_replacements_keep_the_running_tally_equal_to_a_recount(
    app, tmp_path_factory, method, data, files, batch_size
):
    slug = f"i{next(SLUGS)}"
    voting_campaign(app, slug, variants=3)
    vote = app.voting.open(slug, method)
    candidates = list(vote.candidates)
    final: dict[str, dict] = {}
    replaced = 0
    for voters in files:
        path = tmp_path_factory.mktemp("ballots") / "ballots.csv"
        rows = []
        for voter in voters:
            if method == "score":
                ballot = {"score": score_cell(candidates, data.draw)}
                if data.draw(st.booleans()):
                    ballot["would_buy"] = str(data.draw(st.sampled_from(candidates)))
            else:
                ballot = {"rank": rank_cell(candidates, data.draw)}
            replaced += voter in final
            final[voter] = ballot
            rows.append(ballot)
        fields = ["score", "would_buy"] if method == "score" else ["rank"]
        path.write_text(
            ",".join(["voter", *fields])
            + "\n"
            + "".join(
                ",".join([voter] + [row.get(f, "") for f in fields]) + "\n"
                for voter, row in zip(voters, rows, strict=True)
            ),
            encoding="utf-8",
        )
        report = app.voting.import_file(slug, path, batch_size=batch_size)
        assert report.imported == len(voters) and not report.rejected
    counter = app.voting.method(method)
    reference = counter.counters(
        [(app.voting.normalise(vote, ballot), 1) for ballot in final.values()],
        vote.candidates,
        vote.options,
    )
    assert app.store.voting.running_tally(vote.id) == {k: v for k, v in reference.items() if v}
    assert app.voting.audit(slug).ok
    assert len(app.voting.history(slug)) == replaced  # every replaced ballot kept, once
    for voter, ballot in final.items():
        assert app.voting.ballot(slug, voter).ballot == app.voting.normalise(vote, ballot)


# The array reading of a batch of rankings ----------------------------------------------------

RANK_PIECES = st.sampled_from(
    [">", "=", ">", "=", " > ", ">>", "==", "=>", " ", "\t", "\n", "0", "x", "-", "é", "１", ""]
)


@st.composite
def ranking_batch(draw, candidates):
    """Ranking texts as files hold them: mostly well-formed (ties, left-out candidates), some
    with unknown, repeated or zero-padded ids, empty places, spaces, line ends, other
    characters, or values that are not text at all."""
    ids = [str(c) for c in candidates]
    odd = st.sampled_from([*ids, "0", "99999", f"0{ids[0]}", f"{ids[-1]}0", "", "x"])
    texts = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            texts.append(draw(st.sampled_from([None, "", 3, [ids[0]], " ", "\n", "é"])))
            continue
        order = draw(st.permutations(ids))[: draw(st.integers(1, len(ids)))]
        text = order[0]
        for ident in order[1:]:
            text += draw(st.sampled_from(">=")) + ident
        if kind == 1:  # something odd inserted somewhere
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.one_of(RANK_PIECES, odd)) + text[at:]
        elif kind == 2:  # an id added, known (so repeated) or not
            text += draw(st.sampled_from(">=")) + draw(odd)
        texts.append(text)
    return texts


@pytest.mark.parametrize("size", [1, 5, 13, 60])
@settings(max_examples=150)
@given(data=st.data())
def test_a_batch_of_rankings_read_as_arrays_equals_each_read_carefully(size, data):
    """Texts, errors (in order, same words) and counters: the array reading and the careful
    one (each distinct ballot read with ``normalise``) agree, on batches that repeat their
    rankings and batches that do not, with few candidates, with more than fit the table of
    pairs (13), and with the most the array reading takes (60)."""
    from c2m_core.voting import VotingMethod
    from c2m_core.voting.rankings import MAX_CANDIDATES, TABLE_CANDIDATES

    assert TABLE_CANDIDATES < 13 and MAX_CANDIDATES == 60
    ids = data.draw(st.lists(st.integers(1, 10**6), min_size=size, max_size=size, unique=True))
    texts = data.draw(ranking_batch(ids))
    # as they come, and repeated (each distinct text is then read once, counted with its count)
    for values in ([(text,) for text in texts], [(text,) for text in texts * 3]):
        fast = Schulze().batch_normaliser(ids, {})(values)
        careful = VotingMethod.batch_normaliser(Schulze(), ids, {})(values)
        assert fast.texts == careful.texts
        assert [(i, str(e)) for i, e in fast.errors] == [(i, str(e)) for i, e in careful.errors]
        assert fast.counters == careful.counters
        for index, (text,) in enumerate(values):
            if fast.texts[index] is not None:
                assert fast.ballot(index) == Schulze().normalise({"rank": text}, ids, {})


def test_an_id_repeated_many_times_in_one_ranking_is_still_a_repeat():
    """The array reading finds a repeat by counting a text's ids against the candidates it
    names, not by adding their bits: 33 copies of the 60th candidate's bit add up, in 64
    bits, to that bit alone."""
    ids = list(range(1, 61))
    values = [(">".join(["60"] * 33),), ("60=" * 40 + "1",), ("1>2",)]
    judged = Schulze().batch_normaliser(ids, {})(values)
    assert judged.texts[:2] == [None, None] and judged.texts[2] is not None
    assert [(i, str(e)) for i, e in judged.errors] == [
        (0, "ballot field 'rank': variant 60 is given twice"),
        (1, "ballot field 'rank': variant 60 is given twice"),
    ]
