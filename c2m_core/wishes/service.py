"""Wishes: collect partial configurations from consumers, validate them, aggregate them.

A wish is a partial configuration (module -> option) from one customer reference, with a
quantity and optional region, price ceiling, note and raw input. Input that is not a wish at
all (an unknown module or option, a quantity of 0, a note of a megabyte) is refused with
``InvalidInput``. A wish the catalog's rules forbid is stored anyway, with its violations and
the nearest valid suggestion, and left out of aggregation. An external id makes submission
idempotent: the same id again returns the first wish.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext

import attrs

from ..campaigns.records import IllegalTransition
from ..catalog import Choice
from ..category import Category
from ..engine import Engine
from ..engine.table import ValidTable, complete_configurations
from ..errors import C2MError, InvalidInput
from ..imports import gc_paused
from ..notifications import has_listeners
from ..validation import Violation, structural_violations
from ..variants import variant_key
from .aggregation import Coverage, Demand, choose_variants, popular_completions
from .imports import CsvWishRows
from .records import (
    BATCH_SIZE,
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_REF,
    MAX_TEXT,
    STATE,
    TOP_UNCOVERED,
    AggregatedVariant,
    AggregationResult,
    ImportRejected,
    ImportReport,
    NewWish,
    NewWishes,
    Rejected,
    StandardSizes,
    Wish,
    WishStats,
)
from .sizes import SizeDemand, choose_sizes, restricted

#: How many distinct configurations an import judges with solver calls, at most, before it asks
#: for the catalog's table of valid configurations (whose making costs as much as a few hundred).
TABLE_AFTER = 1000
#: A table is made from every complete configuration: the smaller the catalog, the cheaper. An
#: import asks for it once it has judged one in this many of them (when that is fewer than
#: ``TABLE_AFTER``): TV, 6,000 complete configurations, 0.03 s for its table, after 300.
TABLE_SHARE = 20
#: How many configuration mappings the intake remembers its verdicts on by identity.
VERDICTS_KEPT = 100_000
_new_wish = functools.partial(tuple.__new__, NewWish)
#: The fields ``_Intake.wish`` reads with one ``map`` (``quantity`` has a default of its own).
_INTAKE_FIELDS = (
    "customer",
    "region",
    "price_ceiling",
    "note",
    "raw",
    "external_id",
    "configuration",
)
#: Quantities as text, read without parsing.
_QUANTITIES = {str(n): n for n in range(1, 101)}


def _bad(field: str, value, accepted: str) -> InvalidInput:
    shown = repr(value)
    if len(shown) > 60:
        shown = f"{shown[:40]}... ({len(value):,} characters)" if isinstance(value, str) else "..."
    return InvalidInput(
        f"{field}: {shown} is not accepted; expected {accepted}",
        field=field,
        value=_shortened(value),
        accepted=accepted,
    )


def _shortened(value):
    """The value for an error's ``value`` field: long text cut to its first 100 characters."""
    return f"{value[:100]}..." if isinstance(value, str) and len(value) > 100 else value


def _text(field: str, value, limit: int, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _bad(field, value, f"a non-blank text of up to {limit:,} characters")
    if len(value) > limit:
        raise InvalidInput(
            f"{field}: {len(value):,} characters is too long; at most {limit:,} are accepted",
            field=field,
            value=_shortened(value),
            accepted=f"a non-blank text of up to {limit:,} characters",
        )
    return value


def _blank(text: str) -> bool:
    return not text or text.isspace()


def _integer(field: str, value, minimum: int, maximum: int) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdecimal():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise _bad(field, value, f"a whole number from {minimum} to {maximum:,}")
    return value


def _tolerances(catalog, configuration: Mapping) -> tuple[dict, dict[str, str]]:
    """(``configuration`` with each numeric value's stated tolerance taken off, module -> the
    value with its tolerance as stored, ``240~20``); a bad tolerance is ``InvalidInput``."""
    plain = dict(configuration)
    stated = {}
    for module in catalog.numeric_modules:
        text = configuration.get(module.id)
        if not isinstance(text, str) or "~" not in text:
            continue
        value, _, tolerance = text.partition("~")
        value, tolerance = value.strip(), tolerance.strip()
        if not tolerance.isascii() or not tolerance.isdecimal():
            raise InvalidInput(
                f"configuration: {module.id}: {text!r} is not VALUE~TOLERANCE; the tolerance is "
                f"a whole number of {module.number.unit or 'units'} (240~20)",
                field=module.id,
                value=text,
                accepted=f"{module.number.describe()}, optionally ~ and a whole number",
            )
        plain[module.id] = value
        stated[module.id] = f"{value}~{int(tolerance)}"
    return plain, stated


def _structural_error(catalog, violation: Violation) -> InvalidInput:
    """The error for a wish naming an unknown module or option, or a numeric value that is not
    one (out of range, off its steps): ``field`` is the module for a number."""
    module_id, _, value = violation.options[0].partition(".") if violation.options else ("", "", "")
    module = catalog.module(module_id)
    if violation.rule == "number" and module is not None and module.number is not None:
        return InvalidInput(
            f"configuration: {violation.message}",
            field=module_id,
            value=value,
            accepted=module.number.describe(),
        )
    return InvalidInput(f"configuration: {violation.message}")


class _Intake:
    """Checks and prices wishes for one campaign; memoizes verdicts per configuration."""

    def __init__(self, service: WishService, campaign, category: Category):
        self.service = service
        self.app = service.app
        self.campaign = campaign
        self.category = category
        self.catalog = category.catalog
        self.module_ids = self.catalog.module_ids
        self.multiple = {module.id for module in self.catalog.modules if module.multiple}
        self.reshape = bool(self.multiple or self.catalog.numeric_modules)
        #: Every (module, option) of a catalog whose choices are plain option ids: a
        #: configuration made of these alone has no structural violation to look for.
        self.pairs = (
            frozenset()
            if self.reshape
            else frozenset((m.id, o) for m in self.catalog.modules for o in m.option_ids)
        )
        self._engine: Engine | None = None
        self._table: tuple[ValidTable | None] | None = None  # (the table,) once asked for
        self.table_after = min(TABLE_AFTER, complete_configurations(self.catalog) // TABLE_SHARE)
        self.verdicts: dict[tuple, tuple | InvalidInput] = {}
        self.seen: dict[int, tuple[Mapping, tuple | InvalidInput]] = {}
        self.judgements = 0
        self.normalize = self.app.pm.hook.normalize_wish
        self.has_normalizers = bool(self.normalize.get_hookimpls())

    def wish(self, data: Mapping) -> NewWish:
        """The wish to store (``data`` has ``FIELDS``); raises ``InvalidInput``.

        Runs once per imported row: plain values take the short path, anything else the
        checks that name the field.
        """
        customer, region, price, note, raw, external_id, configuration = map(
            data.get, _INTAKE_FIELDS
        )
        if type(customer) is not str or len(customer) > MAX_REF or _blank(customer):
            customer = _text("customer", customer, MAX_REF, required=True)
            assert customer is not None  # required: refused rather than None
        quantity = data.get("quantity", 1)
        if type(quantity) is str:
            quantity = _QUANTITIES.get(quantity, quantity)
        if type(quantity) is not int or not 1 <= quantity <= MAX_QUANTITY:
            if type(quantity) is str and quantity.isdecimal() and quantity.isascii():
                quantity = int(quantity)
            if type(quantity) is not int or not 1 <= quantity <= MAX_QUANTITY:
                quantity = _integer("quantity", quantity, 1, MAX_QUANTITY)
        if region is not None and (
            type(region) is not str or len(region) > MAX_REF or _blank(region)
        ):
            region = _text("region", region, MAX_REF)
        if price is not None:
            price = _integer("price_ceiling", price, 0, MAX_PRICE)
        if note is not None:
            note = _text("note", note, MAX_TEXT)
        if raw is not None:
            raw = _text("raw", raw, MAX_TEXT)
        if external_id is not None and (
            type(external_id) is not str or len(external_id) > MAX_REF or _blank(external_id)
        ):
            external_id = _text("external_id", external_id, MAX_REF)
        configuration = configuration or {}
        if type(configuration) is not dict and not isinstance(configuration, Mapping):
            raise _bad("configuration", configuration, "a mapping of module ids to option ids")
        if raw is not None and self.has_normalizers:
            normalized = self.normalize(
                app=self.app, category=self.category, raw=raw, configuration=dict(configuration)
            )
            if normalized is not None:
                configuration = normalized
        if self.reshape:
            configuration = self.catalog.canonical(configuration)
        # A reader hands rows with the same configuration one shared mapping: judged once,
        # found again by identity (the entry keeps it alive, so its id is not reused).
        seen = self.seen.get(id(configuration))
        if seen is not None and seen[0] is configuration:
            verdict = seen[1]
        else:
            verdict = self.judged(configuration)
            if len(self.seen) >= VERDICTS_KEPT:
                self.seen.clear()
            self.seen[id(configuration)] = (configuration, verdict)
        if isinstance(verdict, InvalidInput):
            raise verdict
        ordered, valid, violations, suggestion = verdict
        return _new_wish(
            (
                customer,
                ordered,
                quantity,
                region,
                price,
                note,
                raw,
                external_id,
                valid,
                violations,
                suggestion,
            )
        )

    def configuration_verdict(self, configuration: dict) -> tuple | InvalidInput:
        """The verdict on a configuration read from a file (module ids to option ids as text),
        as ``wish`` reaches it, or the error refusing it."""
        if self.reshape:
            configuration = self.catalog.canonical(configuration)
        return self.judged(configuration)

    def judged(self, configuration: Mapping) -> tuple | InvalidInput:
        """The verdict on ``configuration`` or its error, remembered by content."""
        key: tuple | None = tuple(configuration.items())
        try:
            verdict = self.verdicts.get(key)  # type: ignore[arg-type]
        except TypeError:  # a value no module takes (a mapping, say): judged, not remembered
            key = verdict = None
        if verdict is None:
            try:
                verdict = self.verdict(configuration)
            except InvalidInput as ex:
                verdict = ex
            if key is not None:
                self.verdicts[key] = verdict
        return verdict

    def verdict(self, configuration: Mapping) -> tuple[dict, bool, tuple[dict, ...], dict | None]:
        """(the configuration in catalog order, valid, violations, suggestion); identical
        configurations get the same objects, which the store serialises once."""
        stated: dict[str, str] = {}
        if self.reshape:
            configuration = self.catalog.canonical(configuration)
        if self.catalog.numeric_modules:
            configuration, stated = _tolerances(self.catalog, configuration)
        try:  # known option ids of known modules only: nothing structural to find
            plain = configuration.items() <= self.pairs
        except TypeError:  # a value that cannot be hashed, refused below
            plain = False
        if not plain:
            for module, option in configuration.items():
                if not isinstance(module, str) or not (
                    isinstance(option, str)
                    or (module in self.multiple and isinstance(option, tuple))
                ):
                    raise _bad(
                        "configuration",
                        {module: option},
                        "module ids mapped to option ids (text), or to a list of option ids "
                        "for a multi-select module",
                    )
            structural = structural_violations(self.catalog, configuration)
            if structural:
                raise _structural_error(self.catalog, structural[0])
        ordered = {m: configuration[m] for m in self.module_ids if m in configuration}
        if stated:
            kept = self.verdict_of(ordered)
            return ({m: stated.get(m, o) for m, o in ordered.items()}, *kept[1:])
        return self.verdict_of(ordered)

    def verdict_of(self, ordered: dict) -> tuple[dict, bool, tuple[dict, ...], dict | None]:
        """The verdict on a configuration of known modules and options, in catalog order.

        The rules are checked by the engine's validator (indexes built once per catalog; the
        same violations as ``C2M.validate``, plugins' custom rules included). Once an import
        has judged ``table_after`` configurations, whether the choices can be completed and
        the nearest valid choice come from the catalog's table of valid configurations when
        it is small enough to have one (``engine.table.ValidTable``: the engine's answers)."""
        engine = self._engine
        if engine is None:
            engine = self._engine = self.service._engine(self.category)
        violations = engine.validate(ordered, complete=False)
        self.judgements += 1
        table = None
        if self.judgements > self.table_after:
            if self._table is None:
                self._table = (self.service._table(self.category),)
            table = self._table[0]
        if table is not None:
            satisfiable, nearest = table.judge(ordered)
        else:
            satisfiable = not violations and self.service._satisfiable(self.category, ordered)
        if not violations and not satisfiable:
            violations = [
                Violation(
                    "unsatisfiable",
                    "no complete valid configuration has all of these choices together",
                    tuple(f"{m}.{o}" for m, o in ordered.items()),
                    kind="engine",
                )
            ]
        if not violations:
            return ordered, True, (), None
        if table is not None:
            suggestion = (
                None if nearest is None else {m: o for m, o in nearest.items() if m in ordered}
            )
        else:
            suggestion = self.service._suggest(self.category, ordered)
        return ordered, False, tuple(v.to_dict() for v in violations), suggestion


class WishService:
    """Submit, import, count and aggregate wishes. Reached as ``app.wishes``.

    ``exhaustive_limit``: when the catalog has at most this many valid configurations, every
    one of them is an aggregation candidate; otherwise candidates come from the data only.
    """

    exhaustive_limit = 20_000
    partial_candidates = 500
    completions_kept = 3
    completions_scanned = 500

    def __init__(self, app):
        self.app = app

    # The configuration engine, in one place -------------------------------------------------

    def _engine(self, category: Category) -> Engine:
        """The configuration engine for ``category`` (compiled once per catalog)."""
        return self.app.engine(category)

    def _completions(self, category: Category, partial: Mapping, limit: int) -> list[dict]:
        return list(self._engine(category).enumerate(dict(partial), limit))

    def _table(self, category: Category) -> ValidTable | None:
        """The table of valid configurations of ``category``'s engine (made once per engine;
        None for a catalog too large for one, or with multi-select modules)."""
        engine = self._engine(category)
        tables = self.app.caches.setdefault("valid-tables", {})
        entry = tables.get(id(engine))
        if entry is None or entry[0] is not engine:
            entry = tables[id(engine)] = (engine, ValidTable.of(engine))
            while len(tables) > 8:
                tables.pop(next(iter(tables)))
        return entry[1]

    def _satisfiable(self, category: Category, partial: Mapping) -> bool:
        return self._engine(category).is_satisfiable(dict(partial))

    def _suggest(self, category: Category, configuration: Mapping) -> dict | None:
        """The nearest valid configuration, restricted to the modules the wish chose."""
        repair = self._engine(category).repair(dict(configuration))
        if repair is None:
            return None
        return {m: o for m, o in repair.configuration.items() if m in configuration}

    # Intake -----------------------------------------------------------------------------------

    def _open(self, slug: str):
        campaign = self.app.campaigns.get(slug)
        self.app.campaigns.require_state(campaign, STATE)
        return campaign, self.app.campaigns.category(campaign)

    def submit(
        self,
        slug: str,
        customer: str,
        configuration: Mapping[str, Choice] | None = None,
        quantity: int = 1,
        region: str | None = None,
        price_ceiling: int | None = None,
        note: str | None = None,
        external_id: str | None = None,
        raw: str | None = None,
        personalisation: Sequence[Mapping[str, str]] | None = None,
    ) -> Wish:
        """Store one wish and return it; the same ``external_id`` again returns the first wish.

        Only while the campaign collects wishes (``IllegalTransition`` otherwise). A wish the
        rules forbid is stored with ``valid=False``, its violations and a suggestion.
        ``personalisation`` gives up to ``quantity`` mappings of field id -> value, one per
        unit (``app.personalisation.check_units``), stored with the wish in one transaction.
        """
        store = self.app.store
        campaign = self.app.campaigns.get(slug)
        external_id = _text("external_id", external_id, MAX_REF)
        if external_id is not None:
            existing = store.wishes.by_external_id(campaign.id, external_id)
            if existing is not None:
                return self.app.personalisation.attach_wishes([existing])[0]
        campaign, category = self._open(slug)
        data = {
            "customer": customer,
            "configuration": configuration,
            "quantity": quantity,
            "region": region,
            "price_ceiling": price_ceiling,
            "note": note,
            "external_id": external_id,
            "raw": raw,
        }
        new = _Intake(self, campaign, category).wish(data)
        units = ()
        if personalisation:
            units = self.app.personalisation.check_units(
                category.catalog, new.quantity, personalisation
            )
        with store.transaction():
            batch = store.wishes.insert_batch(campaign.id, [new], STATE)
            if batch is not None and batch.wish_ids:
                self.app.personalisation.store_units("wish", batch.wish_ids[0], campaign.id, units)
        if batch is None:
            raise self._left_state(slug)
        if not batch.wish_ids:  # a concurrent submission with this external id came first
            return self.get(slug, store.wishes.by_external_id(campaign.id, external_id).id)
        wish = self.app.personalisation.attach_wishes([store.wishes.get(batch.wish_ids[0])])[0]
        store.after_commit(
            lambda: self.app.pm.hook.wish_submitted(app=self.app, campaign=campaign, wish=wish)
        )
        return wish

    def submit_many(
        self,
        slug: str,
        items: Iterable[tuple[int, Mapping] | Rejected],
        strict: bool = False,
        batch_size: int = BATCH_SIZE,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Store many wishes in batches (one transaction each); the import path.

        ``items`` are ``(line, data)`` pairs (``data`` has the keys of ``FIELDS``) or
        ``Rejected`` rows a reader could not parse. Bad rows are reported with their line and
        reason and the good ones stored; rows whose external id is already stored are skipped,
        so an interrupted import can be run again. With ``strict`` everything runs in one
        transaction and any bad row stores nothing (``ImportRejected`` carries the report).
        ``progress`` is called with the last line handled after each batch.
        """
        campaign, category = self._open(slug)
        store = self.app.store
        intake = _Intake(self, campaign, category)
        rejected: list[Rejected] = []
        counts: Counter[str] = Counter()
        stored: list[tuple[int, ...]] = []
        notify = has_listeners(self.app.pm, "wish_submitted")
        batch = NewWishes()
        line = 0

        def flush():
            if batch and not (strict and rejected):
                done = store.wishes.insert_batch(campaign.id, batch, STATE)
                if done is None:
                    raise self._left_state(slug)
                counts["imported"] += done.stored
                counts["duplicates"] += len(batch) - done.stored
                counts["invalid"] += done.invalid
                if notify and done.wish_ids:
                    stored.append(done.wish_ids)
                    if not strict:
                        self._notify(campaign, stored)
            batch.clear()
            if progress is not None:
                progress(line)

        def fill_rows() -> bool:
            """Read rows into the batch until it is full (True) or the rows end (False)."""
            nonlocal line
            for item in pending:
                counts["rows"] += 1
                if isinstance(item, Rejected):
                    rejected.append(item)
                    line = item.line
                    continue
                line, data = item
                try:
                    batch.append(intake.wish(data))
                except InvalidInput as ex:
                    rejected.append(Rejected(line, str(ex)))
                if len(batch) >= batch_size:
                    return True
            return False

        def fill_csv() -> bool:
            """The same from a CSV file, read by its own quicker reader."""
            nonlocal line
            assert isinstance(items, CsvWishRows)
            rows, last, more = items.fill(intake, batch, rejected, batch_size)
            counts["rows"] += rows
            line = last or line
            return more

        fill = fill_csv if isinstance(items, CsvWishRows) and items.unread else fill_rows
        pending = iter(items)
        with store.transaction() if strict else nullcontext():
            more = True
            while more:
                with gc_paused():
                    more = fill()
                    flush()
            report = ImportReport(
                rows=counts["rows"],
                imported=counts["imported"] if not (strict and rejected) else 0,
                invalid=counts["invalid"] if not (strict and rejected) else 0,
                duplicates=counts["duplicates"] if not (strict and rejected) else 0,
                rejected=tuple(rejected),
                strict=strict,
            )
            if not report.committed:
                raise ImportRejected(report)
        self._notify(campaign, stored)
        return report

    def _left_state(self, slug: str) -> IllegalTransition:
        """The error for wishes the store refused because the campaign left its wishes stage."""
        campaign = self.app.campaigns.get(slug)
        return IllegalTransition(
            f"campaign {slug!r} is in state {campaign.state!r}; wishes are stored only in its "
            f"{STATE!r} state"
        )

    def _notify(self, campaign, stored: list[tuple[int, ...]]) -> None:
        """Send ``wish_submitted`` for the stored wishes, once what stored them has committed."""
        wishes = [wish for ids in stored for wish in self.app.store.wishes.get_many(ids)]
        stored.clear()

        def send():
            for wish in wishes:
                self.app.pm.hook.wish_submitted(app=self.app, campaign=campaign, wish=wish)

        self.app.store.after_commit(send)

    # Reading -----------------------------------------------------------------------------------

    def get(self, slug: str, wish_id: int) -> Wish:
        campaign = self.app.campaigns.get(slug)
        wish = self.app.store.wishes.get(wish_id)
        if wish is None or wish.campaign_id != campaign.id:
            raise InvalidInput(f"campaign {slug!r} has no wish {wish_id}")
        return self.app.personalisation.attach_wishes([wish])[0]

    def count(self, slug: str) -> int:
        return self.app.store.wishes.count(self.app.campaigns.get(slug).id)

    def stats(self, slug: str) -> WishStats:
        """Totals, valid share, demand per module option and the most common violations."""
        campaign = self.app.campaigns.get(slug)
        category = self.app.campaigns.category(campaign)
        catalog = category.catalog
        store = self.app.store
        valid = store.wishes.demand(campaign.id, valid=True)
        invalid = store.wishes.demand(campaign.id, valid=False)
        per_option: Counter = Counter()
        per_option_wishes: Counter = Counter()
        complete = 0
        for group in valid:
            nominal = catalog.nominal(group.configuration)
            for pair in nominal.items():
                per_option[pair] += group.quantity
                per_option_wishes[pair] += group.wishes
            if not self.app.validate(category, nominal):
                complete += group.wishes
        valid_quantity = sum(g.quantity for g in valid)
        options = tuple(
            {
                "module": module.id,
                "option": option.id,
                "wishes": per_option_wishes[(module.id, option.id)],
                "quantity": per_option[(module.id, option.id)],
                "share": per_option[(module.id, option.id)] / valid_quantity
                if valid_quantity
                else 0.0,
            }
            for module in catalog.modules
            for option in module.options
        )
        rules: Counter[str] = Counter()
        rule_quantity: Counter[str] = Counter()
        messages: dict[str, str] = {}
        for group in store.wishes.violation_sets(campaign.id):
            for violation in group.violations:
                rules[violation["rule"]] += group.wishes
                rule_quantity[violation["rule"]] += group.quantity
                messages.setdefault(violation["rule"], violation["message"])
        violations = tuple(
            {
                "rule": rule,
                "wishes": count,
                "quantity": rule_quantity[rule],
                "message": messages[rule],
            }
            for rule, count in sorted(rules.items(), key=lambda item: (-item[1], item[0]))
        )
        return WishStats(
            campaign=slug,
            wishes=sum(g.wishes for g in valid) + sum(g.wishes for g in invalid),
            quantity=valid_quantity + sum(g.quantity for g in invalid),
            valid_wishes=sum(g.wishes for g in valid),
            valid_quantity=valid_quantity,
            complete_wishes=complete,
            options=options,
            violations=violations,
        )

    # Aggregation -------------------------------------------------------------------------------

    def aggregate(
        self,
        slug: str,
        max_variants: int | None = None,
        moq: int | None = None,
        max_sizes: int | None = None,
    ) -> AggregationResult:
        """Choose at most K variants covering the most valid wished quantity, each >= MOQ.

        K and the MOQ default to the campaign's ``max_variants`` and ``moq`` settings. The
        chosen variants replace those of an earlier aggregation (``source="aggregate"``).
        When the catalog has numeric modules whose wishes accept other sizes, each first gets
        at most ``max_sizes`` (default K) standard sizes, each with at least the MOQ in wished
        units, and variants are chosen among those sizes (``AggregationResult.sizes``;
        docs/sizes.md).
        """
        app = self.app
        campaign, category = self._open(slug)
        k = _integer(
            "max_variants",
            campaign.setting("max_variants") if max_variants is None else max_variants,
            1,
            10_000,
        )
        moq = _integer("moq", campaign.setting("moq") if moq is None else moq, 1, MAX_QUANTITY)
        max_sizes = k if max_sizes is None else _integer("max_sizes", max_sizes, 1, 1_000)
        catalog = category.catalog
        store = app.store
        demands = [
            Demand(group.configuration, group.quantity, group.wishes)
            for group in store.wishes.demand(campaign.id, valid=True)
        ]
        invalid_quantity = sum(g.quantity for g in store.wishes.demand(campaign.id, valid=False))
        demands, sizes, dropped, standard = self._standardise(category, demands, max_sizes, moq)
        coverage = Coverage(demands, catalog.module_ids)
        candidates = (
            self._candidates(campaign, category, demands, coverage, standard)
            if standard is not None
            else []
        )
        selection = choose_variants(
            demands, candidates, catalog.module_ids, k, moq, coverage=coverage
        )
        dropped_quantity = sum(d.quantity for d in dropped)
        total = selection.total + dropped_quantity
        with store.transaction():
            for old in store.variants.delete_by_source(campaign.id, "aggregate"):
                store.event(
                    "variant.removed",
                    campaign.id,
                    {"id": old.id, "key": old.key, "reason": "replaced by a new aggregation"},
                )
            chosen = []
            for pick in selection.chosen:
                variant = app.variants.add(
                    slug, pick.configuration, source="aggregate", covered_quantity=pick.covered
                )
                chosen.append(
                    AggregatedVariant(
                        variant,
                        pick.covered,
                        sum(demands[i].wishes for i in pick.demands),
                        pick.covered / total if total else 0.0,
                    )
                )
            uncovered = sorted(
                [demands[i] for i in selection.uncovered] + dropped,
                key=lambda d: (-d.quantity, coverage.key(d.configuration)),
            )
            result = AggregationResult(
                campaign=slug,
                max_variants=k,
                moq=moq,
                variants=tuple(chosen),
                total_quantity=total,
                covered_quantity=selection.covered,
                invalid_quantity=invalid_quantity,
                candidates=selection.candidates,
                uncovered=tuple(
                    (dict(d.configuration), d.quantity) for d in uncovered[:TOP_UNCOVERED]
                ),
                sizes=sizes,
            )
            store.event(
                "wishes.aggregated",
                campaign.id,
                {
                    "max_variants": k,
                    "moq": moq,
                    "variants": [v.variant.id for v in chosen],
                    "covered_quantity": selection.covered,
                    "total_quantity": total,
                    **({"sizes": {p.module: list(p.sizes) for p in sizes}} if sizes else {}),
                },
            )
        return result

    def _standardise(
        self, category: Category, demands: list[Demand], max_sizes: int, moq: int
    ) -> tuple[list[Demand], tuple[StandardSizes, ...], list[Demand], Category | None]:
        """Standard sizes for each numeric module whose wishes accept other sizes than their own
        (``NumberRange.accept``; docs/sizes.md): at most ``max_sizes`` each, each with at least
        ``moq`` wished units, chosen exactly by ``choose_sizes``.

        Returns the demands with their values replaced by their sizes (and collapsed again),
        the plans, the demands that accept no chosen size, and the category restricted to the
        chosen sizes, where candidates come from (None when a module got no size at all).
        """
        catalog = category.catalog
        modules = [
            m
            for m in catalog.numeric_modules
            if m.number is not None
            and (
                m.number.accept != "exact"
                or any("~" in str(d.configuration.get(m.id, "")) for d in demands)
            )
        ]
        if not modules:
            return demands, (), [], category
        engine = self._engine(category)
        plans: list[StandardSizes] = []
        allowed: dict[str, list[str]] = {}
        dropped: list[Demand] = []
        for module in modules:
            number = module.number
            assert number is not None
            wished = [d for d in demands if module.id in d.configuration]
            asks = []
            for demand in wished:
                value, low, high = number.wished(demand.configuration[module.id])
                asks.append(SizeDemand(value, demand.quantity, low, high))
            possible = [v for v in number.values if engine.is_satisfiable({module.id: str(v)})]
            plan = choose_sizes(asks, possible, max_sizes, moq)
            sizes_of = {id(d): size for d, size in zip(wished, plan.assigned, strict=True)}
            collapsed: dict[tuple, Demand] = {}
            for demand in demands:
                configuration = dict(demand.configuration)
                if module.id in configuration:
                    size = sizes_of[id(demand)]
                    if size is None:
                        dropped.append(demand)
                        continue
                    configuration[module.id] = str(size)
                key = tuple(configuration.get(m) or "" for m in catalog.module_ids)
                known = collapsed.get(key)
                collapsed[key] = (
                    Demand(configuration, demand.quantity, demand.wishes)
                    if known is None
                    else Demand(
                        known.configuration,
                        known.quantity + demand.quantity,
                        known.wishes + demand.wishes,
                    )
                )
            demands = list(collapsed.values())
            allowed[module.id] = [str(size) for size in plan.sizes]
            plans.append(
                StandardSizes(
                    module=module.id,
                    unit=number.unit,
                    sizes=plan.sizes,
                    batches=plan.batches,
                    assigned_quantity=plan.covered,
                    total_quantity=plan.total,
                    deviation=plan.deviation,
                )
            )
        standard = (
            attrs.evolve(category, catalog=restricted(catalog, allowed))
            if all(allowed.values())
            else None
        )
        return demands, tuple(plans), dropped, standard

    def _candidates(
        self, campaign, category: Category, demands, coverage, within: Category | None = None
    ) -> list[dict]:
        """Complete valid wishes, popular completions of partial ones, plugins' proposals
        (and every valid configuration when the catalog has few enough). With ``within``
        (``category`` restricted to standard sizes) every candidate comes from it."""
        plugin_candidates = self._plugin_candidates(campaign, category)
        if within is not None and within is not category:
            plugin_candidates = [
                c
                for c in plugin_candidates
                if all(within.catalog.knows(m, v) for m, v in c.items())
            ]
            category = within
        app = self.app
        candidates = []
        partial = []
        for demand in demands:
            if app.validate(category, demand.configuration):
                partial.append(demand)
            else:
                candidates.append(dict(demand.configuration))
        everything = self._completions(category, {}, self.exhaustive_limit + 1)
        if len(everything) <= self.exhaustive_limit:
            candidates.extend(everything)
        else:
            partial.sort(key=lambda d: (-d.quantity, coverage.key(d.configuration)))
            for demand in partial[: self.partial_candidates]:
                candidates.extend(
                    popular_completions(
                        coverage,
                        demand.configuration,
                        lambda p, limit: self._completions(category, p, limit),
                        self.completions_kept,
                        self.completions_scanned,
                    )
                )
        candidates.extend(plugin_candidates)
        return candidates

    def _plugin_candidates(self, campaign, category: Category) -> list[dict]:
        found = []
        hook = self.app.pm.hook.register_variant_candidates
        for result in hook(app=self.app, campaign=campaign, category=category):
            for configuration in result or ():
                violations = self.app.validate(category, configuration)
                if violations:
                    key = variant_key(category.catalog, configuration)
                    raise C2MError(
                        f"a plugin proposed variant {key!r} for campaign {campaign.slug!r}, "
                        "but it is not a complete valid configuration: "
                        + "; ".join(v.message for v in violations)
                    )
                found.append(dict(configuration))
        return found
