"""The store interface: what a backend implements, one ``Protocol`` per area.

Services reach the store only through these named operations. Every operation takes and returns
attrs records (``Campaign``, ``Variant``, ``Wish``, ``Vote``, ``CastBallot``, ``Handoff``,
``Delivery``, ...), plain values or lists of them: never rows, dicts of columns or JSON text.
This module imports records only, never a service.

**Transactions.** Writes run inside ``Store.transaction()``; nested calls join the outer one
and an exception rolls the whole block back. An operation documented as atomic opens its own
transaction when called outside one. Every state change appends its event inside the same
transaction (``Store.event``).

**Guarantees under concurrent writers.** Several processes (application servers) may use one
database at once. Each operation that guards an invariant says so in its docstring and enforces
it in the database (a unique constraint, a conditional update, a single statement, a row lock),
never by a read in Python followed by a write that another writer could slip between:

- one campaign per slug, one vote per campaign, one current ballot per (vote, voter) with every
  replaced ballot recorded once, one variant per (campaign, key) at a position no other variant
  of the campaign has, one wish per (campaign, external id), one hand-off per (campaign,
  variant), one outbox row per (hand-off, target);
- state transitions (campaign, vote, delivery attempts) are conditional updates from the
  expected state: of two concurrent transitions from one state exactly one succeeds;
- a wish batch is stored only while its campaign is in the required state;
- ``events_since``: a reader following the cursor sees every committed event exactly once, even
  with concurrent writers (event ids follow commit order).

The pre-sale area's Protocol lives with its owner in ``presale_interface.py``.
``docs/store.md`` describes the interface for implementers; ``tests/store_contract/`` is the
suite every implementation passes.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from ..campaigns.records import Campaign
from ..handoff.outbox import Delivery
from ..handoff.records import Document, Handoff
from ..personalisation.records import Upload
from ..variants.records import Variant
from ..voting.result import VoteResult
from ..voting.vote import BallotCount, CastBallot, ReplacedBallot, Vote
from ..wishes.records import (
    CommonTexts,
    DemandGroup,
    NewWish,
    ViolationGroup,
    Wish,
    WishBatch,
)
from .records import Event


@runtime_checkable
class CampaignsArea(Protocol):
    """Campaigns, their state machine and their frozen catalog snapshots."""

    def insert(self, campaign: Campaign) -> Campaign | None:
        """Store a new campaign (its ``id`` is ignored) and return it as stored.

        None, with nothing stored, when the slug is taken: one campaign per slug is a unique
        constraint, so of two concurrent inserts of one slug exactly one succeeds.
        """
        ...

    def get(self, slug: str) -> Campaign | None:
        """The campaign with this slug, or None."""
        ...

    def get_by_id(self, campaign_id: int) -> Campaign | None:
        """The campaign with this id, or None."""
        ...

    def all(self) -> list[Campaign]:
        """Every campaign, by id."""
        ...

    def lock(self, campaign_id: int) -> None:
        """Hold the campaign's row until the transaction ends (``FOR_UPDATE``): a writer that
        reads the campaign's records and then writes what depends on them (a hand-off run)
        locks it first, so concurrent writers of that campaign take turns."""
        ...

    def set_state(self, campaign_id: int, old: str, new: str) -> bool:
        """Move the campaign from state ``old`` to ``new`` in one conditional update.

        False (nothing changed) when its state is no longer ``old``: of concurrent transitions
        from one state exactly one succeeds. It waits for writers holding the campaign row
        shared (``WishesArea.insert_batch``).
        """
        ...

    def update_settings(self, campaign_id: int, expected: Mapping, settings: Mapping) -> bool:
        """Replace the settings with ``settings`` if they still equal ``expected`` and the
        campaign is not closed (one conditional update); False otherwise (read and retry)."""
        ...

    def freeze_catalog(self, campaign_id: int, category: str, digest: str, data: dict) -> None:
        """Attach the catalog snapshot ``data`` (plain data) named by ``digest``.

        Snapshots are stored once per digest and shared between campaigns; concurrent freezes
        of one digest store one snapshot.
        """
        ...

    def catalog_digest(self, campaign_id: int) -> str | None:
        """The digest of the campaign's frozen catalog, None before it was frozen."""
        ...

    def catalog_data(self, campaign_id: int) -> dict | None:
        """The campaign's frozen catalog as plain data, None before it was frozen."""
        ...


@runtime_checkable
class VariantsArea(Protocol):
    """A campaign's variants: complete configurations, in position order."""

    def insert(self, variant: Variant) -> Variant | None:
        """Append a variant at the campaign's next position and return it as stored (its
        ``id`` and ``position`` are assigned; those given are ignored).

        None, with nothing stored, when the campaign has a variant with this ``key``. Under
        concurrent writers every appended variant gets a position no other variant of the
        campaign has, greater than every position committed before it (unique (campaign,
        key) and (campaign, position) constraints; a lost position is tried again).
        """
        ...

    def get(self, variant_id: int) -> Variant | None:
        """The variant with this id, or None."""
        ...

    def by_key(self, campaign_id: int, key: str) -> Variant | None:
        """The campaign's variant with this key, or None."""
        ...

    def for_campaign(self, campaign_id: int, include_withdrawn: bool = False) -> list[Variant]:
        """The campaign's variants by position (without withdrawn ones unless asked)."""
        ...

    def set_withdrawn(self, variant_id: int, withdrawn: bool) -> bool:
        """Withdraw or restore a variant; False when there is no such variant."""
        ...

    def delete_by_source(self, campaign_id: int, source: str) -> list[Variant]:
        """Delete the campaign's variants from ``source``; return them, by position."""
        ...

    def set_covered(self, variant_id: int, covered_quantity: int) -> bool:
        """Record the wished quantity a variant covers; False when there is no such variant."""
        ...


@runtime_checkable
class WishesArea(Protocol):
    """Wishes as submitted (valid or not), and the demand they add up to."""

    def insert_batch(
        self, campaign_id: int, wishes: Sequence[Wish | NewWish], state: str
    ) -> WishBatch | None:
        """Store ``wishes`` for the campaign with a ``wish.submitted`` event each, atomically.

        ``wishes`` are ``Wish`` records or ``NewWish`` tuples (what the intake makes); a
        ``Wish``'s ``id``, ``campaign_id`` and ``created_at`` are ignored (the store assigns
        them). Configurations are stored in the key order given, so give identical wishes in
        one order (the service uses catalog order) for them to collapse in ``demand``.

        The batch is stored only while the campaign is in ``state``: None, with nothing stored,
        otherwise. The state is read with the campaign row locked shared, so a concurrent
        ``set_state`` either waits for the batch or is seen by it. A wish whose external id the
        campaign has already (stored before, by a concurrent writer, or earlier in the batch)
        is skipped: one wish per (campaign, external id) is a unique constraint. A
        ``NewWishes`` batch (an import's) is written column by column as it is.
        """
        ...

    def get(self, wish_id: int) -> Wish | None:
        """The wish with this id, or None."""
        ...

    def get_many(self, wish_ids: Sequence[int]) -> list[Wish]:
        """The stored wishes among ``wish_ids``, by id."""
        ...

    def by_external_id(self, campaign_id: int, external_id: str) -> Wish | None:
        """The campaign's wish with this external id, or None."""
        ...

    def after(self, campaign_id: int, wish_id: int, limit: int | None = None) -> list[Wish]:
        """The campaign's wishes with an id greater than ``wish_id``, by id (a page)."""
        ...

    def recent(self, campaign_id: int, limit: int) -> list[Wish]:
        """The campaign's last ``limit`` wishes, newest first."""
        ...

    def demand(self, campaign_id: int, valid: bool = True) -> list[DemandGroup]:
        """Identical valid (or invalid) wishes collapsed, in a stable order."""
        ...

    def violation_sets(self, campaign_id: int) -> list[ViolationGroup]:
        """Invalid wishes collapsed by their violations, in a stable order."""
        ...

    def count(self, campaign_id: int) -> int:
        """How many wishes the campaign has stored."""
        ...

    def customers(self, campaign_id: int) -> int:
        """How many distinct customer references wished."""
        ...

    def common_texts(self, campaign_id: int, field: str, limit: int) -> CommonTexts:
        """Consumer text of ``field`` (``note`` or ``raw``; ``ValueError`` otherwise): how
        many wishes have it and its ``limit`` most frequent values."""
        ...


@runtime_checkable
class VotingArea(Protocol):
    """One vote per campaign, one current ballot per (vote, voter), replaced ballots kept."""

    def insert(self, vote: Vote) -> Vote | None:
        """Open ``vote`` (state ``open``) and return it as stored; None, with nothing stored,
        when the campaign has a vote already (a unique constraint)."""
        ...

    def for_campaign(self, campaign_id: int) -> Vote | None:
        """The campaign's vote, or None."""
        ...

    def lock(self, vote_id: int) -> None:
        """Inside a transaction, lock the vote until commit: a concurrent ``cast`` (which
        reads the vote shared) waits for it, so a count taken after ``lock`` and stored by
        ``close`` in the same transaction includes every ballot the vote accepted."""
        ...

    def close(self, vote_id: int, result: VoteResult) -> bool:
        """Close an open vote with its result (one conditional update); False when it was
        not open."""
        ...

    def cast(
        self,
        vote_id: int,
        ballots: Sequence[CastBallot],
        count: Callable[[Iterable[tuple[Mapping, int]]], Mapping[str, int]] | None = None,
        texts: Sequence[str] | None = None,
        counted: Mapping[str, int] | None = None,
    ) -> list[CastBallot] | None:
        """Store ``ballots`` (their ``replaced`` is ignored), atomically.

        None, with nothing stored, when the vote does not accept ballots at the store's
        current time (``Vote.window_problem``); the vote row is read locked shared, so a
        concurrent ``close`` either waits for the ballots or is seen by them. Each ballot
        becomes its voter's current one (one per (vote, voter): a primary key) and the ballot
        it replaces, stored before or earlier in ``ballots``, is recorded in the history
        exactly once, also when several writers cast for one voter at the same time. Returns
        ``ballots`` in order, each with ``replaced`` set (None for a voter's first ballot).

        With ``count`` (a method's ``counters`` for the vote), the running tally changes in
        the same transaction by ``count`` of the ballots stored minus ``count`` of the ballots
        they replaced (``(ballot, -1)`` pairs), each counter by one atomic addition: when
        every cast of a vote passes ``count``, ``running_tally`` equals ``count`` of the
        current ballots, also with concurrent writers.

        ``texts``, when given, are the ballots' stored texts (``voting.vote.ballot_text`` of
        each, made by the caller, which often has them already); by default they are encoded
        here. ``counted``, when given with ``count``, is ``count`` of ``ballots`` as the
        caller made it already (an import counts a batch as it reads it): the tally then
        changes by ``counted`` minus ``count`` of the ballots replaced.
        """
        ...

    def cast_first(
        self,
        vote_id: int,
        voters: Sequence[str],
        texts: Sequence[str],
        cast_at: str,
        counters: Mapping[str, int] | None = None,
    ) -> bool | None:
        """Store the ballots of voters who have none yet, atomically: ``texts[i]`` (a stored
        text, ``voting.vote.ballot_text``) becomes ``voters[i]``'s ballot, cast at
        ``cast_at``, and the running tally changes by ``counters`` (the counters of these
        ballots), as one ``cast`` of them would.

        None, with nothing stored, when the vote does not accept ballots now (as ``cast``);
        False, with nothing stored, when a voter is given twice or already has a ballot (then
        ``cast`` stores them, replacing); True when every ballot was stored.
        """
        ...

    def running_tally(self, vote_id: int) -> dict[str, int]:
        """The vote's running tally: counter name -> value, counters at 0 left out."""
        ...

    def ballot(self, vote_id: int, voter: str) -> CastBallot | None:
        """The voter's current ballot, or None."""
        ...

    def ballot_counts(self, vote_id: int) -> list[BallotCount]:
        """Each distinct current ballot with the number of voters holding it."""
        ...

    def count_ballots(self, vote_id: int) -> int:
        """How many voters hold a current ballot."""
        ...

    def ballots(self, vote_id: int) -> Iterator[CastBallot]:
        """Every current ballot, by voter."""
        ...

    def history(self, vote_id: int, voter: str | None = None) -> list[ReplacedBallot]:
        """Replaced ballots (of one voter, or of everyone), in the order they were replaced."""
        ...


@runtime_checkable
class HandoffArea(Protocol):
    """Hand-offs, their documents, the delivery outbox and disabled endpoints."""

    def insert(self, handoff: Handoff, documents: tuple[Document, ...]) -> Handoff | None:
        """Record a hand-off with its documents; None, with nothing stored, when its id or
        its (campaign, variant) is recorded already (unique constraints)."""
        ...

    def get(self, handoff_id: str) -> Handoff | None:
        """The hand-off with this id, or None."""
        ...

    def for_campaign(self, campaign_id: int) -> list[Handoff]:
        """The campaign's hand-offs by position."""
        ...

    def documents(self, handoff_id: str) -> tuple[Document, ...]:
        """The hand-off's documents, byte for byte as recorded, in their order."""
        ...

    def add_delivery(self, handoff_id: str, target: str, idempotency_key: str) -> Delivery | None:
        """Queue the hand-off for ``target`` (``pending``, due now) and return the row; None
        when it is queued already: one row per (hand-off, target) is a unique constraint, so
        concurrent callers queue it once."""
        ...

    def delivery(self, delivery_id: int) -> Delivery | None:
        """The outbox row with this id, or None."""
        ...

    def deliveries(self, campaign_id: int) -> list[Delivery]:
        """The campaign's outbox rows, by hand-off position, then target."""
        ...

    def start_attempt(
        self, delivery_id: int, owner: str, lease_seconds: float, attempts: int
    ) -> bool:
        """Count an attempt and lease the row to ``owner`` for ``lease_seconds``, if it is
        ``pending`` with ``attempts`` attempts so far (one conditional update); False when it
        is not, so of concurrent workers that read the same row exactly one starts."""
        ...

    def record_delivered(self, delivery_id: int, receipt: dict) -> bool:
        """Mark a pending row delivered with the connector's receipt; False when it was not
        pending."""
        ...

    def record_failed(
        self, delivery_id: int, state: str, error: str, retry_in: float = 0.0
    ) -> bool:
        """Record a failed attempt of a pending row: ``pending`` again (due in ``retry_in``
        seconds), ``dead`` or ``disabled``; False when it was not pending."""
        ...

    def revive(self, campaign_id: int) -> list[Delivery]:
        """Put the campaign's dead and disabled rows back to pending (attempts 0, due now)
        in one update; return them as revived."""
        ...

    def disable_endpoint(self, target: str, reason: str) -> None:
        """Remember that ``target`` is disabled (its endpoint answered 410 Gone), and why."""
        ...

    def enable_endpoint(self, target: str) -> None:
        """Forget that ``target`` was disabled."""
        ...

    def disabled_reason(self, target: str) -> str | None:
        """Why and since when ``target`` is disabled; None while it is enabled."""
        ...


@runtime_checkable
class PersonalisationArea(Protocol):
    """Checked uploads (their metadata: the bytes live in the files folder, by sha256) and the
    values a wish or a pledge carries per unit."""

    def add_upload(self, upload: Upload) -> Upload | None:
        """Record a checked upload and return it as stored; None, with nothing changed, when
        one with this sha256 is recorded already. One row per sha256 is a unique key: of
        concurrent writers of one sha256 exactly one gets the upload back."""
        ...

    def upload(self, sha256: str) -> Upload | None:
        """The upload with this sha256, or None."""
        ...

    def insert_units(
        self, owner: str, owner_id: int, campaign_id: int, units: Sequence[Mapping[str, str]]
    ) -> None:
        """Store the per-unit values of one wish or pledge (``owner`` ``wish`` or ``pledge``;
        unit 1 first, an empty mapping for a unit without values), in the transaction that
        stores the owner. One value per (owner, unit, field): a unique key."""
        ...

    def units(self, owner: str, owner_ids: Sequence[int]) -> dict[int, tuple[dict[str, str], ...]]:
        """Owner id -> its units' values (unit 1 first, ``{}`` where a unit has none up to the
        last one that has some), for the owners among ``owner_ids`` that have values."""
        ...


@runtime_checkable
class Store(Protocol):
    """A database with transactions, the event log and one attribute per area."""

    campaigns: CampaignsArea
    variants: VariantsArea
    wishes: WishesArea
    voting: VotingArea
    handoff: HandoffArea
    personalisation: PersonalisationArea
    #: The pre-sale area (``presale_interface.py``, with its owner).
    presale: Any
    #: Returns the current UTC time; ``now()`` formats it.
    clock: Callable[[], datetime.datetime]

    def transaction(self) -> AbstractContextManager[Any]:
        """A write transaction: everything in the block commits together or not at all.

        Nested calls join the outer transaction. An exception inside rolls back and
        propagates.
        """
        ...

    def now(self) -> str:
        """The store clock's current time as UTC ISO 8601 text with microseconds (text order
        is time order): what rows record."""
        ...

    def event(self, type: str, campaign_id: int | None, payload: dict) -> int:
        """Append an event recording a change, inside that change's transaction
        (``RuntimeError`` outside one), and return its id.

        Event ids follow commit order: once a reader has seen an event, every event committed
        later gets a greater id, and no event with a smaller id commits afterwards.
        """
        ...

    def events(self, rows: list[tuple[str, int | None, dict]]) -> None:
        """Append many ``(type, campaign_id, payload)`` events, in order, as ``event`` does each
        (inside the change's transaction; ids in the same order)."""
        ...

    def events_since(
        self,
        cursor: int = 0,
        limit: int = 1000,
        campaign_id: int | None = None,
        types: tuple[str, ...] = (),
    ) -> list[Event]:
        """Committed events with an id greater than ``cursor``, oldest first, at most
        ``limit`` (of one campaign, of some types).

        A reader following ``events_since(cursor)`` (advancing ``cursor`` to the last id it
        handled) sees every committed event exactly once, even with concurrent writers.
        """
        ...

    def last_event_id(self) -> int:
        """The id of the newest committed event, 0 when there is none."""
        ...

    def close(self) -> None:
        """Close the store's connections."""
        ...


AREAS = {
    "campaigns": CampaignsArea,
    "variants": VariantsArea,
    "wishes": WishesArea,
    "voting": VotingArea,
    "handoff": HandoffArea,
    "personalisation": PersonalisationArea,
}

__all__ = [
    "AREAS",
    "CampaignsArea",
    "HandoffArea",
    "PersonalisationArea",
    "Store",
    "VariantsArea",
    "VotingArea",
    "WishesArea",
]
