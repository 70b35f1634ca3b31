"""Options that attach per-unit personalisation to ``c2m wish add`` and ``c2m pledge add``.

``--personalise 2:engraving=ANN`` gives unit 2 the text ``ANN``; ``--attach 1:startup-photo=
photo.jpg`` uploads the file (checked by its content, stored by its sha256) and gives unit 1
its sha256. Both repeat, one value each.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InvalidInput
from ..personalisation.fields import MAX_IMAGE_BYTES


def personalisation_options(command):
    """Add ``--personalise`` and ``--attach`` to a click command."""
    command = click.option(
        "--attach",
        "attachments",
        multiple=True,
        metavar="UNIT:FIELD=FILE",
        help="Upload FILE for an image personalisation field of unit UNIT (1 = the first); "
        "checked by its content, stored by its sha256. Repeatable.",
    )(command)
    return click.option(
        "--personalise",
        "texts",
        multiple=True,
        metavar="UNIT:FIELD=TEXT",
        help="A text personalisation field (an engraving) of unit UNIT. Repeatable.",
    )(command)


def _split(text: str, option: str, value_name: str) -> tuple[int, str, str]:
    head, equals, value = text.partition("=")
    unit, colon, field = head.partition(":")
    if not (equals and colon and unit.strip().isdecimal() and int(unit) >= 1 and field.strip()):
        raise InvalidInput(
            f"{option}: {text!r} is not accepted; use UNIT:FIELD={value_name}, e.g. "
            f"1:engraving={'ANN' if value_name == 'TEXT' else 'photo.jpg'}",
            field=option,
            value=text,
            accepted=f"UNIT:FIELD={value_name} with UNIT 1 or more",
        )
    return int(unit), field.strip(), value


def personalisation_from(app, slug: str, texts, attachments) -> list[dict[str, str]] | None:
    """The per-unit sets the options give (files uploaded first); None when none is given."""
    units: dict[int, dict[str, str]] = {}
    for text in texts:
        unit, field, value = _split(text, "--personalise", "TEXT")
        units.setdefault(unit, {})[field] = value
    for text in attachments:
        unit, field, name = _split(text, "--attach", "FILE")
        path = Path(name).expanduser()
        try:
            with path.open("rb") as fp:
                data = fp.read(MAX_IMAGE_BYTES + 1)
        except OSError as ex:
            raise InvalidInput(
                f"--attach: cannot read {name!r} ({ex.strerror})",
                field="--attach",
                value=name,
                accepted="a readable image file",
            ) from None
        upload = app.personalisation.upload(slug, field, data)
        units.setdefault(unit, {})[field] = upload.sha256
    if not units:
        return None
    return [units.get(n, {}) for n in range(1, max(units) + 1)]
