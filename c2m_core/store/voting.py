"""Votes and ballots: one vote per campaign, one ballot per (vote, voter), replaced ones kept."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, repeat
from operator import itemgetter

from sqlite_utils.migrations import Migrations

from ..voting.result import VoteResult
from ..voting.vote import (
    CLOSED,
    OPEN,
    BallotCount,
    CastBallot,
    ReplacedBallot,
    Vote,
    ballot_text,
)
from .database import Area, StoreError

migrations = Migrations("c2m.votes")


@migrations()
def m001_votes(db):
    db.execute(
        f"""
        CREATE TABLE votes (
            id INTEGER PRIMARY KEY,
            campaign_id INTEGER NOT NULL UNIQUE REFERENCES campaigns (id),
            method TEXT NOT NULL,
            candidates TEXT NOT NULL,
            winners INTEGER NOT NULL,
            options TEXT NOT NULL,
            opens_at TEXT NOT NULL,
            closes_at TEXT,
            state TEXT NOT NULL CHECK (state IN ('{OPEN}', '{CLOSED}')),
            result TEXT,
            opened_at TEXT NOT NULL,
            closed_at TEXT
        )
        """
    )
    # One ballot per (vote, voter): the primary key is the rule, enforced by SQLite.
    db.execute(
        """
        CREATE TABLE ballots (
            vote_id INTEGER NOT NULL REFERENCES votes (id),
            voter TEXT NOT NULL,
            ballot TEXT NOT NULL,
            cast_at TEXT NOT NULL,
            PRIMARY KEY (vote_id, voter)
        ) WITHOUT ROWID
        """
    )
    db.execute(
        """
        CREATE TABLE ballot_history (
            id INTEGER PRIMARY KEY,
            vote_id INTEGER NOT NULL REFERENCES votes (id),
            voter TEXT NOT NULL,
            ballot TEXT NOT NULL,
            cast_at TEXT NOT NULL,
            replaced_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX ballot_history_voter ON ballot_history (vote_id, voter, id)")


@migrations()
def m002_running_tally(db):
    # The running tally of a vote whose method counts incrementally: named integer counters,
    # changed in the transaction of every ballot (a replaced ballot is subtracted).
    db.execute(
        """
        CREATE TABLE vote_counters (
            vote_id INTEGER NOT NULL REFERENCES votes (id),
            counter TEXT NOT NULL,
            value INTEGER NOT NULL,
            PRIMARY KEY (vote_id, counter)
        ) WITHOUT ROWID
        """
    )
    db.execute("ALTER TABLE votes ADD COLUMN running INTEGER NOT NULL DEFAULT 0")


#: What ``cast`` calls to count ballots into the running tally: ``(ballot, count)`` pairs
#: (a negative count subtracts) -> counter name -> change.
CountBallots = Callable[[Iterable[tuple[Mapping, int]]], Mapping[str, int]]

_VOTE_COLUMNS = (
    "id, campaign_id, method, candidates, winners, options, opens_at, closes_at, state, "
    "result, opened_at, closed_at, running"
)
_FIRST = itemgetter(0)
#: Rows per multi-row ``INSERT`` of first ballots, and voters per ``IN (...)`` read.
INSERT_ROWS = 500
READ_VOTERS = 5_000
#: How often ``cast`` re-reads voters whose first ballot a concurrent writer stored first.
CAST_ATTEMPTS = 100


class VotingStore(Area):
    """Votes, current ballots and replaced ones (``interface.VotingArea``)."""

    name = "voting"
    migrations = migrations

    def insert(self, vote: Vote) -> Vote | None:
        """Open a vote; None when the campaign has one already (a unique constraint)."""
        vote_id = self.insert_returning(
            "INSERT INTO votes (campaign_id, method, candidates, winners, options, opens_at, "
            "closes_at, state, opened_at, running) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (campaign_id) DO NOTHING RETURNING id",
            [
                vote.campaign_id,
                vote.method,
                json.dumps(list(vote.candidates)),
                vote.winners,
                json.dumps(dict(vote.options), sort_keys=True),
                vote.opens_at,
                vote.closes_at,
                OPEN,
                self.now(),
                1 if vote.running else 0,
            ],
        )
        return None if vote_id is None else self._one("id = ?", vote_id)

    def for_campaign(self, campaign_id: int) -> Vote | None:
        return self._one("campaign_id = ?", campaign_id)

    def lock(self, vote_id: int) -> None:
        """Lock the vote row until commit: casts (which read it shared) wait, so what is
        counted next is every ballot the vote will ever take before it closes."""
        self.query_one(f"SELECT id FROM votes WHERE id = ?{self.store.FOR_UPDATE}", [vote_id])

    def close(self, vote_id: int, result: VoteResult) -> bool:
        """Mark the vote closed with its result; False when it was no longer open."""
        return (
            self.execute(
                "UPDATE votes SET state = ?, result = ?, closed_at = ? WHERE id = ? AND state = ?",
                [CLOSED, json.dumps(result.to_dict()), self.now(), vote_id, OPEN],
            )
            == 1
        )

    def cast(
        self,
        vote_id: int,
        ballots: Sequence[CastBallot],
        count: CountBallots | None = None,
        texts: Sequence[str] | None = None,
        counted: Mapping[str, int] | None = None,
    ) -> list[CastBallot] | None:
        """Store ballots, each replacing its voter's current one; None when the vote does not
        accept ballots now (nothing stored).

        With ``count``, the running tally changes in the same transaction by the counters of
        the ballots cast minus those of the ballots they replaced. ``texts``, when given, are
        the ballots' canonical texts (``ballot_text`` of each, which a method's
        ``normalise_text`` makes faster than encoding them again). ``counted``, when given, is
        ``count`` of ``ballots`` already made by the caller: only the replaced ballots are
        counted here.

        One current ballot per (vote, voter) is the primary key. Every replaced ballot, stored
        before or earlier in ``ballots``, goes to the history exactly once: a first ballot is
        an insert that a stored (or concurrently stored) ballot of the same voter turns into a
        replacement, and a voter's current row is locked before it is read and replaced.
        Voters are inserted and locked in sorted order, so concurrent writers wait for each
        other instead of deadlocking. Returns the ballots as given, each with the ballot it
        replaced (None for a voter's first).
        """
        with self.store.transaction():
            vote = self._one(f"id = ?{self.store.FOR_SHARE}", vote_id)
            if vote is None or vote.window_problem(self.now()) is not None:
                return None
            if texts is None:
                texts = [ballot_text(b.ballot) for b in ballots]
            voters = [b.voter for b in ballots]
            indexes = range(len(voters))
            last = dict(zip(voters, indexes, strict=True))
            if len(last) == len(voters):
                firsts = last
            else:
                firsts = dict(zip(reversed(voters), reversed(indexes), strict=True))
            current: dict = {}
            pending = sorted(firsts)
            for _ in range(CAST_ATTEMPTS):
                inserted = self._insert_first(vote_id, pending, ballots, texts, firsts)
                if len(inserted) == len(pending):
                    break
                stored = [voter for voter in pending if voter not in inserted]
                current.update(self._current(vote_id, stored))
                pending = [voter for voter in stored if voter not in current]
                if not pending:
                    break
            else:
                raise StoreError(f"could not store the first ballots of {len(pending)} voters")
            if not current and len(last) == len(voters):
                # every voter's first ballot: nothing replaced, nothing to update
                if count is not None and counted is not None:
                    self._apply(vote_id, counted)
                elif count is not None:
                    self._count_new(vote_id, count, ballots, texts)
                return [
                    b if b.replaced is None else CastBallot(b.voter, b.ballot, b.cast_at)
                    for b in ballots
                ]
            history, updates, cast = [], [], []
            replaced_texts: list[str | None] = []
            for index, ballot in enumerate(ballots):
                old = current.get(ballot.voter)
                replaced_texts.append(None if old is None else old[0])
                if old is not None:
                    history.append((vote_id, ballot.voter, old[0], old[1], ballot.cast_at))
                replaced = None if old is None else old[2]
                if replaced is None and old is not None:
                    replaced = json.loads(old[0])
                if ballot.replaced is not replaced:
                    ballot = CastBallot(ballot.voter, ballot.ballot, ballot.cast_at, replaced)
                cast.append(ballot)
                current[ballot.voter] = (texts[index], ballot.cast_at, ballot.ballot)
                if last[ballot.voter] == index and old is not None:
                    updates.append((texts[index], ballot.cast_at, vote_id, ballot.voter))
            if history:
                self.executemany(
                    "INSERT INTO ballot_history (vote_id, voter, ballot, cast_at, replaced_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    history,
                )
            if updates:
                updates.sort(key=lambda row: row[3])
                self.executemany(
                    "UPDATE ballots SET ballot = ?, cast_at = ? WHERE vote_id = ? AND voter = ?",
                    updates,
                )
            if count is not None:
                self._count(vote_id, count, cast, texts, replaced_texts, counted)
        return cast

    def cast_first(
        self,
        vote_id: int,
        voters: Sequence[str],
        texts: Sequence[str],
        cast_at: str,
        counters: Mapping[str, int] | None = None,
    ) -> bool | None:
        """Store the first ballots of ``voters`` (``interface.VotingArea.cast_first``).

        The rows go in by multi-row inserts in voter order (as ``cast``'s first ballots, so
        concurrent writers wait for each other instead of deadlocking) that skip a voter who
        has a ballot; when one was skipped, they are rolled back to a savepoint taken before,
        and False says ``cast`` must store them.
        """
        with self.store.transaction():
            vote = self._one(f"id = ?{self.store.FOR_SHARE}", vote_id)
            if vote is None or vote.window_problem(self.now()) is not None:
                return None
            if len(set(voters)) != len(voters):
                return False
            order = sorted(range(len(voters)), key=voters.__getitem__)
            values = list(
                zip(
                    repeat(vote_id),
                    map(voters.__getitem__, order),
                    map(texts.__getitem__, order),
                    repeat(cast_at),
                )
            )
            self.execute("SAVEPOINT first_ballots")
            stored = 0
            for start in range(0, len(values), INSERT_ROWS):
                chunk = values[start : start + INSERT_ROWS]
                stored += self.execute(
                    "INSERT INTO ballots (vote_id, voter, ballot, cast_at) VALUES "
                    + ", ".join(["(?, ?, ?, ?)"] * len(chunk))
                    + " ON CONFLICT (vote_id, voter) DO NOTHING",
                    list(chain.from_iterable(chunk)),
                )
            if stored != len(values):
                self.execute("ROLLBACK TO SAVEPOINT first_ballots")
                self.execute("RELEASE SAVEPOINT first_ballots")
                return False
            self.execute("RELEASE SAVEPOINT first_ballots")
            if counters:
                self._apply(vote_id, counters)
        return True

    def _count_new(self, vote_id, count, ballots, texts) -> None:
        """``_count`` when no ballot replaced another: identical texts counted once."""
        ballot_of = dict(zip(texts, (b.ballot for b in ballots), strict=True))
        self._apply(vote_id, count(
            (ballot_of[text], n) for text, n in Counter(texts).items()
        ))  # fmt: skip

    def _count(self, vote_id, count, cast, texts, replaced_texts, counted=None) -> None:
        """Add the counters of ``cast`` (``counted`` when given) and subtract those of the
        ballots they replaced.

        Ballots are grouped by their canonical text first, so a ballot cast and replaced in
        one batch, or cast by many voters, is counted once with its net count.
        """
        net: dict[str, list] = {}
        for index, ballot in enumerate(cast):
            if counted is None:
                entry = net.get(texts[index])
                if entry is None:
                    net[texts[index]] = [ballot.ballot, 1]
                else:
                    entry[1] += 1
            if ballot.replaced is not None:
                text = replaced_texts[index]
                entry = net.get(text)
                if entry is None:
                    net[text] = [ballot.replaced, -1]
                else:
                    entry[1] -= 1
        changes = count((ballot, n) for ballot, n in net.values() if n)
        if counted is not None:
            changes = Counter(changes)
            changes.update(counted)
        self._apply(vote_id, changes)

    def _apply(self, vote_id: int, changes: Mapping[str, int]) -> None:
        """One atomic addition per changed counter, in name order (so concurrent writers lock
        them in the same order)."""
        rows = [(vote_id, name, value) for name, value in sorted(changes.items()) if value]
        if rows:
            self.executemany(
                "INSERT INTO vote_counters (vote_id, counter, value) VALUES (?, ?, ?) "
                "ON CONFLICT (vote_id, counter) DO UPDATE "
                "SET value = vote_counters.value + excluded.value",
                rows,
            )

    def running_tally(self, vote_id: int) -> dict[str, int]:
        """The vote's running tally: counter name -> value, counters that are 0 left out."""
        return dict(
            self.query(
                "SELECT counter, value FROM vote_counters WHERE vote_id = ? AND value <> 0 "
                "ORDER BY counter",
                [vote_id],
            )
        )

    def _current(self, vote_id: int, voters: Sequence[str]) -> dict:
        """Voter -> (ballot text, cast_at, None) of their current ballots, rows locked."""
        found = {}
        for start in range(0, len(voters), READ_VOTERS):
            chunk = voters[start : start + READ_VOTERS]
            for voter, text, at in self.query(
                f"SELECT voter, ballot, cast_at FROM ballots WHERE vote_id = ? AND voter IN "
                f"({', '.join('?' for _ in chunk)}){self.store.FOR_UPDATE}",
                [vote_id, *chunk],
            ):
                found[voter] = (text, at, None)
        return found

    def _insert_first(self, vote_id, voters, ballots, texts, firsts) -> set[str]:
        """Insert the first ballot of each of ``voters`` (their first in ``ballots``, at
        ``firsts[voter]``) unless the voter has a stored ballot; the voters inserted."""
        inserted: set[str] = set()
        values = [
            (vote_id, voter, texts[index], ballots[index].cast_at)
            for voter, index in zip(voters, map(firsts.__getitem__, voters), strict=True)
        ]
        for start in range(0, len(values), INSERT_ROWS):
            chunk = values[start : start + INSERT_ROWS]
            rows = self.query(
                "INSERT INTO ballots (vote_id, voter, ballot, cast_at) VALUES "
                + ", ".join(["(?, ?, ?, ?)"] * len(chunk))
                + " ON CONFLICT (vote_id, voter) DO NOTHING RETURNING voter",
                list(chain.from_iterable(chunk)),
            )
            inserted.update(map(_FIRST, rows))
        return inserted

    def ballot(self, vote_id: int, voter: str) -> CastBallot | None:
        """The current ballot of a voter, or None."""
        row = self.query_one(
            "SELECT ballot, cast_at FROM ballots WHERE vote_id = ? AND voter = ?",
            [vote_id, voter],
        )
        return CastBallot(voter, json.loads(row[0]), row[1]) if row else None

    def ballot_counts(self, vote_id: int) -> list[BallotCount]:
        """Each distinct current ballot with how many voters hold it."""
        rows = self.query(
            "SELECT ballot, COUNT(*) FROM ballots WHERE vote_id = ? "
            "GROUP BY ballot ORDER BY ballot",
            [vote_id],
        )
        return [BallotCount(json.loads(text), voters) for text, voters in rows]

    def count_ballots(self, vote_id: int) -> int:
        return self.query("SELECT COUNT(*) FROM ballots WHERE vote_id = ?", [vote_id])[0][0]

    def ballots(self, vote_id: int) -> Iterator[CastBallot]:
        """Every current ballot, by voter."""
        for voter, text, at in self.query(
            "SELECT voter, ballot, cast_at FROM ballots WHERE vote_id = ? ORDER BY voter",
            [vote_id],
        ):
            yield CastBallot(voter, json.loads(text), at)

    def history(self, vote_id: int, voter: str | None = None) -> list[ReplacedBallot]:
        """Replaced ballots, oldest first (of one voter, or of everyone)."""
        where = "vote_id = ?"
        params: list = [vote_id]
        if voter is not None:
            where += " AND voter = ?"
            params.append(voter)
        return [
            ReplacedBallot(row[0], json.loads(row[1]), row[2], row[3])
            for row in self.query(
                f"SELECT voter, ballot, cast_at, replaced_at FROM ballot_history WHERE {where} "
                "ORDER BY id",
                params,
            )
        ]

    def _one(self, where: str, value) -> Vote | None:
        row = self.query_one(f"SELECT {_VOTE_COLUMNS} FROM votes WHERE {where}", [value])
        return self._vote(row) if row else None

    @staticmethod
    def _vote(row: tuple) -> Vote:
        (
            ident,
            campaign_id,
            method,
            candidates,
            winners,
            options,
            opens_at,
            closes_at,
            state,
            result,
            opened_at,
            closed_at,
            running,
        ) = row
        return Vote(
            id=ident,
            campaign_id=campaign_id,
            method=method,
            candidates=json.loads(candidates),
            winners=winners,
            options=json.loads(options),
            opens_at=opens_at,
            closes_at=closes_at,
            state=state,
            opened_at=opened_at,
            closed_at=closed_at,
            result=VoteResult.from_dict(json.loads(result)) if result else None,
            running=bool(running),
        )
