"""Reading sofa wishes from free text: "客厅 墙宽 243cm", "bedroom, wall 2.1 m, velvet".

The special size the customer gives is the wall (or the space) the sofa must fit, so the length
is the longest value of the catalog that fits it (a sofa may be shorter than the wall, never
longer); a depth ("进深 95", "depth 95 cm") goes to the nearest value. Rooms, fabrics and legs
are read by keywords in Chinese and English. Explicit choices win over what the text says;
unknown words are ignored (the text itself is kept with the wish).
"""

from __future__ import annotations

import re

from c2m_core import hookimpl

NUMBER = r"(\d+(?:\.\d+)?)\s*(厘米|公分|cm|米|m)?(?![a-z])"
DEPTH = re.compile(r"(?:进深|座深|深|depth|deep)\s*:?\s*" + NUMBER, re.IGNORECASE)
LENGTH = re.compile(
    r"(?:墙宽|墙长|墙|宽|长|wall|length|long|space)\s*:?\s*" + NUMBER, re.IGNORECASE
)

# module -> [(option, keywords)], first match wins; keywords are lower-case.
KEYWORDS = {
    "room": [
        ("living-room", ("客厅", "living")),
        ("bedroom", ("卧室", "bedroom")),
        ("study", ("书房", "study", "office")),
    ],
    "fabric": [
        ("tech-cloth", ("科技布", "猫抓", "pet", "technical")),
        ("leather", ("真皮", "皮", "leather")),
        ("velvet", ("丝绒", "绒", "velvet")),
        ("linen", ("亚麻", "麻", "linen")),
    ],
    "legs": [
        ("plinth", ("底座", "plinth")),
        ("metal", ("金属", "metal")),
        ("oak", ("橡木", "oak")),
    ],
    "template": [
        ("chaise", ("贵妃", "转角", "chaise", "corner")),
        ("modern", ("现代", "modern")),
        ("classic", ("经典", "classic")),
    ],
}


def centimetres(amount: str, unit: str | None) -> int:
    """A measure in whole centimetres (metres are converted, no unit is centimetres; fractions
    rounded down)."""
    value = float(amount)
    return int(value * 100 if unit in ("米", "m") else value)


@hookimpl
def normalize_wish(app, category, raw, configuration):
    """Sofa choices read from ``raw``; explicit choices in ``configuration`` win."""
    if category.name != "sofa":
        return None
    catalog = category.catalog
    text = raw.lower()
    found: dict[str, str] = {}
    depth = DEPTH.search(text)
    if depth:
        text = text[: depth.start()] + text[depth.end() :]
        values = catalog.module("depth").number.values
        wanted = centimetres(*depth.groups())
        found["depth"] = str(min(values, key=lambda v: (abs(v - wanted), v)))
    length = LENGTH.search(text)
    if length:
        fits = [
            v for v in catalog.module("length").number.values if v <= centimetres(*length.groups())
        ]
        if fits:
            found["length"] = str(fits[-1])
    for module, table in KEYWORDS.items():
        for option, words in table:
            if any(word in text for word in words):
                found[module] = option
                break
    if not found:
        return None
    return {**found, **configuration}
