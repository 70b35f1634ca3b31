"""Validating a configuration against a catalog's declarative rules.

Pure: no store, no plugins. Custom Python rules arrive through the ``validate_configuration``
hook and are added by the caller (see ``c2m_core.app.C2M.validate``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import attrs

from .catalog import Catalog, Excludes, Limit, Ref, Requires, Rule
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


def parse_configuration(pairs) -> dict[str, str]:
    """Parse ``MODULE=OPTION`` strings into a configuration dict.

    Raises ``InvalidInput`` naming the malformed or repeated pair.
    """
    configuration: dict[str, str] = {}
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
        configuration[module] = option
    return configuration


def structural_violations(catalog: Catalog, configuration: Mapping[str, str]) -> list[Violation]:
    """Unknown modules and options (with a close suggestion), in the order given."""
    violations = []
    for module_id, option_id in configuration.items():
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


def missing_required(catalog: Catalog, configuration: Mapping[str, str]) -> list[Violation]:
    """Required modules that ``configuration`` leaves unchosen."""
    return [
        Violation(
            "required",
            f"module {module.id!r} ({module.title}) is required; choose one of "
            f"{', '.join(module.option_ids)}",
            (module.id,),
            kind="structure",
        )
        for module in catalog.modules
        if module.required and module.id not in configuration
    ]


def rule_violation(
    catalog: Catalog, rule: Rule, configuration: Mapping[str, str], partial: bool = False
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


def _limit_violation(catalog: Catalog, rule: Limit, configuration: Mapping[str, str], partial):
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


def validate(catalog: Catalog, configuration: Mapping[str, str], complete: bool = True):
    """Every violation of ``configuration`` against the catalog's declarative rules.

    With ``complete=False`` the configuration is partial (a wish): missing modules are not
    reported, nor rules that later choices could still satisfy. Whether a partial configuration
    can be completed at all is the configuration engine's question.
    """
    violations = structural_violations(catalog, configuration)
    if complete:
        violations.extend(missing_required(catalog, configuration))
    known = {
        module_id: option_id
        for module_id, option_id in configuration.items()
        if catalog.option(module_id, option_id) is not None
    }
    for rule in catalog.rules:
        violation = rule_violation(catalog, rule, known, partial=not complete)
        if violation is not None:
            violations.append(violation)
    return violations


def _chosen(refs: list[Ref], configuration: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f"{ref.module}.{configuration[ref.module]}" for ref in refs))


def _bounds(rule: Limit) -> str:
    parts = []
    if rule.minimum is not None:
        parts.append(f"at least {rule.minimum}")
    if rule.maximum is not None:
        parts.append(f"at most {rule.maximum}")
    return "allowed: " + " and ".join(parts)
