"""Per-unit personalisation: catalog fields, uploads checked by content, values per unit."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from personalisation_support import (
    CINEMA_55,
    ENGRAVING,
    SCRIPT,
    TV_CATALOG,
    PlatePlugin,
    engraved_tv_catalog,
    image,
    png_bomb,
)

from c2m_core import C2M, load_catalog
from c2m_core.catalog import Catalog
from c2m_core.catalog_lint import lint_data
from c2m_core.errors import CatalogError, InvalidInput
from c2m_core.personalisation import ImageField, TextField
from c2m_core.presale.records import IdempotencyConflict

PHOTO = "startup-photo"


@pytest.fixture
def app(tmp_path):
    with C2M(tmp_path / "c2m.db", plugins=[PlatePlugin()]) as app:
        yield app


def open_presale(app, slug="plates", threshold=2):
    app.campaigns.create(slug, "tv-plate", stages=["presale", "handoff"])
    variant = app.variants.add(slug, CINEMA_55)
    app.campaigns.advance(slug)
    app.presale.open(slug, "7d", threshold=threshold)
    return variant


def stored_state(app):
    """Everything an upload could change: the files folder and the uploads' events."""
    files = sorted(
        (str(p.relative_to(app.files_dir)), p.read_bytes())
        for p in app.files_dir.rglob("*")
        if p.is_file()
    ) if app.files_dir.exists() else []  # fmt: skip
    return files, [e.payload for e in app.store.events_since(0, types=("upload.stored",))]


# The catalog format --------------------------------------------------------------------------


def test_the_tv_catalog_declares_the_start_up_photo_in_chinese_and_english():
    catalog = load_catalog(TV_CATALOG)
    (photo,) = catalog.personalisation
    assert isinstance(photo, ImageField) and photo.id == PHOTO
    assert photo.title_in("zh") == "开机画面照片" and photo.title_in("en").startswith("Start-up")
    assert photo.media_types == ("image/png", "image/jpeg")
    assert (photo.max_width, photo.max_height) == (3840, 2160)
    assert not lint_data(catalog.to_dict())


def test_fields_round_trip_and_catalogs_without_them_keep_their_digest():
    catalog = engraved_tv_catalog()
    again = Catalog.from_dict(catalog.to_dict())
    assert again.personalisation == catalog.personalisation
    assert again.digest == catalog.digest
    plain = catalog.to_dict()
    del plain["personalisation"]
    assert "personalisation" not in Catalog.from_dict(plain).to_dict()


def catalog_with(field: dict) -> dict:
    data = engraved_tv_catalog().to_dict()
    data["personalisation"] = [field]
    return data


@pytest.mark.parametrize(
    "field, where, says",
    [
        ({**ENGRAVING, "kind": "video"}, "personalisation[0].kind", "accepted kinds are image"),
        ({**ENGRAVING, "alphabet": ["klingon"]}, "personalisation[0].alphabet[0]", "klingon"),
        ({**ENGRAVING, "max_length": 0}, "personalisation[0].max_length", ">= 1"),
        ({**ENGRAVING, "min_length": 20}, "personalisation[0]", "greater than max_length"),
        ({**ENGRAVING, "id": "size"}, "personalisation[0].id", "also a module id"),
        ({**ENGRAVING, "characters": "a\u200bb"}, "personalisation[0].characters", "U+200B"),
        (
            {"id": "p", "kind": "image", "title": "P", "media_types": ["image/svg+xml"]},
            "personalisation[0].media_types[0]",
            "not an accepted image type",
        ),
        (
            {"id": "p", "kind": "image", "title": "P", "max_width": 100_000, "max_height": 1000},
            "personalisation[0]",
            "pixels",
        ),
    ],
)
def test_a_bad_field_names_its_place_in_the_file(field, where, says):
    with pytest.raises(CatalogError) as caught:
        Catalog.from_dict(catalog_with(field))
    assert caught.value.where == where and says in caught.value.problem
    problems = lint_data(catalog_with(field))
    assert problems and all(p.level == "error" for p in problems)


def test_lint_checks_personalisation_against_the_schema():
    problems = lint_data(catalog_with({**ENGRAVING, "max_length": "12", "colour": "red"}))
    assert {p.check for p in problems} >= {"schema", "loader"}
    assert any(p.where.startswith("personalisation[0]") for p in problems if p.check == "schema")


# Engraving text ------------------------------------------------------------------------------


@pytest.fixture
def plate() -> TextField:
    field = engraved_tv_catalog().personalisation_field("engraving")
    assert isinstance(field, TextField)
    return field


@pytest.mark.parametrize(
    "text, says",
    [
        ("<script>", "'<' (U+003C) at position 1"),
        ("ANN\u202eNNA", "U+202E"),
        ("x" * 13, "13 characters"),
        ("", "0 characters"),
        (" ANN", "starts or ends with a space"),
        ("{{ 7*7 }}", "'{' (U+007B)"),
        ("../etc", "'/' (U+002F)"),
    ],
)
def test_an_engraving_outside_the_alphabet_or_too_long_is_refused(plate, text, says):
    with pytest.raises(InvalidInput) as caught:
        plate.check(text, "personalisation[0].engraving")
    error = caught.value
    assert says in str(error) and error.field == "personalisation[0].engraving"
    assert error.accepted == "1 to 12 characters from: A-Z a-z, 0-9, space, CJK ideographs, " + (
        "the characters '.-&'"
    )


@given(st.text(max_size=14))
def test_an_engraving_is_accepted_exactly_when_every_character_is_allowed(text):
    field = engraved_tv_catalog().personalisation_field("engraving")
    import unicodedata

    normal = unicodedata.normalize("NFC", text)
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .-&")
    expected = (
        1 <= len(normal) <= 12
        and all(
            c in allowed or 0x4E00 <= ord(c) <= 0x9FFF or 0x3400 <= ord(c) <= 0x4DBF for c in normal
        )  # fmt: skip
        and normal == normal.strip()
    )
    try:
        assert field.check(text, "x") == normal and expected
    except InvalidInput:
        assert not expected


# Uploads -------------------------------------------------------------------------------------


def test_an_upload_is_checked_by_content_and_stored_by_sha256(app):
    open_presale(app)
    data = image(fmt="JPEG")
    upload = app.personalisation.upload("plates", PHOTO, data, filename="holiday.png")
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert upload.media_type == "image/jpeg"  # what it is, whatever its name says
    assert (upload.width, upload.height, upload.size) == (640, 360, len(data))
    path = app.files_dir / upload.sha256[:2] / upload.sha256
    assert path.read_bytes() == data
    assert [p.name for p in app.files_dir.rglob("*") if p.is_file()] == [upload.sha256]
    assert app.personalisation.upload("plates", PHOTO, data) == upload  # the same content: once
    assert len(stored_state(app)[1]) == 1
    assert app.files_dir == app.db_path.with_name("c2m.files")


def test_the_files_folder_is_configurable(tmp_path):
    with C2M(tmp_path / "c2m.db", plugins=[PlatePlugin()], files_dir=tmp_path / "f") as app:
        open_presale(app)
        upload = app.personalisation.upload("plates", PHOTO, image())
        assert (tmp_path / "f" / upload.sha256[:2] / upload.sha256).is_file()
        assert app.for_thread().files_dir == tmp_path / "f"


HOSTILE = {
    "a script renamed .png": (SCRIPT, "x.png", "the content is a script, not a PNG or JPEG"),
    "a decompression bomb": (png_bomb(20_000, 20_000), "bomb.png", "a decompression bomb"),
    "a smaller bomb under Pillow's limit": (
        png_bomb(9000, 9000),
        "bomb.png",
        "the image is 9,000 x 9,000 pixels (81,000,000 pixels from",
    ),
    "an image larger than the field allows": (
        image(4000, 2500),
        "big.png",
        "the image is 4,000 x 2,500 pixels",
    ),
    "an image smaller than the field allows": (image(32, 32), "icon.png", "32 x 32 pixels"),
    "more bytes than the field allows": (b"\x89PNG" + b"\0" * 8_000_000, "a.png", "too large"),
    "a truncated image": (image()[:-40], "cut.png", "does not decode as a complete PNG or JPEG"),
    "a GIF": (image(fmt="GIF"), "a.png", "the content is a GIF image, not a PNG or JPEG"),
    "an SVG": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "a.png", "SVG"),
    "nothing": (b"", "a.png", "the file is empty"),
    "a path in the file name": (image(), "../../etc/passwd", "'../../etc/passwd' is not accepted"),
    "a Windows path": (image(), "C:\\boot.ini", "without folders"),
    "a control character in the name": (image(), "a\x00.png", "control characters"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_file_is_refused_naming_what_is_wrong_and_nothing_stored_is_lost(app, case):
    open_presale(app)
    kept = app.personalisation.upload("plates", PHOTO, image(color=(1, 2, 3)))
    before = stored_state(app)
    data, name, says = HOSTILE[case]
    with pytest.raises(InvalidInput) as caught:
        app.personalisation.upload("plates", PHOTO, data, filename=name)
    error = caught.value
    assert says in str(error), str(error)
    assert error.field in ("file", "filename") and error.accepted
    if error.field == "file":
        assert "PNG or JPEG image (image/png, image/jpeg) of at most 8,000,000 bytes" in (
            error.accepted
        )
    assert stored_state(app) == before
    assert app.personalisation.content(kept.sha256) == image(color=(1, 2, 3))


def test_an_upload_names_the_campaigns_image_fields(app):
    open_presale(app)
    with pytest.raises(InvalidInput) as caught:
        app.personalisation.upload("plates", "engraving", image())
    assert caught.value.field == "field" and caught.value.accepted == PHOTO


# Per-unit values on pledges and wishes -------------------------------------------------------


def test_a_pledge_carries_a_set_per_unit_and_keeps_its_variant_price_and_capacity(app):
    variant = open_presale(app)
    photo = app.personalisation.upload("plates", PHOTO, image()).sha256
    units = [{PHOTO: photo, "engraving": "ANN & BOB"}, {}, {"engraving": "张三"}]
    pledge = app.presale.place("plates", variant.id, "ann", 3, "o-1", personalisation=units)
    plain = app.presale.place("plates", variant.id, "bob", 3, "o-2")
    assert pledge.personalisation == tuple(units)
    assert (pledge.variant_id, pledge.unit_price) == (plain.variant_id, plain.unit_price)
    assert app.presale.pledge("plates", "o-1").personalisation == tuple(units)
    assert app.presale.pledge("plates", "o-2").personalisation == ()
    assert app.presale.pledge("plates", "o-1").to_dict()["personalisation"] == units
    assert [p.personalisation for p in app.presale.pledges("plates")] == [tuple(units), ()]
    status = app.presale.status("plates")
    assert status.variants[0].committed_units == 6
    again = app.presale.place("plates", variant.id, "ann", 3, "o-1", personalisation=units)
    assert again == pledge
    with pytest.raises(IdempotencyConflict) as caught:
        app.presale.place("plates", variant.id, "ann", 3, "o-1", personalisation=units[:1])
    assert "personalisation" in caught.value.differences


@pytest.mark.parametrize(
    "units, field, says",
    [
        ([{}, {}, {}], "personalisation", "3 sets of values for 2 unit(s)"),
        ([{"colour": "red"}], "personalisation[0]", "not a personalisation field"),
        ([{PHOTO: "0" * 64}], "personalisation[0].startup-photo", "no stored upload"),
        ([{PHOTO: "../../etc/passwd"}], "personalisation[0].startup-photo", "not the sha256"),
        ([{}, {"engraving": "a" * 13}], "personalisation[1].engraving", "13 characters"),
        ({"engraving": "A"}, "personalisation", "one mapping of field -> value per unit"),
        (["engraving"], "personalisation[0]", "expected a mapping"),
    ],
)
def test_bad_personalisation_refuses_the_pledge_and_stores_nothing(app, units, field, says):
    variant = open_presale(app)
    with pytest.raises(InvalidInput) as caught:
        app.presale.place("plates", variant.id, "ann", 2, "o-1", personalisation=units)
    assert caught.value.field == field and says in str(caught.value)
    assert app.presale.pledges("plates") == []


def test_a_required_field_is_needed_on_every_unit(tmp_path):
    data = engraved_tv_catalog().to_dict()
    data["personalisation"][1]["required"] = True

    from c2m_core import Category, PluginMeta, hookimpl

    class Required:
        c2m_plugin = PluginMeta(name="req", version="1", core=">=0.1")

        @hookimpl
        def register_categories(self):
            return [Category(Catalog.from_dict(data))]

    with C2M(tmp_path / "c2m.db", plugins=[Required()]) as app:
        variant = open_presale(app)
        with pytest.raises(InvalidInput) as caught:
            app.presale.place(
                "plates", variant.id, "a", 2, "k", personalisation=[{"engraving": "A"}]
            )
        assert caught.value.field == "personalisation[1].engraving"
        placed = app.presale.place(
            "plates", variant.id, "a", 2, "k", personalisation=[{"engraving": "A"}] * 2
        )
        assert len(placed.personalisation) == 2


def test_place_many_carries_personalisation_per_request(app):
    variant = open_presale(app)
    results = app.presale.place_many(
        "plates",
        [
            {"variant_id": variant.id, "customer": "a", "quantity": 1, "key": "k1",
             "personalisation": [{"engraving": "A"}]},
            {"variant_id": variant.id, "customer": "b", "quantity": 1, "key": "k2"},
        ],
    )  # fmt: skip
    assert [r.pledge.personalisation for r in results] == [({"engraving": "A"},), ()]
    assert app.presale.pledge("plates", "k1").personalisation == ({"engraving": "A"},)


def test_a_wish_carries_personalisation_and_aggregation_ignores_it(app):
    app.campaigns.create("wished", "tv-plate")
    app.campaigns.advance("wished")
    plain = app.wishes.submit("wished", "a", CINEMA_55, quantity=2)
    plated = app.wishes.submit(
        "wished", "b", CINEMA_55, quantity=2, personalisation=[{"engraving": "B"}], external_id="w"
    )
    assert plain.personalisation == () and plated.personalisation == ({"engraving": "B"},)
    assert app.wishes.get("wished", plated.id).to_dict()["personalisation"] == [{"engraving": "B"}]
    assert app.wishes.submit("wished", "b", CINEMA_55, external_id="w") == plated
    (group,) = app.store.wishes.demand(app.campaigns.get("wished").id)
    assert (group.wishes, group.quantity) == (2, 4)
    with pytest.raises(InvalidInput) as caught:
        app.wishes.submit("wished", "c", CINEMA_55, personalisation=[{"engraving": "<b>"}])
    assert caught.value.field == "personalisation[0].engraving"
    assert app.wishes.count("wished") == 2


# The command line ----------------------------------------------------------------------------


def cli(app, *args):
    from click.testing import CliRunner

    from c2m_core.cli import make_cli

    return CliRunner().invoke(make_cli(), list(args), obj=app)


def test_pledge_add_attaches_a_file_and_an_engraving_per_unit(app, tmp_path):
    variant = open_presale(app)
    photo = tmp_path / "我的.jpg"
    photo.write_bytes(image(fmt="JPEG"))
    result = cli(
        app, "pledge", "add", "plates", "--variant", str(variant.id), "--customer", "ann",
        "--quantity", "2", "--key", "o-1", "--attach", f"2:{PHOTO}={photo}",
        "--personalise", "1:engraving=ANN", "--personalise", "2:engraving=BOB", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    expected = [{"engraving": "ANN"}, {"engraving": "BOB", PHOTO: digest}]
    assert json.loads(result.output)["personalisation"] == expected
    assert app.presale.pledge("plates", "o-1").to_dict()["personalisation"] == expected


@pytest.mark.parametrize(
    "option, says",
    [
        (["--personalise", "1:engraving=<b>"], "'<' (U+003C)"),
        (["--personalise", "engraving=ANN"], "use UNIT:FIELD=TEXT"),
        (["--attach", f"1:{PHOTO}=/no/such/file.png"], "cannot read"),
        (["--personalise", "3:engraving=A"], "3 sets of values for 2 unit(s)"),
    ],
)
def test_pledge_add_refuses_bad_personalisation_with_exit_2(app, option, says):
    variant = open_presale(app)
    result = cli(app, "pledge", "add", "plates", "--variant", str(variant.id), "--customer", "a",
                 "--quantity", "2", "--key", "k", *option)  # fmt: skip
    assert result.exit_code == 2 and says in result.output, result.output
    assert "Traceback" not in result.output
    assert app.presale.pledges("plates") == []


def test_pledge_add_refuses_a_script_renamed_png(app, tmp_path):
    variant = open_presale(app)
    script = tmp_path / "photo.png"
    script.write_bytes(SCRIPT)
    result = cli(app, "pledge", "add", "plates", "--variant", str(variant.id), "--customer", "a",
                 "--quantity", "1", "--key", "k", "--attach", f"1:{PHOTO}={script}")  # fmt: skip
    assert result.exit_code == 2 and "the content is a script" in result.output
    assert app.presale.pledges("plates") == []


def test_wish_add_carries_an_engraving(app):
    app.campaigns.create("wished", "tv-plate")
    app.campaigns.advance("wished")
    pairs = [f"{m}={o}" for m, o in CINEMA_55.items()]
    result = cli(app, "wish", "add", "wished", "--customer", "a", *pairs,
                 "--personalise", "1:engraving=ANN", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["personalisation"] == [{"engraving": "ANN"}]


def test_personalisation_is_stored_on_both_backends(db_target, tmp_path):
    with C2M(db_target, plugins=[PlatePlugin()], files_dir=tmp_path / "files") as app:
        variant = open_presale(app)
        digest = app.personalisation.upload("plates", PHOTO, image()).sha256
        units = [{PHOTO: digest, "engraving": "ANN"}, {}, {"engraving": "张三"}]
        placed = app.presale.place("plates", variant.id, "ann", 3, "o-1", personalisation=units)
        assert placed.personalisation == tuple(units)
        assert app.presale.pledge("plates", "o-1").personalisation == tuple(units)
        assert app.personalisation.get_upload(digest).media_type == "image/png"
        with pytest.raises(InvalidInput):
            app.presale.place("plates", variant.id, "bob", 1, "o-2",
                              personalisation=[{"engraving": "<b>"}])  # fmt: skip
        assert [p.key for p in app.presale.pledges("plates")] == ["o-1"]


def test_catalog_show_lists_the_fields_in_the_asked_language(app):
    result = cli(app, "catalog", "show", "tv-plate", "--lang", "zh")
    assert result.exit_code == 0, result.output
    assert "开机画面照片" in result.output and "铭牌刻字" in result.output
    assert "at most 8,000,000" in result.output


def test_one_personalised_pledge_per_key_from_four_processes(db_target, tmp_path):
    from personalisation_support import place_personalised
    from store_contract.support import run_workers

    files = tmp_path / "files"
    with C2M(db_target, plugins=[PlatePlugin()], files_dir=files) as app:
        variant = open_presale(app)
        digest = app.personalisation.upload("plates", PHOTO, image()).sha256
    units = [{PHOTO: digest, "engraving": "ANN"}, {"engraving": "BOB"}]
    got = run_workers(
        place_personalised,
        [(db_target, files, "plates", variant.id, "o-1", units) for _ in range(4)],
    )
    assert len({pledge_id for pledge_id, _ in got}) == 1
    assert all(found == units for _, found in got)
    with C2M(db_target, plugins=[PlatePlugin()], files_dir=files) as app:
        (pledge,) = app.presale.pledges("plates")
        assert pledge.personalisation == tuple(units)
        assert app.store.personalisation.units("pledge", [pledge.id]) == {pledge.id: tuple(units)}
