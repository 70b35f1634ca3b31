"""The c2m hook contract.

Names say how results combine:

- ``register_*`` hooks return lists; the core flattens the results of every plugin.
- ``validate_*`` hooks return lists of violations (or raise); every plugin is asked.
- choosers stop at the first non-None result (``firstresult``).
- notifications are named in the past tense and their return values are ignored.

Hooks are always called with keyword arguments; an implementation may accept any subset of a
hook's arguments, so hooks can gain arguments without breaking plugins.
"""

import pluggy

hookspec = pluggy.HookspecMarker("c2m")
hookimpl = pluggy.HookimplMarker("c2m")


# Categories and catalogs ------------------------------------------------------------------------


@hookspec
def register_categories(app):
    """Return a list of ``Category`` objects this plugin provides.

    Results are flattened; two plugins registering the same category name is an error.

    :param app: the ``C2M`` instance loading the plugins
    """


@hookspec
def validate_configuration(app, category, configuration, complete):
    """Return a list of ``Violation`` objects for custom rules the catalog cannot express.

    Every plugin is asked and the results are flattened; return ``[]`` (or None) when the
    configuration is fine or the category is not yours. Check only what the configuration chose;
    modules it leaves out are not yours to report.

    :param app: the ``C2M`` instance
    :param category: the ``Category`` being validated (check ``category.name``)
    :param configuration: a read-only mapping of module ids to option ids, all known to the
        catalog (read it with [], get, in or iteration; the engine records what a rule reads)
    :param complete: True when every required module must be chosen, False for a partial one
    """


# Command line ------------------------------------------------------------------------------------


@hookspec
def register_commands(cli):
    """Add commands to the ``c2m`` command line.

    Every plugin is called; add commands with ``@cli.command()`` or ``cli.add_command(...)``.

    :param cli: the root ``click.Group`` of the ``c2m`` command
    """


# HTTP API -----------------------------------------------------------------------------------------


@hookspec
def register_routes(app):
    """Return a list of ``c2m_core.server.Route`` objects: HTTP routes ``c2m serve`` adds.

    Results are flattened. A route is plain data (a method, a path with ``{name}``
    placeholders, a handler called as ``handler(app, request)`` and the token scopes that may
    call it); it is served under ``/plugins`` with the server's authentication, problem details
    and ``Idempotency-Key`` handling, and described in ``/openapi.json``. No web framework type
    is part of this contract.

    :param app: the ``C2M`` instance the server runs on
    """


# Templates ---------------------------------------------------------------------------------------


@hookspec
def prepare_jinja2_environment(env, app):
    """Adjust the jinja2 environment used for spec sheets and reports (filters, globals).

    Every plugin is called, in registration order; return values are ignored.

    :param env: the ``jinja2.Environment`` (autoescape on, ``StrictUndefined``)
    :param app: the ``C2M`` instance
    """


# Campaigns ---------------------------------------------------------------------------------------


@hookspec
def validate_campaign_advance(app, campaign, target):
    """Return a list of reasons (strings) why ``campaign`` must not move to ``target`` yet.

    Every plugin is asked and the reasons are joined; any reason refuses the transition, and
    nothing changes. Stages use it to refuse leaving while work is unfinished.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign`` as it is now (``campaign.state`` is the current state)
    :param target: the state it would move to
    """


@hookspec
def campaign_advanced(app, campaign, previous):
    """Notification: ``campaign`` moved from ``previous`` to ``campaign.state`` (committed).

    Every plugin is called; return values are ignored.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign`` after the transition
    :param previous: the state it left
    """


# Wishes and aggregation --------------------------------------------------------------------------


@hookspec(firstresult=True)
def normalize_wish(app, category, raw, configuration):
    """Turn a wish's raw input (free text such as "65寸 OLED") into module choices.

    Stops at the first non-None result. Return the complete configuration to store (a dict
    mapping module ids to option ids: keep the explicit choices in ``configuration`` unless the
    raw input says otherwise), or None when ``raw`` means nothing to you.

    :param app: the ``C2M`` instance
    :param category: the campaign's ``Category`` (with its frozen catalog; check ``category.name``)
    :param raw: the raw input as the shop received it (a string)
    :param configuration: the choices given explicitly with the wish (a dict, may be empty)
    """


@hookspec
def wish_submitted(app, campaign, wish):
    """Notification: ``wish`` was stored (committed), valid or not.

    Every plugin is called; return values are ignored. Not called again when the same external
    id is submitted twice.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign`` the wish belongs to
    :param wish: the stored ``Wish`` (``wish.valid``, ``wish.violations``, ``wish.suggestion``)
    """


@hookspec
def register_variant_candidates(app, campaign, category):
    """Return a list of configurations (dicts) aggregation may choose besides the wishes' own.

    Results are flattened. Each must be a complete, valid configuration of the campaign's
    catalog (a designer's proposal, last season's best sellers); an invalid one is an error.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign`` being aggregated
    :param category: the campaign's ``Category`` with its frozen catalog
    """


# Voting ------------------------------------------------------------------------------------------


@hookspec
def register_voting_methods(app):
    """Return a list of ``VotingMethod`` objects (ballot normalisation and tally) to offer.

    A method that subclasses ``IncrementalMethod`` is counted as ballots arrive (a running
    tally the store keeps); any other is counted from the ballots when the vote closes.

    Results are flattened in registration order; a method named like one of the core's
    defaults (plurality, approval, score, schulze) replaces it, and two other plugins
    registering the same name is an error.

    :param app: the ``C2M`` instance
    """


@hookspec
def ballot_cast(app, campaign, vote, voter, ballot, replaced):
    """Notification: a ballot was stored (committed), by ``cast`` or in an import batch.

    Every plugin is called; return values are ignored.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign`` voting
    :param vote: the ``Vote`` the ballot belongs to
    :param voter: the voter reference
    :param ballot: the ballot in its canonical form (for example ``{"choice": 3}``)
    :param replaced: the voter's earlier ballot it replaced, or None for a first ballot
    """


@hookspec
def vote_closed(app, campaign, vote, result):
    """Notification: a vote was closed and its result stored (committed).

    Every plugin is called; return values are ignored.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign`` whose vote closed
    :param vote: the closed ``Vote``
    :param result: the ``VoteResult`` (totals, ranking, winners, tie-breaks)
    """


# Pre-sale ----------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def price_variant(app, campaign, variant, catalog):
    """Return the unit price of ``variant`` as ``Money`` in the campaign's currency, or None.

    Stops at the first non-None result; when every plugin returns None the price is the
    catalog's base price plus the chosen options' price deltas. Called when a pre-sale opens;
    the price is then frozen for the pre-sale.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign`` opening its pre-sale (``campaign.currency`` is the currency)
    :param variant: the ``Variant`` to price
    :param catalog: the campaign's frozen ``Catalog``
    """


@hookspec
def register_payment_providers(app):
    """Return a list of payment provider names this plugin handles (e.g. ``["stripe"]``).

    Results are flattened; a pre-sale may only open with a provider some plugin names.

    :param app: the ``C2M`` instance
    """


@hookspec(firstresult=True)
def authorize_payment(app, provider, campaign, pledge, payment):
    """Authorize ``payment`` with ``provider`` and return the authorization reference (a string).

    Stops at the first non-None result: return None when ``provider`` is not yours. Raise to
    report a failure; c2m records it and retries later with the same ``payment.key``, so the
    same key must never move money twice.

    :param app: the ``C2M`` instance
    :param provider: the name of the campaign's payment provider
    :param campaign: the ``Campaign``
    :param pledge: the ``Pledge`` the money is for
    :param payment: the ``Payment`` (``amount``, ``kind``, and ``key``, the idempotency key)
    """


@hookspec(firstresult=True)
def capture_payment(app, provider, campaign, pledge, payment, authorization):
    """Capture an authorized ``payment`` and return the capture reference (a string).

    Stops at the first non-None result: return None when ``provider`` is not yours. Raise to
    report a failure; c2m retries with the same ``payment.key`` and authorization, and counts
    the money only once a call returns.

    :param app: the ``C2M`` instance
    :param provider: the name of the campaign's payment provider
    :param campaign: the ``Campaign``
    :param pledge: the ``Pledge`` the money is for
    :param payment: the ``Payment`` (``amount``, ``kind``, and ``key``, the idempotency key)
    :param authorization: what ``authorize_payment`` returned for this payment
    """


@hookspec(firstresult=True)
def capture_payments_in_transaction(app, provider, campaign, captures):
    """Authorize and capture payments by writing only c2m's own database, inside the open
    transaction that stores their pledges; return one ``(authorization, reference)`` per capture.

    For providers that move no money outside c2m's database (the default ``ledger``): with one,
    a pledge is stored, its deposit captured and the pledge committed in one transaction, and a
    rollback undoes the capture with everything else. Stops at the first non-None result: return
    None when ``provider`` is not yours or calls out to anything (c2m then records the intent,
    commits, calls ``authorize_payment`` and ``capture_payment`` outside any transaction and
    records the outcome). c2m first calls it with an empty ``captures`` to ask whether the
    provider records in the database (answer ``[]``). Write through ``app.store`` only (its
    writes join the open transaction), record each ``payment.key`` once, and raise to refuse
    (the whole transaction rolls back: nothing is stored).

    :param app: the ``C2M`` instance
    :param provider: the name of the campaign's payment provider
    :param campaign: the ``Campaign``
    :param captures: a list of ``(pledge, payment)``: each ``Pledge`` (stored, with its id) and
        its deposit ``Payment`` (``amount``, ``kind``, ``key``; not stored yet: c2m writes it
        once, with your answer, so its ``id`` is 0)
    """


@hookspec(firstresult=True)
def refund_payment(app, provider, campaign, pledge, payment, refund):
    """Give back ``refund.amount`` of a captured ``payment``; return the refund reference.

    Stops at the first non-None result: return None when ``provider`` is not yours. Raise to
    report a failure; c2m retries with the same ``refund.key``.

    :param app: the ``C2M`` instance
    :param provider: the name of the campaign's payment provider
    :param campaign: the ``Campaign``
    :param pledge: the ``Pledge`` the money was for
    :param payment: the captured ``Payment`` (``reference`` is its capture reference)
    :param refund: the ``Refund`` (``amount``, ``reason``, and ``key``, the idempotency key)
    """


@hookspec
def pledge_placed(app, campaign, pledge):
    """Notification: a new pledge was stored (committed, waitlisted, or placed awaiting payment).

    Every plugin is called once per new pledge, after its deposit was attempted; a repeated
    request with the same idempotency key does not notify again. Return values are ignored.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign``
    :param pledge: the ``Pledge`` as it is now (``pledge.state`` says how far it got)
    """


@hookspec
def pledge_cancelled(app, campaign, pledge, reason):
    """Notification: a pledge was cancelled (its refund, if any, has been attempted).

    Every plugin is called; return values are ignored.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign``
    :param pledge: the ``Pledge`` after cancelling (``cancelled``, or ``refunded``)
    :param reason: why: ``customer``, ``variant_failed`` or ``presale_closed``
    """


@hookspec
def variant_tipped(app, campaign, variant, units):
    """Notification: ``variant`` reached its threshold when the pre-sale closed; it is produced.

    Every plugin is called; return values are ignored.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign``
    :param variant: the ``Variant`` that tipped
    :param units: its committed units at closing
    """


@hookspec
def presale_closed(app, campaign, tipped, failed):
    """Notification: the pre-sale closed; failed variants' deposits have been refunded.

    Every plugin is called; return values are ignored.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign``
    :param tipped: the ``Variant`` objects that reached their threshold
    :param failed: the ``Variant`` objects that did not
    """


# Hand-off ----------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def build_bill_of_materials(app, category, variant, parts):
    """Return the parts one unit of ``variant`` needs (a list of ``Part``), or None.

    Stops at the first non-None result; None everywhere keeps ``parts``. The core aggregates the
    result by part number and multiplies it by the order quantity.

    :param app: the ``C2M`` instance
    :param category: the campaign's ``Category`` (its catalog is the campaign's frozen one)
    :param variant: the ``Variant`` to be produced (``variant.configuration``)
    :param parts: the default: the chosen options' parts in catalog order, one ``Part`` per entry
    """


@hookspec
def register_handoff_connectors(app):
    """Return a list of ``Connector`` subclasses: delivery targets for hand-off documents.

    Results are flattened; two plugins registering the same ``scheme`` is an error. A target
    ``SCHEME:ADDRESS`` is delivered by the class whose ``scheme`` is SCHEME.

    :param app: the ``C2M`` instance
    """


@hookspec
def handoff_delivered(app, campaign, handoff, delivery):
    """Notification: a hand-off reached a target (recorded and committed; sent once per target).

    Every plugin is called; return values are ignored.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign`` handed off
    :param handoff: the ``Handoff`` (``id``, ``variant_id``, ``quantity``, ``record``)
    :param delivery: the outbox ``Delivery`` (``target``, ``attempts``, ``receipt``)
    """


# Closing the loop: rewards and feedback ----------------------------------------------------------


@hookspec(firstresult=True)
def pay_reward(app, provider, campaign, reward):
    """Pay ``reward`` (to a designer or a referrer) with ``provider``; return the reference.

    Stops at the first non-None result: return None when ``provider`` is not yours. Called
    after the reward was recorded and committed, outside any transaction. Raise to report a
    failure; c2m records it and retries with the same ``reward.key``, so the same key must never
    pay twice.

    :param app: the ``C2M`` instance
    :param provider: the payment provider named by the campaign's reward rule
    :param campaign: the ``Campaign``
    :param reward: the ``Reward`` (``recipient``, ``amount``, ``kind``, and ``key``, the
        idempotency key)
    """


@hookspec
def register_feedback_rules(app, category):
    """Return a list of ``FeedbackRule`` objects routing feedback of ``category`` to departments.

    Results are flattened; rules of other plugins are tried before the core's defaults, so a
    plugin's rule for a keyword overrides the default one. Check ``category.name``.

    :param app: the ``C2M`` instance
    :param category: the ``Category`` of the campaign the feedback is about
    """


@hookspec(firstresult=True)
def classify_feedback(app, campaign, category, feedback, rules):
    """Route one piece of feedback: return a ``FeedbackRoute`` (department, module, rule), or None.

    Stops at the first non-None result; the core's default applies ``rules`` in order (the
    first rule whose keyword is in the text or whose tag is in the tags wins). A plugin may
    classify with anything (a model, a service); feedback text is data, never code.

    :param app: the ``C2M`` instance
    :param campaign: the ``Campaign`` the feedback is about
    :param category: the campaign's ``Category`` with its frozen catalog
    :param feedback: the ``Feedback`` (``text``, ``rating``, ``tags``, ``variant_id``)
    :param rules: every ``FeedbackRule`` for the category, plugins' first
    """
