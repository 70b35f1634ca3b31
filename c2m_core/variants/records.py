"""Variant records: a complete configuration proposed for production, and its key."""

from __future__ import annotations

import json
from collections.abc import Mapping

import attrs

from ..catalog import Catalog, Choice, choice_ids
from ..errors import InvalidInput

SOURCES = ("aggregate", "manual", "plugin")


class InvalidVariant(InvalidInput):
    """A proposed variant is not a complete, valid configuration; ``violations`` say why."""

    def __init__(self, message, violations=()):
        self.violations = list(violations)
        super().__init__(message)


@attrs.frozen
class Variant:
    """A complete configuration proposed for production within one campaign."""

    id: int | None
    campaign_id: int
    key: str
    name: str
    configuration: Mapping[str, Choice]
    source: str = "manual"
    covered_quantity: int = 0
    position: int = 0
    withdrawn: bool = False

    def to_dict(self) -> dict:
        data = attrs.asdict(self)
        data["configuration"] = dict(self.configuration)
        return data


def configuration_from_json(text: str) -> dict[str, Choice]:
    """A configuration stored as JSON, with a multi-select module's list of ids a tuple again."""
    return {m: tuple(v) if isinstance(v, list) else v for m, v in json.loads(text).items()}


def variant_key(catalog: Catalog, configuration: Mapping[str, str]) -> str:
    """``module=option`` pairs in catalog order, joined by ``;``: one key per configuration.

    A multi-select module's options appear in catalog order joined by ``,`` (``extras=a,b``)."""
    canonical = catalog.canonical(configuration)
    return ";".join(
        f"{module.id}={','.join(choice_ids(canonical[module.id]))}"
        for module in catalog.modules
        if module.id in canonical
    )


def default_name(catalog: Catalog, configuration: Mapping[str, str]) -> str:
    """A readable name from the chosen options' titles, e.g. ``65" 4K UHD LCD / Mini-LED``."""
    return " / ".join(option.title for _, option in catalog.chosen_options(configuration))
