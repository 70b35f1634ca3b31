"""The plugin author kit (``c2m_core.testing``): each check catches what it promises, with a
message naming the plugin, the check and the fix, and its answers match a brute-force search."""

import itertools

import pytest
from engine_reference import module_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c2m_core import C2M, Catalog, Category, PluginMeta, Violation, hookimpl
from c2m_core.catalog import choice_ids
from c2m_core.testing import CHECKS, Conformance, _Questions, check_plugin, conformance_test

META = PluginMeta(name="c2m-lamp", version="1.0.0", core=">=0.1,<1")


def lamp_catalog(**changes) -> dict:
    """A small valid catalog: every rule can fire and be satisfied, no option is dead."""
    data = {
        "category": {"id": "lamp", "title": "Desk lamp", "currency": "CNY", "base_price": 9900},
        "modules": [
            {
                "id": "head",
                "title": "Head",
                "options": [
                    {"id": "small", "title": "Small head", "attributes": {"watts": 6}},
                    {
                        "id": "wide",
                        "title": "Wide head",
                        "price": 5000,
                        "attributes": {"watts": 12},
                    },
                ],
            },
            {
                "id": "base",
                "title": "Base",
                "options": [
                    {"id": "clamp", "title": "Desk clamp", "attributes": {"max_watts": 10}},
                    {"id": "weighted", "title": "Weighted base", "attributes": {"max_watts": 20}},
                ],
            },
            {
                "id": "extras",
                "title": "Extras",
                "required": False,
                "options": [
                    {"id": "usb", "title": "USB charger", "attributes": {"watts": 10}},
                    {"id": "dimmer", "title": "Touch dimmer", "attributes": {"watts": 1}},
                ],
            },
        ],
        "rules": [
            {
                "id": "wide-weighted",
                "kind": "requires",
                "message": "The wide head needs the weighted base",
                "if": ["head.wide"],
                "then": ["base.weighted"],
            },
            {
                "id": "power",
                "kind": "limit",
                "message": "The adapter gives 20 W",
                "attribute": "watts",
                "aggregate": "sum",
                "max": 20,
            },
        ],
    }
    for key, value in changes.items():
        data[key] = value
    return data


class Plugin:
    """A category plugin made in code: a catalog, an optional custom rule and templates."""

    c2m_plugin = META

    def __init__(self, catalog: dict, custom=None, templates=None):
        self.category = Category(Catalog.from_dict(catalog), templates)
        self.custom = custom

    @hookimpl
    def register_categories(self):
        return [self.category]

    @hookimpl
    def validate_configuration(self, category, configuration, complete):
        return self.custom(category, configuration, complete) if self.custom else []


def failure(plugin, check) -> str:
    with pytest.raises(AssertionError) as info:
        check_plugin(plugin, [check])
    message = str(info.value)
    assert message.startswith(f"plugin c2m-lamp failed the conformance check {check!r}:")
    assert "Fix: " in message
    return message


def test_a_sound_plugin_passes_every_check(tmp_path):
    (tmp_path / "spec.html").write_text("<h1>{{ catalog.title }}</h1>{{ price }}")
    check_plugin(Plugin(lamp_catalog(), templates=tmp_path))


def test_every_failure_is_listed_at_once():
    class NoMeta(Plugin):
        c2m_plugin = None

    catalog = lamp_catalog()
    catalog["modules"][2]["options"][0]["attributes"]["watts"] = 30  # usb is now dead
    with pytest.raises(AssertionError) as info:
        check_plugin(NoMeta(catalog))
    message = str(info.value)
    assert "check 'metadata'" in message
    assert "check 'dead-options'" in message
    assert "extras.usb" in message


# metadata ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "meta, problem",
    [
        (None, "declares no c2m_plugin"),
        ({"name": "x"}, "must be a c2m_core.PluginMeta"),
        (PluginMeta("c2m-lamp", "1.0.0", ">=5"), "supports c2m core >=5"),
        (PluginMeta("c2m-lamp", "1.0.0", "newest"), "not a version specifier"),
        (PluginMeta("c2m-lamp", "one", ">=0.1"), "'one' is not a PEP 440 version"),
    ],
)
def test_metadata_must_declare_a_compatible_core(meta, problem):
    plugin = Plugin(lamp_catalog())
    plugin.c2m_plugin = meta
    with pytest.raises(AssertionError) as info:
        check_plugin(plugin, ["metadata"])
    assert "failed the conformance check 'metadata'" in str(info.value)
    assert problem in str(info.value)
    assert 'core=">=0.1,<1"' in str(info.value)


# hooks ---------------------------------------------------------------------------------------


def test_a_misspelled_hook_fails_the_hooks_check():
    class Misspelled(Plugin):
        @hookimpl
        def register_category(self):
            return []

    message = failure(Misspelled(lamp_catalog()), "hooks")
    assert "'register_category', which is not a c2m hook" in message
    assert "did you mean 'register_categories'" in message


def test_a_hook_with_an_argument_the_spec_lacks_fails():
    class ExtraArgument(Plugin):
        @hookimpl
        def validate_configuration(self, category, configuration, wish):
            return []

    assert "wish" in failure(ExtraArgument(lamp_catalog()), "hooks")


def test_a_hook_without_hookimpl_is_reported():
    class Undecorated(Plugin):
        def validate_configuration(self, category, configuration):
            return []

    message = failure(Undecorated(lamp_catalog()), "hooks")
    assert "validate_configuration defined without @hookimpl" in message


# catalog -------------------------------------------------------------------------------------


def test_a_catalog_that_does_not_load_names_the_place(tmp_path):
    (tmp_path / "catalog.toml").write_text(
        '[category]\nid = "lamp"\ntitle = "Lamp"\ncurrency = "CNY"\nbase_price = -1\n'
        '[[modules]]\nid = "head"\ntitle = "Head"\noptions = [{ id = "a", title = "A" }]\n'
    )

    class FromFolder(Plugin):
        @hookimpl
        def register_categories(self):
            return [Category.from_directory(tmp_path)]

    message = failure(FromFolder(lamp_catalog()), "catalog")
    assert "category.base_price: must be >= 0, got -1" in message


def test_a_plugin_without_categories_fails():
    class Empty(Plugin):
        @hookimpl
        def register_categories(self):
            return []

    assert "registers no category" in failure(Empty(lamp_catalog()), "catalog")


# valid configuration, rules, dead options -----------------------------------------------------


def test_a_catalog_without_a_valid_configuration_fails():
    catalog = lamp_catalog()
    catalog["rules"].append(
        {"id": "never", "kind": "limit", "message": "m", "attribute": "max_watts", "max": 5}
    )
    message = failure(Plugin(catalog), "valid-configuration")
    assert "category 'lamp' has no valid configuration" in message
    assert "head=small base=clamp breaks" in message


def test_a_rule_that_cannot_fire_is_reported():
    catalog = lamp_catalog()
    catalog["rules"].append(
        {
            "id": "usb-power",
            "kind": "limit",
            "message": "USB and the wide head draw too much",
            "if": ["extras.usb"],
            "attribute": "watts",
            "max": 12,
        }
    )
    message = failure(Plugin(catalog), "rules")
    assert "rule 'usb-power' (if extras.usb then watts <= 12) can never fire" in message


def test_a_rule_that_cannot_be_satisfied_is_reported():
    catalog = lamp_catalog()
    catalog["modules"][2]["options"][0]["retired"] = True
    catalog["modules"][2]["options"][0]["attributes"]["watts"] = 25
    catalog["rules"].append(
        {
            "id": "usb-base",
            "kind": "requires",
            "message": "USB needs the clamp's socket",
            "if": ["extras.usb"],
            "then": ["base.clamp"],
        }
    )
    message = failure(Plugin(catalog), "rules")
    assert "rule 'usb-base' (if extras.usb then base.clamp) can never be satisfied" in message
    assert "no valid configuration chooses extras.usb" in message


def test_a_dead_option_is_reported_unless_retired():
    catalog = lamp_catalog()
    catalog["modules"][2]["options"][0]["attributes"]["watts"] = 25
    message = failure(Plugin(catalog), "dead-options")
    assert "option extras.usb (USB charger) is in no valid configuration" in message
    assert "retired = true" in message
    catalog["modules"][2]["options"][0]["retired"] = True
    check_plugin(Plugin(catalog), ["dead-options"])


def test_a_custom_rule_counts_when_finding_dead_options():
    def no_dimmer_on_clamp(category, configuration, complete):
        if configuration.get("extras") == "dimmer" and configuration.get("base") == "clamp":
            return [Violation("dimmer-clamp", "no", ("extras.dimmer", "base.clamp"))]
        return []

    check_plugin(Plugin(lamp_catalog(), custom=no_dimmer_on_clamp), ["dead-options"])

    def no_dimmer(category, configuration, complete):
        if configuration.get("extras") == "dimmer":
            return [Violation("no-dimmer", "no", ("extras.dimmer",))]
        return []

    assert "extras.dimmer" in failure(Plugin(lamp_catalog(), custom=no_dimmer), "dead-options")


# custom rules --------------------------------------------------------------------------------


def test_a_custom_rule_that_breaks_on_partial_configurations_fails():
    def careless(category, configuration, complete):
        catalog = category.catalog
        head = catalog.option("head", configuration["head"])  # KeyError when head is not chosen
        return [] if head else []

    message = failure(Plugin(lamp_catalog(), custom=careless), "custom-rules")
    assert "validate_configuration raised KeyError('head')" in message
    assert "configuration {} (complete=False)" in message


def test_a_custom_rule_that_reports_what_a_later_choice_fixes_fails():
    def impatient(category, configuration, complete):
        if "extras" not in configuration and "base" in configuration:
            return [Violation("want-extras", "choose an extra", ("base." + configuration["base"],))]
        return []

    # every option is still usable (extras are always possible), but parts of valid
    # configurations are reported as broken
    message = failure(Plugin(lamp_catalog(), custom=impatient), "custom-rules")
    assert "its part without 'extras' is reported as 'want-extras'" in message


def test_a_custom_violation_must_name_chosen_options():
    def stranger(category, configuration, complete):
        if configuration.get("head") == "wide":
            return [Violation("wide", "no", ("base.weighted",))]
        return []

    message = failure(Plugin(lamp_catalog(), custom=stranger), "custom-rules")
    assert "names ['base.weighted'], which were not chosen" in message


def test_a_custom_rule_must_return_violations():
    def strings(category, configuration, complete):
        return ["bad"] if configuration.get("head") == "wide" else []

    assert "returned 'bad', not a Violation" in failure(
        Plugin(lamp_catalog(), custom=strings), "custom-rules"
    )


# templates -----------------------------------------------------------------------------------


def test_templates_render_for_variants_using_every_option(tmp_path):
    (tmp_path / "spec.html").write_text(
        "{% for module, option in options %}{{ option.attributes.watts }}{% endfor %}"
    )
    message = failure(Plugin(lamp_catalog(), templates=tmp_path), "templates")
    assert "template spec.html fails for variant head=small base=clamp" in message
    assert "UndefinedError" in message and "'watts'" in message


def test_templates_in_subfolders_are_rendered_and_syntax_errors_reported(tmp_path):
    (tmp_path / "sheets").mkdir()
    (tmp_path / "sheets" / "short.html").write_text("{% if variant %}{{ price }}")
    message = failure(Plugin(lamp_catalog(), templates=tmp_path), "templates")
    assert "template sheets/short.html" in message
    assert "TemplateSyntaxError" in message


def test_optional_modules_are_absent_in_some_sample_variants(tmp_path):
    (tmp_path / "spec.html").write_text("{{ variant.configuration['extras'] }}")
    message = failure(Plugin(lamp_catalog(), templates=tmp_path), "templates")
    assert "'dict object' has no attribute 'extras'" in message
    (tmp_path / "spec.html").write_text(
        "{% if 'extras' in variant.configuration %}{{ variant.configuration['extras'] }}{% endif %}"
    )
    check_plugin(Plugin(lamp_catalog(), templates=tmp_path), ["templates"])


def test_a_plugin_that_turns_off_autoescape_fails(tmp_path):
    (tmp_path / "spec.html").write_text("{{ catalog.title }}")

    class Unescaped(Plugin):
        @hookimpl
        def prepare_jinja2_environment(self, env):
            env.autoescape = False

    message = failure(Unescaped(lamp_catalog(), templates=tmp_path), "templates")
    assert "lost autoescape" in message


def test_the_spec_context_escapes_catalog_text(tmp_path):
    from c2m_core.testing import spec_context

    catalog = lamp_catalog()
    catalog["modules"][0]["options"][1]["title"] = "<b>Wide</b> & bright"
    plugin = Plugin(catalog, templates=tmp_path)
    (tmp_path / "spec.html").write_text(
        "{% for m, o in options %}{{ m.id }}={{ o.title }};{% endfor %}{{ price }}"
    )
    app = C2M(db_path=":memory:", plugins=[plugin], load_entry_points=False)
    context = spec_context(plugin.category, {"head": "wide", "base": "weighted"})
    assert set(context) == {
        "category",
        "catalog",
        "campaign",
        "variant",
        "options",
        "totals",
        "price",
        "order",
        "bom",
        "work_orders",
    }
    html = app.jinja_environment(plugin.category).get_template("spec.html").render(context)
    assert html == "head=&lt;b&gt;Wide&lt;/b&gt; &amp; bright;base=Weighted base;CNY 149.00"


# the pytest form -----------------------------------------------------------------------------


# multi-select modules ------------------------------------------------------------------------


def lamp_with_shades(**module) -> dict:
    """The lamp with a multi-select module of three shades (40, 50 and 60 g on a 100 g arm)."""
    shades = {
        "id": "shades",
        "title": "Shades",
        "min": 0,
        "max": 2,
        "options": [
            {"id": name, "title": name.title(), "attributes": {"grams": grams}}
            for name, grams in (("paper", 40), ("linen", 50), ("glass", 60))
        ],
    } | module
    arm = {
        "id": "arm",
        "kind": "limit",
        "message": "The arm holds 100 g",
        "attribute": "grams",
        "aggregate": "sum",
        "max": 100,
    }
    catalog = lamp_catalog()
    catalog["modules"].append(shades)
    catalog["rules"].append(arm)
    return catalog


def test_a_sound_multi_select_module_passes(tmp_path):
    (tmp_path / "spec.html").write_text(
        "{% for module, option in options %}{{ option.title }}{% endfor %}"
    )
    plugin = Plugin(lamp_with_shades(), templates=tmp_path)
    check_plugin(plugin)
    witnesses = Conformance(plugin).witnesses["lamp"]
    chosen = {o for c in witnesses for o in choice_ids(c.get("shades"))}
    assert chosen == {"paper", "linen", "glass"}


@pytest.mark.parametrize(
    "module, problem",
    [
        ({"max": 3}, "has max = 3, but no valid configuration chooses 3 of its options"),
        ({"min": 1, "max": 1}, "takes at most 1 option: a single-select module"),
    ],
)
def test_a_multi_select_module_with_bounds_the_rules_break_fails(module, problem):
    message = failure(Plugin(lamp_with_shades(**module)), "modules")
    assert "category 'lamp', module 'shades'" in message and problem in message


def test_an_unreachable_minimum_counts_custom_rules():
    def in_pairs(category, configuration, complete):
        shades = choice_ids(configuration.get("shades"))
        if complete and len(shades) < 2:
            return [Violation("pairs", "shades come in pairs", (), kind="custom")]
        return []

    plugin = Plugin(lamp_with_shades(min=1), custom=in_pairs)
    message = failure(plugin, "modules")
    assert "has min = 1, but no valid configuration chooses 1 of its options" in message


def test_a_dead_option_of_a_multi_select_module_is_reported():
    catalog = lamp_with_shades()
    catalog["modules"][-1]["options"][2]["attributes"]["grams"] = 120
    message = failure(Plugin(catalog), "dead-options")
    assert "option shades.glass (Glass) is in no valid configuration" in message


def test_conformance_test_is_one_parametrized_test_per_check():
    test = conformance_test(Plugin(lamp_catalog()))
    [mark] = [m for m in test.pytestmark if m.name == "parametrize"]
    assert mark.args == ("check", CHECKS)
    for check in CHECKS:
        test(check)
    broken = Plugin(lamp_catalog())
    broken.c2m_plugin = None
    test = conformance_test(broken)
    with pytest.raises(AssertionError, match="check 'metadata'"):
        test("metadata")
    test("rules")


def test_unknown_checks_are_refused():
    with pytest.raises(ValueError, match="unknown checks"):
        Conformance(Plugin(lamp_catalog())).run(["speed"])


# the answers against brute force ---------------------------------------------------------------


@st.composite
def catalogs(draw):
    """Small random catalogs with every rule kind, so brute force stays cheap."""
    modules = []
    for m in range(draw(st.integers(2, 4))):
        options = [
            {
                "id": f"o{i}",
                "title": f"Option {i}",
                "attributes": {"w": draw(st.integers(0, 6))} if i or draw(st.booleans()) else {},
            }
            for i in range(draw(st.integers(1, 3)))
        ]
        options[0]["attributes"]["w"] = options[0]["attributes"].get("w", 0)
        module = {"id": f"m{m}", "title": f"M{m}", "options": options}
        if m >= 2 and draw(st.booleans()):  # multi-select (heavy_pair reads m0 and m1)
            high = draw(st.integers(1, len(options)))
            module.update(min=draw(st.integers(0, high)), max=high)
        else:
            module["required"] = draw(st.booleans())
        modules.append(module)
    refs = [f"m{m}" for m in range(len(modules))] + [
        f"{module['id']}.{option['id']}" for module in modules for option in module["options"]
    ]
    ref_lists = st.lists(st.sampled_from(refs), min_size=1, max_size=2, unique=True)
    rules = []
    for r in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["requires", "excludes", "each", "sum"]))
        rule = {"id": f"r{r}", "message": f"rule {r}"}
        if kind == "requires":
            rule.update(kind="requires", **{"if": draw(ref_lists), "then": draw(ref_lists)})
        elif kind == "excludes":
            rule.update(
                kind="excludes",
                options=draw(st.lists(st.sampled_from(refs), min_size=2, max_size=3, unique=True)),
            )
        else:
            rule.update(kind="limit", attribute="w", aggregate=kind)
            bound = draw(st.integers(0, 12 if kind == "sum" else 6))
            rule["max" if draw(st.booleans()) else "min"] = bound
            if draw(st.booleans()):
                rule["if"] = draw(ref_lists)
        rules.append(rule)
    return {
        "category": {"id": "random", "title": "Random", "currency": "CNY", "base_price": 0},
        "modules": modules,
        "rules": rules,
    }


def heavy_pair(category, configuration, complete):
    """A monotone custom rule: m0 and m1 together may not weigh more than 8."""
    chosen = [
        category.catalog.option(m, configuration[m]) for m in ("m0", "m1") if m in configuration
    ]
    if len(chosen) == 2 and sum(o.attributes.get("w", 0) for o in chosen) > 8:
        return [
            Violation(
                "heavy-pair",
                "too heavy",
                (f"m0.{configuration['m0']}", f"m1.{configuration['m1']}"),
                kind="custom",
            )
        ]
    return []


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogs())
def test_answers_match_brute_force(data):
    plugin = Plugin(data, custom=heavy_pair)
    app = C2M(db_path=":memory:", plugins=[plugin], load_entry_points=False)
    category = plugin.category
    catalog = category.catalog
    questions = _Questions(app.validate, category)

    domains = [module_values(m) for m in catalog.modules]
    everything = []
    for values in itertools.product(*domains):
        configuration = {m.id: v for m, v in zip(catalog.modules, values, strict=True) if v}
        broken = {v.rule for v in app.validate(category, configuration)}
        everything.append((configuration, broken))
    valid = [c for c, broken in everything if not broken]

    assert (questions.example({}) is None) == (not valid)
    for module in catalog.modules:
        for option in module.options:
            example = questions.example({module.id: option.id})
            expected = any(option.id in choice_ids(c.get(module.id)) for c in valid)
            assert (example is not None) == expected, (module.id, option.id)
            if example is not None:
                assert option.id in choice_ids(example[module.id])
                assert app.validate(category, example) == []
        if module.multiple:
            for count in range(module.minimum, module.maximum + 1):
                taking = questions.taking(module, count)
                expected = any(len(choice_ids(c.get(module.id))) == count for c in valid)
                assert (taking is not None) == expected, (module.id, count)
                if taking is not None:
                    assert len(choice_ids(taking.get(module.id))) == count
                    assert app.validate(category, taking) == []
    for rule in catalog.rules:
        fires = questions.rule_fires(rule)
        assert (fires is not None) == any(broken == {rule.id} for _, broken in everything), rule
        if fires is not None:
            assert {v.rule for v in app.validate(category, fires)} == {rule.id}
        premise = getattr(rule, "if_", ())
        holds = questions.rule_holds(rule)
        expected = any(not premise or any(ref.matches(c) for ref in premise) for c in valid)
        assert (holds is not None) == expected, rule
        if holds is not None:
            assert app.validate(category, holds) == []
