"""Votes and ballots: one vote per campaign, one ballot per (vote, voter), replaced ones kept."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from sqlite_utils.migrations import Migrations

from ..voting.result import VoteResult
from ..voting.vote import CLOSED, OPEN, BallotCount, CastBallot, ReplacedBallot, Vote
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


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_VOTE_COLUMNS = (
    "id, campaign_id, method, candidates, winners, options, opens_at, closes_at, state, "
    "result, opened_at, closed_at"
)
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
            "closes_at, state, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
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
            ],
        )
        return None if vote_id is None else self._one("id = ?", vote_id)

    def for_campaign(self, campaign_id: int) -> Vote | None:
        return self._one("campaign_id = ?", campaign_id)

    def close(self, vote_id: int, result: VoteResult) -> bool:
        """Mark the vote closed with its result; False when it was no longer open."""
        return (
            self.execute(
                "UPDATE votes SET state = ?, result = ?, closed_at = ? WHERE id = ? AND state = ?",
                [CLOSED, json.dumps(result.to_dict()), self.now(), vote_id, OPEN],
            )
            == 1
        )

    def cast(self, vote_id: int, ballots: Sequence[CastBallot]) -> list[CastBallot] | None:
        """Store ballots, each replacing its voter's current one; None when the vote does not
        accept ballots now (nothing stored).

        One current ballot per (vote, voter) is the primary key. Every replaced ballot, stored
        before or earlier in ``ballots``, goes to the history exactly once: a voter's current
        row is locked before it is read and replaced, and a first ballot is an insert that a
        concurrent first ballot of the same voter turns into a replacement. Returns the
        ballots as given, each with the ballot it replaced (None for a voter's first).
        """
        with self.store.transaction():
            vote = self._one(f"id = ?{self.store.FOR_SHARE}", vote_id)
            if vote is None or vote.window_problem(self.now()) is not None:
                return None
            texts = [_CANONICAL(b.ballot) for b in ballots]
            last: dict[str, int] = {}
            for index, ballot in enumerate(ballots):
                last[ballot.voter] = index
            current = self._current(vote_id, list(last))
            first = [voter for voter in last if voter not in current]
            for _ in range(CAST_ATTEMPTS):
                if not first:
                    break
                inserted = self._insert_first(vote_id, first, ballots, texts, last)
                raced = [voter for voter in first if voter not in inserted]
                current.update(self._current(vote_id, raced))
                for voter in inserted:
                    current[voter] = None
                first = [voter for voter in raced if voter not in current]
            else:
                raise StoreError(f"could not store the first ballots of {len(first)} voters")
            history, updates, cast = [], [], []
            for index, ballot in enumerate(ballots):
                old = current.get(ballot.voter)
                if old is not None:
                    history.append((vote_id, ballot.voter, old[0], old[1], ballot.cast_at))
                replaced = None if old is None else old[2]
                if replaced is None and old is not None:
                    replaced = json.loads(old[0])
                cast.append(CastBallot(ballot.voter, ballot.ballot, ballot.cast_at, replaced))
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
                self.executemany(
                    "UPDATE ballots SET ballot = ?, cast_at = ? WHERE vote_id = ? AND voter = ?",
                    updates,
                )
        return cast

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

    def _insert_first(self, vote_id, voters, ballots, texts, last) -> set[str]:
        """Insert the first ballot of each of ``voters`` (their first in ``ballots``) unless a
        concurrent writer did; the voters inserted."""
        firsts: dict[str, int] = {}
        for index, ballot in enumerate(ballots):
            firsts.setdefault(ballot.voter, index)
        inserted: set[str] = set()
        for start in range(0, len(voters), INSERT_ROWS):
            chunk = voters[start : start + INSERT_ROWS]
            params = []
            for voter in chunk:
                index = firsts[voter]
                params += [vote_id, voter, texts[index], ballots[index].cast_at]
            rows = self.query(
                "INSERT INTO ballots (vote_id, voter, ballot, cast_at) VALUES "
                + ", ".join(["(?, ?, ?, ?)"] * len(chunk))
                + " ON CONFLICT (vote_id, voter) DO NOTHING RETURNING voter",
                params,
            )
            inserted.update(row[0] for row in rows)
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
        return self.query_one("SELECT COUNT(*) FROM ballots WHERE vote_id = ?", [vote_id])[0]

    def ballots(self, vote_id: int) -> Iterator[CastBallot]:
        """Every current ballot, by voter."""
        for voter, text, at in self.query(
            "SELECT voter, ballot, cast_at FROM ballots WHERE vote_id = ? ORDER BY voter",
            [vote_id],
        ):
            yield CastBallot(voter, json.loads(text), at)

    def history(self, vote_id: int, voter: str | None = None) -> list[ReplacedBallot]:
        """Replaced ballots, oldest first (of one voter, or of everyone)."""
        where, params = "vote_id = ?", [vote_id]
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
        )
