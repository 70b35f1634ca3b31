"""c2m: a plugin-based reverse-customization (consumer-to-manufacturer) framework."""

from .app import C2M
from .campaigns import Campaign, IllegalTransition, UnknownCampaign
from .catalog import Catalog, Excludes, Limit, Module, Option, Part, Ref, Requires, load_catalog
from .category import Category
from .errors import (
    C2MError,
    CatalogError,
    Conflict,
    InvalidInput,
    NotAllowed,
    NotFound,
    PluginError,
    UnknownCategory,
)
from .hookspecs import hookimpl
from .money import Money
from .plugins import PluginMeta
from .presale import (
    CancellationRefused,
    IdempotencyConflict,
    Pledge,
    PresaleClosed,
    SoldOut,
    UnknownPledge,
)
from .store import Event, StoreError
from .validation import Violation
from .variants import InvalidVariant, Variant
from .version import __version__
from .voting import InvalidBallot
from .voting.service import NoVote, VoteNotOpen
from .voting.vote import CastBallot
from .wishes import Wish

__all__ = [
    "C2M",
    "C2MError",
    "Campaign",
    "CancellationRefused",
    "CastBallot",
    "Catalog",
    "CatalogError",
    "Conflict",
    "Category",
    "Event",
    "Excludes",
    "IdempotencyConflict",
    "IllegalTransition",
    "InvalidBallot",
    "InvalidInput",
    "InvalidVariant",
    "Limit",
    "Module",
    "Money",
    "NoVote",
    "NotAllowed",
    "NotFound",
    "Option",
    "Part",
    "Pledge",
    "PluginError",
    "PluginMeta",
    "PresaleClosed",
    "Ref",
    "Requires",
    "SoldOut",
    "StoreError",
    "UnknownCampaign",
    "UnknownCategory",
    "UnknownPledge",
    "Variant",
    "Violation",
    "VoteNotOpen",
    "Wish",
    "__version__",
    "hookimpl",
    "load_catalog",
]
