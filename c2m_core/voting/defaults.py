"""Default voting: the four counting methods, and keeping a campaign in ``vote`` while it is open.

A plugin replaces a method by registering one with the same name.
"""

from c2m_core.hookspecs import hookimpl
from c2m_core.voting import Approval, Plurality, Schulze, Score
from c2m_core.voting.vote import OPEN


@hookimpl
def register_voting_methods():
    return [Plurality(), Approval(), Score(), Schulze()]


@hookimpl
def validate_campaign_advance(app, campaign):
    if campaign.state != "vote":
        return []
    vote = app.store.voting.for_campaign(campaign.id)
    if vote is not None and vote.state == OPEN:
        return [f"the vote is still open; run `c2m vote close {campaign.slug}`"]
    return []
