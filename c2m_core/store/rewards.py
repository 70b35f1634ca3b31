"""Rewards: the reward rule, the reward ledger, share codes, visits and referral attributions.

Guarantees enforced by the database: one reward per idempotency key (a unique key; recording
again is a no-op), one share code per (campaign, customer, variant), one attribution per pledge
(a unique pledge id), and a code's limit of attributions (the code's row locked, then a
conditional insert that counts in the same statement).
"""

from __future__ import annotations

from sqlite_utils.migrations import Migrations

from ..money import Money
from ..rewards.records import (
    FAILED,
    PAID,
    PENDING,
    Attribution,
    FunnelRow,
    Reward,
    RewardRule,
    ShareCode,
)
from .database import Area

migrations = Migrations("c2m.rewards")


@migrations()
def m001_rewards(db):
    db.execute(
        """
        CREATE TABLE reward_rules (
            campaign_id INTEGER PRIMARY KEY REFERENCES campaigns (id),
            kind TEXT NOT NULL,
            currency TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount >= 0),
            basis_points INTEGER NOT NULL CHECK (basis_points >= 0 AND basis_points <= 10000),
            referral_per_unit INTEGER NOT NULL CHECK (referral_per_unit >= 0),
            referral_limit INTEGER,
            provider TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE rewards (
            id INTEGER PRIMARY KEY,
            campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
            variant_id INTEGER NOT NULL,
            pledge_id INTEGER,
            recipient TEXT NOT NULL,
            kind TEXT NOT NULL,
            units INTEGER NOT NULL,
            amount INTEGER NOT NULL CHECK (amount >= 0),
            currency TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            reference TEXT,
            error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX rewards_campaign ON rewards (campaign_id, state)")
    db.execute(
        """
        CREATE TABLE share_codes (
            code TEXT PRIMARY KEY,
            campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
            customer TEXT NOT NULL,
            variant_id INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (campaign_id, customer, variant_id)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE share_visits (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL REFERENCES share_codes (code),
            visitor TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX share_visits_code ON share_visits (code)")
    db.execute(
        """
        CREATE TABLE referral_attributions (
            pledge_id INTEGER PRIMARY KEY,
            code TEXT NOT NULL REFERENCES share_codes (code),
            campaign_id INTEGER NOT NULL,
            referrer TEXT NOT NULL,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX referral_attributions_code ON referral_attributions (code)")


_REWARD_COLUMNS = (
    "id, campaign_id, variant_id, recipient, kind, units, amount, currency, idempotency_key, "
    "state, attempts, pledge_id, reference, error"
)


class RewardStore(Area):
    name = "rewards"
    migrations = migrations

    # Rule ----------------------------------------------------------------------------------------

    def put_rule(self, rule: RewardRule) -> None:
        self.execute(
            "INSERT INTO reward_rules (campaign_id, kind, currency, amount, basis_points, "
            "referral_per_unit, referral_limit, provider) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (campaign_id) DO UPDATE SET kind = excluded.kind, "
            "currency = excluded.currency, amount = excluded.amount, "
            "basis_points = excluded.basis_points, referral_per_unit = excluded.referral_per_unit, "
            "referral_limit = excluded.referral_limit, provider = excluded.provider",
            [rule.campaign_id, rule.kind, rule.currency, rule.amount, rule.basis_points,
             rule.referral_per_unit, rule.referral_limit, rule.provider],
        )  # fmt: skip

    def rule(self, campaign_id: int) -> RewardRule | None:
        row = self.query_one(
            "SELECT campaign_id, kind, currency, amount, basis_points, referral_per_unit, "
            "referral_limit, provider FROM reward_rules WHERE campaign_id = ?",
            [campaign_id],
        )
        return RewardRule(*row) if row else None

    # Ledger --------------------------------------------------------------------------------------

    def record(self, reward: Reward) -> bool:
        """Record a pending reward; False (and nothing changes) when its key is recorded already."""
        now = self.store.now()
        row = self.query_one(
            "INSERT INTO rewards (campaign_id, variant_id, pledge_id, recipient, kind, units, "
            "amount, currency, idempotency_key, state, attempts, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) "
            "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            [reward.campaign_id, reward.variant_id, reward.pledge_id, reward.recipient,
             reward.kind, reward.units, reward.amount.amount, reward.amount.currency, reward.key,
             PENDING, now, now],
        )  # fmt: skip
        return row is not None

    def rewards(self, campaign_id: int, states: tuple[str, ...] = ()) -> list[Reward]:
        where = "campaign_id = ?"
        params: list[int | str] = [campaign_id]
        if states:
            where += f" AND state IN ({', '.join('?' for _ in states)})"
            params.extend(states)
        rows = self.query(
            f"SELECT {_REWARD_COLUMNS} FROM rewards WHERE {where} ORDER BY id", params
        )
        return [_reward(row) for row in rows]

    def reward(self, reward_id: int) -> Reward | None:
        row = self.query_one(f"SELECT {_REWARD_COLUMNS} FROM rewards WHERE id = ?", [reward_id])
        return _reward(row) if row else None

    def count(self, campaign_id: int) -> int:
        return self.query("SELECT COUNT(*) FROM rewards WHERE campaign_id = ?", [campaign_id])[0][0]

    def attempt(self, reward_id: int) -> None:
        self.execute(
            "UPDATE rewards SET attempts = attempts + 1, updated_at = ? WHERE id = ?",
            [self.store.now(), reward_id],
        )

    def paid(self, reward_id: int, reference: str) -> bool:
        """Mark paid; False when it was paid already (another process recorded it first)."""
        changed = self.execute(
            "UPDATE rewards SET state = ?, reference = ?, error = NULL, updated_at = ? "
            "WHERE id = ? AND state != ?",
            [PAID, reference, self.store.now(), reward_id, PAID],
        )
        return changed == 1

    def failed(self, reward_id: int, error: str) -> bool:
        changed = self.execute(
            "UPDATE rewards SET state = ?, error = ?, updated_at = ? WHERE id = ? AND state != ?",
            [FAILED, error, self.store.now(), reward_id, PAID],
        )
        return changed == 1

    # Sharing -------------------------------------------------------------------------------------

    def share_code(self, campaign_id: int, customer: str, variant_id: int, new_code: str) -> str:
        """The code of (campaign, customer, variant), made ``new_code`` when there is none."""
        self.execute(
            "INSERT INTO share_codes (code, campaign_id, customer, variant_id, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (campaign_id, customer, variant_id) DO NOTHING",
            [new_code, campaign_id, customer, variant_id, self.store.now()],
        )
        return self.query(
            "SELECT code FROM share_codes WHERE campaign_id = ? AND customer = ? "
            "AND variant_id = ?",
            [campaign_id, customer, variant_id],
        )[0][0]

    def code(self, code: str) -> ShareCode | None:
        row = self.query_one(
            "SELECT code, campaign_id, customer, variant_id, created_at FROM share_codes "
            "WHERE code = ?",
            [code],
        )
        return ShareCode(*row) if row else None

    def add_visit(self, code: str, visitor: str | None) -> int:
        return self.insert_returning(
            "INSERT INTO share_visits (code, visitor, created_at) VALUES (?, ?, ?) RETURNING id",
            [code, visitor, self.store.now()],
        )

    def attribute(self, pledge_id: int, code: ShareCode, limit: int | None) -> bool:
        """Attribute a pledge to ``code`` unless it is attributed or the code is at its limit.

        Call inside a transaction. With a limit, the code's row is locked first (PostgreSQL:
        ``FOR UPDATE``; SQLite serialises writers anyway), then one statement counts and
        inserts, so racing writers cannot exceed the limit.
        """
        now = self.store.now()
        if limit is None:
            row = self.query_one(
                "INSERT INTO referral_attributions (pledge_id, code, campaign_id, referrer, "
                "created_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (pledge_id) DO NOTHING RETURNING pledge_id",
                [pledge_id, code.code, code.campaign_id, code.customer, now],
            )
            return row is not None
        lock = self.store.FOR_UPDATE
        self.query(f"SELECT code FROM share_codes WHERE code = ?{lock}", [code.code])
        row = self.query_one(
            "INSERT INTO referral_attributions (pledge_id, code, campaign_id, referrer, "
            "created_at) SELECT ?, ?, ?, ?, ? WHERE "
            "(SELECT COUNT(*) FROM referral_attributions WHERE code = ?) < ? "
            "ON CONFLICT (pledge_id) DO NOTHING RETURNING pledge_id",
            [pledge_id, code.code, code.campaign_id, code.customer, now, code.code, limit],
        )
        return row is not None

    def attribution(self, pledge_id: int) -> Attribution | None:
        row = self.query_one(
            "SELECT pledge_id, code, campaign_id, referrer, created_at "
            "FROM referral_attributions WHERE pledge_id = ?",
            [pledge_id],
        )
        return Attribution(*row) if row else None

    def attributions(self, campaign_id: int) -> list[Attribution]:
        rows = self.query(
            "SELECT pledge_id, code, campaign_id, referrer, created_at "
            "FROM referral_attributions WHERE campaign_id = ? ORDER BY pledge_id",
            [campaign_id],
        )
        return [Attribution(*row) for row in rows]

    def funnel(self, campaign_id: int) -> list[FunnelRow]:
        """Per variant with share codes: codes, visits, attributed pledges and their units."""
        rows = self.query(
            """
            SELECT s.variant_id,
                   COUNT(DISTINCT s.code),
                   (SELECT COUNT(*) FROM share_visits v JOIN share_codes c ON c.code = v.code
                    WHERE c.campaign_id = s.campaign_id AND c.variant_id = s.variant_id),
                   (SELECT COUNT(*) FROM referral_attributions a JOIN share_codes c
                    ON c.code = a.code
                    WHERE c.campaign_id = s.campaign_id AND c.variant_id = s.variant_id),
                   (SELECT COALESCE(SUM(p.quantity), 0) FROM referral_attributions a
                    JOIN share_codes c ON c.code = a.code JOIN pledges p ON p.id = a.pledge_id
                    WHERE c.campaign_id = s.campaign_id AND c.variant_id = s.variant_id)
            FROM share_codes s WHERE s.campaign_id = ?
            GROUP BY s.campaign_id, s.variant_id ORDER BY s.variant_id
            """,
            [campaign_id],
        )
        return [FunnelRow(*row) for row in rows]


def _reward(row) -> Reward:
    return Reward(
        id=row[0],
        campaign_id=row[1],
        variant_id=row[2],
        recipient=row[3],
        kind=row[4],
        units=row[5],
        amount=Money(row[6], row[7]),
        key=row[8],
        state=row[9],
        attempts=row[10],
        pledge_id=row[11],
        reference=row[12],
        error=row[13],
    )
