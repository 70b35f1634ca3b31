"""Bad input raises ``InvalidInput`` whose structured fields name the field, the value given and
what is accepted, besides the message; a web layer or a shop can show them without parsing text."""

import pytest
from voting_support import voting_campaign

from c2m_core import C2M, InvalidInput
from c2m_core.handoff.plan import DemandLine
from c2m_core.presale.pricing import CancellationRule, DepositRule
from c2m_core.validation import parse_configuration
from c2m_core.voting.files import detect_format

TV = {
    "size": "43-4k",
    "backlight": "direct-led",
    "appearance": "graphite",
    "functions": "essential",
    "base": "feet",
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with C2M(tmp_path_factory.mktemp("errors") / "c2m.db") as app:
        app.campaigns.create("wishes", "tv")
        app.campaigns.advance("wishes")
        voting_campaign(app, "vote")
        app.voting.open("vote", "plurality")
        app.campaigns.create("sale", "tv", stages=["presale"])
        app.variants.add("sale", TV)
        app.campaigns.advance("sale")
        yield app


# (what is done, field, value, a part of what is accepted)
CASES = {
    "unknown stage": (
        lambda app: app.campaigns.create("x", "tv", stages=["wishes", "party"]),
        "stages",
        "party",
        "wishes, vote, presale, handoff",
    ),
    "repeated stage": (
        lambda app: app.campaigns.create("x", "tv", stages=["vote", "vote"]),
        "stages",
        ["vote", "vote"],
        "at most once",
    ),
    "unknown setting": (
        lambda app: app.campaigns.create("x", "tv", settings={"colour": 1}),
        "settings",
        "colour",
        "max_variants",
    ),
    "setting too small": (
        lambda app: app.campaigns.create("x", "tv", settings={"moq": 0}),
        "moq",
        0,
        "an integer from 1 to",
    ),
    "setting not an integer": (
        lambda app: app.campaigns.create("x", "tv", settings={"max_variants": "3"}),
        "max_variants",
        "3",
        "an integer",
    ),
    "warehouse code": (
        lambda app: app.campaigns.create("x", "tv", settings={"warehouses": {"eu": "no way"}}),
        "warehouses",
        {"eu": "no way"},
        "codes of up to 32",
    ),
    "configuration pair": (
        lambda app: parse_configuration(["size"]),
        "configuration",
        "size",
        "MODULE=OPTION",
    ),
    "configuration repeated": (
        lambda app: parse_configuration(["size=43-4k", "size=55-4k"]),
        "size",
        ["43-4k", "55-4k"],
        "one option per module",
    ),
    "blank customer": (
        lambda app: app.wishes.submit("wishes", "  ", TV),
        "customer",
        "  ",
        "non-blank text",
    ),
    "quantity zero": (
        lambda app: app.wishes.submit("wishes", "ann", TV, quantity=0),
        "quantity",
        0,
        "a whole number from 1",
    ),
    "note too long": (
        lambda app: app.wishes.submit("wishes", "ann", TV, note="x" * 20_000),
        "note",
        "x" * 100 + "...",
        "up to 10,000 characters",
    ),
    "not a candidate": (
        lambda app: app.voting.cast("vote", "ann", {"choice": 999}),
        "choice",
        999,
        "a candidate variant id",
    ),
    "not a variant id": (
        lambda app: app.voting.cast("vote", "ann", {"choice": "first"}),
        "choice",
        "first",
        "a candidate variant id",
    ),
    "ballot file format": (
        lambda app: detect_format("ballots.csv", "xml"),
        "format",
        "xml",
        "csv, jsonl",
    ),
    "deposit text": (
        lambda app: app.presale.open("sale", "7d", deposit="ten"),
        "deposit",
        "ten",
        "major units",
    ),
    "deposit percentage": (
        lambda app: DepositRule.parse("150%", "CNY"),
        "deposit",
        "150%",
        "up to 100%",
    ),
    "cancellation fee": (
        lambda app: CancellationRule.parse("lots", "CNY"),
        "cancellation",
        "lots",
        "'refuse'",
    ),
    "demand adds up": (
        lambda app: DemandLine(app.variants.list("sale")[0], 5, {"eu": 2}),
        "demand.by_region",
        {"eu": 2},
        "adding up to the quantity, 5",
    ),
    "demand quantity": (
        lambda app: DemandLine(app.variants.list("sale")[0], 0, {"eu": 0}),
        "demand.quantity",
        0,
        "at least 1",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_invalid_input_names_the_field_the_value_and_what_is_accepted(app, case):
    action, field, value, accepted = CASES[case]
    with pytest.raises(InvalidInput) as info:
        action(app)
    error = info.value
    assert (error.field, error.value) == (field, value)
    assert accepted in error.accepted
    assert error.to_dict()["field"] == field and error.to_dict()["accepted"] == error.accepted
    assert str(error)  # the message stays, for people
