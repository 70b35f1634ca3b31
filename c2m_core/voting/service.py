"""Votes: open a vote on a campaign's variants, cast and import ballots, close and count.

Reached as ``app.voting``. One vote per campaign, opened while the campaign is in its ``vote``
state. One ballot per (vote, voter), enforced by the database; casting again replaces the
earlier ballot, which is kept in the ballot history. A bad ballot, or one outside the voting
window, is refused with nothing stored. Closing counts the ballots with the vote's method and
stores the result; ``winners`` gives the variants that advance to pre-sale.
"""

from __future__ import annotations

import datetime
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from itertools import accumulate, chain, islice
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from ..campaigns.service import Campaign, IllegalTransition
from ..errors import C2MError, InvalidInput, NotFound
from ..imports import gc_paused
from ..notifications import has_listeners
from ..plugins import collect
from ..store.database import isoformat
from .ballots import InvalidBallot
from .files import BallotBatch, read_ballot_batches
from .methods import IncrementalMethod, VotingMethod, add_counters
from .result import VoteResult
from .vote import (
    CLOSED,
    OPEN,
    CastBallot,
    CounterAudit,
    ImportReport,
    Rejected,
    ReplacedBallot,
    TallyAudit,
    Vote,
)

VOTE_STATE = "vote"
BATCH_SIZE = 10_000
MAX_VOTER_LENGTH = 200
#: How often ``audit`` recounts when ballots keep arriving while it does.
AUDIT_ATTEMPTS = 5

Progress = Callable[[int], None]


class NoVote(NotFound):
    """The campaign has no vote."""


class VoteNotOpen(IllegalTransition):
    """The vote does not accept ballots now: not yet open, its window ended, or closed."""


def parse_time(name: str, value) -> str | None:
    """An aware ``datetime`` or ISO 8601 text with a UTC offset, as stored UTC text."""
    if value is None:
        return None
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(
                f"{name}: {value!r} is not an ISO 8601 time (for example "
                "2026-12-01T20:00:00+08:00 or 2026-12-01T12:00:00Z)"
            ) from None
    if not isinstance(moment, datetime.datetime):
        raise InvalidInput(f"{name}: {value!r} is not a time")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            f"{name}: {value!r} has no UTC offset; add one (for example +08:00 or Z) so the "
            "time is unambiguous"
        )
    return isoformat(moment)


def check_voter(voter) -> str:
    """The voter reference without surrounding space; refuse empty and over-long ones."""
    if not isinstance(voter, str) or not voter.strip():
        raise InvalidInput(
            f"voter: {voter!r} is not a voter reference; give the shop's reference for the "
            "voter (non-empty text)"
        )
    voter = voter.strip()
    if len(voter) > MAX_VOTER_LENGTH:
        raise InvalidInput(
            f"voter: {voter[:20]!r}... has {len(voter)} characters; at most "
            f"{MAX_VOTER_LENGTH} are accepted"
        )
    return voter


def _ballot_fields(method: VotingMethod, ballot) -> dict:
    """``ballot``'s non-blank fields; ``InvalidBallot`` when it is not a mapping or has a field
    ``method`` does not read."""
    if not isinstance(ballot, Mapping):
        raise InvalidBallot(
            f"a {method.name} ballot is a mapping of its fields ({', '.join(method.fields)}), "
            f"not {type(ballot).__name__}"
        )
    given = {k: v for k, v in ballot.items() if v is not None and v != "" and v != []}
    unknown = [k for k in given if k not in method.fields]
    if unknown:
        raise InvalidBallot(
            f"ballot field {unknown[0]!r} is not read by the {method.name} method; "
            f"its fields: {', '.join(method.fields)}"
        )
    return given


def _cast_batches(
    method: VotingMethod, ballots: Iterable[tuple[str, Mapping]], size: int
) -> Iterator[BallotBatch]:
    """``(voter, ballot)`` pairs as the batches a ballot file is read in, numbered from 1: a
    ballot's fields in ``method.fields`` order. A ballot that is not a mapping of the method's
    fields is rejected here, after its voter (as ``_accepted`` words it: the voter first)."""
    fields = method.fields
    pending = enumerate(ballots, start=1)
    while chunk := list(islice(pending, size)):
        lines, voters, values, rejected = [], [], [], []
        for line, (voter, ballot) in chunk:
            try:
                given = _ballot_fields(method, ballot)
            except InvalidInput as ex:
                rejected.append(_unusable(line, voter, ex))
                continue
            lines.append(line)
            voters.append(voter)
            values.append(tuple(map(given.get, fields)))
        yield BallotBatch(lines, voters, values, rejected)


def _unusable(line: int, voter, problem: InvalidInput) -> Rejected:
    """A row whose ballot has ``problem``, rejected for its voter's problem if it has one."""
    try:
        check_voter(voter)
    except InvalidInput as ex:
        return Rejected(line, str(ex), voter if isinstance(voter, str) else None)
    return Rejected(line, str(problem), voter)


def _whole(batch_size) -> int:
    """``batch_size`` when it can be one, else 1 (``_import_batches`` refuses it, naming it)."""
    if isinstance(batch_size, int) and not isinstance(batch_size, bool) and batch_size >= 1:
        return batch_size
    return 1


def _plain_voters(voters: list) -> bool:
    """True when every voter of a batch is text ``check_voter`` accepts as it is (checked
    over the whole batch at once)."""
    try:
        return (
            bool(voters)
            and "" not in voters
            and max(map(len, voters)) <= MAX_VOTER_LENGTH
            and voters == list(map(str.strip, voters))
        )
    except TypeError:  # not text
        return False


def _variant_ids(value) -> list:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)


class _Accepted(NamedTuple):
    """The ballots of an import batch to store: lines, voters (checked), stored texts, their
    counters (an incremental method's), and the canonical ballot at an index."""

    lines: Sequence[int]
    voters: list[str]
    texts: list
    counters: dict | None
    ballot: Callable[[int], Mapping]


def _no_ballot(index: int) -> Mapping:
    raise IndexError(index)


def _joined(parts: list[_Accepted]) -> _Accepted:
    """Several batches of accepted ballots as one (a strict import stores them together)."""
    starts = list(accumulate(len(part.voters) for part in parts))

    def ballot(index: int) -> Mapping:
        at = bisect_right(starts, index)
        return parts[at].ballot(index - (starts[at - 1] if at else 0))

    counters = [part.counters for part in parts]
    return _Accepted(
        list(chain.from_iterable(part.lines for part in parts)),
        list(chain.from_iterable(part.voters for part in parts)),
        list(chain.from_iterable(part.texts for part in parts)),
        None if all(c is None for c in counters) else add_counters(*counters),
        ballot,
    )


_FIRST, _SECOND = itemgetter(0), itemgetter(1)


class VoteService:
    """Open, cast, import, close and count votes. Reached as ``app.voting``."""

    def __init__(self, app):
        self.app = app

    # Methods ---------------------------------------------------------------------------------

    @cached_property
    def methods(self) -> dict[str, VotingMethod]:
        """Every counting method, by name (from ``register_voting_methods``).

        The core's defaults come first; another plugin's method with the same name replaces
        a default, while two other plugins claiming one name is an error.
        """
        found, _ = collect(
            self.app.pm,
            "register_voting_methods",
            app=self.app,
            noun="voting method",
            key=lambda method: method.name,
            accepts=lambda method: isinstance(method, VotingMethod) and bool(method.name),
            expected="named c2m_core.voting.VotingMethod objects",
        )
        return found

    def method(self, name: str) -> VotingMethod:
        """The method called ``name``; ``InvalidInput`` lists the available ones."""
        try:
            return self.methods[name]
        except KeyError:
            raise InvalidInput(
                f"unknown voting method {name!r}; methods: {', '.join(self.methods)}"
            ) from None

    # Opening ---------------------------------------------------------------------------------

    def open(
        self,
        slug: str,
        method: str,
        variants: Iterable | str | None = None,
        opens=None,
        closes=None,
        winners: int = 1,
        options: Mapping | None = None,
    ) -> Vote:
        """Open the campaign's vote on ``variants`` (default: all of them).

        The campaign must be in its ``vote`` state and have no vote yet. Candidates are kept
        in variant position order, which is also the tie-break order. ``opens`` and ``closes``
        are aware datetimes or ISO 8601 text; ``opens`` defaults to now, ``closes`` to never
        (until ``close``).
        """
        app = self.app
        self._require_vote_state(app.campaigns.get(slug))
        counter = self.method(method)
        candidates = self._candidates(slug, variants)
        if isinstance(winners, bool) or not isinstance(winners, int):
            raise InvalidInput(f"winners: {winners!r} is not a whole number")
        if not 1 <= winners <= len(candidates):
            raise InvalidInput(
                f"winners: {winners} is not between 1 and the number of candidates "
                f"({len(candidates)})"
            )
        checked = counter.check_options(dict(options or {}), candidates)
        store = app.store
        now = store.now()
        opens_at = parse_time("opens", opens) or now
        closes_at = parse_time("closes", closes)
        if closes_at is not None and closes_at <= max(opens_at, now):
            raise InvalidInput(
                f"closes: {closes_at} is not after both the opening time ({opens_at}) and now "
                f"({now})"
            )
        with store.transaction():
            campaign = app.campaigns.get(slug)
            self._require_vote_state(campaign)
            existing = store.voting.for_campaign(campaign.id)
            if existing is not None:
                raise IllegalTransition(
                    f"campaign {slug!r} already has a vote ({existing.method}, {existing.state}); "
                    "a campaign holds one vote"
                )
            vote = store.voting.insert(
                Vote(
                    id=None,
                    campaign_id=campaign.id,
                    method=counter.name,
                    candidates=candidates,
                    winners=winners,
                    options=checked,
                    opens_at=opens_at,
                    closes_at=closes_at,
                    running=isinstance(counter, IncrementalMethod),
                )
            )
            if vote is None:
                raise IllegalTransition(
                    f"campaign {slug!r} already has a vote; a campaign holds one"
                )
            store.event(
                "vote.opened",
                campaign.id,
                {"campaign": campaign.slug, "vote_id": vote.id} | vote.to_dict(),
            )
        return vote

    @staticmethod
    def _require_vote_state(campaign: Campaign) -> None:
        if campaign.state == VOTE_STATE:
            return
        if VOTE_STATE not in campaign.stages:
            hint = "it does not use the vote stage"
        elif campaign.states.index(campaign.state) < campaign.states.index(VOTE_STATE):
            hint = f"advance it with `c2m campaign advance {campaign.slug}`"
        else:
            hint = "its vote stage is over"
        raise IllegalTransition(
            f"campaign {campaign.slug!r} is in state {campaign.state!r}; a vote opens only in "
            f"its 'vote' state ({hint})"
        )

    def _candidates(self, slug: str, variants) -> tuple[int, ...]:
        available = self.app.variants.list(slug)
        position = {v.id: v.position for v in available}
        known = ", ".join(str(v.id) for v in available) or "none yet"
        if variants is None:
            chosen = [v.id for v in available]
        else:
            chosen = []
            for item in _variant_ids(variants):
                ident = item if isinstance(item, int) and not isinstance(item, bool) else None
                if isinstance(item, str) and item.isdigit():
                    ident = int(item)
                if ident not in position:
                    raise InvalidInput(
                        f"variants: {item!r} is not a variant of campaign {slug!r}; "
                        f"variants: {known}"
                    )
                if ident in chosen:
                    raise InvalidInput(f"variants: variant {ident} is listed twice")
                chosen.append(ident)
        if len(chosen) < 2:
            raise InvalidInput(
                f"a vote needs at least two candidate variants; campaign {slug!r} offers "
                f"{len(chosen)} (variants: {known}); add some with `c2m variant add {slug} ...`"
            )
        return tuple(sorted(chosen, key=position.__getitem__))

    # Reading ---------------------------------------------------------------------------------

    def get(self, slug: str) -> Vote | None:
        """The campaign's vote, or None when it has none."""
        campaign = self.app.campaigns.get(slug)
        return self.app.store.voting.for_campaign(campaign.id)

    def require(self, slug: str) -> Vote:
        """The campaign's vote; ``NoVote`` says how to open one."""
        vote = self.get(slug)
        if vote is None:
            raise NoVote(
                f"campaign {slug!r} has no vote; open one with "
                f"`c2m vote open {slug} --method METHOD`"
            )
        return vote

    def ballot(self, slug: str, voter: str) -> CastBallot | None:
        """A voter's current ballot, or None."""
        vote = self.require(slug)
        voter = check_voter(voter)
        return self.app.store.voting.ballot(vote.id, voter)

    def history(self, slug: str, voter: str | None = None) -> list[ReplacedBallot]:
        """Replaced ballots, oldest first (of ``voter``, or of everyone)."""
        vote = self.require(slug)
        return self.app.store.voting.history(vote.id, None if voter is None else check_voter(voter))

    def count_ballots(self, slug: str) -> int:
        return self.app.store.voting.count_ballots(self.require(slug).id)

    # Casting ---------------------------------------------------------------------------------

    def normalise(self, vote: Vote, ballot) -> dict:
        """The canonical form of ``ballot`` for ``vote``; ``InvalidBallot`` says what is wrong."""
        return self.normalise_text(vote, ballot)[0]

    def normalise_text(self, vote: Vote, ballot) -> tuple[dict, str]:
        """``normalise`` and the ballot's stored text (``voting.vote.ballot_text``)."""
        method = self.method(vote.method)
        return self._normalise_with(
            method, method.normaliser(vote.candidates, vote.options), ballot
        )

    @staticmethod
    def _normalise_with(method: VotingMethod, normalise, ballot) -> tuple[dict, str]:
        """``ballot``'s fields (``_ballot_fields``) through ``normalise`` (the method's
        ``normaliser`` for the vote)."""
        return normalise(_ballot_fields(method, ballot))

    def cast(self, slug: str, voter: str, ballot: Mapping) -> CastBallot:
        """Store ``voter``'s ballot, replacing (and keeping) an earlier one.

        ``ballot`` holds the method's fields: ``{"choice": 3}``, ``{"approve": [1, 4]}``,
        ``{"score": {1: 4, 2: 3}, "would_buy": [1]}``, ``{"rank": "3>1=2>4"}``.
        """
        app = self.app
        campaign = app.campaigns.get(slug)
        vote = self.require(slug)
        voter = check_voter(voter)
        normal, text = self.normalise_text(vote, ballot)
        store = app.store
        with store.transaction():
            now = store.now()
            done = store.voting.cast(
                vote.id, [CastBallot(voter, normal, now)], self._count(vote), [text]
            )
            if done is None:
                current = store.voting.for_campaign(campaign.id)
                problem = current.window_problem(store.now()) or "it stopped accepting ballots"
                raise VoteNotOpen(f"campaign {slug!r}: {problem}")
            old = done[0].replaced
            payload = {
                "campaign": campaign.slug,
                "vote_id": vote.id,
                "voter": voter,
                "ballot": normal,
            }
            store.event("ballot.cast", campaign.id, payload | {"replaced": old is not None})
            if old is not None:
                store.event("ballot.replaced", campaign.id, payload | {"old": old})
            store.after_commit(
                lambda: app.pm.hook.ballot_cast(
                    app=app, campaign=campaign, vote=vote, voter=voter, ballot=normal, replaced=old
                )
            )
        return CastBallot(voter, normal, now, old)

    def cast_many(
        self,
        slug: str,
        ballots: Iterable[tuple[str, Mapping]],
        *,
        strict: bool = False,
        batch_size: int = BATCH_SIZE,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Cast ``(voter, ballot)`` pairs in batches; bad ones are reported by 1-based position.

        Good ballots are stored and bad ones reported; with ``strict`` nothing is stored
        unless every ballot is good. A later ballot of a voter replaces an earlier one.
        """
        vote = self.require(slug)
        batches = _cast_batches(self.method(vote.method), ballots, _whole(batch_size))
        return self._import_batches(slug, batches, strict, batch_size, progress)

    def import_file(
        self,
        slug: str,
        path: Path | str,
        *,
        format: str | None = None,
        strict: bool = False,
        batch_size: int = BATCH_SIZE,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Import a CSV or JSON Lines ballot file (see ``c2m_core.voting.files``).

        Rejected rows are reported with their line numbers; ``progress(n)`` is called as rows
        are read.
        """
        vote = self.require(slug)
        batches = read_ballot_batches(
            Path(path), self.method(vote.method).fields, format, _whole(batch_size)
        )
        return self._import_batches(slug, batches, strict, batch_size, progress)

    def _check_window(self, slug: str, vote: Vote, now: str) -> None:
        problem = vote.window_problem(now)
        if problem is not None:
            raise VoteNotOpen(f"campaign {slug!r}: {problem}")

    def _import_batches(
        self, slug: str, batches: Iterable[BallotBatch], strict, batch_size, progress
    ) -> ImportReport:
        """Store ``batches`` (of a ballot file, or of ``cast_many``'s pairs): voters are
        checked, ballots read (``VotingMethod.batch_normaliser``) and counted a batch at a
        time, and a batch of first ballots is stored by ``cast_first``. Each batch is one
        transaction; with ``strict``, everything is stored in one, or nothing when a row is
        rejected."""
        app = self.app
        store = app.store
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInput(f"batch size: {batch_size!r} is not a whole number of at least 1")
        campaign = app.campaigns.get(slug)
        vote = self.require(slug)
        self._check_window(slug, vote, store.now())
        method = self.method(vote.method)
        judge = method.batch_normaliser(vote.candidates, vote.options)
        running = self._count(vote) is not None
        rejected: list[Rejected] = []
        read = reported = imported = replaced = 0
        held: list[_Accepted] = []
        stopped = None
        try_first = True

        def report_progress():
            nonlocal reported
            if progress is not None and read > reported:
                progress(read - reported)
                reported = read

        pending = iter(batches)
        while True:
            with gc_paused():  # reading a batch makes as many objects as storing it
                batch = next(pending, None)
                if batch is None:
                    break
                read += len(batch.lines) + len(batch.rejected)
                accepted = self._accepted(batch, judge, rejected)
                if not accepted.voters or strict:
                    if accepted.voters:
                        held.append(accepted)
                    report_progress()
                    continue
                done = self._store_accepted(campaign, vote, accepted, running, try_first)
            if done is None:
                problem = store.voting.for_campaign(campaign.id).window_problem(store.now())
                stopped = (
                    f"stopped at line {accepted.lines[0]}: {problem}; that row and the rows "
                    "after it were not imported"
                )
                break
            imported += len(accepted.voters)
            replaced += done
            # A batch that replaced ballots is often followed by more (a file imported
            # again): those go straight to ``cast`` until a batch replaces none.
            try_first = not done
            report_progress()
        report_progress()
        rejected.sort(key=lambda row: row.line)
        if strict:
            if rejected:
                return ImportReport(
                    read,
                    0,
                    0,
                    rejected,
                    stopped=f"strict import: nothing was imported because {len(rejected)} "
                    "row(s) were rejected",
                )
            if held:
                with gc_paused():
                    done = self._store_accepted(campaign, vote, _joined(held), running)
                if done is None:
                    problem = store.voting.for_campaign(campaign.id).window_problem(store.now())
                    stopped = (
                        f"stopped at line {held[0].lines[0]}: {problem}; that row and the "
                        "rows after it were not imported"
                    )
                else:
                    imported, replaced = sum(len(a.voters) for a in held), done
        return ImportReport(read, imported, replaced, rejected, stopped)

    @staticmethod
    def _accepted(batch: BallotBatch, judge, rejected: list[Rejected]) -> _Accepted:
        """The rows of ``batch`` with a usable voter and ballot; ``rejected`` gets the others
        (a voter is checked before the ballot)."""
        rejected.extend(
            row if isinstance(row, Rejected) else Rejected(row.line, row.reason)
            for row in batch.rejected
        )
        lines, given, values = batch.lines, batch.voters, batch.values
        voters = given
        if not _plain_voters(given):
            kept = []
            for index, (line, voter) in enumerate(zip(lines, given, strict=True)):
                try:
                    kept.append((index, check_voter(voter)))
                except InvalidInput as ex:
                    named = voter if isinstance(voter, str) else None
                    rejected.append(Rejected(line, str(ex), named))
            indexes = list(map(_FIRST, kept))
            lines = list(map(lines.__getitem__, indexes))
            given = list(map(given.__getitem__, indexes))
            values = list(map(values.__getitem__, indexes))
            voters = list(map(_SECOND, kept))
        if not voters:
            return _Accepted([], [], [], None, _no_ballot)
        judged = judge(values)
        if not judged.errors:
            return _Accepted(lines, voters, judged.texts, judged.counters, judged.ballot)
        for index, error in judged.errors:
            rejected.append(Rejected(lines[index], str(error), given[index]))
        indexes = [i for i, text in enumerate(judged.texts) if text is not None]
        return _Accepted(
            list(map(lines.__getitem__, indexes)),
            list(map(voters.__getitem__, indexes)),
            list(map(judged.texts.__getitem__, indexes)),
            judged.counters,
            lambda index: judged.ballot(indexes[index]),
        )

    def _store_accepted(
        self, campaign, vote, accepted: _Accepted, running: bool, try_first: bool = True
    ) -> int | None:
        """Store one batch of accepted ballots in one transaction, with its
        ``ballots.imported`` event: as first ballots (``cast_first``, unless not
        ``try_first``) when every voter is new, else by ``cast``. The number of ballots
        replaced; None when the vote no longer accepts ballots."""
        store = self.app.store
        voters = accepted.voters
        casts: list[CastBallot] | None = None
        with store.transaction():
            now = store.now()
            counted = accepted.counters if running else None
            first = False
            if try_first:
                first = store.voting.cast_first(vote.id, voters, accepted.texts, now, counted)
                if first is None:
                    return None
            if first:
                replaced_voters: list[str] = []
            else:
                casts = store.voting.cast(
                    vote.id,
                    [CastBallot(v, accepted.ballot(i), now) for i, v in enumerate(voters)],
                    self._count(vote),
                    accepted.texts,
                    counted,
                )
                if casts is None:
                    return None
                replaced_voters = [cast.voter for cast in casts if cast.replaced is not None]
            store.event(
                "ballots.imported",
                campaign.id,
                {
                    "campaign": campaign.slug,
                    "vote_id": vote.id,
                    "voters": voters,
                    "replaced_voters": replaced_voters,
                    "first_line": accepted.lines[0],
                    "last_line": accepted.lines[-1],
                    "ballots": len(voters),
                    "replaced": len(replaced_voters),
                },
            )
        if has_listeners(self.app.pm, "ballot_cast"):
            if casts is None:
                casts = [CastBallot(v, accepted.ballot(i), now) for i, v in enumerate(voters)]
            self._notify(campaign, vote, casts)
        return len(replaced_voters)

    def _notify(self, campaign: Campaign, vote: Vote, cast: list[CastBallot]) -> None:
        hook = self.app.pm.hook.ballot_cast
        if not has_listeners(self.app.pm, "ballot_cast"):
            return
        for ballot in cast:
            hook(
                app=self.app,
                campaign=campaign,
                vote=vote,
                voter=ballot.voter,
                ballot=ballot.ballot,
                replaced=ballot.replaced,
            )

    # Counting --------------------------------------------------------------------------------

    def _count(self, vote: Vote):
        """What the store counts ``vote``'s ballots into its running tally with, or None."""
        method = self.method(vote.method)
        if not vote.running or not isinstance(method, IncrementalMethod):
            return None
        candidates, options = vote.candidates, vote.options
        return lambda ballots: method.counters(ballots, candidates, options)

    def tally(self, vote: Vote) -> VoteResult:
        """Count the vote (nothing is stored): from its running tally when it keeps one, else
        from its current ballots."""
        method = self.method(vote.method)
        if self._count(vote) is not None:
            assert isinstance(method, IncrementalMethod)
            counters = self.app.store.voting.running_tally(vote.id)
            result = method.tally_counters(counters, vote.candidates, vote.winners, vote.options)
        else:
            result = self.recount(vote)
        return self._checked(method, result)

    def recount(self, vote: Vote) -> VoteResult:
        """Count the vote's current ballots one by one with its method (nothing is stored)."""
        method = self.method(vote.method)
        ballots = (
            (count.ballot, count.voters) for count in self.app.store.voting.ballot_counts(vote.id)
        )
        return self._checked(
            method, method.tally(ballots, vote.candidates, vote.winners, vote.options)
        )

    @staticmethod
    def _checked(method: VotingMethod, result) -> VoteResult:
        if not isinstance(result, VoteResult):
            raise C2MError(
                f"voting method {method.name!r}: tally must return a VoteResult, "
                f"got {type(result).__name__}"
            )
        return result

    def audit(self, slug: str) -> TallyAudit:
        """Check the vote's running tally against a recount of its ballots (a read).

        A vote without a running tally (its method has no incremental form) is counted from
        its ballots anyway, so there is nothing to disagree: its audit has no counters. No
        lock is taken: when ballots arrive during the recount, it is done again.
        """
        campaign = self.app.campaigns.get(slug)
        vote = self.require(slug)
        method = self.method(vote.method)
        if self._count(vote) is None:
            return TallyAudit(campaign.slug, vote.method, False, ())
        assert isinstance(method, IncrementalMethod)
        area = self.app.store.voting
        running = area.running_tally(vote.id)
        for _ in range(AUDIT_ATTEMPTS):
            recounted = method.counters(
                ((c.ballot, c.voters) for c in area.ballot_counts(vote.id)),
                vote.candidates,
                vote.options,
            )
            before, running = running, area.running_tally(vote.id)
            if running == before:  # no ballot arrived while recounting: one state compared
                break
        names = sorted(set(running) | {name for name, value in recounted.items() if value})
        return TallyAudit(
            campaign.slug,
            vote.method,
            True,
            tuple(CounterAudit(n, running.get(n, 0), recounted.get(n, 0)) for n in names),
        )

    def close(self, slug: str) -> VoteResult:
        """Close the vote, count it and store the result (with the winners)."""
        app = self.app
        store = app.store
        campaign = app.campaigns.get(slug)
        with store.transaction():
            # No ballot may land between the count and the close: casts wait for this lock.
            store.voting.lock(self.require(slug).id)
            vote = self.require(slug)
            if vote.state == CLOSED:
                raise VoteNotOpen(
                    f"the vote of campaign {slug!r} closed at {vote.closed_at}; "
                    f"`c2m vote results {slug}` shows its result"
                )
            result = self.tally(vote)
            if not store.voting.close(vote.id, result):
                raise VoteNotOpen(f"the vote of campaign {slug!r} was closed concurrently")
            store.event(
                "vote.closed",
                campaign.id,
                {"campaign": campaign.slug, "vote_id": vote.id} | result.to_dict(),
            )
            closed = self.require(slug)
            store.after_commit(
                lambda: app.pm.hook.vote_closed(
                    app=app, campaign=campaign, vote=closed, result=result
                )
            )
        return result

    def results(self, slug: str) -> VoteResult:
        """The stored result of a closed vote; a provisional count while it is open."""
        vote = self.require(slug)
        if vote.state == CLOSED:
            assert vote.result is not None  # a closed vote stores its result
            return vote.result
        return self.tally(vote)

    def winners(self, slug: str) -> list[int]:
        """The variant ids that advance to pre-sale: the vote's winners, best first.

        A campaign that held no vote eliminated nothing: every (not withdrawn) variant
        advances, in position order. Raises ``VoteNotOpen`` while the vote is still open.
        """
        vote = self.get(slug)
        if vote is None:
            return [variant.id for variant in self.app.variants.list(slug)]
        if vote.state == OPEN:
            raise VoteNotOpen(
                f"the vote of campaign {slug!r} is still open; run `c2m vote close {slug}`"
            )
        assert vote.result is not None  # a closed vote stores its result
        return list(vote.result.winners)


__all__ = [
    "NoVote",
    "VoteNotOpen",
    "VoteService",
    "check_voter",
    "parse_time",
]
