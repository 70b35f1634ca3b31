"""The configuration engine: remaining options, exact counts, minimal conflicts, repairs.

``Engine(catalog, custom=None)`` compiles a catalog on first use; ``C2M.engine(category)`` gives
the engine of a registered category with the plugins' custom rules wired in.
"""

from .counting import TooManyStates
from .engine import Engine
from .results import Change, Conflict, Options, OptionStatus, Reason, Repair

__all__ = [
    "Change",
    "Conflict",
    "Engine",
    "OptionStatus",
    "Options",
    "Reason",
    "Repair",
    "TooManyStates",
]
