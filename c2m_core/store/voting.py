"""Votes and ballots: one vote per campaign, one ballot per (vote, voter), replaced ones kept."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence

from sqlite_utils.migrations import Migrations

from ..voting.result import VoteResult
from ..voting.vote import CLOSED, OPEN, ReplacedBallot, Vote
from .database import Area

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


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def ballot_text(ballot) -> str:
    """The canonical stored text of a normalised ballot: equal ballots, equal text."""
    return _CANONICAL.encode(ballot)


class VotingStore(Area):
    name = "voting"
    migrations = migrations

    def insert(self, vote: Vote) -> Vote:
        now = self.store.now()
        cursor = self.db.execute(
            "INSERT INTO votes (campaign_id, method, candidates, winners, options, opens_at, "
            "closes_at, state, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                vote.campaign_id,
                vote.method,
                json.dumps(list(vote.candidates)),
                vote.winners,
                json.dumps(dict(vote.options), sort_keys=True),
                vote.opens_at,
                vote.closes_at,
                OPEN,
                now,
            ],
        )
        return self._one("id = ?", cursor.lastrowid)

    def for_campaign(self, campaign_id: int) -> Vote | None:
        return self._one("campaign_id = ?", campaign_id)

    def close(self, vote_id: int, result: VoteResult) -> bool:
        """Mark the vote closed with its result; False when it was no longer open."""
        cursor = self.db.execute(
            "UPDATE votes SET state = ?, result = ?, closed_at = ? WHERE id = ? AND state = ?",
            [CLOSED, json.dumps(result.to_dict()), self.store.now(), vote_id, OPEN],
        )
        return cursor.rowcount == 1

    def put_ballots(
        self, vote_id: int, rows: Sequence[tuple[str, str]], cast_at: str
    ) -> list[str | None]:
        """Store ``(voter, ballot text)`` rows, later ones replacing earlier ones of a voter.

        Every replaced ballot (stored before, or earlier in ``rows``) is kept in the history.
        Returns, for each row, the ballot text it replaced (None for a voter's first ballot).
        Call inside a transaction.
        """
        voters = list({voter: None for voter, _ in rows})
        current = {
            voter: (ballot, at)
            for voter, ballot, at in self.db.execute(
                "SELECT voter, ballot, cast_at FROM ballots WHERE vote_id = ? "
                "AND voter IN (SELECT value FROM json_each(?))",
                [vote_id, json.dumps(voters, ensure_ascii=False)],
            )
        }
        history = []
        replaced: list[str | None] = []
        for voter, ballot in rows:
            old = current.get(voter)
            if old is None:
                replaced.append(None)
            else:
                history.append((vote_id, voter, old[0], old[1], cast_at))
                replaced.append(old[0])
            current[voter] = (ballot, cast_at)
        if history:
            self.db.conn.executemany(
                "INSERT INTO ballot_history (vote_id, voter, ballot, cast_at, replaced_at) "
                "VALUES (?, ?, ?, ?, ?)",
                history,
            )
        final = {voter: ballot for voter, ballot in rows}
        self.db.conn.executemany(
            "INSERT INTO ballots (vote_id, voter, ballot, cast_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (vote_id, voter) DO UPDATE SET ballot = excluded.ballot, "
            "cast_at = excluded.cast_at",
            [(vote_id, voter, ballot, cast_at) for voter, ballot in final.items()],
        )
        return replaced

    def ballot(self, vote_id: int, voter: str) -> tuple[str, str] | None:
        """The current ``(ballot text, cast_at)`` of a voter, or None."""
        row = self.db.execute(
            "SELECT ballot, cast_at FROM ballots WHERE vote_id = ? AND voter = ?",
            [vote_id, voter],
        ).fetchone()
        return (row[0], row[1]) if row else None

    def ballot_counts(self, vote_id: int) -> Counter:
        """How many voters cast each distinct ballot text."""
        cursor = self.db.execute("SELECT ballot FROM ballots WHERE vote_id = ?", [vote_id])
        return Counter(row[0] for row in cursor)

    def count_ballots(self, vote_id: int) -> int:
        return self.db.execute(
            "SELECT COUNT(*) FROM ballots WHERE vote_id = ?", [vote_id]
        ).fetchone()[0]

    def ballots(self, vote_id: int) -> Iterator[tuple[str, str, str]]:
        """Every current ``(voter, ballot text, cast_at)``, by voter."""
        yield from self.db.execute(
            "SELECT voter, ballot, cast_at FROM ballots WHERE vote_id = ? ORDER BY voter",
            [vote_id],
        )

    def history(self, vote_id: int, voter: str | None = None) -> list[ReplacedBallot]:
        """Replaced ballots, oldest first (of one voter, or of everyone)."""
        where, params = "vote_id = ?", [vote_id]
        if voter is not None:
            where += " AND voter = ?"
            params.append(voter)
        return [
            ReplacedBallot(row[0], json.loads(row[1]), row[2], row[3])
            for row in self.db.execute(
                f"SELECT voter, ballot, cast_at, replaced_at FROM ballot_history WHERE {where} "
                "ORDER BY id",
                params,
            )
        ]

    def _one(self, where: str, value) -> Vote | None:
        rows = list(self.db["votes"].rows_where(where, [value]))
        return self._vote(rows[0]) if rows else None

    @staticmethod
    def _vote(row: dict) -> Vote:
        return Vote(
            id=row["id"],
            campaign_id=row["campaign_id"],
            method=row["method"],
            candidates=json.loads(row["candidates"]),
            winners=row["winners"],
            options=json.loads(row["options"]),
            opens_at=row["opens_at"],
            closes_at=row["closes_at"],
            state=row["state"],
            opened_at=row["opened_at"],
            closed_at=row["closed_at"],
            result=VoteResult.from_dict(json.loads(row["result"])) if row["result"] else None,
        )
