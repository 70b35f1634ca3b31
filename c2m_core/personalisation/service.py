"""The personalisation service, reached as ``app.personalisation``: uploads and per-unit values.

``upload`` checks a file by its content against one of the campaign's image fields, removes its
metadata and stores it by sha256 in the files folder (``app.files_dir``), then records it; a
refused file leaves the folder and the database as they were. ``check_units`` turns what a wish
or a pledge sends (a list with one mapping of field id -> value per unit) into what is stored,
refusing unknown fields, unknown uploads, text outside a field's alphabet or length, more sets
than units, and units without a required field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

import attrs

from ..catalog import Catalog
from ..errors import InvalidInput, NotFound
from .fields import ImageField, PersonalisationField, TextField
from .files import FileStore, is_sha256
from .images import check_file_name, check_image
from .metadata import DamagedImage, strip_metadata
from .records import PLEDGE, WISH, Upload

MAX_UPLOAD_BYTES = 50_000_000
_Owned = TypeVar("_Owned")


class PersonalisationService:
    """Uploads and per-unit personalisation. Reached as ``app.personalisation``."""

    def __init__(self, app):
        self.app = app

    @property
    def files(self) -> FileStore:
        """The content-addressed files folder (``app.files_dir``)."""
        return FileStore(self.app.files_dir)

    def fields(self, slug: str) -> tuple[PersonalisationField, ...]:
        """The personalisation fields of campaign ``slug``'s frozen catalog."""
        return self._catalog(slug).personalisation

    def _catalog(self, slug: str) -> Catalog:
        campaign = self.app.campaigns.get(slug)
        return self.app.campaigns.category(campaign).catalog

    # Uploads ------------------------------------------------------------------------------------

    def upload(self, slug: str, field: str, data: bytes, filename: str | None = None) -> Upload:
        """Check ``data`` against image field ``field`` of campaign ``slug`` and store it.

        Returns the ``Upload`` (its ``sha256`` is what a pledge or wish sends as the field's
        value). The content decides: it must decode fully as one of the field's types within
        its byte and pixel limits. What is stored is the image without its metadata (EXIF with
        its GPS position, XMP, comments: ``metadata.strip_metadata``), pixels untouched, and the
        sha256 is of that. ``filename`` is only checked (a path in it is refused) and never
        used. Storing the same image again, with or without metadata, returns the same upload.
        """
        check_file_name(filename)
        campaign = self.app.campaigns.get(slug)
        catalog = self.app.campaigns.category(campaign).catalog
        image = self._image_field(catalog, field)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidInput(
                f"file: expected the file's bytes, got {type(data).__name__}",
                field="file",
                accepted=image.accepted,
            )
        received = bytes(data)
        media_type, width, height = check_image(image, received)
        try:
            data = strip_metadata(received, media_type)
        except DamagedImage as ex:
            raise InvalidInput(
                f"file: {ex}; expected {image.accepted}", field="file", accepted=image.accepted
            ) from None
        if data is not received:  # what is stored decodes as what was checked
            check_image(image, data)
        digest = self.files.put(data)
        store = self.app.store
        with store.transaction():
            stored = store.personalisation.add_upload(
                Upload(digest, media_type, len(data), width, height)
            )
            if stored is not None:  # recorded now: the first upload of this content
                store.event(
                    "upload.stored",
                    campaign.id,
                    {"campaign": campaign.slug, "field": image.id}
                    | {k: v for k, v in stored.to_dict().items() if k != "created_at"},
                )
        return stored or self.get_upload(digest)

    def _image_field(self, catalog: Catalog, field_id) -> ImageField:
        images = [f.id for f in catalog.personalisation if isinstance(f, ImageField)]
        accepted = ", ".join(images) or "none: this catalog has no image field"
        found = catalog.personalisation_field(field_id) if isinstance(field_id, str) else None
        if not isinstance(found, ImageField):
            raise InvalidInput(
                f"field: {field_id!r} is not an image field of catalog {catalog.id!r}; "
                f"image fields: {accepted}",
                field="field",
                value=str(field_id)[:100],
                accepted=accepted,
            )
        return found

    def get_upload(self, sha256: str) -> Upload:
        """The recorded upload with this sha256; ``NotFound`` when there is none."""
        upload = self.app.store.personalisation.upload(sha256) if is_sha256(sha256) else None
        if upload is None:
            raise NotFound(
                f"no upload has sha256 {str(sha256)[:100]!r}; upload the file first",
                field="sha256",
                value=str(sha256)[:100],
                accepted="the sha256 an upload returned",
            )
        return upload

    def content(self, sha256: str) -> bytes:
        """The stored bytes of an upload (checked against its digest)."""
        data = self.files.get(sha256)
        if data is None:
            raise NotFound(
                f"the file of upload {sha256} is missing from {self.files.root}",
                field="sha256",
                value=sha256,
            )
        return data

    # Per-unit values ----------------------------------------------------------------------------

    def check_units(
        self, catalog: Catalog, quantity: int, units, where: str = "personalisation"
    ) -> tuple[dict[str, str], ...]:
        """What to store for ``units`` (one mapping per unit, unit 1 first) of an owner of
        ``quantity`` units: texts in NFC, uploads known and fit for their field, in catalog
        field order, trailing empty sets dropped. Raises ``InvalidInput`` naming the place
        (``personalisation[1].engraving``), the value and what is accepted."""
        fields = catalog.personalisation
        ids = ", ".join(f.id for f in fields) or "none"
        if units is None:
            units = ()
        if isinstance(units, str | bytes | Mapping) or not isinstance(units, Sequence):
            raise InvalidInput(
                f"{where}: expected a list with one mapping of field -> value per unit, got "
                f"{type(units).__name__}",
                field=where,
                accepted=f"a list of at most {quantity} mappings of {ids} to values",
            )
        if len(units) > quantity:
            raise InvalidInput(
                f"{where}: {len(units)} sets of values for {quantity} unit(s); at most one set "
                "per unit",
                field=where,
                value=len(units),
                accepted=f"at most {quantity} sets",
            )
        checked: list[dict[str, str]] = []
        for index, values in enumerate(units):
            place = f"{where}[{index}]"
            if not isinstance(values, Mapping):
                raise InvalidInput(
                    f"{place}: expected a mapping of field -> value, got {type(values).__name__}",
                    field=place,
                    accepted=f"a mapping of {ids} to values",
                )
            for name in values:
                if not isinstance(name, str) or catalog.personalisation_field(name) is None:
                    raise InvalidInput(
                        f"{place}: {str(name)[:100]!r} is not a personalisation field of "
                        f"catalog {catalog.id!r}; fields: {ids}",
                        field=place,
                        value=str(name)[:100],
                        accepted=ids,
                    )
            checked.append(
                {
                    f.id: self._value(f, values[f.id], f"{place}.{f.id}")
                    for f in fields
                    if f.id in values
                }
            )
        for field in fields:
            if field.required:
                missing = [n for n in range(quantity) if n >= len(checked) or field.id not in
                           checked[n]]  # fmt: skip
                if missing:
                    raise InvalidInput(
                        f"{where}[{missing[0]}].{field.id}: every unit needs a "
                        f"{field.title!r} ({field.id}); unit {missing[0] + 1} has none",
                        field=f"{where}[{missing[0]}].{field.id}",
                        accepted=field.accepted,
                    )
        while checked and not checked[-1]:
            checked.pop()
        return tuple(checked)

    def _value(self, field: PersonalisationField, value, where: str) -> str:
        if isinstance(field, TextField):
            return field.check(value, where)
        if not is_sha256(value):
            raise InvalidInput(
                f"{where}: {str(value)[:100]!r} is not the sha256 of an upload; upload the "
                "file first (it answers with its sha256)",
                field=where,
                value=str(value)[:100],
                accepted="the sha256 an upload of this field returned",
            )
        upload = self.app.store.personalisation.upload(value)
        if upload is None or not self.files.has(value):
            raise InvalidInput(
                f"{where}: no stored upload has sha256 {value}; upload the file first",
                field=where,
                value=value,
                accepted="the sha256 an upload of this field returned",
            )
        fits = (
            upload.media_type in field.media_types
            and upload.size <= field.max_bytes
            and field.min_width <= upload.width <= field.max_width
            and field.min_height <= upload.height <= field.max_height
        )
        if not fits:
            raise InvalidInput(
                f"{where}: upload {value} ({upload.media_type}, {upload.size:,} bytes, "
                f"{upload.width} x {upload.height} pixels) does not fit this field",
                field=where,
                value=value,
                accepted=field.accepted,
            )
        return value

    def store_units(
        self, owner: str, owner_id: int, campaign_id: int, units: Sequence[Mapping[str, str]]
    ) -> None:
        """Store checked ``units`` of a wish or pledge, in the transaction that stores it."""
        if units:
            self.app.store.personalisation.insert_units(owner, owner_id, campaign_id, units)

    def attach(self, owner: str, records: Iterable[_Owned]) -> list[_Owned]:
        """``records`` (wishes or pledges) with their stored ``personalisation``."""
        records = list(records)
        ids = [r.id for r in records if r.id is not None]  # type: ignore[attr-defined]
        if not ids:
            return records
        found = self.app.store.personalisation.units(owner, ids)
        return [
            attrs.evolve(r, personalisation=found[r.id])  # type: ignore[attr-defined,misc]
            if r.id in found  # type: ignore[attr-defined]
            else r
            for r in records
        ]

    def attach_pledges(self, pledges: Iterable[_Owned]) -> list[_Owned]:
        """Pledges with their stored per-unit personalisation."""
        return self.attach(PLEDGE, pledges)

    def attach_wishes(self, wishes: Iterable[_Owned]) -> list[_Owned]:
        """Wishes with their stored per-unit personalisation."""
        return self.attach(WISH, wishes)


__all__ = ["MAX_UPLOAD_BYTES", "PersonalisationService"]
