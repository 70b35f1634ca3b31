"""Catalogs: the modules, options and declarative rules of one product category.

A catalog is written by a category plugin as a TOML file and loaded strictly: a catalog that loads
is trustworthy, and one that does not names the file, the place in it and what is accepted.
The same structure round-trips through plain dicts (``to_dict`` / ``from_dict``) so a campaign can
freeze a snapshot of it in the store.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn

import attrs

from .errors import CatalogError
from .money import check_currency
from .personalisation.fields import PersonalisationField, read_fields

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*\Z")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z")
DEFAULT_LANGUAGE = "en"
ATTRIBUTE_TYPES = (bool, int, float, str)
LIMIT_AGGREGATES = ("each", "sum")
ACCEPT_DIRECTIONS = ("exact", "smaller", "larger", "either")
MAX_NUMBER_VALUES = 1000
COMPARISON = re.compile(r"^([a-z0-9][a-z0-9_-]*)\s*(>=|<=|>|<|=)\s*(-?[0-9]+)\Z")


@attrs.frozen
class Ref:
    """A reference to an option (``module.option``) or to any option of a module (``module``)."""

    module: str
    option: str | None = None

    @classmethod
    def parse(cls, text: str) -> Ref:
        module, _, option = text.partition(".")
        return cls(module, option or None)

    def __str__(self) -> str:
        return f"{self.module}.{self.option}" if self.option else self.module

    def matches(self, configuration: Mapping[str, Choice]) -> bool:
        """True when the configuration chooses this option (or any option of this module)."""
        return bool(self.chosen(configuration))

    def chosen(self, configuration: Mapping[str, Choice]) -> tuple[str, ...]:
        """The options of ``configuration`` this reference matches (several in a multi-select)."""
        picked = choice_ids(configuration.get(self.module))
        return picked if self.option is None else tuple(o for o in picked if o == self.option)


Choice = str | tuple[str, ...]
"""A module's value in a configuration: an option id, or a tuple of them for a multi-select."""


def choice_ids(value) -> tuple[str, ...]:
    """The option ids of one module's value: () for none, one for a single choice, or several."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@attrs.frozen
class Part:
    """A bill-of-materials line: a part number and how many of it one unit needs."""

    number: str
    quantity: int = 1


@attrs.frozen
class Option:
    """One choice within a module, with its price delta in minor units and its attributes."""

    id: str
    title: str
    price: int = 0
    lead_time_days: int = 0
    attributes: Mapping[str, bool | int | float | str] = attrs.field(factory=dict)
    parts: tuple[Part, ...] = ()
    description: str = ""
    retired: bool = False
    titles: Mapping[str, str] = attrs.field(factory=dict)

    def title_in(self, lang: str | None) -> str:
        """The title in ``lang`` (``zh-CN`` falls back to ``zh``), else ``title`` (the default)."""
        return _title_in(self.title, self.titles, lang)


@attrs.frozen
class NumberRange:
    """The values of a numeric module: ``minimum`` to ``maximum`` in steps of ``step`` ``unit``.

    The catalog turns each value into an option whose id is the value in decimal (``"240"``),
    whose price is ``price_per_unit * (value - minimum)`` and which carries, for each
    ``attributes`` name, the value times its factor (an integer), so rules limit and add it like
    any attribute. ``accept`` and ``tolerance`` say which production sizes a wish for a value
    accepts when aggregation standardises sizes: ``exact`` (only its own), ``smaller``,
    ``larger`` or ``either``, at most ``tolerance`` units away (None: any distance).
    """

    minimum: int
    maximum: int
    step: int = 1
    unit: str = ""
    price_per_unit: int = 0
    attributes: Mapping[str, int] = attrs.field(factory=dict)
    accept: str = "exact"
    tolerance: int | None = None
    lead_time_days: int = 0
    parts: tuple[Part, ...] = ()

    @property
    def values(self) -> range:
        """Every accepted value, smallest first."""
        return range(self.minimum, self.maximum + 1, self.step)

    def describe(self) -> str:
        """What is accepted, in words: ``a whole number of cm from 160 to 320 in steps of 10``."""
        unit = f" of {self.unit}" if self.unit else ""
        text = f"a whole number{unit} from {self.minimum} to {self.maximum}"
        return text + (f" in steps of {self.step}" if self.step != 1 else "")

    def nearest(self, value: int) -> tuple[int, ...]:
        """The accepted values nearest to ``value``: one, or the two either side of it."""
        if value <= self.minimum:
            return (self.minimum,)
        last = self.values[-1]
        if value >= last:
            return (last,)
        below = self.minimum + (value - self.minimum) // self.step * self.step
        return (below,) if below == value else (below, below + self.step)

    def accepted(self, wished: int, tolerance: int | None = None) -> tuple[int | None, int | None]:
        """The interval of sizes a wish for ``wished`` accepts (None: unbounded that way).

        ``tolerance``, when the wish states one (``240~20``), replaces the catalog's; the
        direction is the catalog's ``accept`` (both ways when that is ``exact``).
        """
        accept = self.accept
        reach = self.tolerance
        if tolerance is not None:
            reach = tolerance
            accept = "either" if accept == "exact" else accept
        low: int | None = wished
        high: int | None = wished
        if accept in ("smaller", "either"):
            low = None if reach is None else wished - reach
        if accept in ("larger", "either"):
            high = None if reach is None else wished + reach
        return low, high

    def wished(self, text: str) -> tuple[int, int | None, int | None]:
        """``(value, low, high)`` of a wish's value: ``"240"`` or ``"240~20"`` (a tolerance of its
        own); raises ``ValueError`` for anything else."""
        value, sep, tolerance = text.partition("~")
        if not value.isdecimal() or (sep and not tolerance.isdecimal()):
            raise ValueError(f"{text!r} is not VALUE or VALUE~TOLERANCE")
        return (int(value), *self.accepted(int(value), int(tolerance) if sep else None))


@attrs.frozen
class Module:
    """An ordered slot of the product; a complete configuration chooses every required one."""

    id: str
    title: str
    options: tuple[Option, ...]
    required: bool = True
    description: str = ""
    titles: Mapping[str, str] = attrs.field(factory=dict)
    multiple: bool = False
    minimum: int = 0
    maximum: int = 1
    number: NumberRange | None = None

    def title_in(self, lang: str | None) -> str:
        """The title in ``lang``, else ``title`` (the catalog's default language).

        A ``multiple`` module takes between ``minimum`` and ``maximum`` of its options (its value
        in a configuration is a tuple of option ids); otherwise it takes one. A module with a
        ``number`` is numeric: its options are its values, one per step (see ``NumberRange``).
        """
        return _title_in(self.title, self.titles, lang)

    def option(self, option_id: str) -> Option | None:
        for option in self.options:
            if option.id == option_id:
                return option
        return None

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(option.id for option in self.options)


@attrs.frozen
class Requires:
    """If any option in ``if_`` is chosen, at least one option in ``then`` must be chosen too."""

    id: str
    message: str
    if_: tuple[Ref, ...]
    then: tuple[Ref, ...]
    kind = "requires"

    def describe(self) -> str:
        return f"if {' or '.join(map(str, self.if_))} then {' or '.join(map(str, self.then))}"


@attrs.frozen
class Excludes:
    """At most one of ``options`` may be chosen."""

    id: str
    message: str
    options: tuple[Ref, ...]
    kind = "excludes"

    def describe(self) -> str:
        return f"never together: {', '.join(map(str, self.options))}"


@attrs.frozen
class Limit:
    """A numeric limit on an option attribute.

    With ``aggregate="each"`` every chosen option that has ``attribute`` must lie within
    [minimum, maximum]; with ``aggregate="sum"`` the sum of the attribute over all chosen options
    (0 where an option lacks it) must. When ``if_`` is given, the limit applies only when one of
    those options is chosen.
    """

    id: str
    message: str
    attribute: str
    aggregate: str = "each"
    minimum: int | None = None
    maximum: int | None = None
    if_: tuple[Ref, ...] = ()
    kind = "limit"

    def describe(self) -> str:
        subject = f"sum of {self.attribute}" if self.aggregate == "sum" else self.attribute
        bounds = []
        if self.minimum is not None:
            bounds.append(f">= {self.minimum}")
        if self.maximum is not None:
            bounds.append(f"<= {self.maximum}")
        text = f"{subject} {' and '.join(bounds)}"
        if self.if_:
            text = f"if {' or '.join(map(str, self.if_))} then {text}"
        return text


Rule = Requires | Excludes | Limit


@attrs.frozen
class Catalog:
    """A category's complete catalog: modules in order, their options, and declarative rules."""

    id: str
    title: str
    currency: str
    base_price: int
    modules: tuple[Module, ...]
    rules: tuple[Rule, ...] = ()
    version: str = "1"
    description: str = ""
    source: str = attrs.field(default="<dict>", eq=False)
    language: str = DEFAULT_LANGUAGE
    titles: Mapping[str, str] = attrs.field(factory=dict)
    #: Per-unit personalisation fields (``[[personalisation]]``): they never change a variant.
    personalisation: tuple[PersonalisationField, ...] = ()

    def title_in(self, lang: str | None) -> str:
        """The catalog's title in ``lang``, else in its default language ``language``."""
        return _title_in(self.title, self.titles, lang)

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language some title of the catalog is written in, the default first."""
        found = {self.language: None}
        for titles in (self.titles, *(m.titles for m in self.modules)):
            found.update(dict.fromkeys(titles))
        for module in self.modules:
            for option in module.options:
                found.update(dict.fromkeys(option.titles))
        for field in self.personalisation:
            found.update(dict.fromkeys(field.titles))
        return tuple(found)

    def personalisation_field(self, field_id: str) -> PersonalisationField | None:
        """The personalisation field with this id, or None."""
        for field in self.personalisation:
            if field.id == field_id:
                return field
        return None

    def module(self, module_id: str) -> Module | None:
        for module in self.modules:
            if module.id == module_id:
                return module
        return None

    def option(self, module_id: str, option_id: str) -> Option | None:
        module = self.module(module_id)
        return module.option(option_id) if module else None

    @property
    def module_ids(self) -> tuple[str, ...]:
        return tuple(module.id for module in self.modules)

    def rule(self, rule_id: str) -> Rule | None:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None

    def chosen_options(
        self, configuration: Mapping[str, Choice]
    ) -> Iterator[tuple[Module, Option]]:
        """Yield (module, option) for each known choice of ``configuration``, in catalog order.

        A multi-select module yields each chosen option, so prices, parts and lead times add up
        per chosen option.
        """
        for module in self.modules:
            for option_id in choice_ids(configuration.get(module.id)):
                option = module.option(option_id)
                if option is not None:
                    yield module, option

    def knows(self, module_id: str, value: Choice) -> bool:
        """True when ``value`` names only options of the module (its shape is checked apart)."""
        module = self.module(module_id)
        ids = choice_ids(value)
        return module is not None and all(module.option(o) is not None for o in ids)

    @property
    def numeric_modules(self) -> tuple[Module, ...]:
        """The modules whose value is a number in a range (``Module.number`` is set)."""
        return tuple(module for module in self.modules if module.number is not None)

    def canonical(self, configuration: Mapping[str, Any]) -> dict[str, Any]:
        """``configuration`` in the one form every stage compares and stores.

        Integers given for numeric modules become their option ids (``{"length": 240}`` becomes
        ``{"length": "240"}``); a multi-select module's value becomes a tuple of option ids in
        the catalog's order (``"b"``, ``["b", "a"]`` and ``("a", "b")`` become ``("b",)``,
        ``("a", "b")`` and ``("a", "b")``), ids the module does not know last, as given.
        Anything else is kept as given, for validation to judge.
        """
        numeric = {module.id for module in self.numeric_modules}
        multiple = {module.id: module for module in self.modules if module.multiple}
        canonical: dict[str, Any] = {}
        for m, v in configuration.items():
            if m in numeric and isinstance(v, int) and not isinstance(v, bool):
                v = str(v)
            elif m in multiple and isinstance(v, str | list | tuple):
                ids = (v,) if isinstance(v, str) else tuple(v)
                if all(isinstance(i, str) for i in ids):
                    order = {o: n for n, o in enumerate(multiple[m].option_ids)}
                    v = tuple(sorted(ids, key=lambda i: order.get(i, len(order))))
            canonical[m] = v
        return canonical

    def nominal(self, configuration: Mapping[str, Choice]) -> dict[str, Choice]:
        """``configuration`` without the tolerances a wish may state for numeric modules
        (``{"length": "240~20"}`` becomes ``{"length": "240"}``)."""
        numeric = {module.id for module in self.numeric_modules}
        return {
            m: v.partition("~")[0] if m in numeric and isinstance(v, str) else v
            for m, v in configuration.items()
        }

    def accepts(self, wish: Mapping[str, Choice], configuration: Mapping[str, Choice]) -> bool:
        """True when ``configuration`` (a variant) gives ``wish`` what it asked for: every
        option the wish chose, and for a numeric module whose wishes accept other sizes
        (``NumberRange.accept``, or a tolerance the wish states), a value it accepts."""
        for module_id, wanted in wish.items():
            given = configuration.get(module_id)
            if given == wanted:
                continue
            module = self.module(module_id)
            number = module.number if module is not None else None
            if number is None or not isinstance(wanted, str) or not isinstance(given, str):
                return False
            try:
                _, low, high = number.wished(wanted)
                size = int(given)
            except ValueError:
                return False
            if (low is not None and size < low) or (high is not None and size > high):
                return False
        return True

    @property
    def has_multiple(self) -> bool:
        """True when a module takes several options."""
        return any(module.multiple for module in self.modules)

    def to_dict(self) -> dict:
        """The catalog as plain data, in the same shape as the TOML file."""
        head = {
            "id": self.id,
            "title": _title_to_data(self.title, self.titles),
            "currency": self.currency,
            "base_price": self.base_price,
            "version": self.version,
            "description": self.description,
        }
        if self.language != DEFAULT_LANGUAGE:
            head["language"] = self.language
        data = {
            "category": head,
            "modules": [_module_to_dict(module) for module in self.modules],
            "rules": [_rule_to_dict(rule) for rule in self.rules],
        }
        if self.personalisation:  # left out when empty, so older catalogs keep their digests
            data["personalisation"] = [field.to_dict() for field in self.personalisation]
        return data

    @classmethod
    def from_dict(cls, data: Mapping, source: str | Path = "<dict>") -> Catalog:
        """Build a catalog from plain data, checking it strictly (raises ``CatalogError``)."""
        return _CatalogReader(str(source)).catalog(data)

    @property
    def digest(self) -> str:
        """A sha256 of the catalog's canonical JSON: equal catalogs have equal digests."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def load_catalog(path: str | Path) -> Catalog:
    """Load and check a catalog TOML file."""
    path = Path(path)
    try:
        with path.open("rb") as fp:
            data = tomllib.load(fp)
    except OSError as ex:
        raise CatalogError(path, "", f"cannot read the file ({ex.strerror})") from ex
    except tomllib.TOMLDecodeError as ex:
        raise CatalogError(path, "", f"not valid TOML: {ex}") from ex
    return Catalog.from_dict(data, source=path)


def _title_in(title: str, titles: Mapping[str, str], lang: str | None) -> str:
    if not lang:
        return title
    if lang in titles:
        return titles[lang]
    primary = lang.split("-")[0].lower()
    return titles.get(primary, title)


def _title_to_data(title: str, titles: Mapping[str, str]) -> str | dict[str, str]:
    """A plain string when the title has one language (so older digests stay), else the table."""
    return dict(titles) if titles else title


def _module_to_dict(module: Module) -> dict:
    if module.number is not None:
        return {
            "id": module.id,
            "title": _title_to_data(module.title, module.titles),
            "required": module.required,
            "description": module.description,
            "number": _number_to_dict(module.number),
        }
    shape: dict[str, object] = (
        {"min": module.minimum, "max": module.maximum}
        if module.multiple
        else {"required": module.required}
    )
    return {
        "id": module.id,
        "title": _title_to_data(module.title, module.titles),
        **shape,
        "description": module.description,
        "options": [
            {
                "id": option.id,
                "title": _title_to_data(option.title, option.titles),
                "price": option.price,
                "lead_time_days": option.lead_time_days,
                "attributes": dict(option.attributes),
                "parts": [{"number": p.number, "quantity": p.quantity} for p in option.parts],
                "description": option.description,
                "retired": option.retired,
            }
            for option in module.options
        ],
    }


def _number_to_dict(number: NumberRange) -> dict:
    data: dict[str, object] = {
        "min": number.minimum,
        "max": number.maximum,
        "step": number.step,
        "unit": number.unit,
        "price_per_unit": number.price_per_unit,
        "attributes": dict(number.attributes),
        "accept": number.accept,
        "lead_time_days": number.lead_time_days,
        "parts": [{"number": p.number, "quantity": p.quantity} for p in number.parts],
    }
    if number.tolerance is not None:
        data["tolerance"] = number.tolerance
    return data


def number_options(module_id: str, number: NumberRange) -> tuple[Option, ...]:
    """The options of a numeric module: one per value, its id the value in decimal."""
    unit = f" {number.unit}" if number.unit else ""
    return tuple(
        Option(
            id=str(value),
            title=f"{value}{unit}",
            price=number.price_per_unit * (value - number.minimum),
            lead_time_days=number.lead_time_days,
            attributes={name: value * factor for name, factor in number.attributes.items()},
            parts=number.parts,
        )
        for value in number.values
    )


def _rule_to_dict(rule: Rule) -> dict:
    data: dict[str, object] = {"id": rule.id, "kind": rule.kind, "message": rule.message}
    if isinstance(rule, Requires):
        data["if"] = [str(ref) for ref in rule.if_]
        data["then"] = [str(ref) for ref in rule.then]
    elif isinstance(rule, Excludes):
        data["options"] = [str(ref) for ref in rule.options]
    else:
        data["attribute"] = rule.attribute
        data["aggregate"] = rule.aggregate
        if rule.minimum is not None:
            data["min"] = rule.minimum
        if rule.maximum is not None:
            data["max"] = rule.maximum
        if rule.if_:
            data["if"] = [str(ref) for ref in rule.if_]
    return data


class _CatalogReader:
    """Reads catalog data strictly, tracking where in the file each value came from."""

    def __init__(self, source: str):
        self.source = source
        self.language = DEFAULT_LANGUAGE

    def title(self, value, where: str) -> tuple[str, dict[str, str]]:
        """A title: a string (in the catalog's language) or a table of language -> string."""
        if isinstance(value, str):
            return value, {}
        if not isinstance(value, Mapping):
            self.fail(where, f"expected a string or a table of languages, got {_type_name(value)}")
        if not value:
            self.fail(where, "a table of titles must name at least one language")
        titles = {}
        for lang, text in value.items():
            if not LANGUAGE_PATTERN.match(lang):
                self.fail(
                    f"{where}.{lang}",
                    f"{lang!r} is not a language tag; use one like en, zh or zh-Hant",
                )
            titles[lang] = self.string(text, f"{where}.{lang}")
        if self.language not in titles:
            self.fail(
                where,
                f"no title in the catalog's default language {self.language!r} "
                f"(category.language); titles are in {', '.join(titles)}",
            )
        return titles[self.language], titles

    def fail(self, where: str, problem: str) -> NoReturn:
        raise CatalogError(self.source, where, problem)

    def table(self, value, where: str, allowed: dict[str, bool]) -> Mapping:
        """Check ``value`` is a table whose keys are in ``allowed`` (key -> required)."""
        if not isinstance(value, Mapping):
            self.fail(where, f"expected a table, got {_type_name(value)}")
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            self.fail(
                f"{where}.{unknown[0]}" if where else unknown[0],
                f"unknown key; accepted keys are {', '.join(sorted(allowed))}",
            )
        for key, required in allowed.items():
            if required and key not in value:
                self.fail(where or "top level", f"missing required key {key!r}")
        return value

    def string(self, value, where: str, pattern: re.Pattern | None = None) -> str:
        if not isinstance(value, str):
            self.fail(where, f"expected a string, got {_type_name(value)}")
        if pattern is not None and not pattern.match(value):
            self.fail(
                where,
                f"{value!r} is not a valid id: use lower-case letters, digits, '-' and '_', "
                "starting with a letter or digit",
            )
        return value

    def integer(self, value, where: str, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, f"expected an integer, got {_type_name(value)}")
        if minimum is not None and value < minimum:
            self.fail(where, f"must be >= {minimum}, got {value}")
        return value

    def boolean(self, value, where: str) -> bool:
        if not isinstance(value, bool):
            self.fail(where, f"expected true or false, got {_type_name(value)}")
        return value

    def array(self, value, where: str, non_empty: bool = False) -> list:
        if not isinstance(value, list):
            self.fail(where, f"expected an array, got {_type_name(value)}")
        if non_empty and not value:
            self.fail(where, "must not be empty")
        return value

    def catalog(self, data) -> Catalog:
        data = self.table(
            data, "", {"category": True, "modules": True, "rules": False, "personalisation": False}
        )
        head = self.table(
            data["category"],
            "category",
            {
                "id": True,
                "title": True,
                "currency": True,
                "base_price": True,
                "version": False,
                "description": False,
                "language": False,
            },
        )
        self.language = self.string(head.get("language", DEFAULT_LANGUAGE), "category.language")
        if not LANGUAGE_PATTERN.match(self.language):
            self.fail(
                "category.language",
                f"{self.language!r} is not a language tag; use one like en, zh or zh-Hant",
            )
        title, titles = self.title(head["title"], "category.title")
        currency = self.string(head["currency"], "category.currency")
        try:
            check_currency(currency)
        except ValueError as ex:
            self.fail("category.currency", str(ex))
        modules = []
        seen_modules = set()
        for index, raw in enumerate(self.array(data["modules"], "modules", non_empty=True)):
            module = self.module(raw, f"modules[{index}]")
            if module.id in seen_modules:
                self.fail(f"modules[{index}].id", f"duplicate module id {module.id!r}")
            seen_modules.add(module.id)
            modules.append(module)
        catalog = Catalog(
            id=self.string(head["id"], "category.id", ID_PATTERN),
            title=title,
            titles=titles,
            language=self.language,
            currency=currency,
            base_price=self.integer(head["base_price"], "category.base_price", minimum=0),
            version=self.string(head.get("version", "1"), "category.version"),
            description=self.string(head.get("description", ""), "category.description"),
            modules=tuple(modules),
            source=self.source,
        )
        rules = []
        seen_rules = set()
        for index, raw in enumerate(self.array(data.get("rules", []), "rules")):
            rule = self.rule(raw, f"rules[{index}]", catalog)
            if rule.id in seen_rules:
                self.fail(f"rules[{index}].id", f"duplicate rule id {rule.id!r}")
            seen_rules.add(rule.id)
            rules.append(rule)
        personalisation = read_fields(self, data.get("personalisation", []), catalog.module_ids)
        return attrs.evolve(catalog, rules=tuple(rules), personalisation=personalisation)

    def module(self, raw, where: str) -> Module:
        raw = self.table(
            raw,
            where,
            {
                "id": True,
                "title": True,
                "options": False,
                "number": False,
                "required": False,
                "description": False,
                "min": False,
                "max": False,
            },
        )
        module_id = self.string(raw["id"], f"{where}.id", ID_PATTERN)
        if "number" in raw:
            return self.numeric_module(raw, f"modules.{module_id}", module_id)
        if "options" not in raw:
            self.fail(where, "missing required key 'options' (or 'number' for a numeric module)")
        where = f"modules.{module_id}"
        options = []
        seen = set()
        for index, option_raw in enumerate(
            self.array(raw["options"], f"{where}.options", non_empty=True)
        ):
            option = self.option(option_raw, f"{where}.options[{index}]")
            if option.id in seen:
                self.fail(f"{where}.options[{index}].id", f"duplicate option id {option.id!r}")
            seen.add(option.id)
            options.append(option)
        title, titles = self.title(raw["title"], f"{where}.title")
        module = Module(
            id=module_id,
            title=title,
            titles=titles,
            required=self.boolean(raw.get("required", True), f"{where}.required"),
            description=self.string(raw.get("description", ""), f"{where}.description"),
            options=tuple(options),
        )
        if "min" not in raw and "max" not in raw:
            return module
        if "required" in raw:
            self.fail(
                f"{where}.required",
                "a module with 'min'/'max' takes several options; its 'min' says whether it is "
                "required (min = 0: optional), so leave 'required' out",
            )
        minimum = self.integer(raw.get("min", 0), f"{where}.min", minimum=0)
        maximum = self.integer(raw.get("max", len(options)), f"{where}.max", minimum=1)
        if maximum > len(options):
            self.fail(f"{where}.max", f"is {maximum}, but the module has {len(options)} options")
        if minimum > maximum:
            self.fail(where, f"min ({minimum}) is greater than max ({maximum})")
        return attrs.evolve(
            module, multiple=True, minimum=minimum, maximum=maximum, required=minimum > 0
        )

    def numeric_module(self, raw, where: str, module_id: str) -> Module:
        """A module whose value is a number in a range; its options are made from its values."""
        for key in ("options", "min", "max"):
            if key in raw:
                self.fail(
                    f"{where}.{key}",
                    "a numeric module ('number') takes one value from its range: leave out "
                    "'options', 'min' and 'max' (the range's bounds go in 'number')",
                )
        at = f"{where}.number"
        spec = self.table(
            raw["number"],
            at,
            {
                "min": True,
                "max": True,
                "step": False,
                "unit": False,
                "price_per_unit": False,
                "attributes": False,
                "accept": False,
                "tolerance": False,
                "lead_time_days": False,
                "parts": False,
            },
        )
        minimum = self.integer(spec["min"], f"{at}.min", minimum=0)
        maximum = self.integer(spec["max"], f"{at}.max", minimum=0)
        step = self.integer(spec.get("step", 1), f"{at}.step", minimum=1)
        if minimum > maximum:
            self.fail(at, f"min ({minimum}) is greater than max ({maximum})")
        if (maximum - minimum) % step:
            self.fail(
                f"{at}.max",
                f"{maximum} is not min ({minimum}) plus a whole number of steps ({step}); "
                f"use {minimum + (maximum - minimum) // step * step}",
            )
        if (maximum - minimum) // step + 1 > MAX_NUMBER_VALUES:
            self.fail(
                f"{at}.step",
                f"{(maximum - minimum) // step + 1:,} values is too many; at most "
                f"{MAX_NUMBER_VALUES:,} are accepted (use a larger step)",
            )
        attributes_raw = spec.get("attributes", {module_id: 1})
        if not isinstance(attributes_raw, Mapping) or not attributes_raw:
            self.fail(f"{at}.attributes", "expected a table of attribute name -> integer factor")
        attributes = {}
        for name, factor in attributes_raw.items():
            if not ID_PATTERN.match(name):
                self.fail(f"{at}.attributes.{name}", "attribute names are lower-case ids")
            attributes[name] = self.integer(factor, f"{at}.attributes.{name}")
        accept = self.string(spec.get("accept", "exact"), f"{at}.accept")
        if accept not in ACCEPT_DIRECTIONS:
            self.fail(f"{at}.accept", f"{accept!r} is not one of {', '.join(ACCEPT_DIRECTIONS)}")
        tolerance = (
            self.integer(spec["tolerance"], f"{at}.tolerance", minimum=0)
            if "tolerance" in spec
            else None
        )
        number = NumberRange(
            minimum=minimum,
            maximum=maximum,
            step=step,
            unit=self.string(spec.get("unit", ""), f"{at}.unit"),
            price_per_unit=self.integer(
                spec.get("price_per_unit", 0), f"{at}.price_per_unit", minimum=0
            ),
            attributes=attributes,
            accept=accept,
            tolerance=tolerance,
            lead_time_days=self.integer(
                spec.get("lead_time_days", 0), f"{at}.lead_time_days", minimum=0
            ),
            parts=self.parts(spec.get("parts", []), f"{at}.parts"),
        )
        title, titles = self.title(raw["title"], f"{where}.title")
        return Module(
            id=module_id,
            title=title,
            titles=titles,
            required=self.boolean(raw.get("required", True), f"{where}.required"),
            description=self.string(raw.get("description", ""), f"{where}.description"),
            options=number_options(module_id, number),
            number=number,
        )

    def parts(self, value, where: str) -> tuple[Part, ...]:
        parts = []
        for index, part_raw in enumerate(self.array(value, where)):
            part_where = f"{where}[{index}]"
            part_raw = self.table(part_raw, part_where, {"number": True, "quantity": False})
            number = self.string(part_raw["number"], f"{part_where}.number")
            if not number.strip():
                self.fail(f"{part_where}.number", "must not be blank")
            parts.append(
                Part(number, self.integer(part_raw.get("quantity", 1), f"{part_where}.quantity", 1))
            )
        return tuple(parts)

    def option(self, raw, where: str) -> Option:
        raw = self.table(
            raw,
            where,
            {
                "id": True,
                "title": True,
                "price": False,
                "lead_time_days": False,
                "attributes": False,
                "parts": False,
                "description": False,
                "retired": False,
            },
        )
        attributes = raw.get("attributes", {})
        if not isinstance(attributes, Mapping):
            self.fail(f"{where}.attributes", f"expected a table, got {_type_name(attributes)}")
        for name, value in attributes.items():
            if not ID_PATTERN.match(name):
                self.fail(f"{where}.attributes.{name}", "attribute names are lower-case ids")
            if not isinstance(value, ATTRIBUTE_TYPES):
                self.fail(
                    f"{where}.attributes.{name}",
                    f"expected a number, string or boolean, got {_type_name(value)}",
                )
        parts = self.parts(raw.get("parts", []), f"{where}.parts")
        title, titles = self.title(raw["title"], f"{where}.title")
        return Option(
            id=self.string(raw["id"], f"{where}.id", ID_PATTERN),
            title=title,
            titles=titles,
            price=self.integer(raw.get("price", 0), f"{where}.price", minimum=0),
            lead_time_days=self.integer(
                raw.get("lead_time_days", 0), f"{where}.lead_time_days", minimum=0
            ),
            attributes=dict(attributes),
            parts=parts,
            description=self.string(raw.get("description", ""), f"{where}.description"),
            retired=self.boolean(raw.get("retired", False), f"{where}.retired"),
        )

    def refs(self, value, where: str, catalog: Catalog) -> tuple[Ref, ...]:
        refs: list[Ref] = []
        for index, text in enumerate(self.array(value, where, non_empty=True)):
            text = self.string(text, f"{where}[{index}]")
            comparison = COMPARISON.match(text)
            if comparison:
                refs.extend(self.comparison(comparison, f"{where}[{index}]", catalog))
                continue
            ref = Ref.parse(text)
            module = catalog.module(ref.module)
            if module is None:
                self.fail(
                    f"{where}[{index}]",
                    f"unknown module {ref.module!r}; modules are {', '.join(catalog.module_ids)}",
                )
            if ref.option is not None and module.option(ref.option) is None:
                self.fail(
                    f"{where}[{index}]",
                    f"unknown option {ref.option!r} in module {module.id!r}; "
                    f"options are {', '.join(module.option_ids)}",
                )
            refs.append(ref)
        return tuple(refs)

    def comparison(self, match: re.Match, where: str, catalog: Catalog) -> list[Ref]:
        """``length >= 280``: a reference to every value of a numeric module that compares so."""
        module_id, operator, bound = match.group(1), match.group(2), int(match.group(3))
        module = catalog.module(module_id)
        if module is None or module.number is None:
            numeric = ", ".join(m.id for m in catalog.numeric_modules) or "none"
            self.fail(
                where,
                f"{match.group(0)!r} compares module {module_id!r}, which is not a numeric "
                f"module; numeric modules are {numeric}",
            )
        test = {
            ">=": bound.__le__,
            "<=": bound.__ge__,
            ">": bound.__lt__,
            "<": bound.__gt__,
            "=": bound.__eq__,
        }[operator]
        values = [value for value in module.number.values if test(value)]
        if not values:
            self.fail(
                where,
                f"no value of {module_id!r} is {operator} {bound}; it accepts "
                f"{module.number.describe()}",
            )
        return [Ref(module_id, str(value)) for value in values]

    def rule(self, raw, where: str, catalog: Catalog) -> Rule:
        if not isinstance(raw, Mapping):
            self.fail(where, f"expected a table, got {_type_name(raw)}")
        kind = raw.get("kind")
        common = {"id": True, "kind": True, "message": True}
        if kind == "requires":
            raw = self.table(raw, where, {**common, "if": True, "then": True})
        elif kind == "excludes":
            raw = self.table(raw, where, {**common, "options": True})
        elif kind == "limit":
            raw = self.table(
                raw,
                where,
                {
                    **common,
                    "attribute": True,
                    "aggregate": False,
                    "min": False,
                    "max": False,
                    "if": False,
                },
            )
        else:
            self.fail(
                f"{where}.kind",
                f"unknown rule kind {kind!r}; accepted kinds are requires, excludes, limit",
            )
        rule_id = self.string(raw["id"], f"{where}.id", ID_PATTERN)
        message = self.string(raw["message"], f"{where}.message")
        if kind == "requires":
            return Requires(
                rule_id,
                message,
                if_=self.refs(raw["if"], f"{where}.if", catalog),
                then=self.refs(raw["then"], f"{where}.then", catalog),
            )
        if kind == "excludes":
            options = self.refs(raw["options"], f"{where}.options", catalog)
            if len(raw["options"]) < 2:
                self.fail(f"{where}.options", "an excludes rule needs at least two options")
            return Excludes(rule_id, message, options)
        attribute = self.string(raw["attribute"], f"{where}.attribute")
        aggregate = self.string(raw.get("aggregate", "each"), f"{where}.aggregate")
        if aggregate not in LIMIT_AGGREGATES:
            self.fail(f"{where}.aggregate", f"{aggregate!r} is not one of each, sum")
        minimum = self.integer(raw["min"], f"{where}.min") if "min" in raw else None
        maximum = self.integer(raw["max"], f"{where}.max") if "max" in raw else None
        if minimum is None and maximum is None:
            self.fail(where, "a limit needs 'min', 'max' or both")
        if minimum is not None and maximum is not None and minimum > maximum:
            self.fail(where, f"min ({minimum}) is greater than max ({maximum})")
        carriers = 0
        for module in catalog.modules:
            for index, option in enumerate(module.options):
                if attribute in option.attributes:
                    carriers += 1
                    value = option.attributes[attribute]
                    if isinstance(value, bool) or not isinstance(value, int):
                        self.fail(
                            f"modules.{module.id}.options[{index}].attributes.{attribute}",
                            f"rule {rule_id!r} limits {attribute!r}, so it must be an integer, "
                            f"got {value!r}",
                        )
        if not carriers:
            self.fail(f"{where}.attribute", f"no option has the attribute {attribute!r}")
        if_ = self.refs(raw["if"], f"{where}.if", catalog) if "if" in raw else ()
        return Limit(rule_id, message, attribute, aggregate, minimum, maximum, if_)


def _type_name(value) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)
