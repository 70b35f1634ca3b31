"""Counting methods: the base classes plugins subclass, and plurality, approval and score.

A method is pure: ``normalise`` turns one voter's ballot into its canonical form (or raises
``InvalidBallot``), ``tally`` counts canonical ballots in integers. Ballots reach ``tally`` as
``(ballot, count)`` pairs, so identical ballots are counted once with their multiplicity.

A method that subclasses ``IncrementalMethod`` also has a running form: ``counters`` turns
ballots into named integer counters that add up (a ballot taken away has a negative count),
and ``tally_counters`` turns the counters into the result. The store keeps the counters up to
date in the transaction of each ballot, so closing reads a few counters instead of every
ballot; a method without that form is counted from the ballots.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain
from operator import itemgetter, methodcaller
from typing import NamedTuple

from ..errors import InvalidInput
from .ballots import (
    KNOWN_TEXTS,
    InvalidBallot,
    candidate_id,
    id_list,
    ids_text,
    score_pieces,
    scores,
)
from .result import VoteResult, rank_by_totals
from .vote import ballot_text

MIN_SCORE = 0
MAX_SCORE = 5

Ballots = Iterable[tuple[Mapping, int]]
#: A running tally: counter name -> integer value (counters that are 0 may be left out).
Counters = Mapping[str, int]


class JudgedBallots(NamedTuple):
    """What a method's ``batch_normaliser`` made of a batch of ballots, in their order."""

    #: The stored text of each ballot (``vote.ballot_text`` of its canonical form); None for
    #: a ballot rejected.
    texts: list[str | None]
    #: ``(index, why)`` of each ballot rejected, in order.
    errors: list[tuple[int, InvalidInput]]
    #: For an ``IncrementalMethod``: the counters of the accepted ballots, as if each were its
    #: voter's first (None for other methods).
    counters: dict | None
    #: The canonical form of the accepted ballot at an index.
    ballot: Callable[[int], Mapping]


def _blank(value) -> bool:
    return value is None or value == "" or value == []


def add_counters(*counters: Mapping[str, int] | None) -> dict[str, int]:
    """The sums of running-tally counters, zeros left out."""
    total: Counter = Counter()
    for each in counters:
        if each:
            total.update(each)
    return {name: value for name, value in total.items() if value}


class VotingMethod:
    """A counting method. Subclass it and return instances from ``register_voting_methods``.

    ``fields`` are the ballot fields it reads (the service rejects others), ``options`` the
    vote options it accepts (name -> help).
    """

    name: str = ""
    title: str = ""
    fields: tuple[str, ...] = ()
    options: Mapping[str, str] = {}

    def check_options(self, options: Mapping, candidates: Sequence[int]) -> dict:
        """Return the vote's options checked; ``InvalidInput`` for unknown or bad ones."""
        unknown = [name for name in options if name not in self.options]
        if unknown:
            accepted = ", ".join(self.options) or "none"
            raise InvalidInput(
                f"voting method {self.name} has no option {unknown[0]!r}; its options: {accepted}"
            )
        return dict(options)

    def normalise(self, ballot: Mapping, candidates: Sequence[int], options: Mapping) -> dict:
        """One ballot in canonical, JSON-ready form; ``InvalidBallot`` says what is wrong."""
        raise NotImplementedError

    def normaliser(
        self, candidates: Sequence[int], options: Mapping
    ) -> Callable[[Mapping], tuple[dict, str]]:
        """A function from one ballot to ``(normalise(ballot), its stored text)`` for a vote.

        An import makes it once and calls it for every distinct ballot. A method may override
        it to prepare tables once and build the text without encoding the ballot again; the
        text must equal ``vote.ballot_text`` of the ballot returned, and a ballot the fast path
        does not take goes to ``normalise``, which names what is wrong.
        """

        def normalise(ballot: Mapping) -> tuple[dict, str]:
            normal = self.normalise(ballot, candidates, options)
            return normal, ballot_text(normal)

        return normalise

    def batch_normaliser(
        self, candidates: Sequence[int], options: Mapping
    ) -> Callable[[Sequence[tuple]], JudgedBallots]:
        """A function from a batch of ballots to their stored texts, what is wrong with the
        bad ones and (an ``IncrementalMethod``'s) the counters of the good ones.

        A ballot is a tuple of the method's ``fields`` in order, None (or ``""``, ``[]``) for
        a field not given; an import makes the function once per vote and calls it per batch.
        This one reads each distinct ballot of a batch once with ``normaliser`` and counts
        each once with its multiplicity; a method may override it to read a batch faster,
        with the same results.
        """
        normalise = self.normaliser(candidates, options)
        fields = self.fields
        incremental = isinstance(self, IncrementalMethod)

        def judge_one(value: tuple) -> tuple[dict, str] | InvalidInput:
            ballot = {name: v for name, v in zip(fields, value, strict=True) if not _blank(v)}
            try:
                return normalise(ballot)
            except InvalidInput as ex:
                return ex

        def judge(values: Sequence[tuple]) -> JudgedBallots:
            counts: Mapping[tuple, int]
            try:
                counts = Counter(values)
            except TypeError:  # a JSON list or object: each read on its own
                found = list(map(judge_one, values))
                counts = {}
            else:
                judged = {value: judge_one(value) for value in counts}
                found = list(map(judged.__getitem__, values))
            texts: list[str | None] = []
            errors: list[tuple[int, InvalidInput]] = []
            for index, item in enumerate(found):
                if isinstance(item, InvalidInput):
                    texts.append(None)
                    errors.append((index, item))
                else:
                    texts.append(item[1])
            counters = None
            if incremental:
                if counts:
                    weighted = (
                        (judged[value][0], count)  # type: ignore[index]
                        for value, count in counts.items()
                        if type(judged[value]) is tuple
                    )
                else:
                    weighted = ((item[0], 1) for item in found if type(item) is tuple)
                counters = self.counters(weighted, candidates, options)  # type: ignore[attr-defined]
            return JudgedBallots(texts, errors, counters, lambda index: found[index][0])  # type: ignore[index]

        return judge

    def tally(
        self, ballots: Ballots, candidates: Sequence[int], winners: int, options: Mapping
    ) -> VoteResult:
        """Count ``(canonical ballot, count)`` pairs into a ``VoteResult``."""
        raise NotImplementedError

    def require(self, ballot: Mapping, field: str, what: str):
        if field not in ballot:
            raise InvalidBallot(f"a {self.name} ballot needs {field!r} ({what})")
        return ballot[field]


class IncrementalMethod(VotingMethod):
    """A counting method with a running tally: subclass it instead of ``VotingMethod``.

    Implement ``counters`` and ``tally_counters``; ``tally`` is their composition, so counting
    from the ballots and reading the running tally give the same result by construction.
    ``counters`` must add up: the counters of two sets of ballots together are the sums of
    each set's counters, and a ballot with count -1 takes away what it added with count 1.
    """

    def counters(self, ballots: Ballots, candidates: Sequence[int], options: Mapping) -> dict:
        """The counters of ``(canonical ballot, count)`` pairs (a negative count subtracts)."""
        raise NotImplementedError

    def tally_counters(
        self, counters: Counters, candidates: Sequence[int], winners: int, options: Mapping
    ) -> VoteResult:
        """The ``VoteResult`` of a running tally (a missing counter is 0)."""
        raise NotImplementedError

    def tally(self, ballots, candidates, winners, options):
        counted = self.counters(ballots, candidates, options)
        return self.tally_counters(counted, candidates, winners, options)


def per_variant(counters: Counters, figure: str, candidates: Sequence[int]) -> dict[int, int]:
    """``figure``'s counter of each candidate (``{figure}/{variant}``), 0 when missing."""
    return {c: counters.get(f"{figure}/{c}", 0) for c in candidates}


def named(figures: Mapping[str, Mapping[int, int]], total: int) -> dict[str, int]:
    """Counters from per-variant figures and the number of ballots, zeros left out."""
    found = {
        f"{figure}/{variant}": value
        for figure, values in figures.items()
        for variant, value in values.items()
        if value
    }
    if total:
        found["ballots"] = total
    return found


def positive_option(options: Mapping, name: str, maximum: int) -> int | None:
    value = options.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise InvalidInput(f"option {name}: {value!r} is not a whole number from 1 to {maximum}")
    return value


class Plurality(IncrementalMethod):
    """One choice per ballot; the most votes wins."""

    name = "plurality"
    title = "one variant per ballot (--choice); most votes wins"
    fields = ("choice",)

    def normalise(self, ballot, candidates, options):
        value = self.require(ballot, "choice", "the variant id chosen")
        return {"choice": candidate_id("choice", value, candidates)}

    def counters(self, ballots, candidates, options):
        votes = dict.fromkeys(candidates, 0)
        total = 0
        for ballot, count in ballots:
            votes[ballot["choice"]] += count
            total += count
        return named({"votes": votes}, total)

    def tally_counters(self, counters, candidates, winners, options):
        votes = per_variant(counters, "votes", candidates)
        ranking, won, ties = rank_by_totals(candidates, votes, winners, "votes")
        return VoteResult(
            method=self.name,
            candidates=candidates,
            ballots=counters.get("ballots", 0),
            totals=[{"variant": c, "votes": votes[c]} for c in candidates],
            ranking=ranking,
            winners=won,
            tie_breaks=ties,
        )


class Approval(IncrementalMethod):
    """Approve any number of variants (up to ``max_approvals``); the most approvals wins."""

    name = "approval"
    title = "approve one or more variants (--approve); most approvals wins"
    fields = ("approve",)
    options = {"max_approvals": "the most variants one ballot may approve (default: all)"}

    def check_options(self, options, candidates):
        checked = super().check_options(options, candidates)
        limit = positive_option(checked, "max_approvals", len(candidates))
        return {"max_approvals": limit} if limit is not None else {}

    def normalise(self, ballot, candidates, options):
        value = self.require(ballot, "approve", "the variant ids approved")
        approved = id_list("approve", value, candidates)
        if not approved:
            raise InvalidBallot("ballot field 'approve' is empty; approve at least one variant")
        limit = options.get("max_approvals")
        if limit is not None and len(approved) > limit:
            raise InvalidBallot(
                f"ballot field 'approve': {len(approved)} variants approved, but this vote "
                f"allows at most {limit}"
            )
        return {"approve": approved}

    def counters(self, ballots, candidates, options):
        approvals = dict.fromkeys(candidates, 0)
        total = 0
        for ballot, count in ballots:
            for variant in ballot["approve"]:
                approvals[variant] += count
            total += count
        return named({"approvals": approvals}, total)

    def tally_counters(self, counters, candidates, winners, options):
        approvals = per_variant(counters, "approvals", candidates)
        ranking, won, ties = rank_by_totals(candidates, approvals, winners, "approvals")
        return VoteResult(
            method=self.name,
            candidates=candidates,
            ballots=counters.get("ballots", 0),
            totals=[{"variant": c, "approvals": approvals[c]} for c in candidates],
            ranking=ranking,
            winners=won,
            tie_breaks=ties,
        )


class Score(IncrementalMethod):
    """Score variants 0 to 5; the highest total wins. "Would buy" flags are a demand signal.

    A variant a ballot leaves unscored adds nothing to its total; ``scored`` counts the ballots
    that scored it. ``would_buy`` is reported, never used to rank.
    """

    name = "score"
    title = (
        f"score variants {MIN_SCORE}-{MAX_SCORE} (--score ID=N), optionally --would-buy ID; "
        "highest total wins"
    )
    fields = ("score", "would_buy")

    def normalise(self, ballot, candidates, options):
        value = self.require(ballot, "score", f"variant=score pairs, {MIN_SCORE} to {MAX_SCORE}")
        given = scores("score", value, candidates, MIN_SCORE, MAX_SCORE)
        if not given:
            raise InvalidBallot("ballot field 'score' is empty; score at least one variant")
        normal: dict = {"score": given}
        if ballot.get("would_buy") not in (None, "", []):
            normal["would_buy"] = id_list("would_buy", ballot["would_buy"], candidates)
        return normal

    def normaliser(self, candidates, options):
        pieces = score_pieces(tuple(candidates), MIN_SCORE, MAX_SCORE)
        careful = super().normaliser(candidates, options)
        buys: dict[str, tuple[list[int], str]] = {}

        def normalise(ballot):
            # The common case, quickly: score text of one separator kind, known ids in
            # candidate order, each once, scores in range; anything else goes to ``normalise``.
            value = ballot.get("score")
            if type(value) is not str:
                return careful(ballot)
            entries: list = list(map(pieces.get, value.split(";" if ";" in value else ",")))
            if None in entries:
                return careful(ballot)
            positions = list(map(_FIRST, entries))
            if positions != sorted(set(positions)):
                return careful(ballot)
            normal = {"score": list(map(_SECOND, entries))}
            text = '{"score":[' + ",".join(map(_THIRD, entries))
            buy = ballot.get("would_buy")
            if buy is None or buy == "":
                if len(ballot) != 1:
                    return careful(ballot)
                return normal, text + "]}"
            if type(buy) is not str or len(ballot) != 2:
                return careful(ballot)
            found = buys.get(buy)
            if found is None:
                ids = id_list("would_buy", buy, candidates)
                found = ids, ids_text(ids)
                if len(buys) < KNOWN_TEXTS:
                    buys[buy] = found
            normal["would_buy"] = found[0]
            return normal, text + '],"would_buy":' + found[1] + "}"

        return normalise

    def batch_normaliser(self, candidates, options):
        careful = super().batch_normaliser(candidates, options)
        candidates = tuple(candidates)
        well_formed = score_pattern(candidates, MIN_SCORE, MAX_SCORE).fullmatch
        pieces = score_pieces(candidates, MIN_SCORE, MAX_SCORE)
        #: would_buy text -> the end of a ballot's stored text, and the ids it names
        buys: dict = {None: ("}", ()), "": ("}", ())}

        def buy(value):
            if type(value) is not str or len(buys) >= KNOWN_TEXTS:
                return None
            if value in buys:  # met earlier in the same batch
                return buys[value]
            try:
                ids = id_list("would_buy", value, candidates)
            except InvalidInput:
                return None  # read again with the ballot, to name the problem
            found = buys[value] = (',"would_buy":' + ids_text(ids) + "}", ids)
            return found

        def judge(values):
            # Score text of known ids in candidate order, each once, scores in range (one
            # pattern, matched in C): the stored text is that text with its separators
            # replaced, and the counters come from counting its pieces over the batch.
            try:
                scores = list(map(_FIRST, values))
                matched = list(map(well_formed, scores))
                wanted = list(map(_SECOND, values))
                ends = list(map(buys.get, wanted))
            except TypeError:  # a value that is not text, or a JSON list
                return careful(values)
            if None in ends:
                ends = [
                    end if end is not None else buy(w) for end, w in zip(ends, wanted, strict=True)
                ]
            if None in matched or None in ends:
                slow = [
                    i
                    for i, (m, e) in enumerate(zip(matched, ends, strict=True))
                    if m is None or e is None
                ]
                taken = set(slow)
                fast = [i for i in range(len(values)) if i not in taken]
                scores = list(map(scores.__getitem__, fast))
                wanted = list(map(wanted.__getitem__, fast))
                ends = list(map(ends.__getitem__, fast))
            else:
                slow = fast = []
            joined = "\n".join(scores).replace(",", ";")
            texts = list(
                map(
                    '{{"score":[[{}]]{}'.format,
                    joined.replace("=", ",").replace(";", "],[").split("\n"),
                    map(_FIRST, ends),  # type: ignore[arg-type]
                )
            )
            points = dict.fromkeys(candidates, 0)
            scored = dict.fromkeys(candidates, 0)
            would_buy = dict.fromkeys(candidates, 0)
            if scores:
                for piece, count in Counter(joined.replace("\n", ";").split(";")).items():
                    variant, score = pieces[piece][1]
                    points[variant] += score * count
                    scored[variant] += count
                for wish, count in Counter(wanted).items():
                    for variant in buys[wish][1]:
                        would_buy[variant] += count
            counted = {"points": points, "scored": scored, "would_buy": would_buy}
            counters = named(counted, len(scores))
            if not slow:
                return JudgedBallots(texts, [], counters, _stored(texts))  # type: ignore[arg-type]
            return _with_careful(values, fast, texts, slow, careful, counters)

        return judge

    def counters(self, ballots, candidates, options):
        # Each ballot's (variant, score) pairs and would-buy ids are counted by Counter (in C)
        # and turned into the per-variant figures once: a batch has few distinct pairs.
        pairs: Counter = Counter()
        buy: Counter = Counter()
        single = []
        total = 0
        for ballot, count in ballots:
            total += count
            if count == 1:
                single.append(ballot)
                continue
            for pair in ballot["score"]:
                pairs[tuple(pair)] += count
            for variant in ballot.get("would_buy", ()):
                buy[variant] += count
        pairs.update(map(tuple, chain.from_iterable(map(_SCORE, single))))
        buy.update(chain.from_iterable(map(_WOULD_BUY, single)))
        points = dict.fromkeys(candidates, 0)
        scored = dict.fromkeys(candidates, 0)
        for (variant, score), count in pairs.items():
            points[variant] += score * count
            scored[variant] += count
        would_buy = {c: buy[c] for c in candidates}
        return named({"points": points, "scored": scored, "would_buy": would_buy}, total)

    def tally_counters(self, counters, candidates, winners, options):
        points = per_variant(counters, "points", candidates)
        scored = per_variant(counters, "scored", candidates)
        buy = per_variant(counters, "would_buy", candidates)
        ranking, won, ties = rank_by_totals(candidates, points, winners, "points")
        return VoteResult(
            method=self.name,
            candidates=candidates,
            ballots=counters.get("ballots", 0),
            totals=[
                {"variant": c, "points": points[c], "scored": scored[c], "would_buy": buy[c]}
                for c in candidates
            ],
            ranking=ranking,
            winners=won,
            tie_breaks=ties,
            details={"scale": [MIN_SCORE, MAX_SCORE]},
        )


def _stored(texts: list[str | None]) -> Callable[[int], Mapping]:
    """The canonical ballot of each accepted index, read back from its stored text."""
    return lambda index: json.loads(texts[index])  # type: ignore[arg-type]


def _with_careful(values, fast, texts, slow, careful, counters) -> JudgedBallots:
    """A batch read fast at the indexes ``fast`` (their ``texts`` and ``counters``) and by
    ``careful`` (the default ``batch_normaliser``) at the indexes ``slow``."""
    judged = careful(list(map(values.__getitem__, slow)))
    every: list[str | None] = [None] * len(values)
    for index, text in zip(fast, texts, strict=True):
        every[index] = text
    for index, text in zip(slow, judged.texts, strict=True):
        every[index] = text
    errors = [(slow[index], error) for index, error in judged.errors]
    return JudgedBallots(every, errors, add_counters(counters, judged.counters), _stored(every))


@functools.lru_cache(maxsize=64)
def score_pattern(candidates: tuple[int, ...], low: int, high: int) -> re.Pattern:
    """Score text whose stored form is its own text with the separators replaced: pairs
    ``id=score`` of known ids in candidate order, each once, scores in range as plain
    digits, separated by ``;`` or ``,`` (nothing before the first or after the last)."""
    score = "|".join(sorted(map(str, range(low, high + 1)), key=len, reverse=True))
    items = "".join(f"(?:(?:^|[;,]){ident}=(?:{score}))?" for ident in candidates)
    return re.compile(f"(?![;,])(?=.){items}", re.ASCII)


_SCORE = itemgetter("score")
_FIRST, _SECOND, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)
_WOULD_BUY = methodcaller("get", "would_buy", ())
