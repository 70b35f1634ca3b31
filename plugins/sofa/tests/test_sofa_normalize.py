"""Sofa wishes from free text: the wall the sofa must fit becomes the longest length that fits."""

import c2m_sofa
import pytest

from c2m_core import C2M


@pytest.fixture
def app():
    app = C2M(db_path=":memory:", plugins=[c2m_sofa], load_entry_points=False)
    app.campaigns.create("sofas", "sofa")
    app.campaigns.advance("sofas")
    return app


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "客厅 墙宽 243cm 科技布",
            {"length": "240", "room": "living-room", "fabric": "tech-cloth"},
        ),
        (
            "bedroom, wall 2.1 m, velvet, depth 93 cm",
            {"length": "210", "depth": "95", "room": "bedroom", "fabric": "velvet"},
        ),
        ("墙宽243，进深95，真皮", {"length": "240", "depth": "95", "fabric": "leather"}),
        ("wall 243 metal legs", {"length": "240", "legs": "metal"}),
        ("study, wall 350 cm", {"length": "320", "room": "study"}),
    ],
)
def test_text_becomes_choices(app, raw, expected):
    wish = app.wishes.submit("sofas", "u1", raw=raw)
    assert dict(wish.configuration) == expected
    assert wish.raw == raw


def test_explicit_choices_win_and_a_wall_too_short_gives_no_length(app):
    wish = app.wishes.submit("sofas", "u1", {"length": "200"}, raw="客厅 墙宽 243cm")
    assert dict(wish.configuration) == {"length": "200", "room": "living-room"}
    wish = app.wishes.submit("sofas", "u2", raw="living room, wall 150 cm")
    assert dict(wish.configuration) == {"room": "living-room"}
