"""Personalisation fields as a catalog declares them, and the checks of a text value.

```toml
[[personalisation]]
id = "startup-photo"
kind = "image"
title = { en = "Start-up screen photo", zh = "开机画面照片" }
media_types = ["image/png", "image/jpeg"]
max_bytes = 5_000_000
max_width = 3840
max_height = 2160

[[personalisation]]
id = "engraving"
kind = "text"
title = { en = "Engraving", zh = "刻字" }
max_length = 12
alphabet = ["latin", "digits", "space"]
characters = ".-&"
```

``read_fields`` is called by the catalog loader with its reader, so errors name the place in the
file the same way (``personalisation[1].max_length``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

import attrs

from ..errors import InvalidInput

#: Accepted image types: media type -> (Pillow format name, file extension).
IMAGE_FORMATS: dict[str, tuple[str, str]] = {
    "image/png": ("PNG", "png"),
    "image/jpeg": ("JPEG", "jpg"),
    "image/webp": ("WEBP", "webp"),
}
DEFAULT_MEDIA_TYPES = ("image/png", "image/jpeg")
#: The most a catalog may allow for one image: bytes and pixels (width x height).
MAX_IMAGE_BYTES = 50_000_000
MAX_IMAGE_PIXELS = 50_000_000
MAX_TEXT_LENGTH = 1000

#: Named character sets a text field's ``alphabet`` lists: name -> (description, ranges).
ALPHABETS: dict[str, tuple[str, tuple[tuple[int, int], ...]]] = {
    "latin": ("A-Z a-z", ((0x41, 0x5A), (0x61, 0x7A))),
    "digits": ("0-9", ((0x30, 0x39),)),
    "space": ("space", ((0x20, 0x20),)),
    "cjk": ("CJK ideographs", ((0x4E00, 0x9FFF), (0x3400, 0x4DBF))),
}
DEFAULT_ALPHABET = ("latin", "digits", "space")


@attrs.frozen
class ImageField:
    """An image the customer uploads per unit (a TV's start-up screen photo).

    Accepted when its content decodes fully as one of ``media_types`` within ``max_bytes`` and
    ``min_width``..``max_width`` x ``min_height``..``max_height`` pixels.
    """

    id: str
    title: str
    titles: Mapping[str, str] = attrs.field(factory=dict)
    description: str = ""
    required: bool = False
    media_types: tuple[str, ...] = DEFAULT_MEDIA_TYPES
    max_bytes: int = 5_000_000
    max_width: int = 4096
    max_height: int = 4096
    min_width: int = 1
    min_height: int = 1
    kind = "image"

    def title_in(self, lang: str | None) -> str:
        """The title in ``lang`` (``zh-CN`` falls back to ``zh``), else the default title."""
        return _title_in(self.title, self.titles, lang)

    @property
    def accepted(self) -> str:
        """What this field accepts, for error messages."""
        names = " or ".join(IMAGE_FORMATS[t][0] for t in self.media_types)
        return (
            f"a {names} image ({', '.join(self.media_types)}) of at most {self.max_bytes:,} "
            f"bytes and {self.min_width}-{self.max_width} x {self.min_height}-{self.max_height} "
            "pixels"
        )

    def to_dict(self) -> dict:
        """The field as catalog data (the TOML table's keys)."""
        return _common_to_dict(self) | {
            "media_types": list(self.media_types),
            "max_bytes": self.max_bytes,
            "max_width": self.max_width,
            "max_height": self.max_height,
            "min_width": self.min_width,
            "min_height": self.min_height,
        }


@attrs.frozen
class TextField:
    """A text per unit (an engraving): ``min_length``..``max_length`` characters, each from the
    named ``alphabet`` sets or from ``characters``. Text is taken in Unicode NFC form."""

    id: str
    title: str
    titles: Mapping[str, str] = attrs.field(factory=dict)
    description: str = ""
    required: bool = False
    min_length: int = 1
    max_length: int = 20
    alphabet: tuple[str, ...] = DEFAULT_ALPHABET
    characters: str = ""
    kind = "text"

    def title_in(self, lang: str | None) -> str:
        """The title in ``lang`` (``zh-CN`` falls back to ``zh``), else the default title."""
        return _title_in(self.title, self.titles, lang)

    @property
    def accepted(self) -> str:
        """What this field accepts, for error messages."""
        sets = [ALPHABETS[name][0] for name in self.alphabet]
        if self.characters:
            sets.append(f"the characters {self.characters!r}")
        return f"{self.min_length} to {self.max_length} characters from: {', '.join(sets)}"

    def allows(self, char: str) -> bool:
        """True when ``char`` is in the field's alphabet."""
        if char in self.characters:
            return True
        point = ord(char)
        return any(
            low <= point <= high for name in self.alphabet for low, high in ALPHABETS[name][1]
        )

    def check(self, value, where: str) -> str:
        """The text to store (NFC), or ``InvalidInput`` naming the field, value and alphabet."""
        if not isinstance(value, str):
            raise InvalidInput(
                f"{where}: {value!r} is not accepted; expected text, {self.accepted}",
                field=where,
                value=value if isinstance(value, int | float | bool) else repr(value)[:100],
                accepted=self.accepted,
            )
        text = unicodedata.normalize("NFC", value)
        shown = text if len(text) <= 100 else f"{text[:100]}..."
        if not self.min_length <= len(text) <= self.max_length:
            raise InvalidInput(
                f"{where}: {len(text):,} characters is not accepted; expected {self.accepted}",
                field=where,
                value=shown,
                accepted=self.accepted,
            )
        for position, char in enumerate(text, 1):
            if not self.allows(char):
                raise InvalidInput(
                    f"{where}: character {char!r} (U+{ord(char):04X}) at position {position} "
                    f"is not accepted; expected {self.accepted}",
                    field=where,
                    value=shown,
                    accepted=self.accepted,
                )
        if text.strip() != text or not text.strip():
            raise InvalidInput(
                f"{where}: {shown!r} starts or ends with a space; expected {self.accepted}, "
                "without leading or trailing spaces",
                field=where,
                value=shown,
                accepted=self.accepted,
            )
        return text

    def to_dict(self) -> dict:
        """The field as catalog data (the TOML table's keys)."""
        return _common_to_dict(self) | {
            "min_length": self.min_length,
            "max_length": self.max_length,
            "alphabet": list(self.alphabet),
            "characters": self.characters,
        }


PersonalisationField = ImageField | TextField

_COMMON = {"id": True, "kind": True, "title": True, "description": False, "required": False}
_IMAGE_KEYS = {
    **_COMMON,
    "media_types": False,
    "max_bytes": False,
    "max_width": False,
    "max_height": False,
    "min_width": False,
    "min_height": False,
}
_TEXT_KEYS = {**_COMMON, "min_length": False, "max_length": True, "alphabet": False,
              "characters": False}  # fmt: skip


def read_fields(reader, value, module_ids) -> tuple[PersonalisationField, ...]:
    """The ``personalisation`` array of a catalog, read with the catalog's reader (strict)."""
    from ..catalog import ID_PATTERN

    fields: list[PersonalisationField] = []
    seen: set[str] = set()
    for index, raw in enumerate(reader.array(value, "personalisation")):
        where = f"personalisation[{index}]"
        if not isinstance(raw, Mapping):
            reader.fail(where, "expected a table")
        kind = raw.get("kind")
        if kind not in ("image", "text"):
            reader.fail(f"{where}.kind", f"unknown kind {kind!r}; accepted kinds are image, text")
        raw = reader.table(raw, where, _IMAGE_KEYS if kind == "image" else _TEXT_KEYS)
        field_id = reader.string(raw["id"], f"{where}.id", ID_PATTERN)
        if field_id in seen:
            reader.fail(f"{where}.id", f"duplicate personalisation field id {field_id!r}")
        if field_id in module_ids:
            reader.fail(
                f"{where}.id",
                f"{field_id!r} is also a module id; personalisation ids must differ from them",
            )
        seen.add(field_id)
        title, titles = reader.title(raw["title"], f"{where}.title")
        common = {
            "id": field_id,
            "title": title,
            "titles": titles,
            "description": reader.string(raw.get("description", ""), f"{where}.description"),
            "required": reader.boolean(raw.get("required", False), f"{where}.required"),
        }
        if kind == "image":
            fields.append(_image_field(reader, raw, where, common))
        else:
            fields.append(_text_field(reader, raw, where, common))
    return tuple(fields)


def _image_field(reader, raw, where: str, common: dict) -> ImageField:
    types = reader.array(raw.get("media_types", list(DEFAULT_MEDIA_TYPES)), f"{where}.media_types",
                         non_empty=True)  # fmt: skip
    for position, media_type in enumerate(types):
        if media_type not in IMAGE_FORMATS:
            reader.fail(
                f"{where}.media_types[{position}]",
                f"{media_type!r} is not an accepted image type; accepted: "
                + ", ".join(IMAGE_FORMATS),
            )
    if len(set(types)) != len(types):
        reader.fail(f"{where}.media_types", "lists a type twice")
    numbers = {}
    for key, default in (("max_bytes", 5_000_000), ("max_width", 4096), ("max_height", 4096),
                         ("min_width", 1), ("min_height", 1)):  # fmt: skip
        numbers[key] = reader.integer(raw.get(key, default), f"{where}.{key}", minimum=1)
    if numbers["max_bytes"] > MAX_IMAGE_BYTES:
        reader.fail(f"{where}.max_bytes", f"is at most {MAX_IMAGE_BYTES:,}")
    if numbers["max_width"] * numbers["max_height"] > MAX_IMAGE_PIXELS:
        reader.fail(
            where,
            f"max_width x max_height is {numbers['max_width'] * numbers['max_height']:,} "
            f"pixels; at most {MAX_IMAGE_PIXELS:,} are accepted",
        )
    for side in ("width", "height"):
        if numbers[f"min_{side}"] > numbers[f"max_{side}"]:
            reader.fail(where, f"min_{side} is greater than max_{side}")
    return ImageField(**common, media_types=tuple(types), **numbers)


def _text_field(reader, raw, where: str, common: dict) -> TextField:
    maximum = reader.integer(raw["max_length"], f"{where}.max_length", minimum=1)
    if maximum > MAX_TEXT_LENGTH:
        reader.fail(f"{where}.max_length", f"is at most {MAX_TEXT_LENGTH}")
    minimum = reader.integer(raw.get("min_length", 1), f"{where}.min_length", minimum=1)
    if minimum > maximum:
        reader.fail(where, f"min_length ({minimum}) is greater than max_length ({maximum})")
    alphabet = reader.array(raw.get("alphabet", list(DEFAULT_ALPHABET)), f"{where}.alphabet")
    for position, name in enumerate(alphabet):
        if name not in ALPHABETS:
            reader.fail(
                f"{where}.alphabet[{position}]",
                f"unknown character set {name!r}; accepted: {', '.join(ALPHABETS)}",
            )
    characters = reader.string(raw.get("characters", ""), f"{where}.characters")
    for char in characters:
        if unicodedata.category(char)[0] in ("C", "Z") and char != " ":
            reader.fail(
                f"{where}.characters",
                f"U+{ord(char):04X} is a control, format or separator character; list "
                "printable characters only",
            )
    if not alphabet and not characters:
        reader.fail(where, "give an alphabet, characters, or both")
    return TextField(
        **common,
        min_length=minimum,
        max_length=maximum,
        alphabet=tuple(alphabet),
        characters="".join(dict.fromkeys(unicodedata.normalize("NFC", characters))),
    )


def _common_to_dict(field) -> dict:
    return {
        "id": field.id,
        "kind": field.kind,
        "title": dict(field.titles) if field.titles else field.title,
        "description": field.description,
        "required": field.required,
    }


def _title_in(title: str, titles: Mapping[str, str], lang: str | None) -> str:
    if not lang:
        return title
    if lang in titles:
        return titles[lang]
    return titles.get(lang.split("-")[0].lower(), title)
