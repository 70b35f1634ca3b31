"""Pre-sale records: presales, offers, pledges with their transitions, payments, refunds, ledger.

Capacity is a counter per offer (``held``: units held by pledges in a ``HOLDING`` state), changed
only by a guarded conditional ``UPDATE ... WHERE capacity IS NULL OR held + n <= capacity`` in the
same transaction as the pledge write that takes or frees the units. The guard is evaluated by the
database on the row it updates, so it holds however many writers run at once, without relying on
a lock of the whole database. ``audit`` recounts the pledges to check the counter.

Pledge states change only along ``TRANSITIONS`` (``IllegalPledgeTransition`` otherwise), with a
conditional ``UPDATE ... WHERE state = old``: a lost race changes nothing and says so. The
contract of every operation is written in ``presale_interface.PresaleArea``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence

import attrs
from sqlite_utils.migrations import Migrations

from ..campaigns.records import Campaign
from ..money import Money
from ..presale.pricing import CancellationRule, DepositRule
from ..presale.records import (
    COMMITTED,
    FAILED,
    HOLDING,
    INITIAL_STATES,
    OPEN,
    PENDING,
    PLACED,
    SUCCEEDED,
    TRANSITIONS,
    WAITLISTED,
    HeldAudit,
    IllegalPledgeTransition,
    LedgerEntry,
    Offer,
    Payment,
    Pledge,
    Presale,
    Refund,
    SoldOut,
    StateUnits,
    Transition,
)
from .campaigns import _COLUMNS as _CAMPAIGN_COLUMNS
from .campaigns import CampaignStore
from .database import Area, Later

migrations = Migrations("c2m.pledges")


@migrations()
def m001_pledges(db):
    db.execute(
        """
        CREATE TABLE presales (
            campaign_id INTEGER PRIMARY KEY REFERENCES campaigns (id),
            state TEXT NOT NULL,
            deadline TEXT NOT NULL,
            provider TEXT NOT NULL,
            deposit TEXT NOT NULL,
            cancellation TEXT NOT NULL,
            waitlist INTEGER NOT NULL,
            opened_at TEXT NOT NULL,
            closed_at TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE presale_offers (
            id INTEGER PRIMARY KEY,
            campaign_id INTEGER NOT NULL REFERENCES presales (campaign_id),
            variant_id INTEGER NOT NULL UNIQUE REFERENCES variants (id),
            position INTEGER NOT NULL,
            currency TEXT NOT NULL,
            unit_price INTEGER NOT NULL,
            deposit_per_unit INTEGER NOT NULL,
            credit_per_unit INTEGER NOT NULL,
            threshold INTEGER NOT NULL,
            capacity INTEGER,
            state TEXT NOT NULL,
            units_at_close INTEGER
        )
        """
    )
    db.execute(
        """
        CREATE TABLE pledges (
            id INTEGER PRIMARY KEY,
            campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
            variant_id INTEGER NOT NULL REFERENCES presale_offers (variant_id),
            customer TEXT NOT NULL,
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            region TEXT,
            idempotency_key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            state TEXT NOT NULL,
            currency TEXT NOT NULL,
            unit_price INTEGER NOT NULL,
            deposit_per_unit INTEGER NOT NULL,
            credit_per_unit INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (campaign_id, idempotency_key)
        )
        """
    )
    db.execute("CREATE INDEX pledges_variant_state ON pledges (variant_id, state, quantity)")
    db.execute(
        """
        CREATE TABLE pledge_transitions (
            id INTEGER PRIMARY KEY,
            pledge_id INTEGER NOT NULL REFERENCES pledges (id),
            from_state TEXT,
            to_state TEXT NOT NULL,
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX pledge_transitions_pledge ON pledge_transitions (pledge_id, id)")
    db.execute(
        """
        CREATE TABLE payments (
            id INTEGER PRIMARY KEY,
            pledge_id INTEGER NOT NULL REFERENCES pledges (id),
            campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
            kind TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            currency TEXT NOT NULL,
            provider TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            authorization TEXT,
            reference TEXT,
            error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (pledge_id, kind)
        )
        """
    )
    db.execute("CREATE INDEX payments_campaign_state ON payments (campaign_id, state)")
    db.execute(
        """
        CREATE TABLE refunds (
            id INTEGER PRIMARY KEY,
            payment_id INTEGER NOT NULL UNIQUE REFERENCES payments (id),
            pledge_id INTEGER NOT NULL REFERENCES pledges (id),
            campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
            amount INTEGER NOT NULL CHECK (amount > 0),
            currency TEXT NOT NULL,
            provider TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            reason TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            reference TEXT,
            error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX refunds_campaign_state ON refunds (campaign_id, state)")
    db.execute(
        """
        CREATE TABLE payment_ledger (
            id INTEGER PRIMARY KEY,
            provider TEXT NOT NULL,
            operation TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            campaign_id INTEGER,
            pledge_id INTEGER,
            amount INTEGER NOT NULL,
            currency TEXT NOT NULL,
            reference TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (provider, operation, idempotency_key)
        )
        """
    )


@migrations()
def m002_held_units(db):
    """The capacity counter: units held per offer, filled from the pledges already stored."""
    db.execute(
        "ALTER TABLE presale_offers ADD COLUMN held INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0)"
    )
    db.execute(
        f"""
        UPDATE presale_offers SET held = (
            SELECT COALESCE(SUM(quantity), 0) FROM pledges
            WHERE pledges.variant_id = presale_offers.variant_id
            AND pledges.state IN ({", ".join(f"'{state}'" for state in HOLDING)})
        )
        """
    )


@migrations()
def m003_unsettled_payments(db):
    """Index by campaign only the payments still to settle (what ``retry`` and ``status`` look
    for): a deposit captured inside its pledge's transaction is written ``succeeded`` and so
    dirties no page of this index."""
    db.execute("DROP INDEX payments_campaign_state")
    db.execute(
        f"CREATE INDEX payments_unsettled ON payments (campaign_id, state) "
        f"WHERE state != '{SUCCEEDED}'"
    )


@migrations()
def m004_lean_pledges(db):
    """The lean pledge write model (issue 15).

    - ``pledges.opening``: the transitions a pledge went through in the transaction that stored
      it (JSON ``[[from, to, reason], ...]``, all at ``created_at``), so storing a pledge writes
      no ``pledge_transitions`` rows; that table keeps the later moves. NULL on the pledges
      stored before: their whole history is in ``pledge_transitions``, as it was.
    - ``payment_ledger.authorize_reference``: the default ledger's in-transaction capture is one
      row (``operation`` ``capture``) that also records its authorization; it reads as the two
      entries it stands for. NULL on every row before: each was one movement, as it was.
    - ``pledges_variant_state`` is dropped: it cost every pledge an index entry for reads that
      run at close and in audits, which now read the campaign's pledges through the key index.
      Waiting pledges, which every cancel looks for, get a partial index of their own (empty
      unless the pre-sale has a waitlist).
    """
    db.execute("ALTER TABLE pledges ADD COLUMN opening TEXT")
    db.execute("ALTER TABLE payment_ledger ADD COLUMN authorize_reference TEXT")
    db.execute("DROP INDEX pledges_variant_state")
    db.execute(
        f"CREATE INDEX pledges_waiting ON pledges (variant_id, id) WHERE state = '{WAITLISTED}'"
    )


@migrations()
def m005_refused_reserves(db):
    """Where units are reserved against what was read before (``RESERVE_KNOWN``: PostgreSQL),
    ``c2m_changed(n)``: raises when a guarded write changed no row, so the statements sent
    after it in the same round trip do not run and the transaction rolls back. SQLite, which
    never reserves so, needs nothing."""
    if db.presale.RESERVE_KNOWN is None:
        return
    db.execute(
        """
        CREATE FUNCTION c2m_changed(changed BIGINT) RETURNS BIGINT LANGUAGE plpgsql AS $$
        BEGIN
            IF changed = 0 THEN
                RAISE EXCEPTION 'c2m: the guarded write changed no row'
                    USING ERRCODE = 'no_data_found';
            END IF;
            RETURN changed;
        END
        $$
        """
    )


_PLEDGE_COLUMNS = (
    "id, campaign_id, variant_id, customer, quantity, region, idempotency_key, fingerprint, "
    "state, currency, unit_price, deposit_per_unit, credit_per_unit, created_at, updated_at"
)
#: The columns an ``INSERT`` of a pledge fills: the record's, then its opening transitions.
_INSERT_COLUMNS = _PLEDGE_COLUMNS[4:] + ", opening"
_INSERT_NUMBERED = f"INSERT INTO pledges (id, {_INSERT_COLUMNS}) VALUES ({', '.join(['?'] * 16)})"
_OFFER_COLUMNS = (
    "id, campaign_id, variant_id, position, currency, unit_price, deposit_per_unit, "
    "credit_per_unit, threshold, capacity, state, units_at_close, held"
)
_PLACING = (
    "SELECT s.campaign_id, s.state, s.deadline, s.provider, s.deposit, s.cancellation, "
    "s.waitlist, s.opened_at, s.closed_at, "
    + ", ".join(f"o.{c}" for c in _OFFER_COLUMNS.split(", "))
    + ", "
    + ", ".join(f"p.{c}" for c in _PLEDGE_COLUMNS.split(", "))
    + " FROM presales s "
    "LEFT JOIN presale_offers o ON o.campaign_id = s.campaign_id AND o.variant_id = ? "
    "LEFT JOIN pledges p ON p.campaign_id = s.campaign_id AND p.idempotency_key = ? "
    "WHERE s.campaign_id = ?"
)
#: ``_PLACING`` for a campaign named by its slug; its campaign is read by a statement of its
#: own (``_CAMPAIGN``): joined in, the read costs PostgreSQL five times as much.
_PLACING_BY_SLUG = _PLACING.replace(
    "WHERE s.campaign_id = ?", "WHERE s.campaign_id = (SELECT id FROM campaigns WHERE slug = ?)"
)
_CAMPAIGN = f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE slug = ?"
_PAYMENT_COLUMNS = (
    "id, pledge_id, campaign_id, kind, amount, currency, provider, idempotency_key, state, "
    "attempts, authorization, reference, error"
)
_REFUND_COLUMNS = (
    "id, payment_id, pledge_id, campaign_id, amount, currency, provider, idempotency_key, "
    "reason, state, attempts, reference, error"
)


#: A capture recorded before keeps its row when it recorded the references a capture answers
#: (``ledger_capture_many``); one with others is set to NULL, which ``NOT NULL`` refuses.
_CAPTURED_BEFORE = (
    " ON CONFLICT (provider, operation, idempotency_key) DO UPDATE SET reference = CASE "
    "WHEN payment_ledger.reference = excluded.reference AND COALESCE("
    "payment_ledger.authorize_reference, excluded.authorize_reference) = "
    "excluded.authorize_reference THEN payment_ledger.reference END"
)

#: The two ways to reserve units (``PresaleStore.RESERVE``).
COUNTER = "counter"
ROW_LOCK = "row_lock"

#: Rows per multi-row ``INSERT``: well under SQLite's 32,766 parameters at 15 columns a row.
_ROWS_PER_STATEMENT = 500


@functools.lru_cache(maxsize=256)
def _deposit_rule(text: str) -> DepositRule:
    return DepositRule.from_dict(json.loads(text))


@functools.lru_cache(maxsize=256)
def _cancellation_rule(text: str) -> CancellationRule:
    return CancellationRule.from_dict(json.loads(text))


def _opening(moves) -> str:
    """A pledge's opening transitions as stored in its row: JSON ``[[from, to, reason], ...]``."""
    return json.dumps([list(move) for move in moves])


#: The two openings a placed pledge may have: (state it is stored in, ``opening``).
_PLACED = (PLACED, _opening(((None, PLACED, "pledged"),)))
_CAPTURED = (
    COMMITTED,
    _opening(((None, PLACED, "pledged"), (PLACED, COMMITTED, "deposit captured"))),
)


def _presale(row) -> Presale:
    return Presale(
        campaign_id=row[0],
        state=row[1],
        deadline=row[2],
        provider=row[3],
        deposit=_deposit_rule(row[4]),
        cancellation=_cancellation_rule(row[5]),
        waitlist=bool(row[6]),
        opened_at=row[7],
        closed_at=row[8],
    )


def _placing(row) -> tuple[Presale | None, Offer | None, Pledge | None]:
    if row is None:
        return None, None, None
    presale = _presale(row[:9])
    offer = None if row[9] is None else Offer(*row[9:22])
    pledge = None if row[22] is None else Pledge(*row[22:37])
    return presale, offer, pledge


def _marks(values) -> str:
    return ", ".join("?" for _ in values)


class PresaleStore(Area):
    name = "presale"
    migrations = migrations

    #: How ``_reserve`` takes units: ``COUNTER`` (a guarded update) or ``ROW_LOCK`` (``SELECT
    #: ... FOR UPDATE``, then an update). The counter is one statement where the row lock is
    #: two; ``bench/postgres.py`` measures both (see the README's performance section).
    RESERVE = COUNTER

    #: Where ``held_units`` counts from: the same on both backends since the covering index
    #: it named was dropped (``m004_lean_pledges``); kept for ``postgres.AREA_SQL``.
    PLEDGES_BY_VARIANT_STATE = "pledges"

    #: ``reserve_known``'s statement, on a backend whose ids may be taken before the
    #: transaction that uses them (PostgreSQL's sequences: ``postgres.AREA_SQL``); None where
    #: they cannot (SQLite numbers a row in the transaction that writes it): nothing is then
    #: known ahead, and every pledge reads what it needs (``placing_reserve``).
    RESERVE_KNOWN: str | None = None

    def __init__(self, store):
        super().__init__(store)
        #: (slug, variant id) -> what ``placing_reserve`` read when it last reserved there:
        #: the campaign, its row's changing columns, its pre-sale and the variant's offer.
        self._known: dict[tuple[str, int], tuple[Campaign, tuple, Presale, Offer]] = {}
        #: The ids (pledge, payment) this connection holds for its next pledge, once the
        #: round trip that took them is answered.
        self._held: Later | None = None
        self._reserve_known: str | None = None  # RESERVE_KNOWN with this database's sequences

    # Presales and offers -------------------------------------------------------------------------

    def insert_presale(self, presale: Presale) -> None:
        self.execute(
            "INSERT INTO presales (campaign_id, state, deadline, provider, deposit, cancellation, "
            "waitlist, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                presale.campaign_id,
                presale.state,
                presale.deadline,
                presale.provider,
                json.dumps(presale.deposit.to_dict(), sort_keys=True),
                json.dumps(presale.cancellation.to_dict(), sort_keys=True),
                int(presale.waitlist),
                presale.opened_at,
            ],
        )

    def presale(self, campaign_id: int) -> Presale | None:
        row = self.query_one(
            "SELECT campaign_id, state, deadline, provider, deposit, cancellation, waitlist, "
            "opened_at, closed_at FROM presales WHERE campaign_id = ?",
            [campaign_id],
        )
        return None if row is None else _presale(row)

    def placing(
        self, campaign_id: int, variant_id: int, key: str
    ) -> tuple[Presale | None, Offer | None, Pledge | None]:
        """What placing one pledge reads, in one statement: the campaign's pre-sale, the
        variant's offer and the pledge already stored with idempotency ``key`` (each None when
        there is none)."""
        return _placing(self.query_one(_PLACING, [variant_id, key, campaign_id]))

    def placing_reserve(
        self, slug: str, variant_id: int, key: str, quantity: int, now: str
    ) -> tuple[
        Campaign | None, Presale | None, Offer | None, Pledge | None, tuple[int, int] | None
    ]:
        """What placing a new pledge reads, and its units reserved with the ids it and its
        deposit payment will have, in one round trip: (campaign ``slug``, its pre-sale, the
        variant's offer, the pledge stored with idempotency ``key``, (pledge id, payment id)),
        each None when there is none.

        The units are held (the guarded counter update, in the open transaction) only when the
        variant is on sale in the campaign, they fit, the campaign has no pledge with ``key``
        and its pre-sale is open and before its deadline at ``now`` (ISO 8601 UTC); otherwise
        the ids are None and nothing changed. The ids come from ``next_id``: the caller writes
        the pledge and its payment with them in this transaction (``insert_reserved``,
        ``insert_payments(ids=...)``) or rolls it back. With ``RESERVE = ROW_LOCK`` the
        offer's row is read ``FOR UPDATE`` with the rest, and updated after a check.
        """
        reading: list[tuple[str, Sequence]] = [
            (_CAMPAIGN, [slug]),
            (_PLACING_BY_SLUG, [variant_id, key, slug]),
        ]
        numbers = f"{self.store.next_id('pledges')}, {self.store.next_id('payments')}"
        ahead = self.RESERVE_KNOWN is not None and self.RESERVE == COUNTER
        if ahead:  # and the ids of this connection's next pledge (``reserve_known``)
            numbers += f", {numbers}"
        if self.RESERVE == ROW_LOCK:
            named, found, locked = self.queries(
                [
                    *reading,
                    (
                        "SELECT capacity, held FROM presale_offers WHERE variant_id = ? AND "
                        "campaign_id = (SELECT id FROM campaigns WHERE slug = ?)"
                        f"{self.store.FOR_UPDATE}",
                        [variant_id, slug],
                    ),
                ]
            )
            presale, offer, pledge = _placing(found[0] if found else None)
            reserved = []
            if (
                locked
                and (locked[0][0] is None or locked[0][1] + quantity <= locked[0][0])
                and pledge is None
                and presale is not None
                and presale.state == OPEN
                and presale.deadline > now
            ):
                reserved = self.query(
                    f"UPDATE presale_offers SET held = held + ? WHERE variant_id = ? "
                    f"RETURNING {numbers}",
                    [quantity, variant_id],
                )
        else:
            named, found, reserved = self.queries(
                [
                    *reading,
                    (
                        "UPDATE presale_offers SET held = held + ? WHERE variant_id = ? "
                        "AND (capacity IS NULL OR held + ? <= capacity) "
                        "AND campaign_id = (SELECT id FROM campaigns WHERE slug = ?) "
                        "AND NOT EXISTS (SELECT 1 FROM pledges WHERE campaign_id = "
                        "presale_offers.campaign_id AND idempotency_key = ?) "
                        "AND EXISTS (SELECT 1 FROM presales WHERE campaign_id = "
                        f"presale_offers.campaign_id AND state = '{OPEN}' AND deadline > ?) "
                        f"RETURNING {numbers}",
                        [quantity, variant_id, quantity, slug, key, now],
                    ),
                ]
            )
            presale, offer, pledge = _placing(found[0] if found else None)
        campaign = CampaignStore._campaign(named[0]) if named else None
        if not reserved:
            return campaign, presale, offer, pledge, None
        ids = reserved[0]
        if ahead and campaign is not None and presale is not None and offer is not None:
            self._known[(slug, variant_id)] = (campaign, named[0][6:11], presale, offer)
            self._held = Later()
            self._held.rows = [ids[2:]]
        return campaign, presale, offer, pledge, (ids[0], ids[1])

    def reserve_known(
        self, slug: str, variant_id: int, key: str, quantity: int, now: str
    ) -> tuple[Campaign, Presale, Offer, tuple[int, int]] | None:
        """``placing_reserve`` without its reads, on a backend that takes ids ahead
        (``RESERVE_KNOWN``), for a variant this connection reserved units of before: the
        campaign, its pre-sale and the offer as read then, and the (pledge id, payment id)
        this connection holds; None (nothing queued) when it knows none of these.

        The guarded reserve is queued (``query_later``), sent with the pledge's writes and the
        commit, and holds the units only when what was read then is still so (the campaign's
        row, the pre-sale open before its deadline at ``now`` with the same provider, the
        offer's prices), they fit, and the campaign has no pledge with ``key``; otherwise the
        transaction fails with the store's ``Refused`` and rolls back: the caller forgets
        what was known (``forget``) and reads it again. It also takes the ids of the next
        pledge.
        """
        known = self._known.get((slug, variant_id))
        held = self._held
        if known is None or held is None or not held.rows or self.RESERVE != COUNTER:
            return None
        assert self.RESERVE_KNOWN is not None
        campaign, (settings, state, snapshot, _, updated), presale, offer = known
        if self._reserve_known is None:
            self._reserve_known = self.RESERVE_KNOWN.format(
                numbers=f"{self.store.next_id('pledges')}, {self.store.next_id('payments')}"
            )
        self._held = self.query_later(
            self._reserve_known,
            [quantity, variant_id, quantity, campaign.id, offer.currency, offer.unit_price,
             offer.deposit_per_unit, offer.credit_per_unit, campaign.id, key, campaign.id, now,
             presale.provider, settings, state, snapshot, updated],
        )  # fmt: skip
        pledge_id, payment_id = held.rows[0][-2:]
        return campaign, presale, offer, (pledge_id, payment_id)

    def forget(self, slug: str, variant_id: int) -> None:
        """Drop what ``reserve_known`` knew of the variant (it refused: something changed)."""
        self._known.pop((slug, variant_id), None)

    def sold_out(self, variant_id: int, quantity: int) -> SoldOut | None:
        """``SoldOut`` (with the units left) when ``quantity`` more units of the variant's
        offer do not fit now; None when they do or it has no capacity."""
        row = self.query_one(
            "SELECT capacity, held FROM presale_offers WHERE variant_id = ?", [variant_id]
        )
        if row is None:
            return SoldOut(variant_id, quantity, 0)
        if row[0] is None or row[1] + quantity <= row[0]:
            return None
        return SoldOut(variant_id, quantity, max(row[0] - row[1], 0))

    def close_presale(self, campaign_id: int) -> bool:
        """Mark the presale closed; False when it was not open."""
        changed = self.execute(
            "UPDATE presales SET state = 'closed', closed_at = ? "
            "WHERE campaign_id = ? AND state = 'open'",
            [self.store.now(), campaign_id],
        )
        return changed == 1

    def due_presales(self, now: str) -> list[int]:
        """Campaign ids of open pre-sales whose deadline is at or before ``now`` (ISO 8601 UTC)."""
        rows = self.query(
            "SELECT campaign_id FROM presales WHERE state = ? AND deadline <= ? "
            "ORDER BY campaign_id",
            [OPEN, now],
        )
        return [row[0] for row in rows]

    def insert_offer(self, offer: Offer) -> Offer:
        offer_id = self.insert_returning(
            f"INSERT INTO presale_offers ({_OFFER_COLUMNS[4:]}) VALUES ({_marks(range(12))}) "
            "RETURNING id",
            [
                offer.campaign_id,
                offer.variant_id,
                offer.position,
                offer.currency,
                offer.unit_price,
                offer.deposit_per_unit,
                offer.credit_per_unit,
                offer.threshold,
                offer.capacity,
                offer.state,
                offer.units_at_close,
                0,
            ],
        )
        return self._offers("id = ?", [offer_id])[0]

    def offers(self, campaign_id: int) -> list[Offer]:
        return self._offers("campaign_id = ?", [campaign_id])

    def offer(self, campaign_id: int, variant_id: int) -> Offer | None:
        found = self._offers("campaign_id = ? AND variant_id = ?", [campaign_id, variant_id])
        return found[0] if found else None

    def close_offer(self, offer_id: int, state: str, units: int) -> None:
        """Record a variant's outcome and its committed units when the pre-sale closed."""
        self.execute(
            "UPDATE presale_offers SET state = ?, units_at_close = ? WHERE id = ?",
            [state, units, offer_id],
        )

    def _offers(self, where: str, params) -> list[Offer]:
        rows = self.query(
            f"SELECT {_OFFER_COLUMNS} FROM presale_offers WHERE {where} ORDER BY position, id",
            params,
        )
        return [Offer(*row) for row in rows]

    # Pledges -------------------------------------------------------------------------------------

    def held_units(self, campaign_id: int, variant_id: int) -> int:
        """Units of a variant held by pledges (placed, committed and after), recounted."""
        # through the campaign's key index: an audit reads, no pledge pays an index entry for it
        return self.query(
            f"SELECT COALESCE(SUM(quantity), 0) FROM {self.PLEDGES_BY_VARIANT_STATE} "
            f"WHERE campaign_id = ? AND variant_id = ? AND state IN ({_marks(HOLDING)})",
            [campaign_id, variant_id, *HOLDING],
        )[0][0]

    def audit(self, campaign_id: int) -> list[HeldAudit]:
        """Each offer's ``held`` counter next to a recount of its pledges; writes nothing."""
        held = dict(
            self.query(
                f"SELECT variant_id, SUM(quantity) FROM {self.PLEDGES_BY_VARIANT_STATE} "
                f"WHERE campaign_id = ? AND state IN ({_marks(HOLDING)}) GROUP BY variant_id",
                [campaign_id, *HOLDING],
            )
        )
        return [
            HeldAudit(offer.variant_id, offer.capacity, offer.held, held.get(offer.variant_id, 0))
            for offer in self.offers(campaign_id)
        ]

    def units_by_state(self, campaign_id: int) -> list[StateUnits]:
        """Pledges and units per (variant, state), in variant and state order."""
        rows = self.query(
            "SELECT variant_id, state, COUNT(*), SUM(quantity) FROM pledges "
            "WHERE campaign_id = ? GROUP BY variant_id, state ORDER BY variant_id, state",
            [campaign_id],
        )
        return [StateUnits(*row) for row in rows]

    def _reserve(self, variant_id: int, quantity: int) -> None:
        """Hold ``quantity`` units of the offer's capacity, or raise ``SoldOut`` (no change).

        ``RESERVE`` says how: ``counter`` (the default), one guarded ``UPDATE`` that the
        database evaluates on the row it changes; ``row_lock``, the offer's row read with
        ``FOR UPDATE``, checked, then updated (two statements, the row locked in between).
        Both hold under concurrent writers; ``bench/postgres.py`` measures one against the
        other.
        """
        if self.RESERVE == ROW_LOCK:
            row = self.query_one(
                "SELECT capacity, held FROM presale_offers "
                f"WHERE variant_id = ?{self.store.FOR_UPDATE}",
                [variant_id],
            )
            if row is not None and (row[0] is None or row[1] + quantity <= row[0]):
                self.execute(
                    "UPDATE presale_offers SET held = held + ? WHERE variant_id = ?",
                    [quantity, variant_id],
                )
                return
        else:
            changed = self.execute(
                "UPDATE presale_offers SET held = held + ? "
                "WHERE variant_id = ? AND (capacity IS NULL OR held + ? <= capacity)",
                [quantity, variant_id, quantity],
            )
            if changed == 1:
                return
            row = self.query_one(
                "SELECT capacity, held FROM presale_offers WHERE variant_id = ?", [variant_id]
            )
        left = 0 if row is None else max(row[0] - row[1], 0)
        raise SoldOut(variant_id, quantity, left)

    def _reserve_many(self, pledges: Sequence[Pledge]) -> list[SoldOut | None]:
        """Reserve the units of each pledge in order; for each, None or the ``SoldOut``.

        One pledge: the guarded update. More: the offers' rows are read (locked until commit
        where the backend locks rows; SQLite's ``BEGIN IMMEDIATE`` already holds the only write
        lock), each pledge is decided in order, and each variant's counter grows once by what
        its pledges took, through the same guarded update.
        """
        if len(pledges) == 1:
            try:
                self._reserve(pledges[0].variant_id, pledges[0].quantity)
            except SoldOut as ex:
                return [ex]
            return [None]
        variants = sorted({p.variant_id for p in pledges})
        for_update = self.store.FOR_UPDATE
        room: dict[int, int | None] = {}
        for chunk in range(0, len(variants), _ROWS_PER_STATEMENT):
            part = variants[chunk : chunk + _ROWS_PER_STATEMENT]
            for variant_id, capacity, held in self.query(
                "SELECT variant_id, capacity, held FROM presale_offers "
                f"WHERE variant_id IN ({_marks(part)}){for_update}",
                part,
            ):
                room[variant_id] = None if capacity is None else capacity - held
        taken = dict.fromkeys(variants, 0)
        refused: list[SoldOut | None] = []
        for pledge in pledges:
            variant_id, quantity = pledge.variant_id, pledge.quantity
            left = room.get(variant_id, 0)
            if left is None or taken[variant_id] + quantity <= left:
                taken[variant_id] += quantity
                refused.append(None)
            else:
                refused.append(SoldOut(variant_id, quantity, max(left - taken[variant_id], 0)))
        for variant_id, quantity in taken.items():
            if quantity:
                changed = self.execute(
                    "UPDATE presale_offers SET held = held + ? "
                    "WHERE variant_id = ? AND (capacity IS NULL OR held + ? <= capacity)",
                    [quantity, variant_id, quantity],
                )
                if changed != 1:  # the rows were read under the lock: cannot happen
                    raise RuntimeError(f"the capacity of variant {variant_id} changed under lock")
        return refused

    def _release(self, variant_id: int, quantity: int) -> None:
        self.execute(
            "UPDATE presale_offers SET held = held - ? WHERE variant_id = ?",
            [quantity, variant_id],
        )

    def insert_pledge(self, pledge: Pledge, reason: str) -> Pledge:
        """Insert a pledge (in one of ``INITIAL_STATES``) and record its first state.

        A pledge inserted ``placed`` holds its units: reserved by the guarded update of the
        offer's counter in the same transaction, or ``SoldOut`` (with the units left) and nothing
        stored. A ``waitlisted`` pledge holds nothing. The first state is recorded in the
        pledge's row (``opening``), read back by ``transitions``.
        """
        if pledge.state not in INITIAL_STATES:
            raise IllegalPledgeTransition(None, pledge.state)
        now = self.store.now()
        with self.store.transaction():
            if pledge.state in HOLDING:
                self._reserve(pledge.variant_id, pledge.quantity)
            pledge_id = self.insert_returning(
                f"INSERT INTO pledges ({_INSERT_COLUMNS}) VALUES ({_marks(range(15))}) "
                "RETURNING id",
                [
                    pledge.campaign_id,
                    pledge.variant_id,
                    pledge.customer,
                    pledge.quantity,
                    pledge.region,
                    pledge.key,
                    pledge.fingerprint,
                    pledge.state,
                    pledge.currency,
                    pledge.unit_price,
                    pledge.deposit_per_unit,
                    pledge.credit_per_unit,
                    now,
                    now,
                    _opening(((None, pledge.state, reason),)),
                ],
            )
        return attrs.evolve(pledge, id=pledge_id, created_at=now, updated_at=now)

    def insert_reserved(self, pledge: Pledge, captured: bool = False) -> Pledge:
        """Store a new pledge whose units ``placing_reserve`` held and whose id it gave
        (``pledge.id``): ``committed`` (moves ``pledged`` then ``deposit captured``) with
        ``captured``, else ``placed``; returned with its state and times.

        Sent with the next round trip (``execute_later``): a concurrent writer that stored the
        campaign's ``key`` first makes that round trip raise the store's ``UniqueViolation``,
        and the transaction rolls back.
        """
        now = self.store.now()
        state, opening = _CAPTURED if captured else _PLACED
        p = pledge
        self.execute_later(
            _INSERT_NUMBERED,
            [p.id, p.campaign_id, p.variant_id, p.customer, p.quantity, p.region, p.key,
             p.fingerprint, state, p.currency, p.unit_price, p.deposit_per_unit,
             p.credit_per_unit, now, now, opening],
        )  # fmt: skip
        return Pledge(
            p.id, p.campaign_id, p.variant_id, p.customer, p.quantity, p.region, p.key,
            p.fingerprint, state, p.currency, p.unit_price, p.deposit_per_unit,
            p.credit_per_unit, now, now, p.personalisation,
        )  # fmt: skip

    def insert_pledges(
        self, pledges: Sequence[Pledge], waitlist: bool = False, captured: bool = False
    ) -> list[Pledge | SoldOut | None]:
        """Store new ``placed`` pledges, in order, with their transitions; one result each.

        Each reserves its units as ``insert_pledge`` does (the guarded counter update, in the
        order given). One that does not fit is stored ``waitlisted`` when ``waitlist`` (reason
        ``over capacity (N left)``); otherwise it is not stored and its result is the
        ``SoldOut``. With ``captured``, a pledge that holds units is stored ``committed`` (moves
        ``pledged`` then ``deposit captured``): the caller records its deposit's capture in this
        same transaction. A pledge whose idempotency key the campaign already has (another
        writer stored it first) is not stored, its units are freed, and its result is None.
        Returned pledges carry their ids and times; nothing is read back.

        The writes: the counter update (one per variant), then one multi-row ``INSERT`` per
        500 pledges, each row carrying its opening transitions (``opening``).
        """
        now = self.store.now()
        results: list[Pledge | SoldOut | None] = []
        openings: list[tuple[str, str]] = []  # per stored result: (state, opening)
        placed = _CAPTURED if captured else _PLACED
        with self.store.transaction():
            for pledge in pledges:
                if pledge.state != PLACED:
                    raise IllegalPledgeTransition(None, pledge.state)
            refused = self._reserve_many(pledges)
            for pledge, ex in zip(pledges, refused, strict=True):
                if ex is None:
                    results.append(pledge)
                    openings.append(placed)
                elif waitlist:
                    reason = f"over capacity ({ex.units_left} left)"
                    results.append(pledge)
                    openings.append((WAITLISTED, _opening(((None, WAITLISTED, reason),))))
                else:
                    results.append(ex)
            storing = [(i, p) for i, p in enumerate(results) if isinstance(p, Pledge)]
            ids: dict[str, int] = {}
            row = f"({_marks(range(15))})"
            for chunk in range(0, len(storing), _ROWS_PER_STATEMENT):
                part = storing[chunk : chunk + _ROWS_PER_STATEMENT]
                params: list = []
                for (_, p), (state, opening) in zip(
                    part, openings[chunk : chunk + len(part)], strict=True
                ):
                    params += [p.campaign_id, p.variant_id, p.customer, p.quantity, p.region,
                               p.key, p.fingerprint, state, p.currency, p.unit_price,
                               p.deposit_per_unit, p.credit_per_unit, now, now,
                               opening]  # fmt: skip
                rows = self.query(
                    f"INSERT INTO pledges ({_INSERT_COLUMNS}) VALUES "
                    + ", ".join([row] * len(part))
                    + " ON CONFLICT (campaign_id, idempotency_key) DO NOTHING"
                    " RETURNING id, idempotency_key",
                    params,
                )
                ids.update((key, pledge_id) for pledge_id, key in rows)
            for (index, p), (state, _) in zip(storing, openings, strict=True):
                pledge_id = ids.get(p.key)
                if pledge_id is None:  # lost the key to a concurrent writer
                    if state in HOLDING:
                        self._release(p.variant_id, p.quantity)
                    results[index] = None
                    continue
                results[index] = Pledge(
                    pledge_id, p.campaign_id, p.variant_id, p.customer, p.quantity, p.region,
                    p.key, p.fingerprint, state, p.currency, p.unit_price, p.deposit_per_unit,
                    p.credit_per_unit, now, now, p.personalisation,
                )  # fmt: skip
        return results

    def move_pledge(self, pledge_id: int, old: str, new: str, reason: str) -> bool:
        """Move a pledge ``old`` -> ``new`` and record it; False when it was no longer ``old``.

        Only moves in ``TRANSITIONS`` are made (``IllegalPledgeTransition`` otherwise). A move
        into a holding state reserves the pledge's units (``SoldOut`` when they no longer fit,
        nothing changed); a move out of one frees them. The pledge's state check and the
        counter's change are made together or not at all.
        """
        if new not in TRANSITIONS.get(old, ()):
            raise IllegalPledgeTransition(old, new)
        now = self.store.now()
        with self.store.transaction():
            row = self.query_one(
                "SELECT variant_id, quantity FROM pledges WHERE id = ? AND state = ?",
                [pledge_id, old],
            )
            if row is None:
                return False
            variant_id, quantity = row
            # The offer's row before the pledge's: every writer locks them in that order, so a
            # cancel that promotes a waiting pledge cannot deadlock with one cancelling it.
            self.query_one(
                f"SELECT 1 FROM presale_offers WHERE variant_id = ?{self.store.FOR_UPDATE}",
                [variant_id],
            )
            takes, frees = (
                old not in HOLDING and new in HOLDING,
                old in HOLDING and new not in HOLDING,
            )
            if takes:
                self._reserve(variant_id, quantity)
            changed = self.execute(
                "UPDATE pledges SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
                [new, now, pledge_id, old],
            )
            if changed != 1:  # lost a race on a backend where the read did not lock
                if takes:
                    self._release(variant_id, quantity)
                return False
            if frees:
                self._release(variant_id, quantity)
            self._transition(pledge_id, old, new, reason, now)
        return True

    def _transition(self, pledge_id, old, new, reason, now) -> None:
        self.execute(
            "INSERT INTO pledge_transitions (pledge_id, from_state, to_state, reason, at) "
            "VALUES (?, ?, ?, ?, ?)",
            [pledge_id, old, new, reason, now],
        )

    def transitions(self, pledge_id: int) -> list[Transition]:
        """Every state the pledge went through, oldest first: those recorded in its row when it
        was stored (``opening``, at ``created_at``), then the later moves."""
        found = self.query_one("SELECT opening, created_at FROM pledges WHERE id = ?", [pledge_id])
        opening = []
        if found is not None and found[0] is not None:
            opening = [
                Transition(pledge_id, old, new, reason, found[1])
                for old, new, reason in json.loads(found[0])
            ]
        rows = self.query(
            "SELECT pledge_id, from_state, to_state, reason, at FROM pledge_transitions "
            "WHERE pledge_id = ? ORDER BY id",
            [pledge_id],
        )
        return opening + [Transition(*row) for row in rows]

    def pledge(self, pledge_id: int) -> Pledge | None:
        found = self._pledges("id = ?", [pledge_id])
        return found[0] if found else None

    def pledge_by_key(self, campaign_id: int, key: str) -> Pledge | None:
        found = self._pledges("campaign_id = ? AND idempotency_key = ?", [campaign_id, key])
        return found[0] if found else None

    def pledges_by_keys(self, campaign_id: int, keys: Sequence[str]) -> dict[str, Pledge]:
        """The campaign's pledges with any of these idempotency ``keys``, by key."""
        found: dict[str, Pledge] = {}
        unique = list(dict.fromkeys(keys))
        for chunk in range(0, len(unique), _ROWS_PER_STATEMENT):
            part = unique[chunk : chunk + _ROWS_PER_STATEMENT]
            for pledge in self._pledges(
                f"campaign_id = ? AND idempotency_key IN ({_marks(part)})", [campaign_id, *part]
            ):
                found[pledge.key] = pledge
        return found

    def pledges(
        self, campaign_id: int, variant_id: int | None = None, states: tuple[str, ...] = ()
    ) -> list[Pledge]:
        """A campaign's pledges, oldest first (that is waitlist order)."""
        params: list[object]
        if variant_id is not None and states == (WAITLISTED,):
            # the partial index of waiting pledges: what every cancel of an open pre-sale reads
            return self._pledges(f"variant_id = ? AND state = '{WAITLISTED}'", [variant_id])
        where, params = ["campaign_id = ?"], [campaign_id]
        if variant_id is not None:
            where.append("variant_id = ?")
            params.append(variant_id)
        if states:
            where.append(f"state IN ({_marks(states)})")
            params.extend(states)
        return self._pledges(" AND ".join(where), params)

    def _pledges(self, where: str, params) -> list[Pledge]:
        rows = self.query(
            f"SELECT {_PLEDGE_COLUMNS} FROM pledges WHERE {where} ORDER BY id", params
        )
        return [Pledge(*row) for row in rows]

    # Payments and refunds ------------------------------------------------------------------------

    def insert_payment(
        self, pledge: Pledge, kind: str, amount: Money, provider: str, key: str
    ) -> Payment:
        now = self.store.now()
        payment_id = self.insert_returning(
            "INSERT INTO payments (pledge_id, campaign_id, kind, amount, currency, provider, "
            "idempotency_key, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "RETURNING id",
            [pledge.id, pledge.campaign_id, kind, amount.amount, amount.currency, provider, key,
             PENDING, now, now],
        )  # fmt: skip
        payment = self.payment(payment_id)
        assert payment is not None
        return payment

    def insert_payments(
        self,
        intents: Sequence[tuple[Pledge, str, Money, str, str]],
        captured: Sequence[tuple[str, str]] | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[Payment]:
        """``insert_payment`` for many ``(pledge, kind, amount, provider, key)``, in order, in as
        few statements as the backend allows; nothing is read back.

        With ``captured`` (one ``(authorization, reference)`` per intent, from a provider that
        captured them inside this transaction), each is stored ``succeeded`` at its first
        attempt instead of ``pending``: one write instead of an insert and an update. With
        ``ids`` (one per intent, from ``next_id``, as ``placing_reserve`` gives them) the
        payments get those ids and are sent with the next round trip (``execute_later``).
        """
        ids = self._write_payments(intents, captured, ids)
        state, attempts = (PENDING, 0) if captured is None else (SUCCEEDED, 1)
        answers = [(None, None)] * len(intents) if captured is None else captured
        return [
            Payment(
                payment_id,
                pledge.id or 0,
                pledge.campaign_id,
                kind,
                amount,
                provider,
                key,
                state,
                attempts,
                authorization,
                reference,
            )  # fmt: skip
            for payment_id, (pledge, kind, amount, provider, key), (
                authorization,
                reference,
            ) in zip(ids, intents, answers, strict=True)
        ]

    def insert_captured_payments(
        self,
        intents: Sequence[tuple[Pledge, str, Money, str, str]],
        captured: Sequence[tuple[str, str]],
        ids: Sequence[int] | None = None,
    ) -> list[int]:
        """``insert_payments`` with ``captured``, answering only the new payments' ids, in order
        (for a caller that holds every other field already)."""
        return self._write_payments(intents, captured, ids)

    def _write_payments(
        self,
        intents: Sequence[tuple[Pledge, str, Money, str, str]],
        captured: Sequence[tuple[str, str]] | None,
        numbered: Sequence[int] | None = None,
    ) -> list[int]:
        if captured is not None and len(captured) != len(intents):
            raise ValueError("captured needs one (authorization, reference) per intent")
        if numbered is not None:
            return self._write_numbered_payments(intents, captured, numbered)
        now = self.store.now()
        state, attempts = (PENDING, 0) if captured is None else (SUCCEEDED, 1)
        ids: list[int] = []
        row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        with self.store.transaction():
            for chunk in range(0, len(intents), _ROWS_PER_STATEMENT):
                part = intents[chunk : chunk + _ROWS_PER_STATEMENT]
                answers = (
                    [(None, None)] * len(part)
                    if captured is None
                    else captured[chunk : chunk + _ROWS_PER_STATEMENT]
                )
                params: list = []
                for (pledge, kind, amount, provider, key), (authorization, reference) in zip(
                    part, answers, strict=True
                ):
                    assert pledge.id is not None, "payments are for stored pledges"
                    params += [pledge.id, pledge.campaign_id, kind, amount.amount,
                               amount.currency, provider, key, state, attempts, authorization,
                               reference, now, now]  # fmt: skip
                rows = self.query(
                    "INSERT INTO payments (pledge_id, campaign_id, kind, amount, currency, "
                    "provider, idempotency_key, state, attempts, authorization, reference, "
                    "created_at, updated_at) VALUES "
                    + ", ".join([row] * len(part))
                    + " RETURNING id, idempotency_key",
                    params,
                )
                by_key = dict((key, payment_id) for payment_id, key in rows)
                ids += [by_key[intent[4]] for intent in part]
        return ids

    def _write_numbered_payments(
        self,
        intents: Sequence[tuple[Pledge, str, Money, str, str]],
        captured: Sequence[tuple[str, str]] | None,
        numbered: Sequence[int],
    ) -> list[int]:
        if len(numbered) != len(intents):
            raise ValueError("ids needs one id per intent")
        now = self.store.now()
        state, attempts = (PENDING, 0) if captured is None else (SUCCEEDED, 1)
        answers = [(None, None)] * len(intents) if captured is None else captured
        row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        with self.store.transaction():
            for chunk in range(0, len(intents), _ROWS_PER_STATEMENT):
                part = range(chunk, min(chunk + _ROWS_PER_STATEMENT, len(intents)))
                params: list = []
                for index in part:
                    pledge, kind, amount, provider, key = intents[index]
                    authorization, reference = answers[index]
                    assert pledge.id is not None, "payments are for stored pledges"
                    params += [numbered[index], pledge.id, pledge.campaign_id, kind,
                               amount.amount, amount.currency, provider, key, state, attempts,
                               authorization, reference, now, now]  # fmt: skip
                self.execute_later(
                    "INSERT INTO payments (id, pledge_id, campaign_id, kind, amount, currency, "
                    "provider, idempotency_key, state, attempts, authorization, reference, "
                    "created_at, updated_at) VALUES " + ", ".join([row] * len(part)),
                    params,
                )
        return list(numbered)

    def payments_succeeded(self, captures: Sequence[tuple[int, str, str]]) -> int:
        """``payment_succeeded`` for many ``(payment_id, authorization, reference)``; how many
        were recorded now (those already succeeded are left alone)."""
        now = self.store.now()
        with self.store.transaction():
            return self.executemany(
                "UPDATE payments SET state = ?, authorization = ?, reference = ?, error = NULL, "
                "attempts = attempts + 1, updated_at = ? WHERE id = ? AND state != ?",
                [(SUCCEEDED, a, r, now, payment_id, SUCCEEDED) for payment_id, a, r in captures],
            )

    def payment(self, payment_id: int) -> Payment | None:
        found = self._payments("id = ?", [payment_id])
        return found[0] if found else None

    def payment_for(self, pledge_id: int, kind: str) -> Payment | None:
        found = self._payments("pledge_id = ? AND kind = ?", [pledge_id, kind])
        return found[0] if found else None

    def payments(
        self, campaign_id: int, states: tuple[str, ...] = (), kind: str | None = None
    ) -> list[Payment]:
        where, params = ["campaign_id = ?"], list[object]([campaign_id])
        if states:
            where.append(f"state IN ({_marks(states)})")
            params.extend(states)
            if SUCCEEDED not in states:  # the same term as the index's, so it may be used
                where.append(f"state != '{SUCCEEDED}'")
        if kind:
            where.append("kind = ?")
            params.append(kind)
        return self._payments(" AND ".join(where), params)

    def payment_succeeded(self, payment_id: int, authorization: str, reference: str) -> bool:
        """Record a capture; False when it was already recorded (nothing counts twice)."""
        changed = self.execute(
            "UPDATE payments SET state = ?, authorization = ?, reference = ?, error = NULL, "
            "attempts = attempts + 1, updated_at = ? WHERE id = ? AND state != ?",
            [SUCCEEDED, authorization, reference, self.store.now(), payment_id, SUCCEEDED],
        )
        return changed == 1

    def payment_failed(self, payment_id: int, authorization: str | None, error: str) -> bool:
        """Record a failed attempt (keeping any authorization); False if it had succeeded."""
        changed = self.execute(
            "UPDATE payments SET state = ?, authorization = COALESCE(?, authorization), "
            "error = ?, attempts = attempts + 1, updated_at = ? WHERE id = ? AND state != ?",
            [FAILED, authorization, error, self.store.now(), payment_id, SUCCEEDED],
        )
        return changed == 1

    def _payments(self, where: str, params) -> list[Payment]:
        rows = self.query(
            f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE {where} ORDER BY id", params
        )
        return [Payment(r[0], r[1], r[2], r[3], Money(r[4], r[5]), *r[6:]) for r in rows]

    def insert_refund(self, payment: Payment, amount: Money, reason: str) -> Refund:
        now = self.store.now()
        refund_id = self.insert_returning(
            "INSERT INTO refunds (payment_id, pledge_id, campaign_id, amount, currency, provider, "
            "idempotency_key, reason, state, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [payment.id, payment.pledge_id, payment.campaign_id, amount.amount, amount.currency,
             payment.provider, f"{payment.key}:refund", reason, PENDING, now, now],
        )  # fmt: skip
        refund = self.refund(refund_id)
        assert refund is not None
        return refund

    def refund(self, refund_id: int) -> Refund | None:
        found = self._refunds("id = ?", [refund_id])
        return found[0] if found else None

    def refund_for(self, payment_id: int) -> Refund | None:
        found = self._refunds("payment_id = ?", [payment_id])
        return found[0] if found else None

    def refunds(
        self, campaign_id: int, states: tuple[str, ...] = (), pledge_id: int | None = None
    ) -> list[Refund]:
        where, params = ["campaign_id = ?"], list[object]([campaign_id])
        if pledge_id is not None:
            where.append("pledge_id = ?")
            params.append(pledge_id)
        if states:
            where.append(f"state IN ({_marks(states)})")
            params.extend(states)
        return self._refunds(" AND ".join(where), params)

    def refund_succeeded(self, refund_id: int, reference: str) -> bool:
        changed = self.execute(
            "UPDATE refunds SET state = ?, reference = ?, error = NULL, attempts = attempts + 1, "
            "updated_at = ? WHERE id = ? AND state != ?",
            [SUCCEEDED, reference, self.store.now(), refund_id, SUCCEEDED],
        )
        return changed == 1

    def refund_failed(self, refund_id: int, error: str) -> bool:
        changed = self.execute(
            "UPDATE refunds SET state = ?, error = ?, attempts = attempts + 1, updated_at = ? "
            "WHERE id = ? AND state != ?",
            [FAILED, error, self.store.now(), refund_id, SUCCEEDED],
        )
        return changed == 1

    def _refunds(self, where: str, params) -> list[Refund]:
        rows = self.query(
            f"SELECT {_REFUND_COLUMNS} FROM refunds WHERE {where} ORDER BY id", params
        )
        return [Refund(r[0], r[1], r[2], r[3], Money(r[4], r[5]), *r[6:]) for r in rows]

    # The default provider's ledger ----------------------------------------------------------------

    def ledger_record(
        self,
        provider: str,
        operation: str,
        key: str,
        amount: Money,
        campaign_id: int | None = None,
        pledge_id: int | None = None,
    ) -> str:
        """Record one money movement once per (provider, operation, key); return its reference.

        The same key again returns the first reference and records nothing: that is what makes
        retrying a provider call safe.
        """
        return self.ledger_record_many(
            provider, [(operation, key, amount, campaign_id, pledge_id)]
        )[0]

    def ledger_record_many(
        self, provider: str, movements: list[tuple[str, str, Money, int | None, int | None]]
    ) -> list[str]:
        """``ledger_record`` for many ``(operation, key, amount, campaign_id, pledge_id)`` in one
        statement; one reference per movement, in order.

        A reference names the provider, the operation and the key, so a new entry needs no read
        back; a key recorded before returns the reference stored with it.
        """
        if not movements:
            return []
        now = self.store.now()
        references = [f"{provider}-{operation}-{key}" for operation, key, *_ in movements]
        params: list = []
        for (operation, key, amount, campaign_id, pledge_id), reference in zip(
            movements, references, strict=True
        ):
            params += [provider, operation, key, campaign_id, pledge_id, amount.amount,
                       amount.currency, reference, now]  # fmt: skip
        with self.store.transaction():
            for chunk in range(0, len(movements), _ROWS_PER_STATEMENT):
                rows = movements[chunk : chunk + _ROWS_PER_STATEMENT]
                changed = self.execute(
                    "INSERT INTO payment_ledger (provider, operation, idempotency_key, "
                    "campaign_id, pledge_id, amount, currency, reference, created_at) VALUES "
                    + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rows))
                    + " ON CONFLICT (provider, operation, idempotency_key) DO NOTHING",
                    params[chunk * 9 : (chunk + len(rows)) * 9],
                )
                if changed != len(rows):  # some were recorded before: their reference
                    for index in range(chunk, chunk + len(rows)):
                        operation, key = movements[index][:2]
                        references[index] = self.query(
                            "SELECT reference FROM payment_ledger WHERE provider = ? AND "
                            "operation = ? AND idempotency_key = ?",
                            [provider, operation, key],
                        )[0][0]
        return references

    def ledger_capture_many(
        self, provider: str, captures: Sequence[tuple[str, Money, int | None, int | None]]
    ) -> list[tuple[str, str]]:
        """Record the authorization and capture of many ``(key, amount, campaign_id,
        pledge_id)`` inside the open transaction, one row each; one ``(authorization,
        reference)`` per capture, in order.

        For a provider that captures in the pledge's transaction: the two movements happen
        together or not at all, so one row (operation ``capture``, with its
        ``authorize_reference``) records both, and ``ledger`` reads it as the two entries.
        Nothing is read back: the rows are sent with the next round trip (``execute_later``),
        and the answers are the references the rows record, ``{provider}-authorize-{key}`` and
        ``{provider}-capture-{key}``. A key captured before is recorded once: it answers the
        same references, which it recorded too (every capture since c2m records its
        references so; one recorded with other references, by a c2m before that, refuses the
        transaction, which then rolls back, rather than answer what it did not record).
        """
        if not captures:
            return []
        now = self.store.now()
        answers = [
            (f"{provider}-authorize-{key}", f"{provider}-capture-{key}") for key, *_ in captures
        ]
        recording = list(zip(captures, answers, strict=True))
        if len({key for key, *_ in captures}) < len(captures):  # each key once: its first
            first: dict[str, tuple] = {}
            for capture in recording:
                first.setdefault(capture[0][0], capture)
            recording = list(first.values())
        with self.store.transaction():
            for chunk in range(0, len(recording), _ROWS_PER_STATEMENT):
                part = recording[chunk : chunk + _ROWS_PER_STATEMENT]
                params: list = []
                for (key, amount, campaign_id, pledge_id), (authorized, captured) in part:
                    params += [provider, key, campaign_id, pledge_id, amount.amount,
                               amount.currency, captured, authorized, now]  # fmt: skip
                self.execute_later(
                    "INSERT INTO payment_ledger (provider, operation, idempotency_key, "
                    "campaign_id, pledge_id, amount, currency, reference, authorize_reference, "
                    "created_at) VALUES "
                    + ", ".join(["(?, 'capture', ?, ?, ?, ?, ?, ?, ?, ?)"] * len(part))
                    + _CAPTURED_BEFORE,
                    params,
                )
        return answers

    def ledger(self, campaign_id: int | None = None) -> list[LedgerEntry]:
        """Ledger entries, oldest first (optionally of one campaign).

        A capture recorded with its authorization (``ledger_capture_many``) reads as two
        entries with its row's id: the authorization, then the capture.
        """
        where, params = ("WHERE campaign_id = ?", [campaign_id]) if campaign_id else ("", [])
        rows = self.query(
            "SELECT id, provider, operation, idempotency_key, campaign_id, pledge_id, amount, "
            f"currency, reference, created_at, authorize_reference FROM payment_ledger {where} "
            "ORDER BY id",
            params,
        )
        entries = []
        for r in rows:
            amount = Money(r[6], r[7])
            if r[10] is not None:
                entries.append(
                    LedgerEntry(r[0], r[1], "authorize", r[3], r[4], r[5], amount, r[10], r[9])
                )
            entries.append(LedgerEntry(r[0], r[1], r[2], r[3], r[4], r[5], amount, r[8], r[9]))
        return entries
