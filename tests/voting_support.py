"""Shared set-up for the voting tests: TV campaigns with valid variants, a settable clock."""

import datetime

from c2m_core.validation import parse_configuration

VALID_TVS = [
    "size=55-4k backlight=direct-led appearance=graphite functions=essential base=feet",
    "size=65-4k backlight=mini-led appearance=silver functions=gaming base=centre-stand",
    "size=55-oled appearance=slim-black functions=cinema base=swivel",
    "size=43-4k backlight=direct-led appearance=walnut functions=voice base=feet",
    "size=50-4k backlight=direct-led appearance=silver functions=family base=centre-stand",
    "size=75-4k backlight=local-dimming appearance=graphite functions=cinema base=wall-mount",
    "size=65-oled appearance=titanium-gold functions=flagship base=floor-stand",
    "size=43-4k backlight=direct-led appearance=slim-black functions=essential base=wall-mount",
]

START = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.UTC)


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += datetime.timedelta(**delta)


def voting_campaign(app, slug="tv26", variants=3, stages=("vote", "presale")) -> list[int]:
    """Create campaign ``slug`` with ``variants`` valid TVs and move it to its vote state."""
    app.campaigns.create(slug, "tv", stages=stages)
    ids = [
        app.variants.add(slug, parse_configuration(VALID_TVS[i].split())).id
        for i in range(variants)
    ]
    app.campaigns.advance(slug, to="vote")
    return ids
