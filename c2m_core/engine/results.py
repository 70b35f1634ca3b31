"""What the engine answers: frozen values with ``to_dict()`` for JSON."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from ..catalog import Choice, choice_ids


def _choices(choices: Mapping[str, Choice]) -> str:
    return ", ".join(f"{m}={','.join(choice_ids(o))}" for m, o in choices.items())


@attrs.frozen
class Reason:
    """Why an option cannot be chosen: the rules and the user's choices that rule it out.

    ``choices`` is minimal (drop any one and the option comes back once ``rules`` alone are
    considered) and so is ``rules``; custom Python rules appear by their violation rule id.
    """

    rules: tuple[str, ...]
    choices: Mapping[str, Choice]
    message: str

    def to_dict(self) -> dict:
        return {"rules": list(self.rules), "choices": dict(self.choices), "message": self.message}


@attrs.frozen
class OptionStatus:
    """One option under a partial configuration: can some valid completion choose it?"""

    module: str
    option: str
    available: bool
    chosen: bool = False
    reason: Reason | None = None

    def to_dict(self) -> dict:
        return {
            "module": self.module,
            "option": self.option,
            "available": self.available,
            "chosen": self.chosen,
            "reason": self.reason.to_dict() if self.reason else None,
        }


@attrs.frozen
class Conflict:
    """A minimal set of the user's choices that no valid configuration extends, with the rules.

    Dropping any one of ``choices`` makes the rest possible; dropping any one of ``rules`` makes
    ``choices`` possible.
    """

    choices: Mapping[str, Choice]
    rules: tuple[str, ...]
    message: str
    used_custom_check: bool = False

    def to_dict(self) -> dict:
        return {
            "choices": dict(self.choices),
            "rules": list(self.rules),
            "message": self.message,
            "used_custom_check": self.used_custom_check,
        }


@attrs.frozen
class Options:
    """The remaining options of every module under ``configuration`` (catalog order).

    An option is available exactly when some valid complete configuration extends
    ``configuration`` and chooses it. When ``configuration`` itself cannot be completed,
    ``conflict`` says why and no option is available.
    """

    configuration: Mapping[str, Choice]
    statuses: tuple[OptionStatus, ...]
    conflict: Conflict | None = None
    used_custom_check: bool = False

    @property
    def satisfiable(self) -> bool:
        return self.conflict is None

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(status.module for status in self.statuses))

    def of(self, module_id: str) -> tuple[OptionStatus, ...]:
        """Every option of a module with its status."""
        return tuple(status for status in self.statuses if status.module == module_id)

    def available(self, module_id: str) -> tuple[str, ...]:
        """The options of ``module_id`` that some valid completion chooses."""
        return tuple(status.option for status in self.of(module_id) if status.available)

    def status(self, module_id: str, option_id: str) -> OptionStatus:
        for status in self.of(module_id):
            if status.option == option_id:
                return status
        raise KeyError(f"{module_id}.{option_id}")

    def to_dict(self) -> dict:
        return {
            "configuration": dict(self.configuration),
            "satisfiable": self.satisfiable,
            "conflict": self.conflict.to_dict() if self.conflict else None,
            "used_custom_check": self.used_custom_check,
            "modules": {
                module: {
                    "available": list(self.available(module)),
                    "options": [status.to_dict() for status in self.of(module)],
                }
                for module in self.modules
            },
        }


@attrs.frozen
class Change:
    """One module changed by a repair: ``old`` or ``new`` is None when absent (a multi-select
    module's value is a tuple of option ids)."""

    module: str
    old: Choice | None
    new: Choice | None

    def __str__(self) -> str:
        old = ",".join(choice_ids(self.old)) or "(none)"
        return f"{self.module}: {old} -> {','.join(choice_ids(self.new)) or '(none)'}"

    def to_dict(self) -> dict:
        return {"module": self.module, "old": self.old, "new": self.new}


@attrs.frozen
class Repair:
    """The nearest valid complete configuration to a wish.

    ``distance`` is the (weighted) number of the wish's choices changed or dropped; ``changes``
    lists those and every module added to complete the configuration (``old`` None).
    """

    configuration: Mapping[str, Choice]
    changes: tuple[Change, ...]
    distance: int
    used_custom_check: bool = False

    def to_dict(self) -> dict:
        return {
            "configuration": dict(self.configuration),
            "changes": [change.to_dict() for change in self.changes],
            "distance": self.distance,
            "used_custom_check": self.used_custom_check,
        }
