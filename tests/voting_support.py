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


def cast_one_by_one(app, slug, rows, strict=False):
    """What an import of ``rows`` (``(line, voter, ballot, error)``, as ``read_ballots``
    gives them) must do, by the simplest means: each row checked on its own (an unreadable
    row, then its voter, then its ballot) and each good one cast with ``app.voting.cast``, in
    order; with ``strict``, nothing unless every row is good. The import report it must give.
    """
    from c2m_core import InvalidInput
    from c2m_core.voting.service import check_voter
    from c2m_core.voting.vote import ImportReport, Rejected

    vote = app.voting.get(slug)
    rows = list(rows)
    rejected, good = [], []
    for line, voter, ballot, error in rows:
        if error is not None:
            rejected.append(Rejected(line, error))
            continue
        try:
            checked = check_voter(voter)
        except InvalidInput as ex:
            rejected.append(Rejected(line, str(ex), voter if isinstance(voter, str) else None))
            continue
        try:
            app.voting.normalise(vote, ballot)
        except InvalidInput as ex:
            rejected.append(Rejected(line, str(ex), voter))
            continue
        good.append((checked, ballot))
    if strict and rejected:
        stopped = (
            f"strict import: nothing was imported because {len(rejected)} row(s) were rejected"
        )
        return ImportReport(len(rows), 0, 0, rejected, stopped)
    replaced = sum(app.voting.cast(slug, v, b).replaced is not None for v, b in good)
    return ImportReport(len(rows), len(good), replaced, rejected)
