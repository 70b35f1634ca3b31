"""Reading TV choices from free text: "65寸 OLED", "65 inch oled", "75\" mini-led wall mount".

Sizes are matched to the nearest panel of that technology (LCD unless OLED is named) within
three inches; other modules by keywords in English and Chinese. Explicit choices win over what
the text says. Unknown words are ignored: the text itself is kept with the wish.
"""

from __future__ import annotations

import re

from c2m_core import hookimpl

SIZE = re.compile(r"(\d{2,3}(?:\.\d)?)\s*(?:寸|英寸|吋|inches|inch|in\b|\"|''|”|″)", re.IGNORECASE)
SIZE_TOLERANCE = 3

# module -> [(option, keywords)], first match wins; keywords are lower-case.
KEYWORDS = {
    "backlight": [
        ("mini-led", ("mini-led", "mini led", "miniled", "迷你led")),
        ("local-dimming", ("local dimming", "local-dimming", "fald", "分区")),
        ("direct-led", ("direct led", "direct-led", "直下")),
    ],
    "appearance": [
        ("titanium-gold", ("gold", "金")),
        ("walnut", ("walnut", "wood", "胡桃", "木")),
        ("slim-black", ("black", "slim", "黑")),
        ("silver", ("silver", "银")),
        ("graphite", ("graphite", "grey", "gray", "灰")),
    ],
    "functions": [
        ("flagship", ("flagship", "旗舰")),
        ("gaming", ("gaming", "game", "120hz", "120 hz", "游戏")),
        ("cinema", ("cinema", "dolby", "atmos", "影院", "杜比")),
        ("family", ("family", "camera", "家庭", "摄像")),
        ("voice", ("voice", "语音")),
        ("essential", ("essential", "basic", "基础")),
    ],
    "base": [
        ("wall-mount", ("wall", "壁挂")),
        ("floor-stand", ("floor", "落地")),
        ("swivel", ("swivel", "rotat", "旋转")),
        ("feet", ("feet", "legs", "脚")),
        ("centre-stand", ("centre stand", "center stand", "pedestal", "底座")),
    ],
}


def read_choices(catalog, text: str) -> dict[str, str]:
    """The choices ``text`` names, as module id -> option id (only options of ``catalog``)."""
    lowered = text.lower()
    found: dict[str, str] = {}
    oled = "oled" in lowered
    match = SIZE.search(text)
    size_module = catalog.module("size")
    if size_module is not None:
        panels = [o for o in size_module.options if (o.attributes.get("panel") == "oled") == oled]
        if match is not None and panels:
            inches = float(match.group(1))
            best = min(panels, key=lambda o: (abs(o.attributes["inches"] - inches), o.id))
            if abs(best.attributes["inches"] - inches) <= SIZE_TOLERANCE:
                found["size"] = best.id
    for module_id, options in KEYWORDS.items():
        module = catalog.module(module_id)
        if module is None:
            continue
        for option_id, words in options:
            if module.option(option_id) is not None and any(w in lowered for w in words):
                found[module_id] = option_id
                break
    return found


@hookimpl
def normalize_wish(category, raw, configuration):
    """Free text to TV choices; the explicit ``configuration`` wins where both speak."""
    if category.name != "tv" or not isinstance(raw, str):
        return None
    found = read_choices(category.catalog, raw)
    if not found:
        return None
    return found | dict(configuration)
