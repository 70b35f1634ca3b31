"""Reading ballot fields from Python values or text: variant ids, id lists, scores, rankings.

Every counting method turns what a voter sent into one canonical form (ids in candidate order,
JSON-ready lists), so equal ballots are equal and are stored as equal text. Errors name the
field, the value and what would be accepted.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import InvalidInput

_SEPARATORS = re.compile(r"[,;\s]+")
_SCORE_TEXT = re.compile(r"[,;\s]*\d+[=:]\d+(?:[,;\s]+\d+[=:]\d+)*[,;\s]*", re.ASCII)
_SCORE_PAIR = re.compile(r"(\d+)[=:](\d+)", re.ASCII)


class InvalidBallot(InvalidInput):
    """A ballot that does not fit the vote's method or candidates; nothing was stored."""


def _candidates_text(candidates: Sequence[int]) -> str:
    return ", ".join(map(str, candidates))


def candidate_id(field: str, value, candidates: Sequence[int]) -> int:
    """``value`` (an int or digits) as a candidate variant id."""
    ident = _integer(value)
    if ident is not None and ident >= 0 and ident in candidates:
        return ident
    accepted = f"a candidate variant id: {_candidates_text(candidates)}"
    if ident is None or ident < 0:
        raise InvalidBallot(
            f"ballot field {field!r}: {value!r} is not a variant id; "
            f"candidates are {_candidates_text(candidates)}",
            field=field,
            value=value,
            accepted=accepted,
        )
    if ident not in candidates:
        raise InvalidBallot(
            f"ballot field {field!r}: variant {ident} is not a candidate of this vote; "
            f"candidates are {_candidates_text(candidates)}",
            field=field,
            value=value,
            accepted=accepted,
        )
    return ident


def _integer(value) -> int | None:
    """An int, or text of ASCII digits with an optional minus sign; None otherwise."""
    if isinstance(value, int):
        return None if isinstance(value, bool) else value
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] == "-" else text
        if digits.isascii() and digits.isdigit():
            return int(text)
    return None


def _items(field: str, value, what: str) -> list:
    if isinstance(value, str):
        return [part for part in _SEPARATORS.split(value.strip()) if part]
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    raise InvalidBallot(
        f"ballot field {field!r}: {value!r} is not {what}", field=field, value=value, accepted=what
    )


def _no_repeats(field: str, ids: list[int], value=None) -> None:
    seen = set()
    for ident in ids:
        if ident in seen:
            raise InvalidBallot(
                f"ballot field {field!r}: variant {ident} is given twice",
                field=field,
                value=ids if value is None else value,
                accepted="each variant at most once",
            )
        seen.add(ident)


def id_list(field: str, value, candidates: Sequence[int]) -> list[int]:
    """Variant ids from a list or from text such as ``"1,4"``, in candidate order."""
    if isinstance(value, str):  # an import repeats a few such texts many times: parse once
        return list(_id_text(field, value, tuple(candidates)))
    return _id_list(field, value, candidates)


@functools.lru_cache(maxsize=4096)
def _id_text(field: str, value: str, candidates: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(_id_list(field, value, candidates))


def _id_list(field: str, value, candidates: Sequence[int]) -> list[int]:
    items = _items(field, value, "a list of variant ids (for example 1,4)")
    ids = [candidate_id(field, item, candidates) for item in items]
    _no_repeats(field, ids, value)
    chosen = set(ids)
    return [c for c in candidates if c in chosen]


def scores(field: str, value, candidates: Sequence[int], low: int, high: int) -> list[list[int]]:
    """``[[variant, score], ...]`` in candidate order from a mapping, pairs or ``"1=4,2=3"``."""
    if isinstance(value, str) and _SCORE_TEXT.fullmatch(value):
        fast = _well_formed_scores(value, candidates, low, high)
        if fast is not None:
            return fast
    return careful_scores(field, value, candidates, low, high)


def careful_scores(field: str, value, candidates: Sequence[int], low: int, high: int):
    """``scores`` without the fast path: every problem is named."""
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, str):
        pairs = []
        for part in _SEPARATORS.split(value.strip()):
            if not part:
                continue
            ident, sep, score = part.replace(":", "=").partition("=")
            pairs.append((ident, score) if sep else (part, None))
    elif isinstance(value, list | tuple):
        pairs = [tuple(p) if isinstance(p, list | tuple) else (p, None) for p in value]
    else:
        pairs = [(value, None)]
    given: dict[int, int] = {}
    accepted = f"variant=score pairs (for example 1=4,2=3) with scores {low} to {high}"
    for pair in pairs:
        if len(pair) != 2 or pair[1] is None:
            raise InvalidBallot(
                f"ballot field {field!r}: {pair[0]!r} is not variant=score pairs (for example "
                f"1=4,2=3) with scores {low} to {high}",
                field=field,
                value=value,
                accepted=accepted,
            )
        ident = candidate_id(field, pair[0], candidates)
        score = _integer(pair[1])
        if score is None or not low <= score <= high:
            raise InvalidBallot(
                f"ballot field {field!r}: score {pair[1]!r} for variant {ident} is not a whole "
                f"number from {low} to {high}",
                field=field,
                value=value,
                accepted=accepted,
            )
        if ident in given:
            raise InvalidBallot(
                f"ballot field {field!r}: variant {ident} is scored twice",
                field=field,
                value=value,
                accepted=accepted,
            )
        given[ident] = score
    return [[c, given[c]] for c in candidates if c in given]


def _well_formed_scores(text: str, candidates: Sequence[int], low: int, high: int):
    """The common case, quickly: well-formed text of known, distinct ids and scores in range.

    None when anything is off, so the careful path can name the problem.
    """
    pairs = _SCORE_PAIR.findall(text)
    given = dict(pairs)
    order, ids, values = _score_texts(tuple(candidates), low, high)
    if (
        len(given) != len(pairs)
        or not given.keys() <= ids
        or not set(given.values()) <= values.keys()
    ):
        return None
    return [[c, values[given[i]]] for c, i in order if i in given]


@functools.lru_cache(maxsize=64)
def _score_texts(candidates: tuple[int, ...], low: int, high: int):
    """(candidate, its id as text) in order, the ids as text, and score text -> score."""
    order = [(c, str(c)) for c in candidates]
    return order, frozenset(i for _, i in order), {str(n): n for n in range(low, high + 1)}


def ranking(field: str, value, candidates: Sequence[int]) -> list[list[int]]:
    """Preference groups, best first, from ``"3>1=2>4"`` or ``[[3], [1, 2], [4]]``.

    Ties (``=``) share a group. Candidates left out are tied below every ranked one, so the
    result always lists every candidate; ids within a group are in candidate order.
    """
    if isinstance(value, str):
        fast = _well_formed_ranking(value, tuple(candidates))
        if fast is not None:
            return fast
    accepted = "a ranking such as 3>1=2>4 ('>' prefers, '=' ties)"
    where: dict[str, Any] = {"field": field, "value": value, "accepted": accepted}
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise InvalidBallot(f"ballot field {field!r} is empty; expected {accepted}", **where)
        groups = [group.split("=") for group in text.split(">")]
    elif isinstance(value, list | tuple):
        groups = [list(g) if isinstance(g, list | tuple) else [g] for g in value]
    else:
        raise InvalidBallot(f"ballot field {field!r}: {value!r} is not {accepted}", **where)
    ranked: list[list[int]] = []
    for group in groups:
        if not group or any(isinstance(item, str) and not item.strip() for item in group):
            raise InvalidBallot(
                f"ballot field {field!r}: {value!r} has an empty place; expected {accepted}",
                **where,
            )
        ranked.append([candidate_id(field, item, candidates) for item in group])
    if not ranked:
        raise InvalidBallot(f"ballot field {field!r} is empty; expected {accepted}", **where)
    _no_repeats(field, [ident for group in ranked for ident in group], value)
    order = {c: i for i, c in enumerate(candidates)}
    normal = [sorted(group, key=order.__getitem__) for group in ranked]
    listed = {ident for group in ranked for ident in group}
    rest = [c for c in candidates if c not in listed]
    if rest:
        normal.append(rest)
    return normal


def _well_formed_ranking(text: str, candidates: tuple[int, ...]) -> list[list[int]] | None:
    """The common case of ``ranking``, quickly: known ids, each once, no spaces or empty
    places. None when anything is off, so the careful path can name the problem."""
    ids, position = _id_texts(candidates)
    groups = [group.split("=") for group in text.split(">")]
    listed = [ident for group in groups for ident in group]
    unique = set(listed)
    if len(unique) != len(listed) or not unique <= ids.keys():
        return None
    normal = [
        [ids[group[0]]] if len(group) == 1 else sorted(map(ids.__getitem__, group), key=position)
        for group in groups
    ]
    if len(listed) < len(candidates):
        chosen = set(map(ids.__getitem__, listed))
        normal.append([c for c in candidates if c not in chosen])
    return normal


@functools.lru_cache(maxsize=64)
def _id_texts(candidates: tuple[int, ...]):
    """Candidate id text -> id, and the candidate-order key of an id."""
    return {str(c): c for c in candidates}, {c: i for i, c in enumerate(candidates)}.__getitem__


def format_ranking(groups: Sequence[Sequence[int]]) -> str:
    """``[[3], [1, 2], [4]]`` -> ``"3>1=2>4"``."""
    return ">".join("=".join(map(str, group)) for group in groups)


# Canonical text, fast: the import path builds a ballot's stored text (``vote.ballot_text``)
# from pieces prepared once per vote instead of encoding every ballot as JSON again.

#: How many distinct field texts a method's ``normaliser`` remembers the reading of.
KNOWN_TEXTS = 10_000


@functools.lru_cache(maxsize=64)
def score_pieces(candidates: tuple[int, ...], low: int, high: int) -> dict:
    """``"id=score"`` (and ``id:score``) -> (candidate position, [id, score], ``[id,score]``).

    The ``[id, score]`` lists are shared by every ballot that has the pair: canonical ballots
    are values, read and never changed (a ballot handed to a hook included).
    """
    table = {}
    for position, ident in enumerate(candidates):
        for score in range(low, high + 1):
            entry = (position, [ident, score], f"[{ident},{score}]")
            table[f"{ident}={score}"] = table[f"{ident}:{score}"] = entry
    return table


def ids_text(ids: Sequence[int]) -> str:
    """The JSON text of a list of variant ids."""
    return "[" + ",".join(map(str, ids)) + "]"


class RankGroups(dict):
    """Group text of a ranking (``"1=2"``) -> (bit mask, ids in candidate order, JSON text),
    filled as groups are met; None for text that is not a group of distinct known ids.

    The id lists are shared by every ballot with the group: canonical ballots are values,
    read and never changed.
    """

    LIMIT = 50_000

    def __init__(self, candidates: tuple[int, ...]):
        super().__init__()
        self.candidates = candidates
        self.bits = {str(c): 1 << i for i, c in enumerate(candidates)}
        self.full = (1 << len(candidates)) - 1
        self.rest = _Rest(self)

    def entry(self, mask: int) -> tuple:
        ids = [c for i, c in enumerate(self.candidates) if mask >> i & 1]
        return (mask, ids, ids_text(ids))

    def __missing__(self, text: str):
        bits = list(map(self.bits.get, text.split("=")))
        if None in bits or len(set(bits)) != len(bits):
            return None
        found = self.entry(sum(bits))  # type: ignore[arg-type]
        if len(self) < self.LIMIT:
            self[text] = found
        return found


class _Rest(dict):
    """The mask of the candidates a ranking lists -> the group of those it leaves out (tied
    below every ranked one), as a ``RankGroups`` entry."""

    def __init__(self, groups: RankGroups):
        super().__init__()
        self.groups = groups

    def __missing__(self, listed: int) -> tuple:
        found = self[listed] = self.groups.entry(self.groups.full & ~listed)
        return found


@functools.lru_cache(maxsize=64)
def rank_groups(candidates: tuple[int, ...]) -> RankGroups:
    """The ``RankGroups`` of a vote's candidates (made once per candidate tuple)."""
    return RankGroups(candidates)
