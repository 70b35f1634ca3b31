"""The TV spec sheet: what a line engineer checks before releasing a build."""

import datetime

import pytest

from c2m_core import C2M
from c2m_core.handoff.plan import DemandLine

T0 = datetime.datetime(2026, 11, 2, 9, 30, tzinfo=datetime.UTC)
VARIANTS = {
    "cinema": {
        "size": "55-4k",
        "backlight": "local-dimming",
        "appearance": "graphite",
        "functions": "cinema",
        "base": "centre-stand",
    },
    "oled": {"size": "65-oled", "appearance": "walnut", "functions": "flagship", "base": "feet"},
    "big": {
        "size": "85-4k",
        "backlight": "mini-led",
        "appearance": "silver",
        "functions": "gaming",
        "base": "floor-stand",
    },
}


@pytest.fixture(scope="module")
def sheets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tv")
    app = C2M(db_path=folder / "c2m.db", clock=lambda: T0)
    app.campaigns.create("leader", "tv", title="Leader autumn", stages=["handoff"])
    app.campaigns.configure("leader", spare_percent=3, warehouses={"default": "WH-QD"})
    lines = [
        DemandLine(app.variants.add("leader", configuration), 200, {"default": 200})
        for configuration in VARIANTS.values()
    ]
    app.handoff.run("leader", [f"dir:{folder / 'out'}"], demand=lines)
    return {
        name: (folder / "out" / f"HO-leader-V{number}.spec.html").read_text()
        for number, name in enumerate(VARIANTS, start=1)
    }


def test_power_budget_adds_up_against_the_supply_limit(sheets):
    cinema = sheets["cinema"]
    assert "110 W" in cinema and "15 W" in cinema and "20 W" in cinema
    assert "145 W" in cinema and "450 W" in cinema and "305 W" in cinema
    big = sheets["big"]  # 290 W panel + 35 W mini-LED + 25 W gaming
    assert "350 W" in big and ">100 W<" in big


def test_bill_of_materials_lists_part_numbers_totals_and_lead_times(sheets):
    cinema = sheets["cinema"]
    assert "Bill of materials (for 206 units)" in cinema  # 200 + 3% spare
    assert '<td class="code">LDR-PNL-55U</td><td class="code">size.55-4k</td>' in cinema
    assert '<td class="n">1</td><td class="n">206</td><td class="n">10 d</td>' in cinema
    oled = sheets["oled"]
    assert '<td class="code">BS-FT-01</td><td class="code">base.feet</td>' in oled
    assert '<td class="n">2</td><td class="n">412</td><td class="n">3 d</td>' in oled  # 2 feet


def test_key_characteristics_and_checks(sheets):
    assert "55&Prime; LCD, 3840x2160" in sheets["cinema"]
    assert "240 dimming zones" in sheets["cinema"]
    assert "none: self-emissive panel" in sheets["oled"] and "144 Hz" in sheets["oled"]
    assert "27 kg" in sheets["oled"] and "margin 23 kg" in sheets["oled"]  # 24 + 3 on 50 kg feet
    assert "1152 dimming zones" in sheets["big"] and "120 Hz" in sheets["big"]


def test_quantities_destinations_and_due_dates(sheets):
    big = sheets["big"]
    assert "<b>206</b>" in big and "WH-QD" in big
    assert "2026-11-22" in big  # 85" panel: 18 days, then 2 days of assembly
    assert "2026-11-14" in sheets["cinema"]  # 10 + 2
    assert "Released (plant manager)" in big
