"""The pre-sale's own rules as a default plugin: a campaign can't leave an open pre-sale."""

from c2m_core.hookspecs import hookimpl


@hookimpl
def validate_campaign_advance(app, campaign):
    if campaign.state != "presale":
        return []
    return app.presale.advance_problems(campaign)
