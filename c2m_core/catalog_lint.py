"""Linting a catalog file before it is packaged: the JSON Schema, the loader, the engine.

``lint_catalog(path)`` reports every schema problem (not only the first), the loader's own
checks (references, unique ids, integer attributes under limits) and, when the catalog loads, the
configuration engine's view: whether any valid configuration exists and which options are in
none. ``c2m catalog lint FILE`` prints the same.
"""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path

import attrs

from .catalog import Catalog
from .errors import C2MError, CatalogError

SCHEMA_FILE = "catalog.schema.json"
RULE_KINDS = ("requires", "excludes", "limit")
PERSONALISATION_KINDS = ("image", "text")


@attrs.frozen
class LintProblem:
    """One finding: ``check`` is ``toml``, ``schema``, ``loader`` or ``engine``; ``where`` the
    place in the file (``modules[0].options[1].id``); ``level`` ``error`` or ``warning``."""

    check: str
    where: str
    message: str
    level: str = "error"

    def to_dict(self) -> dict:
        return attrs.asdict(self)


def catalog_schema() -> dict:
    """The catalog format's JSON Schema (draft 2020-12)."""
    text = resources.files("c2m_core.schemas").joinpath(SCHEMA_FILE).read_text("utf-8")
    return json.loads(text)


def lint_catalog(path: str | Path) -> list[LintProblem]:
    """Every problem found in the catalog file at ``path`` (empty: ready to package)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as ex:
        return [LintProblem("toml", "", f"cannot read the file ({ex.strerror})")]
    except UnicodeDecodeError:
        return [LintProblem("toml", "", "the file is not UTF-8 text")]
    except tomllib.TOMLDecodeError as ex:
        return [LintProblem("toml", "", f"not valid TOML: {ex}")]
    return lint_data(data, source=path)


def lint_data(data, source: str | Path = "<dict>") -> list[LintProblem]:
    """``lint_catalog`` for catalog data already read."""
    problems = schema_problems(data)
    try:
        catalog = Catalog.from_dict(data, source=source)
    except CatalogError as ex:
        problems.append(LintProblem("loader", ex.where, ex.problem))
        return problems
    problems.extend(engine_problems(catalog))
    return problems


def schema_problems(data) -> list[LintProblem]:
    """Where ``data`` breaks the JSON Schema, one problem per failure, in file order."""
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

    validator = Draft202012Validator(catalog_schema())
    problems: list[LintProblem] = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        if error.validator == "oneOf" and isinstance(error.instance, dict):
            path = list(error.absolute_path)
            kinds = PERSONALISATION_KINDS if path[:1] == ["personalisation"] else RULE_KINDS
            if error.instance.get("kind") not in kinds:
                continue  # the "kind" check names the problem
            branch = kinds.index(error.instance["kind"])  # the schema's oneOf order
            mine = [e for e in error.context if e.relative_schema_path[0] == branch]
            error = best_match(mine) if mine else error
        if error.validator == "not":
            message = "'required' cannot go with 'min' or 'max': a module with 'min'/'max' " + (
                "takes several options and its 'min' says whether it is required"
            )
        elif len(error.message) > 200:
            message = f"fails the schema's {error.validator!r} check"
        else:
            message = error.message
        problem = LintProblem("schema", _where(error.absolute_path), message)
        if problem not in problems:
            problems.append(problem)
    return problems


def engine_problems(catalog: Catalog) -> list[LintProblem]:
    """No valid configuration at all (an error) and options in none (warnings)."""
    from .engine import Engine

    try:
        options = Engine(catalog).options({})
    except C2MError as ex:
        return [LintProblem("engine", "", f"not checked: {ex}", level="warning")]
    if options.conflict is not None:
        return [
            LintProblem("engine", "rules", f"no configuration is valid: {options.conflict.message}")
        ]
    problems = []
    for status in options.statuses:
        if not status.available:
            module = catalog.module(status.module)
            assert module is not None
            index = module.option_ids.index(status.option)
            why = f": {status.reason.message}" if status.reason is not None else ""
            problems.append(
                LintProblem(
                    "engine",
                    f"modules.{module.id}.options[{index}]",
                    f"option {status.option!r} is in no valid configuration{why}",
                    level="warning",
                )
            )
    return problems


def _where(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
