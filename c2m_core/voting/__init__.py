"""Voting on variants: counting methods, ballots, results. The service is ``app.voting``."""

from .ballots import InvalidBallot
from .methods import (
    Approval,
    IncrementalMethod,
    JudgedBallots,
    Plurality,
    Score,
    VotingMethod,
)
from .result import TIE_RULE, VoteResult
from .schulze import Schulze, pairwise_preferences, strongest_paths

__all__ = [
    "TIE_RULE",
    "Approval",
    "IncrementalMethod",
    "InvalidBallot",
    "JudgedBallots",
    "Plurality",
    "Schulze",
    "Score",
    "VoteResult",
    "VotingMethod",
    "pairwise_preferences",
    "strongest_paths",
]
