"""c2m: a plugin-based reverse-customization (consumer-to-manufacturer) framework.

Everything a plugin meets through a hook (the arguments and what it returns) is importable from
here, so that a plugin imports only ``c2m_core``.
"""

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
from .feedback import Feedback, FeedbackRoute, FeedbackRule
from .handoff.connectors import Connector, DeliveryFailed, Package
from .handoff.documents import Document
from .handoff.outbox import Delivery
from .handoff.plan import DemandLine, ProductionOrder
from .handoff.records import Handoff
from .hookspecs import hookimpl
from .money import Money
from .plugins import PluginMeta
from .presale import (
    CancellationRefused,
    IdempotencyConflict,
    Offer,
    Payment,
    Pledge,
    Presale,
    PresaleClosed,
    Refund,
    SoldOut,
    UnknownPledge,
)
from .rewards.records import Reward
from .server.routes import PluginRequest, Route
from .store import Event, StoreError
from .validation import Violation
from .variants import InvalidVariant, Variant
from .version import __version__
from .voting import InvalidBallot, VoteResult, VotingMethod
from .voting.service import NoVote, VoteNotOpen
from .voting.vote import CastBallot, Vote
from .wishes import Wish

__all__ = [
    "C2M",
    "C2MError",
    "Campaign",
    "CancellationRefused",
    "CastBallot",
    "Catalog",
    "CatalogError",
    "Category",
    "Conflict",
    "Connector",
    "Delivery",
    "DeliveryFailed",
    "DemandLine",
    "Document",
    "Event",
    "Excludes",
    "Feedback",
    "FeedbackRoute",
    "FeedbackRule",
    "Handoff",
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
    "Offer",
    "Option",
    "Package",
    "Part",
    "Payment",
    "Pledge",
    "PluginError",
    "PluginMeta",
    "PluginRequest",
    "Presale",
    "PresaleClosed",
    "ProductionOrder",
    "Ref",
    "Refund",
    "Requires",
    "Reward",
    "Route",
    "SoldOut",
    "StoreError",
    "UnknownCampaign",
    "UnknownCategory",
    "UnknownPledge",
    "Variant",
    "Violation",
    "Vote",
    "VoteNotOpen",
    "VoteResult",
    "VotingMethod",
    "Wish",
    "__version__",
    "hookimpl",
    "load_catalog",
]
