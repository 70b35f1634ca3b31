"""The hand-off service, reached as ``app.handoff``: plan, record once, deliver exactly once.

``run`` plans a production order per tipped variant, renders its documents and, in one
transaction, stores them, queues one outbox row per (hand-off, target) and moves the campaign to
its ``handoff`` state. Then it delivers. Everything a delivery sends is read back from the store,
so a second run, or a run after a crash, sends the same ids and the same bytes; a delivered row
is never sent again. ``retry`` revives dead and disabled deliveries and tries again.

Demand comes from the pre-sale stage (``app.presale.production_demand``) unless the caller
passes it: a shop that pre-sold elsewhere gives any objects with ``variant``, ``quantity`` and
``by_region`` (see ``plan.DemandLine``).
"""

from __future__ import annotations

import json
import os
import random
import socket
import time
import uuid
from collections.abc import Iterable, Sequence

import attrs

from .. import plugins as _plugins
from ..campaigns.service import IllegalTransition
from ..catalog import Part
from ..errors import C2MError, Conflict, InvalidInput
from ..money import Money
from ..personalisation import ImageField
from ..presale.records import CONFIRMED_STATES
from .connectors import Connector, DeliveryFailed, Package
from .documents import build_documents
from .instructions import UnitInstruction, assign_units
from .outbox import DEAD, DISABLED, PENDING, Delivery, RetryPolicy
from .plan import DemandLine, PlanSettings, ProductionOrder, catalog_parts, plan_order
from .records import (
    STAGE,
    Document,
    Handoff,
    HandoffStatus,
)


def _demand(app, slug: str) -> list:
    """The confirmed demand of campaign ``slug``: the one place hand-off asks pre-sale."""
    return list(app.presale.production_demand(slug))


def _demand_key(variant_id: int | None, by_region) -> dict:
    """Demand as recorded with a hand-off, to compare a later run's demand with."""
    regions = {region: units for region, units in sorted(by_region.items()) if units}
    return {"variant_id": variant_id, "quantity": sum(regions.values()), "by_region": regions}


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class HandoffService:
    """Hand tipped variants to production. Reached as ``app.handoff``.

    ``retry_policy``, ``sleep`` and ``random`` may be replaced (tests, or a shop that never wants
    a request to wait: ``RetryPolicy(max_wait=0)``, then ``retry`` from a worker).
    """

    lease_seconds = 600

    def __init__(self, app):
        self.app = app
        self.retry_policy = RetryPolicy()
        self.sleep = time.sleep
        self.random = random.Random()
        self._connectors: dict[str, Connector] = {}
        self._token = uuid.uuid4().hex[:8]

    # Connectors ---------------------------------------------------------------------------------

    @property
    def connector_types(self) -> dict[str, type[Connector]]:
        """Every registered connector class, by scheme."""
        found, _ = _plugins.collect(
            self.app.pm,
            "register_handoff_connectors",
            app=self.app,
            noun="connector scheme",
            key=lambda kind: kind.scheme,
            accepts=lambda kind: (
                isinstance(kind, type) and issubclass(kind, Connector) and bool(kind.scheme)
            ),
            expected="Connector subclasses with a scheme",
        )
        return found

    def connector(self, target: str) -> Connector:
        """The connector for ``SCHEME:ADDRESS``; ``InvalidInput`` names the known schemes."""
        if target in self._connectors:
            return self._connectors[target]
        scheme, colon, address = str(target).partition(":")
        types = self.connector_types
        if not colon or scheme not in types:
            known = ", ".join(kind.usage or f"{s}:..." for s, kind in sorted(types.items()))
            raise InvalidInput(f"target {target!r} is not one of: {known}")
        connector = types[scheme](address, self.app)
        self._connectors[target] = self._connectors[connector.target] = connector
        return connector

    # Planning -----------------------------------------------------------------------------------

    def plan(self, slug: str, demand: Sequence | None = None) -> list[ProductionOrder]:
        """The production orders ``run`` would record now (nothing is stored)."""
        campaign = self.app.campaigns.get(slug)
        return [order for order, _ in self._prepare(campaign, demand)]

    def demand_from_data(self, slug: str, data) -> list[DemandLine]:
        """Demand from plain data (``--demand FILE``): a list of objects with ``variant`` (id),
        ``by_region`` (region -> units), optional ``quantity`` and ``unit_price``
        (``{"amount": minor units, "currency": "CNY"}``)."""
        if not isinstance(data, list):
            raise InvalidInput(f"demand must be a list of objects, got {type(data).__name__}")
        lines = []
        for index, item in enumerate(data):
            where = f"demand[{index}]"
            if not isinstance(item, dict) or "variant" not in item or "by_region" not in item:
                raise InvalidInput(f"{where} must be an object with 'variant' and 'by_region'")
            variant_id = item["variant"]
            if isinstance(variant_id, bool) or not isinstance(variant_id, int):
                raise InvalidInput(f"{where}.variant must be a variant id, got {variant_id!r}")
            by_region = item["by_region"]
            if not isinstance(by_region, dict):
                raise InvalidInput(f"{where}.by_region must map regions to units")
            price = item.get("unit_price")
            if price is not None:
                try:
                    price = Money(price["amount"], price["currency"])
                except (TypeError, KeyError, ValueError) as ex:
                    raise InvalidInput(
                        f'{where}.unit_price must be {{"amount": minor units, '
                        f'"currency": ISO 4217 code}}, got {price!r} ({ex})'
                    ) from None
            units = [u for u in by_region.values() if isinstance(u, int)]
            lines.append(
                DemandLine(
                    variant=self.app.variants.get(slug, variant_id),
                    quantity=item.get("quantity", sum(units)),
                    by_region=by_region,
                    unit_price=price,
                )
            )
        return lines

    def _lines(self, campaign, demand: Sequence | None) -> list[DemandLine]:
        raw = _demand(self.app, campaign.slug) if demand is None else list(demand)
        lines, seen = [], set()
        for item in raw:
            line = DemandLine.of(item)
            stored = self.app.store.variants.get(line.variant.id)
            if stored is None or stored.campaign_id != campaign.id:
                raise InvalidInput(
                    f"demand names variant {line.variant.id!r}, which is not a variant of "
                    f"campaign {campaign.slug!r}"
                )
            if stored.withdrawn:
                raise InvalidInput(f"demand names variant {stored.id}, which was withdrawn")
            if stored.id in seen:
                raise InvalidInput(f"demand names variant {stored.id} twice; give it once")
            seen.add(stored.id)
            lines.append(attrs.evolve(line, variant=stored))
        if not lines:
            raise InvalidInput(
                f"campaign {campaign.slug!r} has no confirmed demand (no tipped variant): "
                "nothing to hand off"
            )
        return sorted(lines, key=lambda line: (line.variant.position, line.variant.id))

    def _parts(self, category, variant) -> list[Part]:
        default = catalog_parts(category.catalog, variant.configuration)
        result = self.app.pm.hook.build_bill_of_materials(
            app=self.app, category=category, variant=variant, parts=list(default)
        )
        if result is None:
            return default
        parts = list(result)
        for part in parts:
            if not (
                isinstance(part, Part)
                and isinstance(part.number, str)
                and part.number
                and isinstance(part.quantity, int)
                and not isinstance(part.quantity, bool)
                and part.quantity >= 1
            ):
                raise C2MError(
                    "build_bill_of_materials must return Part(number, quantity >= 1) objects, "
                    f"got {part!r}"
                )
        return parts

    def _prepare(self, campaign, demand):
        category = self.app.campaigns.category(campaign)
        settings = PlanSettings.from_campaign(campaign)
        now = self.app.clock()
        prepared = []
        for line in self._lines(campaign, demand):
            order = plan_order(
                campaign.slug,
                category.catalog,
                line,
                settings,
                now,
                parts=self._parts(category, line.variant),
            )
            units = self._units(campaign, category, order) if demand is None else ()
            prepared.append((order, build_documents(self.app, campaign, category, order, units)))
        return prepared

    def _units(self, campaign, category, order: ProductionOrder) -> tuple[UnitInstruction, ...]:
        """The order's personalised units, from its variant's confirmed pledges."""
        if not category.catalog.personalisation:
            return ()
        pledges = self.app.presale.pledges(campaign.slug, order.variant.id, CONFIRMED_STATES)
        digests = {
            value
            for pledge in pledges
            for values in pledge.personalisation
            for name, value in values.items()
            if isinstance(category.catalog.personalisation_field(name), ImageField)
        }
        uploads = {digest: self.app.personalisation.get_upload(digest) for digest in digests}
        return assign_units(order, category.catalog, pledges, uploads)

    # Running ------------------------------------------------------------------------------------

    def run(self, slug: str, targets: Sequence[str], demand: Sequence | None = None):
        """Hand campaign ``slug`` off (once) and deliver it to every target.

        A pre-sale past its deadline is closed first, in its own transactions (its refunds and
        notifications never depend on the hand-off's transaction committing).

        The first run plans and records the hand-offs and moves the campaign to ``handoff``;
        later runs reuse what was recorded (``demand``, when given again, must match). Targets
        new to a hand-off are queued; delivered ones are not sent again. Returns the status.
        """
        if isinstance(targets, str) or not targets:
            raise InvalidInput("give at least one target, e.g. dir:./handoff or webhook:URL")
        connectors = [self.connector(target) for target in targets]
        app, store = self.app, self.app.store
        if store.in_transaction:
            raise C2MError(
                "handoff run delivers to the factory after its records are committed, so it must "
                "run outside a transaction"
            )
        if demand is None:
            app.presale.settle_due(slug)  # its own transactions, before the hand-off's
        with store.transaction():
            campaign = app.campaigns.get(slug)
            store.campaigns.lock(campaign.id)  # concurrent runs take turns, on every backend
            campaign = app.campaigns.get(slug)
            handoffs = store.handoff.for_campaign(campaign.id)
            if handoffs:
                if demand is not None:
                    self._check_same_demand(campaign, handoffs, demand)
            else:
                handoffs = self._record(campaign, demand)
            for handoff in handoffs:
                for connector in connectors:
                    if store.handoff.add_delivery(
                        handoff.id, connector.target, handoff.idempotency_key
                    ):
                        store.event(
                            "handoff.queued",
                            campaign.id,
                            {"handoff_id": handoff.id, "target": connector.target},
                        )
        return self.deliver(slug, targets=[c.target for c in connectors])

    def _record(self, campaign, demand) -> list[Handoff]:
        if STAGE not in campaign.stages:
            raise IllegalTransition(
                f"campaign {campaign.slug!r} does not use the {STAGE} stage "
                f"(its stages: {', '.join(campaign.stages)})"
            )
        store = self.app.store
        handoffs = []
        for position, (order, documents) in enumerate(self._prepare(campaign, demand), 1):
            record = json.loads(next(d for d in documents if d.kind == "json").content)
            handoff = store.handoff.insert(
                Handoff(
                    id=order.handoff_id,
                    campaign_id=campaign.id,
                    variant_id=order.variant.id,
                    position=position,
                    quantity=order.quantity,
                    due_date=order.due_date.isoformat(),
                    demand=_demand_key(
                        order.variant.id, {d.region: d.confirmed for d in order.destinations}
                    ),
                    record=record,
                    sha256=record["sha256"],
                ),
                documents,
            )
            if handoff is None:
                raise Conflict(
                    f"campaign {campaign.slug!r} was handed off by a concurrent run; "
                    "run the command again to deliver it"
                )
            store.event(
                "handoff.created",
                campaign.id,
                {
                    "handoff_id": handoff.id,
                    "variant_id": handoff.variant_id,
                    "quantity": handoff.quantity,
                    "due_date": handoff.due_date,
                    "sha256": handoff.sha256,
                },
            )
            handoffs.append(handoff)
        if campaign.state != STAGE:
            self.app.campaigns.advance(campaign.slug, to=STAGE)
        return handoffs

    def _check_same_demand(self, campaign, handoffs, demand) -> None:
        given = sorted(
            (_demand_key(line.variant.id, line.by_region) for line in map(DemandLine.of, demand)),
            key=lambda d: d["variant_id"],
        )
        recorded = sorted((h.demand for h in handoffs), key=lambda d: d["variant_id"])
        if given != recorded:
            raise InvalidInput(
                f"campaign {campaign.slug!r} was handed off on {handoffs[0].created_at} with "
                f"other demand ({recorded}); a hand-off is final, the demand given now "
                f"({given}) cannot replace it"
            )

    # Delivering ---------------------------------------------------------------------------------

    def deliver(self, slug: str, targets: Iterable[str] | None = None, force: bool = False):
        """Attempt every pending delivery of ``slug`` that is due (all of them with ``force``).

        ``targets`` limits which targets are attempted. Returns the status.
        """
        campaign = self.app.campaigns.get(slug)
        wanted = None if targets is None else set(targets)
        now = self.app.store.now()
        for delivery in self.app.store.handoff.deliveries(campaign.id):
            if delivery.state != PENDING or (wanted is not None and delivery.target not in wanted):
                continue
            if force or delivery.next_attempt_at <= now:
                self._deliver(campaign, delivery, self.connector(delivery.target))
        return self.status(slug)

    def retry(self, slug: str):
        """Revive dead and disabled deliveries (re-enabling their endpoints), deliver all now."""
        store = self.app.store
        with store.transaction():
            campaign = self.app.campaigns.get(slug)
            revived = store.handoff.revive(campaign.id)
            for target in sorted({d.target for d in revived}):
                store.handoff.enable_endpoint(target)
            if revived:
                store.event(
                    "handoff.retried",
                    campaign.id,
                    {
                        "deliveries": [
                            {"handoff_id": d.handoff_id, "target": d.target} for d in revived
                        ]
                    },
                )
        return self.deliver(slug, force=True)

    def status(self, slug: str) -> HandoffStatus:
        campaign = self.app.campaigns.get(slug)
        store = self.app.store
        return HandoffStatus(
            slug=campaign.slug,
            state=campaign.state,
            handoffs=tuple(store.handoff.for_campaign(campaign.id)),
            deliveries=tuple(store.handoff.deliveries(campaign.id)),
        )

    def documents(self, handoff_id: str):
        """The stored documents of a hand-off, exactly as every delivery sends them: the
        rendered ones, then each image of its personalised units (``<sha256>.<ext>``, read
        from the files folder; ``DeliveryFailed`` when one is missing or damaged)."""
        documents = self.app.store.handoff.documents(handoff_id)
        handoff = self.app.store.handoff.get(handoff_id)
        if handoff is None:
            return documents
        extra = []
        for image in handoff.record.get("personalisation", {}).get("images", ()):
            try:
                content = self.app.personalisation.content(image["sha256"])
            except C2MError as ex:
                raise DeliveryFailed(
                    f"image {image['file']} of hand-off {handoff_id} cannot be read: {ex}; "
                    f"restore it in {self.app.files_dir}, then `c2m handoff retry`",
                    retryable=False,
                ) from None
            extra.append(Document("image", image["file"], image["media_type"], content))
        return tuple(documents) + tuple(extra)

    def _owner(self) -> str:
        return f"{socket.gethostname()}:{os.getpid()}:{self._token}"

    def _claimable(self, delivery: Delivery, owner: str, now: str) -> bool:
        """Free, ours, expired, or held by a dead process on this host (a crash)."""
        held_by = delivery.lease_owner
        if held_by is None or held_by == owner or (delivery.lease_until or "") < now:
            return True
        host, _, rest = held_by.partition(":")
        pid = rest.partition(":")[0]
        return host == socket.gethostname() and pid.isdigit() and not _process_alive(int(pid))

    def _deliver(self, campaign, delivery: Delivery, connector: Connector) -> None:
        store, policy = self.app.store, self.retry_policy
        owner, waited = self._owner(), 0.0
        try:
            documents = self.documents(delivery.handoff_id)
        except DeliveryFailed as unreadable:
            self._failed(campaign, delivery, unreadable, delivery.attempts + 1)
            return
        while True:
            with store.transaction():
                current = store.handoff.delivery(delivery.id)
                if current.state != PENDING:
                    return
                disabled = store.handoff.disabled_reason(current.target)
                if disabled:
                    store.handoff.record_failed(current.id, DISABLED, disabled)
                    return
                now = store.now()
                if not self._claimable(current, owner, now):
                    return
                if not store.handoff.start_attempt(
                    current.id, owner, self.lease_seconds, current.attempts
                ):
                    return
            attempt = current.attempts + 1
            package = Package(current.handoff_id, current.idempotency_key, documents, attempt)
            try:
                receipt = connector.deliver(package)
            except DeliveryFailed as ex:
                failure = ex
            except Exception as ex:  # a connector's bug: retrying will not fix it
                failure = DeliveryFailed(f"{type(ex).__name__}: {ex}", retryable=False)
            else:
                self._delivered(campaign, current, receipt, attempt)
                return
            delay = self._failed(campaign, current, failure, attempt)
            if delay is None or waited + delay > policy.max_wait:
                return
            waited += delay
            self.sleep(delay)

    def _delivered(self, campaign, delivery: Delivery, receipt, attempt: int) -> None:
        store = self.app.store
        receipt = dict(receipt or {})
        with store.transaction():
            store.handoff.record_delivered(delivery.id, receipt)
            handoff = store.handoff.get(delivery.handoff_id)
            assert handoff is not None  # a delivery belongs to a stored hand-off
            store.event(
                "handoff.delivered",
                campaign.id,
                {
                    "campaign": campaign.slug,
                    "variant_id": handoff.variant_id,
                    "quantity": handoff.quantity,
                    "key": handoff.idempotency_key,
                    "handoff_id": delivery.handoff_id,
                    "target": delivery.target,
                    "attempts": attempt,
                    "receipt": receipt,
                },
            )
            delivered = store.handoff.delivery(delivery.id)
            store.after_commit(
                lambda: self.app.pm.hook.handoff_delivered(
                    app=self.app, campaign=campaign, handoff=handoff, delivery=delivered
                )
            )

    def _failed(self, campaign, delivery, failure: DeliveryFailed, attempt) -> float | None:
        """Record a failed attempt; the seconds until the next one, None when final."""
        store, policy = self.app.store, self.retry_policy
        payload = {
            "handoff_id": delivery.handoff_id,
            "target": delivery.target,
            "attempt": attempt,
            "error": str(failure),
        }
        with store.transaction():
            if failure.disable:
                store.handoff.disable_endpoint(delivery.target, str(failure))
                store.handoff.record_failed(delivery.id, DISABLED, str(failure))
                store.event("handoff.endpoint_disabled", campaign.id, payload)
                return None
            if not failure.retryable or attempt >= policy.max_attempts:
                store.handoff.record_failed(delivery.id, DEAD, str(failure))
                store.event("handoff.dead_lettered", campaign.id, payload)
                return None
            delay = policy.delay(attempt, self.random, failure.retry_after)
            store.handoff.record_failed(delivery.id, PENDING, str(failure), delay)
            store.event("handoff.attempt_failed", campaign.id, payload | {"retry_in": delay})
        return delay
