"""The TV plugin reads choices from free text."""

import pytest
from c2m_tv.normalize import read_choices

from c2m_core import C2M


@pytest.fixture(scope="module")
def catalog():
    return C2M(db_path=":memory:").category("tv").catalog


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("65寸 OLED", {"size": "65-oled"}),
        ("65 inch oled", {"size": "65-oled"}),
        ("65 inch", {"size": "65-4k"}),
        (
            '75" mini-led, wall mount',
            {"size": "75-4k", "backlight": "mini-led", "base": "wall-mount"},
        ),
        (
            "55英寸 游戏 金色 壁挂",
            {
                "size": "55-4k",
                "appearance": "titanium-gold",
                "functions": "gaming",
                "base": "wall-mount",
            },
        ),
        ("42寸", {"size": "43-4k"}),
        ("30 inch", {}),
        (
            "77 inch OLED with Dolby Atmos on a floor stand",
            {"size": "77-oled", "functions": "cinema", "base": "floor-stand"},
        ),
        ("a big tv please", {}),
    ],
)
def test_read_choices(catalog, text, choices):
    assert read_choices(catalog, text) == choices
    for module, option in choices.items():
        assert catalog.option(module, option) is not None
