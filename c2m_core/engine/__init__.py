"""The configuration engine: remaining options, exact counts, minimal conflicts, repairs.

``Engine(catalog, custom=None)`` compiles a catalog on first use; ``C2M.engine(category)`` gives
the engine of a registered category with the plugins' custom rules wired in.
"""

from .counting import BudgetExceeded, OutOfTime, TooManyStates
from .custom import applies_to
from .engine import Engine
from .results import Change, Conflict, Options, OptionStatus, Reason, Repair

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
