"""Schulze against published worked examples, a brute-force reference, and properties."""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from c2m_core.voting import Schulze, pairwise_preferences, strongest_paths

METHOD = Schulze()


def election(profile: list[tuple[int, str]], letters: str):
    """Candidates 1..n for letters A..; ``profile`` is (count, "ACBED") pairs."""
    candidates = tuple(range(1, len(letters) + 1))
    ids = dict(zip(letters, candidates, strict=True))
    ballots = [
        (METHOD.normalise({"rank": ">".join(str(ids[c]) for c in order)}, candidates, {}), n)
        for n, order in profile
    ]
    return candidates, ids, ballots


def matrix(rows: str) -> list[list[int]]:
    return [[int(x) for x in row.split()] for row in rows.strip().splitlines()]


def test_schulze_example_1_45_voters_5_candidates():
    """Schulze's own example (also Wikipedia's): winner E, ranking E > A > C > B > D."""
    profile = [
        (5, "ACBED"),
        (5, "ADECB"),
        (8, "BEDAC"),
        (3, "CABED"),
        (7, "CAEBD"),
        (2, "CBADE"),
        (7, "DCEBA"),
        (8, "EBADC"),
    ]
    candidates, ids, ballots = election(profile, "ABCDE")
    result = METHOD.tally(ballots, candidates, 1, {})
    # Published matrix of pairwise preferences d[row, column] (0 on the diagonal).
    assert result.details["d"] == matrix(
        """
        0 20 26 30 22
        25 0 16 33 18
        19 29 0 17 24
        15 12 28 0 14
        23 27 21 31 0
        """
    )
    # Published strengths of the strongest paths p[row, column].
    assert result.details["p"] == matrix(
        """
        0 28 28 30 24
        25 0 28 33 24
        25 29 0 29 24
        25 28 28 0 24
        25 28 28 31 0
        """
    )
    assert result.winners == (ids["E"],)
    assert result.ranking == tuple(ids[c] for c in "EACBD")
    assert result.ballots == 45
    assert result.tie_breaks == ()
    assert [t["wins"] for t in result.totals] == [3, 1, 2, 0, 4]


def test_schulze_example_2_30_voters_4_candidates():
    """Electorama wiki Schulze example 2: strongest paths and ranking D > A > C > B."""
    profile = [
        (5, "ACBD"),
        (2, "ACDB"),
        (3, "ADCB"),
        (4, "BACD"),
        (3, "CBDA"),
        (3, "CDBA"),
        (1, "DACB"),
        (5, "DBAC"),
        (4, "DCBA"),
    ]
    candidates, ids, ballots = election(profile, "ABCD")
    result = METHOD.tally(ballots, candidates, 1, {})
    assert result.details["p"] == matrix(
        """
        0 20 20 17
        19 0 19 17
        19 21 0 17
        18 18 18 0
        """
    )
    assert result.ranking == tuple(ids[c] for c in "DACB")
    assert result.winners == (ids["D"],)


def test_schulze_example_3_30_voters_5_candidates():
    """Electorama wiki Schulze example 3: strongest paths and ranking B > A > D > E > C."""
    profile = [
        (3, "ABDEC"),
        (5, "ADEBC"),
        (1, "ADECB"),
        (2, "BADEC"),
        (2, "BDECA"),
        (4, "CABDE"),
        (6, "CBADE"),
        (2, "DBECA"),
        (5, "DECAB"),
    ]
    candidates, ids, ballots = election(profile, "ABCDE")
    result = METHOD.tally(ballots, candidates, 1, {})
    assert result.details["p"] == matrix(
        """
        0 18 20 21 21
        19 0 19 19 19
        19 18 0 19 19
        19 18 20 0 30
        19 18 20 19 0
        """
    )
    assert result.ranking == tuple(ids[c] for c in "BADEC")


def test_schulze_example_4_tie_between_b_and_d_is_broken_by_candidate_order_and_stated():
    """Schulze's example 4 (9 voters): B and D are both potential winners."""
    profile = [(3, "ABCD"), (2, "DABC"), (2, "DBCA"), (2, "CBDA")]
    candidates, ids, ballots = election(profile, "ABCD")
    result = METHOD.tally(ballots, candidates, 1, {})
    p = result.details["p"]
    b, d = ids["B"] - 1, ids["D"] - 1
    assert p[b][d] == p[d][b] == 5
    assert result.winners == (ids["B"],)
    assert result.tie_breaks[0] == (
        "variants 2 and 4 were tied for place 1: neither beats the other by strongest paths "
        "(p[2][4] = 5, p[4][2] = 5); variant 2 takes place 1 because it comes earlier in "
        "candidate order; variant 2 advances, variant 4 does not"
    )
    # Reversing candidate order reverses the tie-break: the rule, not luck, decides.
    reordered = (4, 3, 2, 1)
    assert METHOD.tally(ballots, reordered, 1, {}).winners == (ids["D"],)


def test_unranked_candidates_are_tied_last():
    candidates = (1, 2, 3)
    ballot = METHOD.normalise({"rank": "2"}, candidates, {})
    assert ballot == {"rank": [[2], [1, 3]]}
    d = pairwise_preferences([(ballot, 1)], candidates)
    assert d == [[0, 0, 0], [1, 0, 1], [0, 0, 0]]


# Reference: strongest paths by enumerating every simple path --------------------------------


def brute_force_paths(d):
    n = len(d)
    p = [[0] * n for _ in range(n)]
    for a, b in itertools.permutations(range(n), 2):
        others = [x for x in range(n) if x not in (a, b)]
        for size in range(len(others) + 1):
            for middle in itertools.permutations(others, size):
                path = (a, *middle, b)
                links = list(itertools.pairwise(path))
                if all(d[x][y] > d[y][x] for x, y in links):
                    p[a][b] = max(p[a][b], min(d[x][y] for x, y in links))
    return p


def ranked_ballots(max_candidates=5):
    """(candidates, [(ballot, count)]) with random weak orders, possibly partial."""

    @st.composite
    def build(draw):
        n = draw(st.integers(2, max_candidates))
        candidates = tuple(range(1, n + 1))
        ballot = st.lists(
            st.lists(st.sampled_from(candidates), min_size=1, max_size=2), min_size=1, max_size=n
        )
        raw = draw(st.lists(st.tuples(ballot, st.integers(1, 4)), min_size=0, max_size=12))
        ballots = []
        for groups, count in raw:
            seen, clean = set(), []
            for group in groups:
                group = [c for c in dict.fromkeys(group) if c not in seen]
                seen.update(group)
                if group:
                    clean.append(group)
            ballots.append((METHOD.normalise({"rank": clean}, candidates, {}), count))
        return candidates, ballots

    return build()


@settings(max_examples=150, deadline=None)
@given(ranked_ballots())
def test_floyd_warshall_equals_brute_force_path_enumeration(case):
    candidates, ballots = case
    d = pairwise_preferences(ballots, candidates)
    assert strongest_paths(d) == brute_force_paths(d)


@settings(max_examples=200, deadline=None)
@given(ranked_ballots())
def test_condorcet_winner_is_elected(case):
    candidates, ballots = case
    d = pairwise_preferences(ballots, candidates)
    n = len(candidates)
    condorcet = [i for i in range(n) if all(d[i][j] > d[j][i] for j in range(n) if j != i)]
    result = METHOD.tally(ballots, candidates, 1, {})
    if condorcet:
        assert result.winners == (candidates[condorcet[0]],)
        assert not any("for place 1:" in statement for statement in result.tie_breaks)


@settings(max_examples=150, deadline=None)
@given(ranked_ballots(), st.randoms(use_true_random=False))
def test_ranking_respects_beats_relation_and_is_independent_of_ballot_order(case, rng):
    candidates, ballots = case
    result = METHOD.tally(ballots, candidates, 1, {})
    p = result.details["p"]
    index = {c: i for i, c in enumerate(candidates)}
    for earlier, later in itertools.combinations(result.ranking, 2):
        i, j = index[earlier], index[later]
        assert not p[j][i] > p[i][j], "a candidate is ranked above one that beats it"
    shuffled = list(ballots)
    rng.shuffle(shuffled)
    assert METHOD.tally(shuffled, candidates, 1, {}) == result
    # Counting n copies of a ballot one by one is the same as counting it n times at once.
    expanded = [(ballot, 1) for ballot, count in ballots for _ in range(count)]
    assert METHOD.tally(expanded, candidates, 1, {}) == result
