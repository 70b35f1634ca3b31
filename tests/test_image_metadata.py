"""An uploaded photo keeps its pixels, colours and orientation and loses everything else it says
about the person who took it (GPS position, camera, XMP, comments, data after the image)."""

from __future__ import annotations

import functools
import hashlib
import io
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from personalisation_support import PlatePlugin
from PIL import Image, ImageCms, ImageOps, PngImagePlugin

from c2m_core import C2M, InvalidInput
from c2m_core.personalisation.metadata import DamagedImage, strip_metadata

PHOTO = "startup-photo"
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
SECRETS = (b"PhoneMaker", b"XMPSECRET", b"COMMENTSECRET", b"TEXTSECRET", b"TRAILINGSECRET")
GPS_IFD = 0x8825


@functools.cache
def srgb() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def photo(
    media_type: str,
    *,
    orientation: int = 1,
    metadata: frozenset = frozenset(),
    icc: bool = False,
    size: tuple[int, int] = (64, 48),
    trailing: bool = False,
) -> bytes:
    """A noisy image encoded by Pillow, with the metadata asked for."""
    image = Image.effect_noise(size, 60).convert("RGB")
    options: dict = {}
    exif = Image.Exif()
    if orientation != 1:
        exif[0x0112] = orientation
    if "exif" in metadata:
        exif[0x010F] = "PhoneMaker"
        exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 1.0)}
    if len(exif):
        options["exif"] = exif
    if icc:
        options["icc_profile"] = srgb()
    if "xmp" in metadata and media_type != "image/png":
        options["xmp"] = b"<x:xmpmeta><gps>XMPSECRET</gps></x:xmpmeta>"
    if "comment" in metadata and media_type == "image/jpeg":
        options["comment"] = b"COMMENTSECRET"
    if "text" in metadata and media_type == "image/png":
        info = PngImagePlugin.PngInfo()
        info.add_text("Location", "TEXTSECRET")
        info.add_itxt("Author", "TEXTSECRET", zip=True)
        options["pnginfo"] = info
    if media_type == "image/webp":
        options["lossless"] = True
    out = io.BytesIO()
    image.save(out, format=FORMATS[media_type], **options)
    return out.getvalue() + (b"TRAILINGSECRET" if trailing else b"")


def decoded(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.copy()


def shown(data: bytes) -> bytes:
    """The pixels as a viewer shows them: decoded, then turned by the EXIF orientation."""
    with Image.open(io.BytesIO(data)) as image:
        return ImageOps.exif_transpose(image).tobytes()


def assert_stripped(original: bytes, stripped: bytes, orientation: int, icc: bool) -> None:
    assert decoded(stripped).tobytes() == decoded(original).tobytes()
    assert shown(stripped) == shown(original)
    for secret in SECRETS:
        assert secret not in stripped
    with Image.open(io.BytesIO(stripped)) as image:
        exif = image.getexif()
        assert dict(exif) == ({0x0112: orientation} if orientation != 1 else {})
        assert not exif.get_ifd(GPS_IFD)
        assert not {"xmp", "XML:com.adobe.xmp", "comment", "Location", "Author"} & set(image.info)
        assert image.info.get("icc_profile") == (srgb() if icc else None)


@pytest.mark.parametrize("media_type", FORMATS)
def test_gps_camera_xmp_and_comments_go_and_pixels_colours_and_orientation_stay(media_type):
    everything = frozenset({"exif", "xmp", "comment", "text"})
    original = photo(media_type, orientation=6, metadata=everything, icc=True)
    with Image.open(io.BytesIO(original)) as image:
        assert image.getexif().get_ifd(GPS_IFD)  # the fixture really carries a position
    stripped = strip_metadata(original, media_type)
    assert len(stripped) < len(original)
    assert_stripped(original, stripped, orientation=6, icc=True)


@settings(max_examples=60, deadline=None)
@given(
    media_type=st.sampled_from(sorted(FORMATS)),
    orientation=st.integers(1, 8),
    metadata=st.frozensets(st.sampled_from(["exif", "xmp", "comment", "text"])),
    icc=st.booleans(),
    size=st.tuples(st.integers(1, 80), st.integers(1, 80)),
    trailing=st.booleans(),
)
def test_stripping_keeps_what_is_shown_and_nothing_else(
    media_type, orientation, metadata, icc, size, trailing
):
    original = photo(
        media_type,
        orientation=orientation,
        metadata=metadata,
        icc=icc,
        size=size,
        trailing=trailing and media_type != "image/webp",  # a RIFF file says its own length
    )
    stripped = strip_metadata(original, media_type)
    assert_stripped(original, stripped, orientation, icc)
    assert strip_metadata(stripped, media_type) == stripped  # a second pass finds nothing
    if not (metadata or trailing or orientation != 1):
        assert stripped == original  # nothing to remove: the very same bytes


@pytest.mark.parametrize("media_type", FORMATS)
def test_a_structure_that_cannot_be_followed_is_damaged_not_a_crash(media_type):
    data = photo(media_type, metadata=frozenset({"exif"}))
    cut = {"image/png": 40, "image/jpeg": 30, "image/webp": 40}[media_type]
    with pytest.raises(DamagedImage):
        strip_metadata(data[:cut] + b"\xff" * 4, media_type)


@pytest.mark.parametrize("marker", [0xE0, 0xE1, 0xE2, 0xED, 0xEF, 0xFE])
def test_a_jpeg_segment_not_known_to_be_needed_is_dropped(marker):
    original = photo("image/jpeg", icc=True)
    body = b"JFXX\x00" if marker == 0xE0 else b"FPXR\x00" if marker == 0xE2 else b""
    body += b"TEXTSECRET"
    segment = bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body
    jfif_end = 4 + struct.unpack_from(">H", original, 4)[0]
    hidden = original[:jfif_end] + segment + original[jfif_end:]
    assert decoded(hidden).tobytes() == decoded(original).tobytes()
    assert strip_metadata(hidden, "image/jpeg") == original


def test_a_jpeg_scan_with_fill_bytes_before_a_restart_marker_is_followed():
    original = photo("image/jpeg", orientation=3)
    start = original.index(b"\xff\xda")
    (length,) = struct.unpack_from(">H", original, start + 2)
    scan = start + 2 + length
    # Fill bytes (0xFF) may come before any marker, also a restart marker inside a scan.
    padded = original[: scan + 4] + b"\xff\xff\xd0" + original[scan + 4 :]
    with pytest.raises(DamagedImage):
        strip_metadata(padded[: scan + 7] + b"\x01" * 4, "image/jpeg")
    stripped = strip_metadata(padded, "image/jpeg")
    # The scan data is copied to the end of the image, restart marker and all (fill bytes are
    # padding and may go).
    assert stripped.endswith(original[scan : scan + 4] + b"\xff\xd0" + original[scan + 4 :])


# Through the upload -------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path):
    with C2M(tmp_path / "c2m.db", plugins=[PlatePlugin()]) as app:
        app.campaigns.create("plates", "tv-plate")
        yield app


def test_an_upload_is_stored_without_its_metadata_and_named_by_what_is_stored(app):
    everything = frozenset({"exif", "xmp", "comment"})
    original = photo("image/jpeg", orientation=8, metadata=everything, icc=True, size=(320, 180))
    upload = app.personalisation.upload("plates", PHOTO, original, filename="IMG_0001.jpg")
    stored = app.personalisation.content(upload.sha256)
    assert upload.sha256 == hashlib.sha256(stored).hexdigest()
    assert upload.size == len(stored) < len(original)
    assert (upload.width, upload.height) == (320, 180)
    assert_stripped(original, stored, orientation=8, icc=True)
    assert not any(secret in path.read_bytes() for path in app.files_dir.rglob("*")
                   if path.is_file() for secret in SECRETS)  # fmt: skip

    again = app.personalisation.upload("plates", PHOTO, stored)
    assert again == upload  # the same image, with or without its metadata: one upload


def test_an_image_whose_structure_cannot_be_followed_is_refused_and_nothing_is_stored(app):
    data = photo("image/jpeg", size=(320, 180))
    # Bytes between two segments: Pillow skips them and decodes the image, but what they are
    # cannot be told, so the file is refused rather than stored with them or guessed at.
    jfif_end = 4 + struct.unpack_from(">H", data, 4)[0]
    bad = data[:jfif_end] + b"TEXTSECRET" + data[jfif_end:]
    with pytest.raises(InvalidInput, match="no JPEG marker at byte 20") as refused:
        app.personalisation.upload("plates", PHOTO, bad)
    assert refused.value.field == "file"
    assert not app.files_dir.exists() or not any(p.is_file() for p in app.files_dir.rglob("*"))
