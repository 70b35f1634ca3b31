"""Removing what an uploaded image says about the person who took it.

A photo carries more than its pixels: EXIF (the camera, the time and often the GPS position where
it was taken), XMP and IPTC (names, places, keywords), comments and embedded thumbnails or
secondary images. None of it is needed to print or engrave the image, and none of it should reach
the files folder, the factory or a webhook. ``strip_metadata`` removes it without decoding the
image: the compressed pixel data is copied byte for byte, so nothing is lost to re-encoding. What
is needed to show the image as the consumer saw it stays: the colour information (ICC profile,
gamma, transparency) and the EXIF orientation, rewritten as the only EXIF entry.

Only the chunks and segments known to be needed are kept; anything else (private or unknown
chunks, data after the end of the image) is dropped, since it could carry anything.
"""

from __future__ import annotations

import io
import re
import struct
import zlib

ORIENTATION = 0x0112

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: PNG chunks kept: the image itself and how to show its colours.
_PNG_KEPT = frozenset(
    b"IHDR PLTE IDAT IEND tRNS cHRM gAMA iCCP sBIT sRGB cICP mDCv cLLi bKGD pHYs".split()
)

_JPEG_SOS = 0xDA
_JPEG_EOI = 0xD9
#: In entropy-coded data, 0xFF is followed by 0x00 (a stuffed byte) or a restart marker; any
#: other byte after it starts the next marker.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")

_WEBP_KEPT = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ICCP", b"ANIM", b"ANMF"})
_WEBP_EXIF_FLAG = 0x08
_WEBP_XMP_FLAG = 0x04


class DamagedImage(ValueError):
    """The image's structure is not what its format says, so its metadata cannot be found."""


def strip_metadata(data: bytes, media_type: str) -> bytes:
    """``data`` (a PNG, JPEG or WebP image) without its metadata, pixels untouched.

    Returns ``data`` itself when there was nothing to remove, so stripping twice changes
    nothing. Raises ``DamagedImage`` when the file's structure cannot be followed.
    """
    orientation = _orientation(data)
    try:
        if media_type == "image/png":
            return _png(data, orientation)
        if media_type == "image/jpeg":
            return _jpeg(data, orientation)
        if media_type == "image/webp":
            return _webp(data, orientation)
    except (IndexError, struct.error) as ex:
        raise DamagedImage(f"the {media_type} structure ends early ({ex})") from None
    raise ValueError(f"no metadata stripping for {media_type}")


def _orientation(data: bytes) -> int:
    """The EXIF orientation (1 to 8) the image is shown with; 1 when it has none."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            value = image.getexif().get(ORIENTATION, 1)
    except Exception as ex:  # Pillow raises many kinds for damaged files
        raise DamagedImage(f"the image cannot be read ({ex})") from None
    return value if isinstance(value, int) and 2 <= value <= 8 else 1


def _exif(orientation: int) -> bytes:
    """A TIFF-structured EXIF block holding only ``orientation`` (without the ``Exif`` prefix)."""
    from PIL import Image

    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return exif.tobytes()[len(b"Exif\x00\x00") :]


def _same_or(data: bytes, parts: list[bytes]) -> bytes:
    out = b"".join(parts)
    return data if out == data else out


def _png(data: bytes, orientation: int) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise DamagedImage("no PNG signature")
    parts = [_PNG_SIGNATURE]
    position = len(_PNG_SIGNATURE)
    while True:
        (length,) = struct.unpack_from(">I", data, position)
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            raise DamagedImage(f"the {kind!r} chunk runs past the end of the file")
        if kind == b"IDAT" and orientation != 1:
            parts.append(_png_chunk(b"eXIf", _exif(orientation)))  # before the pixels
            orientation = 1
        if kind in _PNG_KEPT:
            parts.append(data[position:end])
        position = end
        if kind == b"IEND":
            return _same_or(data, parts)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _jpeg_keeps(marker: int, segment: bytes) -> bool:
    """Frame, table and scan segments, and of the application segments JFIF, the ICC profile
    and Adobe's colour transform; not EXIF, XMP, IPTC, thumbnails, comments or reserved ones."""
    if 0xC0 <= marker <= 0xDF:
        return True
    body = segment[4:]
    return (
        (marker == 0xE0 and body.startswith(b"JFIF\x00"))
        or (marker == 0xE2 and body.startswith(b"ICC_PROFILE\x00"))
        or (marker == 0xEE and body.startswith(b"Adobe"))
    )


def _jpeg(data: bytes, orientation: int) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise DamagedImage("no JPEG start-of-image marker")
    parts = [data[:2]]
    position = 2
    exif_at = None
    while True:
        if data[position] != 0xFF:
            raise DamagedImage(f"no JPEG marker at byte {position}")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == _JPEG_EOI:
            parts.append(data[position : position + 2])
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            parts.append(data[position : position + 2])
            position = _jpeg_scan(data, position + 2, parts)
            continue
        (length,) = struct.unpack_from(">H", data, position + 2)
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise DamagedImage(f"a JPEG segment at byte {position} runs past the end of the file")
        segment = data[position:end]
        if exif_at is None and not (marker == 0xE0 and segment[4:].startswith(b"JFIF\x00")):
            exif_at = len(parts)  # after SOI and JFIF, where EXIF belongs
        if _jpeg_keeps(marker, segment):
            parts.append(segment)
        position = end
        if marker == _JPEG_SOS:
            position = _jpeg_scan(data, position, parts)
    if orientation != 1:
        body = b"Exif\x00\x00" + _exif(orientation)
        parts.insert(exif_at or 1, b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body)
    return _same_or(data, parts)


def _jpeg_scan(data: bytes, position: int, parts: list[bytes]) -> int:
    """Copy the entropy-coded data from ``position`` up to the next marker; return where it is."""
    found = _JPEG_MARKER.search(data, position)
    if found is None:
        raise DamagedImage("the JPEG's scan data has no end-of-image marker")
    parts.append(data[position : found.start()])
    return found.start()


def _webp(data: bytes, orientation: int) -> bytes:
    if not (data.startswith(b"RIFF") and data[8:12] == b"WEBP"):
        raise DamagedImage("no RIFF WEBP header")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    chunks = []
    position = 12
    while position < min(len(data), 8 + riff_size):
        kind = data[position : position + 4]
        (size,) = struct.unpack_from("<I", data, position + 4)
        end = position + 8 + size + (size & 1)
        if end > len(data):
            raise DamagedImage(f"the {kind!r} chunk runs past the end of the file")
        if kind in _WEBP_KEPT:
            chunks.append(data[position:end])
        position = end
    if chunks and chunks[0][:4] == b"VP8X":
        header = bytearray(chunks[0])
        header[8] &= ~(_WEBP_EXIF_FLAG | _WEBP_XMP_FLAG) & 0xFF
        if orientation != 1:
            header[8] |= _WEBP_EXIF_FLAG
            body = _exif(orientation)
            chunks.append(b"EXIF" + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) & 1))
        chunks[0] = bytes(header)
    body = b"WEBP" + b"".join(chunks)
    return _same_or(data, [b"RIFF", struct.pack("<I", len(body)), body])
