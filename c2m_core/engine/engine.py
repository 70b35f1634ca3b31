"""``Engine``: the answers a configurator needs, for one catalog (and its custom rules).

Every answer is a function of the question alone: solver state carried between calls (learnt
clauses, phases, custom-rule blocks) only changes how fast an answer comes, never which one.
Minimal sets are found by deletion in a fixed order, repairs break ties by catalog order, and
enumeration and sampling walk modules and options in catalog order.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Iterator, Mapping
from itertools import combinations
from typing import cast

from ..catalog import Catalog, Choice, choice_ids
from ..errors import InvalidInput
from ..validation import Violation, known_choices
from ..validation import validate as validate_configuration
from .checker import Checker
from .cnf import Encoding
from .counting import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT,
    Budget,
    BudgetExceeded,
    Counter,
    search_order,
)
from .custom import Custom, CustomCheck, NeedsModule
from .model import CatalogModel, EachRule, ExcludesRule, RequiresRule, SumRule
from .repair import nearest
from .results import Change, Conflict, Options, OptionStatus, Reason, Repair
from .sat import ALL_CUSTOM, SatSession

SESSION_GROWTH = 500_000  # solver variables added by repairs before the solver is rebuilt
EVERY_LIMIT = 1_000_000  # configurations enumerate lists at once (more: walked with the solver)
CONDITIONED_COUNTERS = 8  # counters kept for counts with choices fixed (per set of modules)


class Engine:
    """The configuration engine of one catalog.

    :param catalog: the catalog
    :param custom: custom rules as ``custom(configuration, complete) -> list[Violation]``
        (a plugin's ``validate_configuration``); they must be pure functions of the
        configuration they are given
    """

    def __init__(self, catalog: Catalog, custom: Custom | None = None):
        self.catalog = catalog
        self.custom = custom
        self.model = CatalogModel(catalog)
        self._lock = threading.RLock()
        self._check = (
            CustomCheck(self.model.custom_view(custom), self.model.module_ids) if custom else None
        )
        self._checker: Checker | None = None
        self._sat: SatSession | None = None
        self._repair_sat: SatSession | None = None
        self._order: list[int] | None = None
        self._counter: tuple[frozenset, Counter] | None = None
        self._conditioned: dict[tuple, Counter] = {}
        self._depends: set[str] = set()

    @classmethod
    def compile(cls, catalog: Catalog, custom: Custom | None = None) -> Engine:
        """A new engine for ``catalog`` with its validation index and SAT encoding built now.

        No state is kept between calls (share engines through ``C2M.engine``, which caches
        them per app and catalog).
        """
        engine = cls(catalog, custom)
        engine.checker, engine.sat  # noqa: B018 - build the compiled forms now
        return engine

    # Compiled forms, built on first use --------------------------------------------------------

    @property
    def checker(self) -> Checker:
        if self._checker is None:
            self._checker = Checker(self.model)
        return self._checker

    @property
    def sat(self) -> SatSession:
        if self._sat is None:
            self._sat = SatSession(Encoding(self.model), self._check)
        return self._sat

    @property
    def order(self) -> list[int]:
        if self._order is None:
            self._order = search_order(self.model)
        return self._order

    @property
    def _used_custom(self) -> bool:
        return self._check is not None

    # Validation ------------------------------------------------------------------------------

    def validate(
        self, configuration: Mapping[str, Choice], complete: bool = True
    ) -> list[Violation]:
        """Every violation of ``configuration``: structure, declarative rules, custom rules.

        The same list as ``C2M.validate`` (custom rules see only known choices). A catalog with
        multi-select modules is checked by ``c2m_core.validation.validate`` itself.
        """
        if self.model.expanded:
            violations = validate_configuration(self.catalog, configuration, complete)
        else:
            violations = self.checker.validate(cast(Mapping[str, str], configuration), complete)
        if self.custom is not None:
            known = configuration
            if violations and any(v.kind == "structure" for v in violations):
                known = known_choices(self.catalog, configuration)
            violations = [*violations, *(self.custom(dict(known), complete) or ())]
        return violations

    # Satisfiability, remaining options, conflicts ----------------------------------------------

    def is_satisfiable(self, partial: Mapping[str, Choice] | None = None) -> bool:
        """True when some valid complete configuration extends ``partial``."""
        values = self.model.indexes(partial or {})
        with self._lock:
            return self.sat.solve(self.sat.lits(values)) is not None

    def explain(
        self, partial: Mapping[str, Choice], timeout: float | None = DEFAULT_TIMEOUT
    ) -> Conflict | None:
        """A minimal conflict among ``partial``'s choices, or None when it can be completed.

        A search still running after ``timeout`` seconds raises ``OutOfTime``.
        """
        values = self.model.indexes(partial)
        with self._lock, self.sat.time_budget(timeout):
            sat = self.sat
            if sat.solve(sat.lits(values)) is not None:
                return None
            return self._conflict(values, sat.core)

    def example(
        self,
        domains: Mapping[str, Iterable[str | None]] | None = None,
        ignore: str | None = None,
        breaking: str | None = None,
    ) -> dict[str, Choice] | None:
        """The first valid complete configuration within ``domains``, or None when none exists.

        First in the order of ``enumerate``: modules in catalog order, a left-out optional
        module before its options.

        :param domains: module id -> the values it may take (option ids; None: left out); a
            multi-select module must choose at least one of the listed options, or (when None
            is listed) none at all
        :param ignore: the id of a catalog rule not to enforce
        :param breaking: the id of a catalog rule the configuration must break (every other
            rule, custom rules included, still holds)
        """
        model = self.model
        disabled = frozenset(self._rule_index(r) for r in (ignore, breaking) if r is not None)
        with self._lock:
            sat = self.sat
            enc = sat.encoding
            lits, clauses = self._domains(domains or {})
            guard = enc.new_var() if clauses or breaking is not None else None
            if guard is not None:
                if breaking is not None:
                    clauses.extend(self._broken(model.rules[self._rule_index(breaking)]))
                for clause in clauses:
                    sat.solver.add_clause([-guard, *clause])
                lits.append(guard)
            try:
                found = sat.solve(lits, disabled)
                fixed: dict[int, int] = {}
                for m in range(len(model.module_ids)) if found is not None else ():
                    assert found is not None
                    for value in model.values(m):
                        if value == found[m]:
                            break
                        trial = sat.solve([*lits, *sat.lits({**fixed, m: value})], disabled)
                        if trial is not None:
                            found = trial
                            break
                    fixed[m] = found[m]
            finally:
                if guard is not None:
                    sat.solver.add_clause([-guard])
        return None if found is None else model.named(found)

    def _domains(self, domains: Mapping[str, Iterable[str | None]]):
        """(literals, clauses) that keep each module of ``domains`` within its values."""
        enc = self.sat.encoding
        lits: list[int] = []
        clauses: list[list[int]] = []
        for module_id, allowed in domains.items():
            self._module_index(module_id)
            allowed = set(allowed)
            module = self.catalog.module(module_id)
            assert module is not None
            options = {o for o in allowed if o is not None}
            for option_id in sorted(options):
                self._option_index(module_id, option_id)
            chosen = [
                enc.x(m, j)
                for m, j, _, option_id in self._pairs_of(module_id)
                if option_id in options
            ]
            others = [
                enc.x(m, j)
                for m, j, _, option_id in self._pairs_of(module_id)
                if option_id not in options
            ]
            if not module.multiple and None in allowed:
                lits.extend(-x for x in others)
            elif module.multiple and None in allowed:
                clauses.extend([-x, *chosen] for x in others)
            elif len(chosen) == 1 and not module.multiple:
                lits.append(chosen[0])
            else:
                clauses.append(chosen)
        return lits, clauses

    def _pairs_of(self, module_id: str):
        return [pair for pair in self.model.pairs() if pair[2] == module_id]

    def _broken(self, rule) -> list[list[int]]:
        """Clauses (to be guarded) true exactly when ``rule`` is broken; may define new vars."""
        enc = self.sat.encoding
        solver = self.sat.solver
        fire = [] if getattr(rule, "fire", None) is None else [enc._lits(rule.fire)]
        if isinstance(rule, RequiresRule):
            return [*fire, *([-t] for t in enc._lits(rule.then))]
        if isinstance(rule, EachRule):
            return [*fire, enc._lits(rule.offend)]
        if isinstance(rule, ExcludesRule):
            matched = []
            for m, values in rule.refs:
                y = enc.new_var()
                solver.add_clause([-y, *(enc.x(m, j) for j in sorted(values))])
                matched.append(y)
            pairs = []
            for a, b in combinations(matched, 2):
                p = enc.new_var()
                solver.add_clause([-p, a])
                solver.add_clause([-p, b])
                pairs.append(p)
            return [pairs]
        windows = []
        if rule.low is not None:
            windows.append(SumRule(rule.index, rule.id, None, rule.amounts, None, rule.low - 1))
        if rule.high is not None:
            windows.append(SumRule(rule.index, rule.id, None, rule.amounts, rule.high + 1, None))
        outside = []
        for window in windows:
            h = enc.new_var()
            start = len(enc.clauses)
            enc._sum(window, h)
            for clause in enc.clauses[start:]:
                solver.add_clause(clause)
            del enc.clauses[start:]
            outside.append(h)
        return [*fire, outside]

    def _rule_index(self, rule_id: str) -> int:
        named = self.model.rule_ids[: self.model.named_rules]
        try:
            return named.index(rule_id)
        except ValueError:
            raise InvalidInput(f"unknown rule {rule_id!r}; rules are {', '.join(named)}") from None

    def _module_index(self, module_id: str) -> None:
        if self.catalog.module(module_id) is None:
            raise InvalidInput(
                f"unknown module {module_id!r}; modules are {', '.join(self.catalog.module_ids)}"
            )

    def _option_index(self, module_id: str, option_id: str) -> None:
        module = self.catalog.module(module_id)
        assert module is not None
        if module.option(option_id) is None:
            raise InvalidInput(
                f"unknown option {option_id!r} of module {module_id!r}; "
                f"options are {', '.join(module.option_ids)}"
            )

    def _conflict(self, values: dict[int, int], core: set[int]) -> Conflict:
        choices, rules = self._minimal([], values, core)
        named = self.model.named(choices)
        return Conflict(named, rules, self._conflict_message(named, rules), self._used_custom)

    def _minimal(self, fixed: list[int], choices: dict[int, int], core: set[int]):
        """Minimal choices, then minimal rules, such that no valid configuration has them all.

        Deletion in a fixed order, so explanations keep what comes first in the catalog: the
        choices from the last module to the first; then all custom rules at once (so catalog
        rules explain where they can), catalog rules from last to first, custom rules by id.
        A solver core answers a deletion for free when it does not mention the item.
        """
        sat = self.sat
        kept = dict(sorted(choices.items()))
        for module in reversed(list(kept)):
            if not core.intersection(sat.encoding.value_lits(module, kept[module])):
                del kept[module]
                continue
            trial = {m: v for m, v in kept.items() if m != module}
            if sat.solve(fixed + sat.lits(trial)) is None:
                kept = trial
                core = sat.core
        lits = fixed + sat.lits(kept)
        disabled: set = set()

        def in_core(key):
            if key is ALL_CUSTOM:
                return any(sat.selectors[rule] in core for rule in sat.custom_rules)
            return sat.selector(key) in core

        def drop(key):
            nonlocal core
            if not in_core(key):
                disabled.add(key)
            elif sat.solve(lits, disabled | {key}) is None:
                disabled.add(key)
                core = sat.core

        if self._check is not None:
            drop(ALL_CUSTOM)
        selectors = sat.selectors
        for key in reversed(range(self.model.named_rules)):
            if selectors[key] in core:
                drop(key)
            else:
                disabled.add(key)
        done: set[str] = set()
        while ALL_CUSTOM not in disabled and (pending := sorted(set(sat.custom_rules) - done)):
            for rule_id in pending:
                done.add(rule_id)
                drop(rule_id)
        rules = [self.model.rule_ids[k] for k in range(self.model.named_rules) if k not in disabled]
        if ALL_CUSTOM not in disabled:
            rules.extend(key for key in sorted(sat.custom_rules) if key not in disabled)
        return kept, tuple(rules)

    def _describe(self, rules) -> str:
        texts = []
        for rule_id in rules:
            rule = self.catalog.rule(rule_id)
            texts.append(f"{rule_id} ({rule.message})" if rule else f"custom rule {rule_id}")
        return "; ".join(texts)

    def _conflict_message(self, choices: dict, rules) -> str:
        if not choices:
            return f"no valid configuration exists: {self._describe(rules)}"
        return f"{_pairs(choices)} cannot be completed together: {self._describe(rules)}"

    def options(
        self, partial: Mapping[str, Choice] | None = None, timeout: float | None = DEFAULT_TIMEOUT
    ) -> Options:
        """For every option: can some valid completion of ``partial`` choose it, and if not why.

        A search still running after ``timeout`` seconds raises ``OutOfTime``.
        """
        partial = dict(partial or {})
        values = self.model.indexes(partial)
        model = self.model
        with self._lock, self.sat.time_budget(timeout):
            sat = self.sat
            base = sat.lits(values)
            found = sat.solve(base)
            if found is None:
                conflict = self._conflict(values, sat.core)
                blocked = Reason(conflict.rules, conflict.choices, conflict.message)
                every = tuple(
                    OptionStatus(mid, oid, False, values.get(m) == j, blocked)
                    for m, j, mid, oid in model.pairs()
                )
                return Options(partial, every, conflict, self._used_custom)
            covered = {(m, v) for m, v in found.items()}
            pending = [
                (m, j) for m, j, _, _ in model.pairs() if m not in values and (m, j) not in covered
            ]
            cores = {}
            enc = sat.encoding
            # Without custom rules, first try every pending option in place of a model's choice
            # (table lookups), and ask the solver only for the rest.
            flips = self._check is None
            if flips:
                self._cover_by_flips(found, pending, covered)
                pending = [item for item in pending if item not in covered]
            while pending:
                target = pending[0]
                # Ask for one pending option per module (a model chooses one per module), and
                # against everything already covered, so each model covers many new options.
                wanted: dict[int, int] = {}
                for m, j in pending:
                    wanted.setdefault(m, enc.x(m, j))
                sat.prefer_only(wanted.values())
                found = sat.solve([*base, sat.encoding.x(*target)])
                if found is None:
                    cores[target] = sat.core
                    pending = pending[1:]
                else:
                    covered.update(found.items())
                    if flips:
                        self._cover_by_flips(found, pending, covered)
                    pending = [item for item in pending if item not in covered]
            reasons = {}
            for (m, j), core in cores.items():
                choices, rules = self._minimal([sat.encoding.x(m, j)], values, core)
                named = model.named(choices)
                mid, oid = model.pair(m, j)
                if rules:
                    text = f"{mid}={oid} is ruled out by {self._describe(rules)}"
                else:
                    text = f"{mid}={oid} is ruled out: {model.structure({mid, *named})}"
                if named:
                    text += f", given {_pairs(named)}"
                reasons[m, j] = Reason(rules, named, text)
        statuses = []
        for m, j, mid, oid in model.pairs():
            if m in values:
                chosen = values[m] == j
                reason = None
                if not chosen:
                    picked = model.option_ids[m][values[m]]
                    reason = Reason((), {mid: picked}, f"{mid} is already set to {picked}")
                statuses.append(OptionStatus(mid, oid, chosen, chosen, reason))
            else:
                reason = reasons.get((m, j))
                statuses.append(OptionStatus(mid, oid, reason is None, False, reason))
        return Options(partial, tuple(statuses), None, self._used_custom)

    def _cover_by_flips(self, values: dict[int, int], pending, covered: set) -> None:
        """Add to ``covered`` the pending options that can replace their module's value in the
        valid configuration ``values`` and leave it valid."""
        self.checker.flips(values, pending, covered)

    # Counting, sampling, enumeration -------------------------------------------------------------

    def _counted(self, question, first: tuple[int, ...] = ()):
        """Run ``question(counter)``, learning what custom rules read until it goes through.

        ``first``: modules the counter decides first (the fixed ones of a count), the rest in
        the order that keeps few rules open once those are decided.
        """
        while True:
            depends = frozenset(self._depends)
            try:
                counter = self._counter_for(depends, first)
                return question(counter)
            except NeedsModule as needs:
                self._learn(needs)

    def _counter_for(self, depends: frozenset, first: tuple[int, ...]) -> Counter:
        if not first:
            if self._counter is None or self._counter[0] != depends:
                self._counter = (depends, Counter(self.model, self.order, self._check, depends))
            return self._counter[1]
        key = (depends, first)
        counter = self._conditioned.get(key)
        if counter is None:
            order = search_order(self.model, first)
            counter = Counter(self.model, order, self._check, depends)
            while len(self._conditioned) >= CONDITIONED_COUNTERS:
                self._conditioned.pop(next(iter(self._conditioned)))
            self._conditioned[key] = counter
        return counter

    def _learn(self, needs: NeedsModule) -> None:
        if needs.module is None or len(self._depends) + 1 >= len(self.model.module_ids):
            self._depends = set(self.model.module_ids)
        else:
            self._depends.add(needs.module)

    def count(
        self,
        partial: Mapping[str, Choice] | None = None,
        max_states: int | None = None,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> int:
        """The exact number of valid complete configurations extending ``partial``.

        Counting is exponential in how intertwined the rules are, so it has a budget: at most
        ``max_states`` memo states (None: no limit on their number), ``max_bytes`` bytes of
        them (estimated) and ``timeout`` seconds. Outgrowing it raises ``TooManyStates`` or
        ``OutOfTime`` (both ``BudgetExceeded``), never ``MemoryError``.
        """
        values = self.model.indexes(partial or {})
        with self._lock:
            budget = Budget(max_states, max_bytes, timeout)
            first = tuple(sorted(values))
            try:
                return self._counted(lambda counter: counter.count(values, budget), first)
            except BudgetExceeded:
                # the counters' transition caches grew with the failed search: let them go
                self._counter = None
                self._conditioned.clear()
                raise

    def sample(
        self,
        n: int,
        seed,
        partial: Mapping[str, Choice] | None = None,
        max_states: int | None = None,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> list[dict]:
        """``n`` valid complete configurations drawn uniformly (with replacement) from ``seed``.

        The same seed, catalog and partial configuration give the same list; [] when none exist.
        Sampling counts first, within the same budget as ``count``.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InvalidInput(f"sample size must be a non-negative integer, got {n!r}")
        values = self.model.indexes(partial or {})
        with self._lock:
            budget = Budget(max_states, max_bytes, timeout)
            drawn = self._counted(
                lambda counter: counter.sample(random.Random(seed), n, values, budget)
            )
        return [self.model.named(d) for d in drawn]

    def enumerate(
        self, partial: Mapping[str, Choice] | None = None, limit: int | None = None
    ) -> Iterator[dict]:
        """Valid complete configurations extending ``partial``, in catalog order.

        Modules vary from the last one fastest; a left-out optional module comes before its
        options. Stops after ``limit`` configurations when given.
        """
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise InvalidInput(f"limit must be a non-negative integer, got {limit!r}")
        values = self.model.indexes(partial or {})
        if limit is None:
            every = self._every(values)
            if every is not None:
                return iter(every)
        return self._enumerate(values, limit)

    def _every(self, values: dict[int, int]) -> list[dict] | None:
        """Every valid configuration extending ``values`` in catalog order, from the counter's
        memoized counts (no solver call per configuration); None when there are more than
        ``EVERY_LIMIT`` or counting outgrows its budget (``enumerate`` then walks with the
        solver, one configuration at a time)."""
        model = self.model
        with self._lock:
            try:
                if self._counted(lambda c: c.count(values, Budget())) > EVERY_LIMIT:
                    return None
                found = self._counted(lambda counter: list(counter.solutions(values, Budget())))
            except BudgetExceeded:
                return None
        # NONE (-1) sorts before every option index: catalog order, a left-out module first
        found.sort(key=lambda d: [d[m] for m in range(len(model.module_ids))])
        return [model.named(d) for d in found]

    def _enumerate(self, values: dict[int, int], limit: int | None) -> Iterator[dict]:
        model = self.model
        free = [m for m in range(len(model.module_ids)) if m not in values]
        produced = 0
        with self._lock:
            root = self.sat.solve(self.sat.lits(values))
        stack = [(0, dict(values), root)] if root is not None else []
        while stack and (limit is None or produced < limit):
            depth, fixed, known = stack.pop()
            if depth == len(free):
                produced += 1
                yield model.named(fixed)
                continue
            module = free[depth]
            children = []
            for value in model.values(module):
                trial = {**fixed, module: value}
                witness = known if known is not None and known[module] == value else None
                if witness is None:
                    with self._lock:
                        witness = self.sat.solve(self.sat.lits(trial))
                if witness is not None:
                    children.append((depth + 1, trial, witness))
            stack.extend(reversed(children))

    # Repair ------------------------------------------------------------------------------------

    def repair(
        self,
        configuration: Mapping[str, Choice],
        weights: Mapping[str, int] | None = None,
        keep=(),
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> Repair | None:
        """The nearest valid complete configuration to ``configuration``, or None if none.

        Changes as few of the wish's choices as possible, counting each module's ``weights``
        (default 1); modules in ``keep`` never change. Among equally near configurations the
        one that keeps the earlier modules of the catalog wins, then the earlier options.
        A multi-select module's wished options are choices each: dropping one costs the
        module's weight, adding one costs nothing, and ``keep`` keeps all of them.
        A search still running after ``timeout`` seconds raises ``OutOfTime``.
        """
        model = self.model
        wish = model.indexes(configuration, wish=True)
        cost = self._weights(weights)
        keep = tuple(keep)
        for module_id in keep:
            if module_id not in configuration:
                raise InvalidInput(
                    f"keep names {module_id!r}, which the configuration does not choose; "
                    f"it chooses {', '.join(configuration) or 'nothing'}"
                )
        hard = {m: wish[m] for module_id in keep for m in model.members[module_id] if m in wish}
        with self._lock:
            sat = self._repair_session()
            with sat.time_budget(timeout):
                found = nearest(sat, wish, hard, cost)
            if sat.grown > SESSION_GROWTH:
                sat.close()
                self._repair_sat = None
        if found is None:
            return None
        fixed, changed = found
        final = model.named(fixed)
        wished = model.named(wish)
        changes = tuple(
            Change(mid, wished.get(mid), final.get(mid))
            for mid in self.catalog.module_ids
            if wished.get(mid) != final.get(mid)
        )
        distance = sum(cost(m) for m in changed)
        return Repair(final, changes, distance, self._used_custom)

    def _repair_session(self) -> SatSession:
        """A solver of its own for repairs: the variables and clauses each repair adds would
        slow down every later question to the main one."""
        if self._repair_sat is None:
            self._repair_sat = SatSession(Encoding(self.model), self._check)
        return self._repair_sat

    def _weights(self, weights):
        weights = dict(weights or {})
        for module_id, weight in weights.items():
            if module_id not in self.model.members:
                raise InvalidInput(
                    f"weights name unknown module {module_id!r}; modules are "
                    f"{', '.join(self.catalog.module_ids)}"
                )
            if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
                raise InvalidInput(
                    f"weight of module {module_id!r} must be a positive integer, got {weight!r}"
                )
        by_index = {m: w for mid, w in weights.items() for m in self.model.members[mid]}
        return lambda m: by_index.get(m, 1)


def _pairs(choices: Mapping[str, Choice]) -> str:
    return ", ".join(f"{m}={','.join(choice_ids(o))}" for m, o in choices.items())
