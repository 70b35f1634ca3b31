"""A shop backend embedding c2m: wishes, ballots, pledges and events over HTTP, with Flask.

Run it (the brand team creates campaigns with the ``c2m`` command on the same database)::

    pip install 'c2m[examples]'
    python examples/shop_backend.py --db c2m.db --port 8000

Endpoints (JSON in and out; the shop's own login decides who the customer is, here the body
says so):

    POST /campaigns/SLUG/wishes           {"customer", "configuration", "quantity", ...}
                                          optional header Idempotency-Key: the shop's wish id
    PUT  /campaigns/SLUG/ballots/VOTER    the ballot: {"choice": 3}, {"rank": "3>1=2"}, ...
    POST /campaigns/SLUG/pledges          {"variant", "customer", "quantity", "region"}
                                          header Idempotency-Key: the shop's order id
    GET  /campaigns/SLUG/variants         what is on offer
    GET  /campaigns/SLUG/presale          progress per variant (a read: past its deadline it
                                          says due_to_close until something settles it)
    POST /settle                          close every pre-sale past its deadline (a cron job or
                                          a worker calls it; placing a pledge settles too)
    GET  /events?after=CURSOR&limit=N[&campaign=SLUG][&type=pledge.placed...]

c2m is loaded once (plugins, catalogs, configuration engines) and each request works on its own
``for_thread()`` copy with its own SQLite connection, so any threaded WSGI server works; several
worker processes on one database are safe too (the database enforces the invariants).
``ShopHooks`` shows a hook implementation reacting to ``variant_tipped`` in code.
"""

from __future__ import annotations

import argparse
import threading

from flask import Flask, g, jsonify, request

from c2m_core import (
    C2M,
    C2MError,
    CancellationRefused,
    IdempotencyConflict,
    IllegalTransition,
    InvalidInput,
    NoVote,
    PresaleClosed,
    SoldOut,
    StoreError,
    UnknownCampaign,
    UnknownCategory,
    UnknownPledge,
    hookimpl,
)
from c2m_core.presale.records import CONFIRMED_STATES

#: HTTP status for each c2m error; the first match wins, so subclasses come before their bases.
STATUS = (
    ((UnknownCampaign, UnknownPledge, NoVote, UnknownCategory), 404),
    ((IdempotencyConflict, SoldOut, IllegalTransition, PresaleClosed, CancellationRefused), 409),
    ((InvalidInput,), 400),
    ((StoreError,), 503),
    ((C2MError,), 500),
)
WISH_FIELDS = ("customer", "configuration", "quantity", "region", "price_ceiling", "note", "raw")


class BadRequest(Exception):
    """The request itself is malformed (not a JSON object, a required part missing)."""


class ShopHooks:
    """Reacts to c2m's notifications in this process: tell backers their variant is made.

    A real shop would queue an e-mail here; this one keeps the messages in ``outbox``. Hooks
    fire in the process that made the change: a pre-sale closed from the ``c2m`` command line
    notifies that process's plugins, so a backend that must not miss one follows the
    ``variant.tipped`` events as well (``GET /events``).
    """

    def __init__(self):
        self.outbox: list[dict] = []
        self._lock = threading.Lock()  # hooks run on the request threads

    @hookimpl
    def variant_tipped(self, app, campaign, variant, units):
        backers = app.presale.pledges(campaign.slug, variant.id, CONFIRMED_STATES)
        with self._lock:
            for pledge in backers:
                self.outbox.append(
                    {
                        "to": pledge.customer,
                        "order": pledge.key,
                        "subject": f"{variant.name} will be made: {units} units pledged",
                        "balance_due": pledge.amounts.balance.amount,
                        "currency": pledge.currency,
                    }
                )


def status_of(error: C2MError) -> int:
    return next(code for kinds, code in STATUS if isinstance(error, kinds))


def create_app(db_path=None, hooks: ShopHooks | None = None, **c2m_options) -> Flask:
    """The web app. ``c2m_options`` go to ``C2M`` (``plugins``, ``clock``, ...)."""
    hooks = hooks or ShopHooks()
    plugins = [hooks, *c2m_options.pop("plugins", ())]
    loaded = C2M(db_path, plugins=plugins, **c2m_options)  # plugins load once, here
    web = Flask(__name__)
    web.extensions["c2m"] = loaded
    web.extensions["shop_hooks"] = hooks

    def c2m() -> C2M:
        """This request's instance: its own SQLite connection, the shared plugins."""
        if "c2m" not in g:
            g.c2m = loaded.for_thread()
        return g.c2m

    @web.teardown_appcontext
    def close_c2m(_exception):
        app = g.pop("c2m", None)
        if app is not None:
            app.close()

    @web.errorhandler(C2MError)
    def c2m_error(error: C2MError):
        body = {"error": type(error).__name__, "message": str(error)}
        if isinstance(error, SoldOut):
            body["units_left"] = error.units_left
        response = jsonify(body)
        response.status_code = status_of(error)
        if response.status_code == 503:
            response.headers["Retry-After"] = "1"
        return response

    @web.errorhandler(BadRequest)
    def bad_request(error: BadRequest):
        return jsonify({"error": "BadRequest", "message": str(error)}), 400

    @web.post("/campaigns/<slug>/wishes")
    def submit_wish(slug):
        body = json_object()
        fields = {name: body[name] for name in WISH_FIELDS if name in body}
        if "customer" not in fields:
            raise BadRequest("customer: missing; give the shop's reference for the customer")
        wish = c2m().wishes.submit(
            slug, external_id=request.headers.get("Idempotency-Key"), **fields
        )
        # Stored either way (demand the rules forbid is still demand), but a configuration that
        # can't be built is 422, with the violations and the nearest valid choice to offer.
        return jsonify(wish.to_dict()), 201 if wish.valid else 422

    @web.put("/campaigns/<slug>/ballots/<voter>")
    def cast_ballot(slug, voter):
        cast = c2m().voting.cast(slug, voter, json_object())
        return jsonify(cast.to_dict()), 200 if cast.replaced is not None else 201

    @web.post("/campaigns/<slug>/pledges")
    def place_pledge(slug):
        key = request.headers.get("Idempotency-Key")
        if not key:
            raise BadRequest("Idempotency-Key: missing; send the shop's order id as this header")
        body = json_object()
        for name in ("variant", "customer", "quantity"):
            if name not in body:
                raise BadRequest(f"{name}: missing; a pledge needs variant, customer, quantity")
        pledge = c2m().presale.place(
            slug,
            body["variant"],
            body["customer"],
            body["quantity"],
            key=key,
            region=body.get("region"),
        )
        return jsonify(pledge.to_dict()), 201  # a replay gets the same pledge, and 201 again

    @web.get("/campaigns/<slug>/variants")
    def variants(slug):
        return jsonify([variant.to_dict() for variant in c2m().variants.list(slug)])

    @web.get("/campaigns/<slug>/presale")
    def presale(slug):
        return jsonify(c2m().presale.status(slug).to_dict())

    @web.post("/settle")
    def settle():
        return jsonify({"closed": c2m().settle_due()})

    @web.get("/events")
    def events():
        after = whole_number("after", 0)
        limit = whole_number("limit", 100)
        found = c2m().events.since(
            after,
            limit=min(max(limit, 1), 1000),
            campaign=request.args.get("campaign"),
            types=request.args.getlist("type"),
        )
        return jsonify(
            {
                "events": [event.to_dict() for event in found],
                "next": found[-1].id if found else after,  # the cursor to send next time
            }
        )

    return web


def json_object() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object (Content-Type: application/json)")
    return body


def whole_number(name: str, default: int) -> int:
    text = request.args.get(name, str(default))
    if not text.isdecimal():
        raise BadRequest(f"{name}: {text!r} is not a whole number")
    return int(text)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="the c2m database (default: $C2M_DB or ./c2m.db)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    create_app(args.db).run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
