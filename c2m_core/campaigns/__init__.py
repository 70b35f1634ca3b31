"""Campaigns: one category, the stages it uses, its settings and its explicit state machine.

``records`` (``Campaign``, the stages and settings) and ``service`` (``app.campaigns``).
"""

from .records import (
    CLOSED,
    CODE_PATTERN,
    DRAFT,
    SETTINGS,
    STAGES,
    Campaign,
    IllegalTransition,
    UnknownCampaign,
    check_settings,
    check_stages,
)
from .service import CampaignService

__all__ = [
    "CLOSED",
    "CODE_PATTERN",
    "Campaign",
    "CampaignService",
    "DRAFT",
    "IllegalTransition",
    "SETTINGS",
    "STAGES",
    "UnknownCampaign",
    "check_settings",
    "check_stages",
]
