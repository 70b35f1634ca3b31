"""Validating a configuration against a catalog's declarative rules.

Pure: no store, no plugins. Custom Python rules arrive through the ``validate_configuration``
hook and are added by the caller (see ``c2m_core.app.C2M.validate``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import attrs

from .catalog import Catalog, Choice, Excludes, Limit, Ref, Requires, Rule, choice_ids
from .errors import InvalidInput


@attrs.frozen
class Violation:
    """One reason a configuration is not valid.

    ``rule`` is the rule id (or ``required``, ``unknown-module``, ``unknown-option`` for structural
    problems), ``options`` the ``module.option`` choices involved, ``suggestion`` a close id
    for unknown ones.
    """

    rule: str
    message: str
    options: tuple[str, ...] = ()
    kind: str = "rule"
    suggestion: str | None = None

    def to_dict(self) -> dict:
        return attrs.asdict(self)


def parse_configuration(pairs) -> dict[str, Choice]:
    """Parse ``MODULE=OPTION`` strings into a configuration dict.

    ``MODULE=A,B`` (option ids never hold a comma) chooses several options of a multi-select
    module, and ``MODULE=`` with nothing after it is refused (leave the module out).
    Raises ``InvalidInput`` naming the malformed or repeated pair.
    """
    configuration: dict[str, Choice] = {}
    for pair in pairs:
        module, sep, option = pair.partition("=")
        module, option = module.strip(), option.strip()
        if not sep or not module or not option:
            raise InvalidInput(
                f"{pair!r} is not MODULE=OPTION (for example size=65-4k)",
                field="configuration",
                value=pair,
                accepted="MODULE=OPTION, for example size=65-4k",
            )
        if module in configuration:
            raise InvalidInput(
                f"module {module!r} is given twice ({configuration[module]!r}, "
                f"{option!r}); choose one option per module",
                field=module,
                value=[configuration[module], option],
                accepted="one option per module",
            )
        configuration[module] = (
            tuple(part.strip() for part in option.split(",")) if "," in option else option
        )
    return configuration


def structural_violations(catalog: Catalog, configuration: Mapping[str, Choice]) -> list[Violation]:
    """Unknown modules and options (with a close suggestion), and the wrong number of options
    for a module (one for a single-select, ``minimum``..``maximum`` distinct ones for a
    multi-select), in the order given."""
    violations = []
    for module_id, value in configuration.items():
        module = catalog.module(module_id)
        ids = choice_ids(value)
        if module is not None:
            count = _count_violation(module, value, ids)
            if count is not None:
                violations.append(count)
        for option_id in ids if module is not None else [",".join(ids)]:
            violations.extend(_unknown(catalog, module_id, option_id))
    return violations


def _count_violation(module, value, ids: tuple[str, ...]) -> Violation | None:
    involved = tuple(f"{module.id}.{o}" for o in ids)
    if not module.multiple:
        if isinstance(value, str):
            return None
        return Violation(
            "option-count",
            f"module {module.id!r} takes one option, got {len(ids)} ({', '.join(ids) or 'none'})",
            involved,
            kind="structure",
        )
    if len(set(ids)) != len(ids):
        return Violation(
            "option-count",
            f"module {module.id!r} got an option twice ({', '.join(ids)}); name each once",
            involved,
            kind="structure",
        )
    if not module.minimum <= len(ids) <= module.maximum:
        return Violation(
            "option-count",
            f"module {module.id!r} takes {module.minimum} to {module.maximum} options, "
            f"got {len(ids)} ({', '.join(ids) or 'none'})",
            involved,
            kind="structure",
        )
    return None


def _unknown(catalog: Catalog, module_id: str, option_id: str) -> list[Violation]:
    violations = []
    module = catalog.module(module_id)
    if module is None:
        close = difflib.get_close_matches(module_id, catalog.module_ids, n=1)
        violations.append(
            Violation(
                "unknown-module",
                f"unknown module {module_id!r}"
                + (f"; did you mean {close[0]!r}?" if close else "")
                + f" Modules are {', '.join(catalog.module_ids)}.",
                (f"{module_id}.{option_id}",),
                kind="structure",
                suggestion=close[0] if close else None,
            )
        )
    elif module.option(option_id) is None and module.number is not None:
        violations.append(number_violation(module, option_id))
    elif module.option(option_id) is None:
        close = difflib.get_close_matches(option_id, module.option_ids, n=1)
        violations.append(
            Violation(
                "unknown-option",
                f"unknown option {option_id!r} for module {module_id!r}"
                + (f"; did you mean {close[0]!r}?" if close else "")
                + f" Options are {', '.join(module.option_ids)}.",
                (f"{module_id}.{option_id}",),
                kind="structure",
                suggestion=close[0] if close else None,
            )
        )
    return violations


def number_violation(module, text: str) -> Violation:
    """Why ``text`` is not a value of the numeric ``module``: not a whole number, out of its
    range, or off its steps (``rule`` is ``number``; ``suggestion`` the nearest value)."""
    number = module.number
    accepted = number.describe()
    try:
        value = int(text.strip())
    except ValueError:
        return Violation(
            "number",
            f"{module.id}: {text!r} is not a whole number; expected {accepted}",
            (f"{module.id}.{text}",),
            kind="structure",
        )
    nearest = number.nearest(value)
    if value < number.minimum or value > number.maximum:
        problem = "is out of range"
    elif str(value) != text:
        problem = f"is written {text!r}; write it {value}"
    else:
        problem = "is not on a step"
    return Violation(
        "number",
        f"{module.id}: {value} {problem}; expected {accepted}"
        + f" (nearest: {' or '.join(map(str, nearest))})",
        (f"{module.id}.{text}",),
        kind="structure",
        suggestion=str(nearest[0]),
    )


def missing_required(catalog: Catalog, configuration: Mapping[str, Choice]) -> list[Violation]:
    """Required modules that ``configuration`` leaves unchosen."""
    return [
        Violation(
            "required",
            f"module {module.id!r} ({module.title}) is required; choose "
            + (f"at least {module.minimum} of " if module.multiple else "one of ")
            + ", ".join(module.option_ids),
            (module.id,),
            kind="structure",
        )
        for module in catalog.modules
        if module.required and module.id not in configuration
    ]


def rule_violation(
    catalog: Catalog, rule: Rule, configuration: Mapping[str, Choice], partial: bool = False
):
    """The violation of ``rule`` by ``configuration`` (known choices only), or None.

    With ``partial=True`` a rule that later choices could still satisfy is not a violation.
    """
    if isinstance(rule, Requires):
        fired = [ref for ref in rule.if_ if ref.matches(configuration)]
        if partial and any(ref.module not in configuration for ref in rule.then):
            return None
        if fired and not any(ref.matches(configuration) for ref in rule.then):
            involved = _chosen(fired, configuration)
            return Violation(
                rule.id,
                f"{rule.message} (needs one of {', '.join(map(str, rule.then))})",
                involved,
                kind=rule.kind,
            )
        return None
    if isinstance(rule, Excludes):
        chosen = [ref for ref in rule.options if ref.matches(configuration)]
        if len(chosen) > 1:
            return Violation(rule.id, rule.message, _chosen(chosen, configuration), kind=rule.kind)
        return None
    return _limit_violation(catalog, rule, configuration, partial)


def _limit_violation(catalog: Catalog, rule: Limit, configuration: Mapping[str, Choice], partial):
    fired = [ref for ref in rule.if_ if ref.matches(configuration)]
    if rule.if_ and not fired:
        return None
    if partial and rule.aggregate == "sum":
        undecided = any(
            module.id not in configuration
            and any(rule.attribute in option.attributes for option in module.options)
            for module in catalog.modules
        )
        if undecided:
            return None
    carriers = [
        (module, option)
        for module, option in catalog.chosen_options(configuration)
        if rule.attribute in option.attributes
    ]
    condition = _chosen(fired, configuration)

    def amount(option) -> int:
        value = option.attributes[rule.attribute]
        assert isinstance(value, int), "the catalog loader checks limited attributes are integers"
        return value

    def out_of_range(value: int) -> bool:
        return (rule.minimum is not None and value < rule.minimum) or (
            rule.maximum is not None and value > rule.maximum
        )

    if rule.aggregate == "sum":
        total = sum(amount(option) for _, option in carriers)
        if out_of_range(total):
            involved = condition + tuple(f"{m.id}.{o.id}" for m, o in carriers)
            return Violation(
                rule.id,
                f"{rule.message} (total {rule.attribute} is {total}; {_bounds(rule)})",
                tuple(dict.fromkeys(involved)),
                kind=rule.kind,
            )
        return None
    offending = [(m, o) for m, o in carriers if out_of_range(amount(o))]
    if offending:
        values = ", ".join(
            f"{m.id}.{o.id} has {o.attributes[rule.attribute]}" for m, o in offending
        )
        involved = condition + tuple(f"{m.id}.{o.id}" for m, o in offending)
        return Violation(
            rule.id,
            f"{rule.message} ({rule.attribute}: {values}; {_bounds(rule)})",
            tuple(dict.fromkeys(involved)),
            kind=rule.kind,
        )
    return None


def validate(catalog: Catalog, configuration: Mapping[str, Choice], complete: bool = True):
    """Every violation of ``configuration`` against the catalog's declarative rules.

    With ``complete=False`` the configuration is partial (a wish): missing modules are not
    reported, nor rules that later choices could still satisfy. Whether a partial configuration
    can be completed at all is the configuration engine's question.
    """
    violations = structural_violations(catalog, configuration)
    if complete:
        violations.extend(missing_required(catalog, configuration))
    known = known_choices(catalog, configuration)
    for rule in catalog.rules:
        violation = rule_violation(catalog, rule, known, partial=not complete)
        if violation is not None:
            violations.append(violation)
    return violations


def known_choices(catalog: Catalog, configuration: Mapping[str, Choice]) -> dict[str, Choice]:
    """The part of ``configuration`` naming known modules and options only."""
    return {m: v for m, v in configuration.items() if catalog.knows(m, v)}


def _chosen(refs: list[Ref], configuration: Mapping[str, Choice]) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(
            f"{ref.module}.{option}" for ref in refs for option in ref.chosen(configuration)
        )
    )


def _bounds(rule: Limit) -> str:
    parts = []
    if rule.minimum is not None:
        parts.append(f"at least {rule.minimum}")
    if rule.maximum is not None:
        parts.append(f"at most {rule.maximum}")
    return "allowed: " + " and ".join(parts)
