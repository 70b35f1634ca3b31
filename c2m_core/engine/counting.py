"""Exact counting and uniform sampling of valid complete configurations.

A memoized search over the modules in a fixed order. Each rule becomes a small automaton whose
state summarises the choices made so far as far as the rule's remaining modules care (fired or
not, how many references matched, the class of a partial sum); the memo key at a position is the
tuple of states of the rules that have started but not finished there. Choices that affect no
rule in the same way are counted together. The result is an exact Python integer.
"""

from __future__ import annotations

import time
from operator import itemgetter

from ..errors import C2MError
from .custom import CustomCheck
from .model import NONE, CatalogModel, EachRule, ExcludesRule, RequiresRule, SumLayers, SumRule

ACCEPT = 0
DEAD = None
_MISSING = object()


DEFAULT_MAX_BYTES = 1 << 30  # memory a count may hold in memo states (estimated)
DEFAULT_TIMEOUT = 60.0  # seconds a count may take
_CHECK_EVERY = 4096  # states added between two checks of the budget


class BudgetExceeded(C2MError):
    """A search ran out of its memory or time budget before answering."""


class TooManyStates(BudgetExceeded):
    """Counting would keep more memo states, or more bytes, than allowed."""

    def __init__(self, limit: int, module: str, unit: str = "memo states"):
        self.limit = limit
        self.module = module
        self.unit = unit
        super().__init__(
            f"counting needs more than {limit:,} {unit} (reached at module {module!r}); "
            "fix more choices to count fewer configurations, or raise the budget "
            "(max_states, max_bytes)"
        )


class OutOfTime(BudgetExceeded):
    """A search took longer than its time budget."""

    def __init__(self, seconds: float, what: str):
        self.seconds = seconds
        super().__init__(
            f"{what} took longer than its {seconds:g} s budget; fix more choices to narrow "
            "the question, or raise the budget (timeout)"
        )


class Budget:
    """The states, estimated bytes and seconds a search may use; ``charge`` enforces them.

    Bytes are estimated from what the search keeps: per memo state its key, its count (an
    integer that grows with the number of configurations, or a packed polynomial when a sum is
    tallied) and the dictionary slot.
    """

    def __init__(self, max_states=None, max_bytes=DEFAULT_MAX_BYTES, timeout=DEFAULT_TIMEOUT):
        self.max_states = max_states
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout

    def check(self, states: int, nbytes: int, module: str) -> None:
        """Raise when ``states`` memo states holding ``nbytes`` bytes, or the time, are too much."""
        if self.max_states is not None and states > self.max_states:
            raise TooManyStates(self.max_states, module)
        if self.max_bytes is not None and nbytes > self.max_bytes:
            raise TooManyStates(self.max_bytes, module, "bytes of memo states")
        self.tick()

    def tick(self, what: str = "counting") -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise OutOfTime(self.timeout, what)


def state_bytes(key: tuple, count: int) -> int:
    """Estimated bytes one memo state holds: dict slot, key tuple, integer."""
    return 120 + 8 * len(key) + count.bit_length() // 8


class _Requires:
    def __init__(self, rule: RequiresRule, pos):
        self.fire = {pos[m]: v for m, v in rule.fire.items()}
        self.then = {pos[m]: v for m, v in rule.then.items()}
        self.last_fire = max(self.fire)
        self.last_then = max(self.then, default=-1)
        self.positions = sorted(set(self.fire) | set(self.then))
        self.init = 1

    def signature(self, p, v):
        return (v in self.fire.get(p, ()), v in self.then.get(p, ()))

    def step(self, p, v, state):
        if state == ACCEPT or v in self.then.get(p, ()):
            return ACCEPT
        if v in self.fire.get(p, ()):
            state = 2
        if state == 2:
            return DEAD if self.last_then <= p else 2
        return ACCEPT if self.last_fire <= p else 1


class _Excludes:
    def __init__(self, rule: ExcludesRule, pos, domains):
        self.refs: dict[int, list] = {}
        for m, values in rule.refs:
            self.refs.setdefault(pos[m], []).append(values)
        self.positions = sorted(self.refs)
        most = {p: max((self.matches(p, v) for v in domains[p]), default=0) for p in self.positions}
        self.future = {p: sum(most[q] for q in self.positions if q > p) for p in self.positions}
        self.init = 1

    def matches(self, p, v):
        return sum(1 for values in self.refs.get(p, ()) if v in values)

    def signature(self, p, v):
        return self.matches(p, v)

    def step(self, p, v, state):
        if state == ACCEPT:
            return ACCEPT
        seen = state - 1 + self.matches(p, v)
        if seen >= 2:
            return DEAD
        return ACCEPT if seen + self.future[p] <= 1 else seen + 1


class _Each:
    def __init__(self, rule: EachRule, pos):
        assert rule.fire is not None  # an unconditional rule narrows the domains instead
        self.fire = {pos[m]: v for m, v in rule.fire.items()}
        self.offend = {pos[m]: v for m, v in rule.offend.items()}
        self.last_fire = max(self.fire)
        self.last_offend = max(self.offend, default=-1)
        self.positions = sorted(set(self.fire) | set(self.offend))
        self.init = 1

    def signature(self, p, v):
        return (v in self.fire.get(p, ()), v in self.offend.get(p, ()))

    def step(self, p, v, state):
        if state == ACCEPT:
            return ACCEPT
        fired = state == 2 or v in self.fire.get(p, ())
        offended = state == 3 or v in self.offend.get(p, ())
        if fired and offended:
            return DEAD
        if fired:
            return ACCEPT if self.last_offend <= p else 2
        if offended:
            return ACCEPT if self.last_fire <= p else 3
        return ACCEPT if self.last_fire <= p or self.last_offend <= p else 1


class _Sum:
    def __init__(self, rule: SumRule, pos, order, domains):
        self.rule = rule
        carriers = sorted(pos[m] for m in rule.amounts)
        self.module = {p: order[p] for p in carriers}
        self.layer = {p: i for i, p in enumerate(carriers)}
        self.layers = SumLayers(
            rule, [order[p] for p in carriers], {order[p]: domains[p] for p in carriers}
        )
        self.fire = {pos[m]: v for m, v in rule.fire.items()} if rule.fire is not None else None
        self.last_fire = max(self.fire) if self.fire is not None else -1
        self.positions = sorted(set(carriers) | set(self.fire or ()))
        start = self.layers.klass(0, 0)
        self.reps: list[dict] = [{} for _ in range(len(carriers) + 1)]
        if start not in (None, False):
            self.reps[0][start] = 0
        fired = self.fire is None
        self.init = self._settle(fired, start, -1)

    def signature(self, p, v):
        fires = self.fire is not None and v in self.fire.get(p, ())
        amount = self.rule.amount(self.module[p], v) if p in self.module else 0
        return (fires, amount)

    def _settle(self, fired, klass, p):
        if fired:
            if klass is None:
                return ACCEPT
            return DEAD if klass is False else (True, klass)
        if klass is None or self.last_fire <= p:
            return ACCEPT
        return (False, klass)

    def step(self, p, v, state):
        if state == ACCEPT:
            return ACCEPT
        fired, klass = state
        if self.fire is not None and v in self.fire.get(p, ()):
            fired = True
        if p in self.layer and klass not in (None, False):
            layer = self.layer[p]
            total = self.reps[layer][klass] + self.rule.amount(self.module[p], v)
            klass = self.layers.klass(layer + 1, total)
            if klass not in (None, False):
                self.reps[layer + 1].setdefault(klass, total)
        return self._settle(fired, klass, p)


class _Custom:
    """The custom rules, asked once every module they read is decided."""

    def __init__(self, check: CustomCheck, model: CatalogModel, order, depends):
        self.check = check
        self.model = model
        self.order = order
        self.visible = frozenset(depends)
        self.positions = sorted(p for p, m in enumerate(order) if model.module_ids[m] in depends)
        self.last = self.positions[-1] if self.positions else -1
        self.init = () if self.positions else self._verdict(())

    def signature(self, p, v):
        return v

    def _verdict(self, values):
        chosen = {}
        for p, v in zip(self.positions, values, strict=True):
            if v != NONE:
                m = self.order[p]
                chosen[self.model.module_ids[m]] = self.model.option_ids[m][v]
        return DEAD if self.check.check_part(chosen, self.visible) else ACCEPT

    def step(self, p, v, state):
        state = (*state, v)
        return self._verdict(state) if p == self.last else state


class _Tally:
    """The sum of one unconditional sum rule, kept as a generating function.

    Counts are polynomials in x, x^k counting configurations whose sum (shifted so every
    module adds at least 0) is k, packed into one Python integer with ``width`` bits per
    coefficient. Adding a choice is a shift, two counts add as integers; coefficients past
    the maximum are cut off, and the rule's window is summed at the end. Without a sum rule
    every count is a plain integer (``width`` 0).
    """

    def __init__(self, rule: SumRule | None, order, domains):
        self.rule = rule
        if rule is None:
            self.width, self.low, self.high, self.mask = 0, 0, 0, None
            self.raise_by = [dict.fromkeys(values, 0) for values in domains]
            return
        space = 1
        for values in domains:
            space *= max(len(values), 1)
        self.width = space.bit_length() + 1
        self.raise_by = []
        offset = 0
        top = 0
        for m, values in zip(order, domains, strict=True):
            amounts = {v: rule.amount(m, v) for v in values}
            least = min(amounts.values(), default=0)
            offset += least
            top += max(amounts.values(), default=0) - least
            self.raise_by.append({v: a - least for v, a in amounts.items()})
        self.low = max(0, rule.low - offset) if rule.low is not None else 0
        self.high = min(top, rule.high - offset) if rule.high is not None else top
        self.mask = (1 << (self.width * (self.high + 1))) - 1 if self.high >= 0 else 0

    def shift(self, p: int, v: int) -> int:
        return self.raise_by[p][v] * self.width

    def window(self, poly: int, low: int, high: int) -> int:
        """The sum of the coefficients of x^low .. x^high.

        Folds the slots in halves; no slot overflows, as every coefficient sum counts distinct
        configurations and ``width`` leaves room for all of them.
        """
        if not self.width:
            return poly if low <= 0 <= high else 0
        low = max(low, 0)
        high = min(high, self.high)
        if high < low:
            return 0
        slots = high - low + 1
        poly = (poly >> (self.width * low)) & ((1 << (self.width * slots)) - 1)
        while slots > 1:
            half = (slots + 1) // 2
            cut = self.width * half
            poly = (poly & ((1 << cut) - 1)) + (poly >> cut)
            slots = half
        return poly

    def total(self, poly: int) -> int:
        return self.window(poly, self.low, self.high)


class Counter:
    """Counts (and samples) valid completions of fixed choices, deciding modules in ``order``.

    Built once per catalog (and set of modules the custom rules read); transitions between
    memo keys are cached across calls, the memo itself is per call.

    :param model: the catalog model
    :param order: module indices in the order the search decides them
    :param check: the custom rules, or None
    :param depends: module ids the custom rules are known to read
    """

    def __init__(self, model: CatalogModel, order, check=None, depends=()):
        self.model = model
        self.order = list(order)
        self.n = len(self.order)
        pos = {m: p for p, m in enumerate(self.order)}
        domains = [model.values(m) for m in self.order]
        for rule in model.rules:
            if isinstance(rule, EachRule) and rule.fire is None:
                for m, bad in rule.offend.items():
                    domains[pos[m]] = [v for v in domains[pos[m]] if v not in bad]
        sums = [r for r in model.rules if isinstance(r, SumRule) and r.fire is None and r.amounts]
        tallied = max(sums, key=lambda r: len(r.amounts), default=None)
        automata: list[_Requires | _Excludes | _Each | _Sum | _Custom] = []
        for rule in model.rules:
            if isinstance(rule, RequiresRule):
                automata.append(_Requires(rule, pos))
            elif isinstance(rule, ExcludesRule):
                automata.append(_Excludes(rule, pos, domains))
            elif isinstance(rule, EachRule):
                if rule.fire is not None and rule.offend:
                    automata.append(_Each(rule, pos))
            elif rule is not tallied:
                automata.append(_Sum(rule, pos, self.order, domains))
        if check is not None:
            automata.append(_Custom(check, model, self.order, depends))
        self.domains = domains
        self.tally = _Tally(tallied, self.order, domains)
        self.impossible = self.tally.high < self.tally.low or any(a.init is DEAD for a in automata)
        self._plan([a for a in automata if a.init is not ACCEPT and a.init is not DEAD])

    def _plan(self, automata) -> None:
        """Per position: which key entries carry over, and how the others step per value.

        The key after a position lists the carried states first (in their old order), then
        the states of the automata that stepped there and go on. Steps depend only on the
        stepping automata's states (the "joint" state), so they are cached by it.
        """
        last = {id(a): a.positions[-1] for a in automata}
        layout: list = []
        self.take, self.feed, self.steps, self.groups = [], [], [], []
        for p in range(self.n):
            where = {id(a): i for i, a in enumerate(layout)}
            stepped = [a for a in layout if p in a.positions]
            starting = [a for a in automata if a.positions[0] == p]
            carried = [a for a in layout if p not in a.positions]
            going_on = [last[id(a)] > p for a in stepped + starting]
            self.take.append(_getter([where[id(a)] for a in carried]))
            self.feed.append(_getter([where[id(a)] for a in stepped]))
            steps: dict[int, tuple] = {}
            signatures: dict = {}
            for v in self.domains[p]:
                steps[v] = (_joint_step(p, v, stepped, starting, going_on), {})
                signature = tuple(a.signature(p, v) for a in stepped + starting)
                signatures.setdefault((signature, self.tally.shift(p, v)), []).append(v)
            self.steps.append(steps)
            self.groups.append([(values[0], len(values)) for values in signatures.values()])
            layout = carried + [a for a, on in zip(stepped + starting, going_on, strict=True) if on]
        self.tables: list[dict] = [{} for _ in range(self.n)]

    def _step(self, p: int, v: int, joint: tuple):
        """The new states of the automata stepping at ``p`` (None: a rule fails)."""
        compute, cache = self.steps[p][v]
        out = cache.get(joint, _MISSING)
        if out is _MISSING:
            out = cache[joint] = compute(joint)
        return out

    def _outs(self, p: int, joint: tuple, value=None) -> tuple:
        """(new states, shift of the tally, number of values) for every value at ``p``."""
        if value is not None:
            if value not in self.steps[p]:
                return ()
            out = self._step(p, value, joint)
            return () if out is None else ((out, self.tally.shift(p, value), 1),)
        table = self.tables[p]
        outs = table.get(joint)
        if outs is None:
            merged: dict = {}
            for v, weight in self.groups[p]:
                out = self._step(p, v, joint)
                if out is not None:
                    key = (out, self.tally.shift(p, v))
                    merged[key] = merged.get(key, 0) + weight
            outs = table[joint] = tuple((o, shift, w) for (o, shift), w in merged.items())
        return outs

    def count(self, fixed: dict[int, int] | None = None, budget: Budget | None = None) -> int:
        """The number of valid complete configurations with the ``fixed`` module values.

        Raises ``TooManyStates`` or ``OutOfTime`` when the search outgrows ``budget``: the
        states of one layer and the next are charged, with their estimated bytes.
        """
        if self.impossible:
            return 0
        budget = budget or Budget()
        fixed = fixed or {}
        mask = self.tally.mask
        layer = {(): 1}
        held = 0  # bytes of the layer being read
        for p, m in enumerate(self.order):
            take, feed, value = self.take[p], self.feed[p], fixed.get(m)
            module = self.model.module_ids[m]
            following: dict = {}
            added = 0  # bytes of the layer being built, estimated as its states are added
            for key, poly in layer.items():
                outs = self._outs(p, feed(key), value)
                if not outs:
                    continue
                base = take(key)
                for out, shift, weight in outs:
                    term = (poly << shift) * weight
                    if mask is not None:
                        term &= mask
                    new = base + out
                    old = following.get(new)
                    if old is None:
                        following[new] = term
                        added += state_bytes(new, term)
                        if not len(following) % _CHECK_EVERY:
                            budget.check(len(following), held + added, module)
                    else:
                        following[new] = old + term
            added = sum(state_bytes(k, v) for k, v in following.items())
            budget.check(len(following), held + added, module)
            layer, held = following, added
        return self.tally.total(sum(layer.values()))

    def _completions(self, fixed, budget: Budget | None = None):
        """completions(p, key): the tally polynomial of valid completions from ``p``, ``key``."""
        budget = budget or Budget()
        held = [0, 0]  # states and estimated bytes in the memo
        memo: list[dict] = [{} for _ in range(self.n)]
        n = self.n
        mask = self.tally.mask

        def completions(p, key):
            if p == n:
                return 1
            found = memo[p].get(key)
            if found is not None:
                return found
            base = self.take[p](key)
            joint = self.feed[p](key)
            total = 0
            for out, shift, weight in self._outs(p, joint, fixed.get(self.order[p])):
                total += (completions(p + 1, base + out) << shift) * weight
            if mask is not None:
                total &= mask
            memo[p][key] = total
            held[0] += 1
            held[1] += state_bytes(key, total)
            if (
                held[0] % _CHECK_EVERY == 0
                or (budget.max_states is not None and held[0] > budget.max_states)
                or (budget.max_bytes is not None and held[1] > budget.max_bytes)
            ):
                budget.check(held[0], held[1], self.model.module_ids[self.order[p]])
            return total

        return completions

    def sample(self, rng, n: int, fixed=None, budget=None) -> list[dict[int, int]]:
        """``n`` configurations (module index -> value) drawn uniformly, [] when none exist."""
        fixed = fixed or {}
        if self.impossible:
            return []
        completions = self._completions(fixed, budget)
        tally = self.tally
        if not tally.total(completions(0, ())):
            return []
        drawn = []
        for _ in range(n):
            key = ()
            values = {}
            raised = 0
            for p in range(self.n):
                m = self.order[p]
                options = self._ways(p, key, raised, fixed, completions)
                pick = rng.randrange(sum(ways for *_, ways in options))
                for v, new, up, ways in options:
                    if pick < ways:
                        values[m], key, raised = v, new, up
                        break
                    pick -= ways
            drawn.append(values)
        return drawn

    def solutions(self, fixed=None, budget=None):
        """Every valid configuration (module index -> value) with the ``fixed`` values, in
        the search order: a walk of the memoized counts that never enters a dead end."""
        fixed = fixed or {}
        if self.impossible:
            return
        completions = self._completions(fixed, budget)
        tally = self.tally
        if not tally.total(completions(0, ())):
            return
        values: dict[int, int] = {}
        stack: list[tuple[int, tuple, int, int | None]] = [(0, (), 0, None)]
        while stack:
            p, key, raised, chosen = stack.pop()
            if chosen is not None:
                values[self.order[p - 1]] = chosen
            if p == self.n:
                yield dict(values)
                continue
            ways = self._ways(p, key, raised, fixed, completions)
            stack.extend((p + 1, new, up, v) for v, new, up, _ in reversed(ways))

    def _ways(self, p: int, key: tuple, raised: int, fixed, completions) -> list[tuple]:
        """(value, next key, tally raised, completions) of each value at ``p`` that some
        valid configuration continues from ``key``."""
        tally = self.tally
        m = self.order[p]
        found = []
        for v in [fixed[m]] if m in fixed else self.domains[p]:
            out = self._step(p, v, self.feed[p](key))
            if out is None:
                continue
            new = self.take[p](key) + out
            up = raised + tally.raise_by[p][v]
            ways = tally.window(completions(p + 1, new), tally.low - up, tally.high - up)
            if ways:
                found.append((v, new, up, ways))
        return found


def _joint_step(p, v, stepped, starting, going_on):
    """The step of every automaton at position ``p`` for value ``v``, as one function."""
    automata = stepped + starting
    inits = tuple(a.init for a in starting)

    def compute(joint):
        out = []
        for automaton, state, on in zip(automata, joint + inits, going_on, strict=True):
            following = automaton.step(p, v, state)
            if following is DEAD:
                return None
            if on:
                out.append(following)
        return tuple(out)

    return compute


def _getter(indexes):
    """A function returning the tuple of ``key`` entries at ``indexes``."""
    if not indexes:
        return lambda key: ()
    if len(indexes) == 1:
        (i,) = indexes
        return lambda key: (key[i],)
    return itemgetter(*indexes)


def search_order(model: CatalogModel, first=()) -> list[int]:
    """A module order that keeps few rules open at a time (greedy, ties by catalog order).

    ``first``: modules to decide before all others (the fixed choices of a count: once they
    are decided, the rules they take part in narrow the others' values instead of staying open).
    """
    scopes = [
        frozenset(rule.modules)
        for rule in model.rules
        if not (isinstance(rule, EachRule) and rule.fire is None) and len(rule.modules) > 1
    ]
    remaining = [m for m in range(len(model.module_ids)) if m not in first]
    placed: set[int] = set(first)
    order = list(first)
    while remaining:

        def opened(m):
            now = placed | {m}
            return sum(1 for scope in scopes if scope & now and not scope <= now)

        best = min(remaining, key=lambda m: (opened(m), m))
        order.append(best)
        placed.add(best)
        remaining.remove(best)
    return order
