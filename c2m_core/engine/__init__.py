"""The configuration engine: remaining options, exact counts, minimal conflicts, repairs.

``Engine(catalog, custom=None)`` compiles a catalog on first use; ``C2M.engine(category)`` gives
the engine of a registered category with the plugins' custom rules wired in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .counting import BudgetExceeded, OutOfTime, TooManyStates
from .custom import applies_to
from .results import Change, Conflict, Options, OptionStatus, Reason, Repair

if TYPE_CHECKING:
    from .engine import Engine


def __getattr__(name: str) -> Any:
    """``Engine`` loads on first use, so a plugin importing ``applies_to`` loads no solver."""
    if name == "Engine":
        from .engine import Engine

        return Engine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BudgetExceeded",
    "Change",
    "Conflict",
    "Engine",
    "OptionStatus",
    "Options",
    "OutOfTime",
    "Reason",
    "Repair",
    "TooManyStates",
    "applies_to",
]
