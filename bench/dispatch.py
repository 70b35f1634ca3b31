"""Hook dispatch overhead: a hook call with one implementation against a direct call."""

from __future__ import annotations

from c2m_core import C2M, Violation, hookimpl

from .common import Row, fmt_seconds, median_seconds

CONFIGURATION = {"size": "65-4k", "backlight": "mini-led", "base": "feet"}


def custom_rule(configuration):
    if configuration.get("base") == "swivel":
        return [Violation("x", "no swivel", ("base.swivel",))]
    return []


class Plugin:
    @hookimpl
    def validate_configuration(self, configuration):
        return custom_rule(configuration)


def run(quick: bool = False) -> list[Row]:
    app = C2M(":memory:", plugins=[Plugin()], load_entry_points=False)
    category = object()
    hook = app.pm.hook.validate_configuration
    number = 20_000 if quick else 200_000

    def via_hook():
        hook(app=app, category=category, configuration=CONFIGURATION, complete=True)

    def direct():
        custom_rule(CONFIGURATION)

    hooked = median_seconds(via_hook, repeat=5, number=number)
    floor = median_seconds(direct, repeat=5, number=number)
    return [
        Row(
            "hook call, one implementation",
            "1 call",
            fmt_seconds(hooked),
            fmt_seconds(floor),
            floor / hooked,
        )
    ]


if __name__ == "__main__":
    from .__main__ import print_rows

    print_rows(run())
