"""The plugin author kit: a conformance suite a category plugin runs in its own tests.

One line in the plugin's tests::

    import c2m_fridge
    from c2m_core.testing import check_plugin

    def test_conformance():
        check_plugin(c2m_fridge)

or one pytest test per check (``test_conformance[metadata]``, ``test_conformance[rules]``, ...)::

    from c2m_core.testing import conformance_test

    test_conformance = conformance_test(c2m_fridge)

A failed check raises ``AssertionError`` naming the plugin, the check and what to fix.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import NoReturn, cast

import attrs
import jinja2
from packaging.version import InvalidVersion, Version

from .app import C2M
from .campaigns.records import STAGES, Campaign
from .catalog import Choice, Limit, Module, Ref, Requires, Rule, choice_ids
from .category import Category
from .engine import Engine
from .errors import C2MError
from .handoff.documents import spec_sheet_context
from .handoff.plan import DemandLine, PlanSettings, plan_order
from .plugins import PluginMeta, check_compatible, hook_names, plugin_meta
from .validation import Violation
from .variants import Variant, default_name, variant_key
from .version import __version__

CHECKS = (
    "metadata",
    "hooks",
    "catalog",
    "modules",
    "valid-configuration",
    "rules",
    "dead-options",
    "numbers",
    "custom-rules",
    "templates",
)


def check_plugin(plugin, checks=CHECKS) -> None:
    """Run the conformance ``checks`` on ``plugin`` (a module or other plugin object).

    Every check runs; one ``AssertionError`` lists every failure.
    """
    Conformance(plugin).run(checks)


def conformance_test(plugin) -> Callable:
    """A pytest test function parametrized by check, sharing one ``Conformance`` of ``plugin``.

    Assign it to a ``test_`` name in a test module: ``test_conformance = conformance_test(m)``.
    """
    import pytest

    conformance = Conformance(plugin)

    @pytest.mark.parametrize("check", CHECKS)
    def test_conformance(check):
        conformance.run([check])

    return test_conformance


SAMPLE_HANDOFF_AT = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)


def spec_context(
    category: Category, configuration: Mapping[str, Choice], quantity: int = 120
) -> dict:
    """The hand-off's spec-sheet context for a sample order of ``configuration``.

    The same function the hand-off stage renders with (``spec_sheet_context``), fed a sample
    campaign and a sample production order of ``quantity`` units split over two regions, so a
    template that renders here renders at hand-off. See docs/handoff.md for every variable.
    """
    catalog = category.catalog
    # a multi-select module's value is a tuple of option ids (variants store it as given)
    chosen = cast(Mapping[str, str], configuration)
    campaign = Campaign(
        id=None,
        slug="sample",
        category=category.name,
        title=f"Sample {category.title}",
        currency=catalog.currency,
        stages=STAGES,
    )
    variant = Variant(
        id=1,
        campaign_id=0,
        key=variant_key(catalog, chosen),
        name=default_name(catalog, chosen),
        configuration=dict(chosen),
    )
    east = quantity // 3
    demand = DemandLine(variant, quantity, {"east": east, "default": quantity - east})
    order = plan_order(
        campaign.slug, catalog, demand, PlanSettings(max_lot_size=50), SAMPLE_HANDOFF_AT
    )
    return spec_sheet_context(campaign, category, order)


class Conformance:
    """The conformance checks of one plugin. Expensive answers are computed once and shared."""

    def __init__(self, plugin):
        self.plugin = plugin

    @property
    def label(self) -> str:
        meta = getattr(self.plugin, "c2m_plugin", None)
        if isinstance(meta, PluginMeta) and meta.name:
            return meta.name
        return getattr(self.plugin, "__name__", None) or type(self.plugin).__name__

    def run(self, checks=CHECKS) -> None:
        """Run ``checks`` in order; raise one ``AssertionError`` listing every failure."""
        unknown = [check for check in checks if check not in CHECKS]
        if unknown:
            raise ValueError(f"unknown checks {unknown}; the checks are {', '.join(CHECKS)}")
        failures = []
        for check in checks:
            try:
                getattr(self, "check_" + check.replace("-", "_"))()
            except AssertionError as ex:
                if str(ex) not in failures:
                    failures.append(str(ex))
        if failures:
            raise AssertionError("\n".join(failures))

    def fail(self, check: str, problems, fix: str) -> NoReturn:
        problems = [problems] if isinstance(problems, str) else list(problems)
        lines = [f"plugin {self.label} failed the conformance check {check!r}:"]
        lines += [f"  - {problem}" for problem in problems]
        lines.append(f"  Fix: {fix}")
        raise AssertionError("\n".join(lines))

    # The plugin loaded on its own ------------------------------------------------------------

    @cached_property
    def app(self) -> C2M:
        try:
            return C2M(db_path=":memory:", plugins=[self.plugin], load_entry_points=False)
        except C2MError as ex:
            self.fail(
                "hooks",
                f"it does not load: {ex}",
                "implement only hooks declared in c2m_core.hookspecs (see docs/hooks.md), with "
                "arguments named as in the spec, and declare a compatible core version",
            )

    @cached_property
    def categories(self) -> list[Category]:
        try:
            categories = list(self.app.categories.values())
        except Exception as ex:
            self.fail(
                "catalog",
                f"its categories do not load: {ex}",
                "correct the catalog at the place the message names (the format is described "
                "in c2m_core/catalog.py)",
            )
        if not categories:
            self.fail(
                "catalog",
                "it registers no category",
                "implement register_categories() returning [Category.from_directory(HERE)]",
            )
        return categories

    def validate(self, category: Category, configuration, complete: bool) -> list[Violation]:
        """``app.validate``, turning an exception in a custom rule into a named failure."""
        try:
            violations = self.app.validate(category, configuration, complete=complete)
        except Exception as ex:
            self.fail(
                "custom-rules",
                f"validate_configuration raised {ex!r} for category {category.name!r}, "
                f"configuration {dict(configuration)} (complete={complete})",
                "a custom rule must accept any partial configuration: check only the modules "
                "it chose (configuration.get) and return a list of Violation",
            )
        bad = [v for v in violations if not isinstance(v, Violation)]
        if bad:
            self.fail(
                "custom-rules",
                f"validate_configuration returned {bad[0]!r}, not a Violation",
                "return a list of c2m_core.Violation objects (or [])",
            )
        return violations

    @cached_property
    def questions(self) -> dict[str, _Questions]:
        return {c.name: _Questions(self.validate, c) for c in self.categories}

    @cached_property
    def witnesses(self) -> dict[str, list[dict[str, Choice]]]:
        """Per category, valid configurations that together choose every live option and leave
        out every optional module that can be left out: the sample variants."""
        found = {}
        for category in self.categories:
            questions = self.questions[category.name]
            configurations: list[dict[str, Choice]] = []
            for module in category.catalog.modules:
                examples = [
                    questions.example({module.id: option_id})
                    for option_id in module.option_ids
                    if not any(_chooses(c, module.id, option_id) for c in configurations)
                ]
                configurations += [example for example in examples if example is not None]
                if not module.required and all(module.id in c for c in configurations):
                    example = questions.example_leaving_out(module.id)
                    configurations += [example] if example is not None else []
            found[category.name] = configurations
        return found

    # The checks ------------------------------------------------------------------------------

    def check_metadata(self) -> None:
        """``c2m_plugin = PluginMeta(...)`` with a name, a version and a compatible core range."""
        fix = (
            f'declare c2m_plugin = PluginMeta(name="c2m-...", version="1.0.0", '
            f'core=">={_minor(__version__)},<{Version(__version__).major + 1}") in the module'
        )
        try:
            meta = plugin_meta(self.plugin)
        except C2MError as ex:
            self.fail("metadata", str(ex), fix)
        if meta is None:
            self.fail("metadata", "it declares no c2m_plugin", fix)
        if not meta.name or not meta.version:
            self.fail("metadata", "c2m_plugin needs a name and a version", fix)
        try:
            Version(meta.version)
        except InvalidVersion:
            self.fail("metadata", f"version {meta.version!r} is not a PEP 440 version", fix)
        try:
            check_compatible(meta, self.label)
        except C2MError as ex:
            self.fail("metadata", str(ex), fix)

    def check_hooks(self) -> None:
        """It registers on a fresh ``C2M`` (which runs ``check_pending``); no undecorated hooks."""
        registered = {caller.name for caller in self.app.pm.get_hookcallers(self.plugin) or ()}
        forgotten = [
            name
            for name in hook_names()
            if callable(getattr(self.plugin, name, None)) and name not in registered
        ]
        if forgotten:
            self.fail(
                "hooks",
                f"{', '.join(forgotten)} defined without @hookimpl, so c2m never calls it",
                "decorate hook implementations with @hookimpl (from c2m_core import hookimpl)",
            )
        if not registered:
            self.fail("hooks", "it implements no hook", "implement register_categories()")

    def check_catalog(self) -> None:
        """Its categories load and every templates folder is a folder."""
        for category in self.categories:
            if category.templates is not None and not category.templates.is_dir():
                self.fail(
                    "catalog",
                    f"category {category.name!r}: templates folder {category.templates} "
                    "does not exist",
                    "create it or pass templates=None",
                )

    def check_modules(self) -> None:
        """Every multi-select module takes more than one option, and some valid configuration
        takes its ``min`` options and some its ``max``: bounds the rules make unreachable
        promise the customer a choice that does not exist."""
        problems = []
        for category in self.categories:
            questions = self.questions[category.name]
            for module in category.catalog.modules:
                if not module.multiple:
                    continue
                where = f"category {category.name!r}, module {module.id!r}"
                if module.maximum < 2:
                    problems.append(
                        f"{where} takes at most {module.maximum} option: a single-select module "
                        f"(required = {str(module.required).lower()}) says the same"
                    )
                    continue
                for bound, name in ((module.minimum, "min"), (module.maximum, "max")):
                    if questions.taking(module, bound) is None:
                        problems.append(
                            f"{where} has {name} = {bound}, but no valid configuration chooses "
                            f"{bound} of its options"
                        )
        if problems:
            self.fail(
                "modules",
                problems,
                "set min and max to what the rules allow (`c2m catalog options CATEGORY "
                "MODULE=A,B` shows what remains possible), or relax the rules",
            )

    def check_valid_configuration(self) -> None:
        """At least one complete configuration passes every rule."""
        for category in self.categories:
            if self.questions[category.name].example({}) is None:
                first = {m.id: _first(m) for m in category.catalog.modules if m.required}
                broken = self.validate(category, first, complete=True)
                self.fail(
                    "valid-configuration",
                    f"category {category.name!r} has no valid configuration; for example "
                    f"{_pairs(first)} breaks " + "; ".join(v.message for v in broken),
                    "relax the conflicting rules; `c2m catalog check CATEGORY MODULE=OPTION...` "
                    "explains what a configuration breaks",
                )

    def check_rules(self) -> None:
        """Every declarative rule can fire, and can be satisfied."""
        problems = []
        for category in self.categories:
            questions = self.questions[category.name]
            for rule in category.catalog.rules:
                where = f"category {category.name!r}, rule {rule.id!r} ({rule.describe()})"
                if questions.rule_fires(rule) is None:
                    problems.append(
                        f"{where} can never fire: every configuration that meets the other rules "
                        "meets it too"
                    )
                if questions.rule_holds(rule) is None:
                    premise = _premise(rule)
                    problems.append(
                        f"{where} can never be satisfied: no valid configuration "
                        + (f"chooses {' or '.join(map(str, premise))}" if premise else "exists")
                    )
        if problems:
            self.fail(
                "rules",
                problems,
                "a rule that cannot fire duplicates or is hidden by other rules, or its options "
                "and bounds are wrong: correct or remove it; a rule that cannot be satisfied "
                "asks for something other rules forbid: relax one of them",
            )

    def check_dead_options(self) -> None:
        """Every option not marked ``retired = true`` is in some valid configuration."""
        problems = []
        for category in self.categories:
            used = {pair for config in self.witnesses[category.name] for pair in _pairs_of(config)}
            for module in category.catalog.modules:
                if module.number is not None:
                    continue  # values: the numbers check says which range is dead
                for option in module.options:
                    if not option.retired and (module.id, option.id) not in used:
                        problems.append(
                            f"category {category.name!r}: option {module.id}.{option.id} "
                            f"({option.title}) is in no valid configuration"
                        )
        if problems:
            self.fail(
                "dead-options",
                problems,
                "relax the rules that exclude it (`c2m catalog check CATEGORY MODULE=OPTION...` "
                "names them), or mark it `retired = true` in the catalog",
            )

    def check_numbers(self) -> None:
        """Every value of a numeric module is in some valid configuration, so its range is
        what can be made; a size that accepts others has a tolerance of at least one step."""
        problems = []
        for category in self.categories:
            used = {pair for config in self.witnesses[category.name] for pair in config.items()}
            for module in category.catalog.numeric_modules:
                number = module.number
                assert number is not None
                dead = [v for v in number.values if (module.id, str(v)) not in used]
                for low, high in _runs(dead, number.step):
                    values = f"{low}" if low == high else f"{low} to {high}"
                    unit = f" {number.unit}" if number.unit else ""
                    problems.append(
                        f"category {category.name!r}: numeric module {module.id!r} takes "
                        f"{number.describe()}, but {values}{unit} is in no valid configuration"
                    )
                tolerance = number.tolerance
                if number.accept != "exact" and tolerance is not None and tolerance < number.step:
                    problems.append(
                        f"category {category.name!r}: numeric module {module.id!r} accepts "
                        f"{number.accept} sizes within {tolerance}, less than its step "
                        f"{number.step}, so a wish accepts only its own size"
                    )
        if problems:
            self.fail(
                "numbers",
                problems,
                "narrow the range (number.min, number.max) to what the rules allow, or relax the "
                "rules that forbid those values (`c2m catalog options CATEGORY` says why); make "
                'number.tolerance at least number.step or set accept = "exact"',
            )

    def check_custom_rules(self) -> None:
        """Custom rules accept partial configurations and report only what was chosen.

        Every part of a valid configuration must be a valid partial configuration: a custom rule
        that objects to a part objects to something a later choice could fix.
        """
        for category in self.categories:
            catalog = category.catalog
            self.validate(category, {}, complete=False)
            for module in catalog.modules:
                for option in module.options:
                    for v in self.validate(category, {module.id: option.id}, complete=False):
                        self._check_names_chosen(category, {module.id: option.id}, v)
            for configuration in self._untrusting_witnesses(category):
                for module_id in configuration:
                    part = {m: o for m, o in configuration.items() if m != module_id}
                    violations = self.validate(category, part, complete=False)
                    if violations:
                        self.fail(
                            "custom-rules",
                            f"category {category.name!r}: {_pairs(configuration)} is valid, "
                            f"but its part without {module_id!r} is reported as "
                            f"{violations[0].rule!r}: {violations[0].message}",
                            "with complete=False report only what no later choice can fix",
                        )

    def _untrusting_witnesses(self, category):
        """Valid configurations choosing every live option, found without trusting custom rules'
        verdicts on partial configurations (the contract this check verifies)."""
        questions = self.questions[category.name]
        configurations: list[dict[str, Choice]] = []
        for module in category.catalog.modules:
            for option_id in module.option_ids:
                if not any(_chooses(c, module.id, option_id) for c in configurations):
                    example = questions.example({module.id: option_id})
                    if example is not None:
                        configurations.append(example)
        return configurations

    def _check_names_chosen(self, category, configuration, violation) -> None:
        chosen = {f"{m}.{o}" for m, o in configuration.items()} | set(configuration)
        strangers = [name for name in violation.options if name not in chosen]
        if not violation.rule or strangers:
            self.fail(
                "custom-rules",
                f"category {category.name!r}: violation {violation!r} for {_pairs(configuration)} "
                + (f"names {strangers}, which were not chosen" if strangers else "has no rule id"),
                "give each violation a rule id and name only chosen MODULE.OPTION pairs",
            )

    def check_templates(self) -> None:
        """Every ``*.html`` template renders, escaped and strict, for sample variants."""
        for category in self.categories:
            if category.templates is None:
                continue
            env = self.app.jinja_environment(category)
            if not _autoescapes(env) or env.undefined is not jinja2.StrictUndefined:
                self.fail(
                    "templates",
                    "the jinja2 environment lost autoescape or StrictUndefined",
                    "prepare_jinja2_environment may add filters and globals, but must not "
                    "change autoescape or undefined",
                )
            names = sorted(
                path.relative_to(category.templates).as_posix()
                for path in category.templates.rglob("*.html")
            )
            for name in names:
                for configuration in self.witnesses[category.name]:
                    try:
                        env.get_template(name).render(spec_context(category, configuration))
                    except jinja2.TemplateError as ex:
                        self.fail(
                            "templates",
                            f"category {category.name!r}: template {name} fails for variant "
                            f"{_pairs(configuration)}: {type(ex).__name__}: {ex}",
                            "use only the documented context (category, catalog, variant, "
                            "options, price; see docs/plugin-kit.md) and guard optional modules "
                            "with {% if 'module' in variant.configuration %}",
                        )


# Configuration questions --------------------------------------------------------------------
#
# The checks ask four questions about a category's configurations: ``example``,
# ``example_leaving_out``, ``rule_fires`` and ``rule_holds``. The configuration engine answers
# them (``Engine.example``, SAT under assumptions). It consults custom rules on complete
# configurations only, so its answers stay right even when a custom rule misjudges partial
# configurations, which is what the custom-rules check verifies.


class _Questions:
    """Exact answers about one category's valid configurations (module id -> option id dicts).

    ``validate(category, configuration, complete)`` is ``C2M.validate`` or a wrapper of it; the
    engine asks it for the custom rules' verdicts (the violations of no catalog rule), so an
    exception in a custom rule surfaces as the wrapper reports it.
    """

    def __init__(self, validate, category: Category):
        self.validate = validate
        self.category = category
        self.catalog = category.catalog
        catalog_rules = {rule.id for rule in self.catalog.rules}

        def custom(configuration, complete):
            return [
                violation
                for violation in validate(category, configuration, complete)
                if violation.rule not in catalog_rules and violation.kind != "structure"
            ]

        self.custom = custom
        self.engine = Engine(self.catalog, custom)

    def example(self, partial: Mapping[str, str]) -> dict[str, Choice] | None:
        """A valid complete configuration choosing the options of ``partial`` (one per module),
        or None."""
        return self.search({m: [o] for m, o in partial.items()})

    def taking(self, module: Module, count: int) -> dict[str, Choice] | None:
        """A valid complete configuration choosing exactly ``count`` options of multi-select
        ``module``, or None: the engine of the catalog with that module's bounds at ``count``."""
        if count == 0:
            return self.search({module.id: [None]})
        bounded = attrs.evolve(module, minimum=count, maximum=count, required=True)
        modules = tuple(bounded if m.id == module.id else m for m in self.catalog.modules)
        return Engine(attrs.evolve(self.catalog, modules=modules), self.custom).example()

    def example_leaving_out(self, module_id: str) -> dict[str, Choice] | None:
        """A valid complete configuration that does not choose optional module ``module_id``."""
        return self.search({module_id: [None]})

    def rule_fires(self, rule: Rule) -> dict[str, Choice] | None:
        """A configuration meeting every other rule that breaks ``rule``, or None."""
        return self.search({}, ignore=rule, breaking=rule)

    def rule_holds(self, rule: Rule) -> dict[str, Choice] | None:
        """A valid configuration where ``rule``'s premise holds (or any, without one), or None."""
        premise = _premise(rule)
        if not premise:
            return self.example({})
        for ref in premise:
            found = self.search({ref.module: _matching(self.catalog, ref)})
            if found is not None:
                return found
        return None

    def search(
        self,
        domains,
        ignore: Rule | None = None,
        breaking: Rule | None = None,
    ):
        """A valid complete configuration within ``domains`` (module id -> allowed values, None
        meaning "not chosen"), ignoring rule ``ignore``; with ``breaking``, one that breaks that
        rule. Custom rules are consulted on complete configurations only."""
        return self.engine.example(
            domains,
            ignore=ignore.id if ignore is not None else None,
            breaking=breaking.id if breaking is not None else None,
        )


def _chooses(configuration: Mapping[str, Choice], module_id: str, option_id: str) -> bool:
    return option_id in choice_ids(configuration.get(module_id))


def _pairs_of(configuration: Mapping[str, Choice]) -> set[tuple[str, str]]:
    return {(m, o) for m, value in configuration.items() for o in choice_ids(value)}


def _first(module: Module) -> Choice:
    """The first option of a module, or its first ``min`` options for a multi-select one."""
    if module.multiple:
        return module.option_ids[: module.minimum]
    return module.options[0].id


def _matching(catalog, ref: Ref) -> list[str]:
    """The option ids of ``ref``'s module that ``ref`` matches."""
    return [ref.option] if ref.option else list(catalog.module(ref.module).option_ids)


def _runs(values: list[int], step: int) -> list[tuple[int, int]]:
    """Consecutive values (``step`` apart) as (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for value in values:
        if runs and value - runs[-1][1] == step:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _premise(rule: Rule) -> tuple[Ref, ...]:
    return rule.if_ if isinstance(rule, Requires | Limit) else ()


def _autoescapes(env: jinja2.Environment) -> bool:
    autoescape = env.autoescape
    return bool(autoescape("spec_sheet.html") if callable(autoescape) else autoescape)


def _minor(version: str) -> str:
    parsed = Version(version)
    return f"{parsed.major}.{parsed.minor}"


def _pairs(configuration: Mapping[str, Choice]) -> str:
    return (
        " ".join(f"{m}={','.join(choice_ids(o))}" for m, o in configuration.items())
        or "(nothing chosen)"
    )
