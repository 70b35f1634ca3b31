"""Campaign records: the stages, their settings, the state machine's errors and ``Campaign``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import attrs

from ..errors import InvalidInput, NotAllowed, NotFound

STAGES = ("wishes", "vote", "presale", "handoff")
DRAFT = "draft"
CLOSED = "closed"

# Setting name -> (default, minimum, help). Stages add theirs here.
SETTINGS = {
    "max_variants": (5, 1, "the most variants aggregation may choose"),
    "moq": (1, 1, "minimum batch: the fewest units a variant must cover to be produced"),
    "spare_percent": (0, 0, "extra units to produce, in percent of the confirmed (rounded up)"),
    "assembly_days": (2, 0, "days of assembly and test after the last part arrives"),
    "max_lot_size": (0, 0, "line capacity: the most units in one work order (0: no limit)"),
    "warehouses": ({}, None, "region -> warehouse code; key 'default' for the rest"),
}
# Setting name -> the largest value a later stage can use (refused where it is entered).
MAXIMUMS = {
    "max_variants": 1_000,
    "moq": 10**12,
    "spare_percent": 1_000,
    "assembly_days": 3_650,
    "max_lot_size": 10**12,
}
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}\Z")


class UnknownCampaign(NotFound):
    """No campaign has this slug."""

    def __init__(self, slug: str):
        self.slug = slug
        super().__init__(
            f"no campaign {slug!r}; `c2m campaign list` shows the campaigns",
            field="campaign",
            value=slug,
        )


class IllegalTransition(NotAllowed):
    """The campaign is not in a state that allows what was asked."""


@attrs.frozen
class Campaign:
    """A campaign as stored. ``state`` is ``draft``, one of its ``stages``, or ``closed``."""

    id: int | None
    slug: str
    category: str
    title: str
    currency: str
    stages: tuple[str, ...]
    settings: Mapping = attrs.field(factory=dict)
    state: str = DRAFT
    catalog_frozen: bool = False
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def states(self) -> tuple[str, ...]:
        return (DRAFT, *self.stages, CLOSED)

    @property
    def next_state(self) -> str | None:
        states = self.states
        index = states.index(self.state)
        return states[index + 1] if index + 1 < len(states) else None

    def setting(self, name: str):
        return self.settings.get(name, SETTINGS[name][0] if name in SETTINGS else None)

    def to_dict(self) -> dict:
        data = attrs.asdict(self)
        data["stages"] = list(self.stages)
        data["settings"] = {name: self.setting(name) for name in SETTINGS} | dict(self.settings)
        return data


def check_stages(stages: Iterable[str]) -> tuple[str, ...]:
    """Return the stages in their fixed order; reject unknown, repeated or no stages."""
    stages = list(stages)
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise InvalidInput(
            f"unknown stage {unknown[0]!r}; stages are {', '.join(STAGES)} (in that order)",
            field="stages",
            value=unknown[0],
            accepted=", ".join(STAGES),
        )
    if len(set(stages)) != len(stages):
        raise InvalidInput(
            f"stages repeat: {', '.join(stages)}",
            field="stages",
            value=stages,
            accepted=f"each of {', '.join(STAGES)} at most once",
        )
    if not stages:
        raise InvalidInput(
            f"a campaign needs at least one stage of {', '.join(STAGES)}",
            field="stages",
            value=stages,
            accepted=f"one or more of {', '.join(STAGES)}",
        )
    return tuple(s for s in STAGES if s in stages)


def check_settings(settings: Mapping) -> dict:
    """Check known settings are integers within range; reject unknown names."""
    checked = {}
    for name, value in settings.items():
        if name not in SETTINGS:
            raise InvalidInput(
                f"unknown campaign setting {name!r}; settings are {', '.join(sorted(SETTINGS))}",
                field="settings",
                value=name,
                accepted=", ".join(sorted(SETTINGS)),
            )
        default, minimum, _ = SETTINGS[name]
        if isinstance(default, dict):
            items = value.items() if isinstance(value, Mapping) else [("", value)]
            for key, code in items:
                if not (key and isinstance(key, str) and isinstance(code, str)) or not (
                    CODE_PATTERN.match(code)
                ):
                    raise InvalidInput(
                        f"setting {name}: {key!r} -> {code!r} is not accepted; map names to codes "
                        "of up to 32 letters, digits, '-' and '_', starting with a letter or digit",
                        field=name,
                        value=value,
                        accepted="names mapped to codes of up to 32 letters, digits, '-' and '_'",
                    )
            checked[name] = dict(value)
            continue
        if isinstance(default, int) and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidInput(
                f"setting {name} must be an integer, got {value!r}",
                field=name,
                value=value,
                accepted="an integer" if minimum is None else f"an integer of at least {minimum}",
            )
        maximum = MAXIMUMS.get(name)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            accepted = (
                f"an integer from {minimum:,} to {maximum:,}"
                if maximum is not None
                else f"an integer of at least {minimum}"
            )
            raise InvalidInput(
                f"setting {name}: {value} is out of range; accepted: {accepted}",
                field=name,
                value=value,
                accepted=accepted,
            )
        checked[name] = value
    return checked
