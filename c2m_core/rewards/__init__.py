"""Designer rewards, share codes and referrals: ``records`` and ``service`` (``app.rewards``)."""

from .records import (
    AlreadyAttributed,
    Attribution,
    FunnelRow,
    PayoutReport,
    ReferralLimit,
    Reward,
    RewardRule,
    RulesFrozen,
    SelfReferral,
    ShareCode,
    ShowcaseEntry,
    largest_remainder,
)
from .service import RewardService, covers

__all__ = [
    "AlreadyAttributed",
    "Attribution",
    "FunnelRow",
    "PayoutReport",
    "ReferralLimit",
    "Reward",
    "RewardRule",
    "RewardService",
    "RulesFrozen",
    "SelfReferral",
    "ShareCode",
    "ShowcaseEntry",
    "covers",
    "largest_remainder",
]
