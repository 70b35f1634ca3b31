"""A personalised pledge end to end: upload, pledge with a photo and an engraving, hand-off
folder with per-unit work instructions and the image by its sha256, B2MML valid."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import warnings

import pytest
from handoff_support import b2mml_schema
from hypothesis import given, settings
from hypothesis import strategies as st
from personalisation_support import (
    CINEMA_55,
    SCRIPT,
    PlatePlugin,
    engraved_tv_catalog,
    image,
    png_bomb,
)

from c2m_core import C2M
from c2m_core.handoff.outbox import DEAD, DELIVERED

pytest.importorskip("fastapi")

from c2m_core.server import create_app  # noqa: E402
from c2m_core.server.tokens import create_token  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402

PHOTO = "startup-photo"
SLUG = "plates"


@pytest.fixture
def api(tmp_path):
    """A TestClient on an app with the ``tv-plate`` category, and brand and shop headers."""
    app = C2M(tmp_path / "c2m.db", plugins=[PlatePlugin()])
    brand = {"Authorization": f"Bearer {create_token(app, 'brand', ['brand'])[0]}"}
    shop = {"Authorization": f"Bearer {create_token(app, 'shop', ['storefront'])[0]}"}
    reader = {"Authorization": f"Bearer {create_token(app, 'reader', ['read'])[0]}"}
    with TestClient(create_app(app, webhooks=False)) as client:
        yield app, client, brand, shop, reader
    app.close()


def start(client, brand, settings=None):
    """A campaign selling one TV variant: created, advanced to its pre-sale, opened."""
    body = {"slug": SLUG, "category": "tv-plate", "stages": ["presale", "handoff"]}
    assert client.post(
        "/campaigns", json=body | {"settings": settings or {}}, headers=brand
    ).is_success
    variant = client.post(f"/campaigns/{SLUG}/variants", json={"configuration": CINEMA_55},
                          headers=brand).json()  # fmt: skip
    assert client.post(f"/campaigns/{SLUG}/advance", json={}, headers=brand).is_success
    opened = client.post(f"/campaigns/{SLUG}/presale", json={"deadline": "7d", "threshold": 2},
                         headers=brand)  # fmt: skip
    assert opened.status_code == 201, opened.text
    return variant["id"]


def upload(client, headers, data, field=PHOTO, filename=None):
    params = {"filename": filename} if filename is not None else {}
    return client.post(
        f"/campaigns/{SLUG}/uploads/{field}",
        content=data,
        params=params,
        headers=headers | {"Content-Type": "image/png"},
    )


def test_a_personalised_pledge_reaches_the_factory_folder(api, tmp_path):
    app, client, brand, shop, _ = api
    variant = start(client, brand, settings={"max_lot_size": 2})
    photo = image(fmt="JPEG")
    answer = upload(client, shop, photo, filename="我的照片.png")
    assert answer.status_code == 201, answer.text
    digest = answer.json()["sha256"]
    assert digest == hashlib.sha256(photo).hexdigest()
    assert answer.json()["media_type"] == "image/jpeg" and answer.json()["file"] == f"{digest}.jpg"

    units = [{PHOTO: digest, "engraving": "ANN & BOB"}, {}, {"engraving": "张三"}]
    pledge = client.post(
        f"/campaigns/{SLUG}/pledges",
        json={"variant": variant, "customer": "ann", "quantity": 3, "region": "eu",
              "personalisation": units},
        headers=shop | {"Idempotency-Key": "order-1"},
    )  # fmt: skip
    assert pledge.status_code == 201, pledge.text
    assert pledge.json()["personalisation"] == units
    other = client.post(
        f"/campaigns/{SLUG}/pledges",
        json={"variant": variant, "customer": "bob", "quantity": 1, "region": "cn"},
        headers=shop | {"Idempotency-Key": "order-2"},
    )
    assert other.status_code == 201 and other.json()["personalisation"] == []
    read = client.get(f"/campaigns/{SLUG}/pledges/order-1", headers=shop).json()
    assert read["personalisation"] == units
    assert client.post(f"/campaigns/{SLUG}/presale/close", headers=brand).is_success

    out = tmp_path / "factory"
    handed = client.post(f"/campaigns/{SLUG}/handoff", json={"targets": [f"dir:{out}"]},
                         headers=brand)  # fmt: skip
    assert handed.status_code == 200, handed.text
    (handoff,) = handed.json()["handoffs"]
    assert [d["state"] for d in handoff["deliveries"]] == [DELIVERED]
    handoff_id = handoff["id"]

    # The image by its hash, byte for byte, and never under the customer's name.
    assert (out / f"{digest}.jpg").read_bytes() == photo
    assert not any("照片" in p.name for p in out.iterdir())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"][f"{digest}.jpg"]["sha256"] == digest

    # The per-unit work instructions: JSON per work order and a CSV.
    record = json.loads((out / f"{handoff_id}.json").read_text())
    by_order = {wo["id"]: wo["units"] for wo in record["work_orders"]}
    eu_lot1 = next(wo for wo in record["work_orders"] if wo["region"] == "eu" and wo["lot"] == 1)
    assert [u["unit"] for u in by_order[eu_lot1["id"]]] == [1, 3]
    first = by_order[eu_lot1["id"]][0]
    assert first["order_key"] == "order-1"
    assert first["values"]["engraving"]["text"] == "ANN & BOB"
    assert first["values"][PHOTO]["file"] == f"{digest}.jpg"
    assert first["values"][PHOTO]["sha256"] == digest
    assert record["personalisation"]["units"] == 2
    assert [i["sha256"] for i in record["personalisation"]["images"]] == [digest]
    assert all(len(units) <= wo["quantity"] for wo in record["work_orders"]
               for units in [wo["units"]])  # fmt: skip
    rows = list(
        csv.DictReader(io.StringIO((out / f"{handoff_id}.personalisation.csv").read_text()))
    )
    assert [(r["unit"], r["field"], r["text"], r["image_file"]) for r in rows] == [
        ("1", PHOTO, "", f"{digest}.jpg"),
        ("1", "engraving", "ANN & BOB", ""),
        ("3", "engraving", "张三", ""),
    ]
    assert {r["work_order_id"] for r in rows} == {eu_lot1["id"]}
    assert len({r["instruction_id"] for r in rows}) == 3

    # B2MML: one SegmentParameter per personalised unit, and still valid.
    from lxml import etree

    document = etree.fromstring((out / f"{handoff_id}.b2mml.xml").read_bytes())
    ns = {"b": "http://www.mesa.org/xml/B2MML"}
    units_xml = [
        p
        for p in document.findall(".//b:SegmentParameter", ns)
        if p.find("b:ParameterChild", ns) is not None
    ]
    assert [u.findtext("b:ID", namespaces=ns) for u in units_xml] == [
        first["unit_id"],
        by_order[eu_lot1["id"]][1]["unit_id"],
    ]
    values = units_xml[0].findall("b:ParameterChild/b:Value/b:ValueString", ns)
    assert [v.text for v in values] == [f"{digest}.jpg", "ANN & BOB"]

    # Exactly once: a second run sends nothing again and changes no file.
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    again = client.post(f"/campaigns/{SLUG}/handoff", json={"targets": [f"dir:{out}"]},
                        headers=brand)  # fmt: skip
    assert again.json()["handoffs"][0]["deliveries"][0]["attempts"] == 1
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert b2mml_schema().validate(document)  # last: it skips where the schemas are absent


@pytest.mark.parametrize(
    "data, filename, says",
    [
        (SCRIPT, "photo.png", "the content is a script, not a PNG or JPEG image"),
        (png_bomb(20_000, 20_000), None, "a decompression bomb"),
        (image(5000, 3000), None, "the image is 5,000 x 3,000 pixels"),
        (image(), "../../etc/passwd", "'../../etc/passwd' is not accepted"),
    ],
)
def test_hostile_uploads_get_a_problem_naming_what_is_wrong(api, data, filename, says):
    app, client, brand, shop, _ = api
    start(client, brand)
    answer = upload(client, shop, data, filename=filename)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert problem["kind"] == "invalid_input" and says in problem["detail"]
    assert problem["field"] in ("file", "filename") and problem["accepted"]
    assert not app.files_dir.exists() or not any(p.is_file() for p in app.files_dir.rglob("*"))


def test_uploads_need_a_writing_scope_and_an_image_field(api):
    app, client, brand, shop, reader = api
    start(client, brand)
    assert upload(client, {}, image()).status_code == 401
    assert upload(client, reader, image()).status_code == 403
    wrong = upload(client, shop, image(), field="engraving")
    assert wrong.status_code == 422 and wrong.json()["field"] == "field"
    operation = client.get("/openapi.json").json()["paths"]["/campaigns/{slug}/uploads/{field}"]
    assert operation["post"]["x-c2m-scopes"] == ["brand", "storefront"]
    assert "application/octet-stream" in operation["post"]["requestBody"]["content"]


def test_a_missing_image_sends_the_delivery_to_the_dead_letter_and_retry_sends_it(tmp_path):
    with C2M(tmp_path / "c2m.db", plugins=[PlatePlugin()]) as app:
        app.campaigns.create(SLUG, "tv-plate", stages=["presale", "handoff"])
        variant = app.variants.add(SLUG, CINEMA_55)
        app.campaigns.advance(SLUG)
        app.presale.open(SLUG, "7d", threshold=1)
        photo = image()
        digest = app.personalisation.upload(SLUG, PHOTO, photo).sha256
        app.presale.place(SLUG, variant.id, "ann", 1, "k", personalisation=[{PHOTO: digest}])
        app.presale.close(SLUG)
        stored = app.files_dir / digest[:2] / digest
        stored.unlink()
        status = app.handoff.run(SLUG, [f"dir:{tmp_path / 'out'}"])
        (delivery,) = status.deliveries
        assert delivery.state == DEAD and digest in delivery.last_error
        stored.write_bytes(photo)
        status = app.handoff.retry(SLUG)
        assert status.deliveries[0].state == DELIVERED
        assert (tmp_path / "out" / f"{digest}.png").read_bytes() == photo


# Placing personalised units in work orders ---------------------------------------------------

PLEDGES = st.lists(
    st.tuples(
        st.sampled_from([None, "eu", "cn", "us"]),
        st.lists(st.booleans(), min_size=1, max_size=4),  # per unit: personalised or not
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150)
@given(pledges=PLEDGES, lot=st.integers(0, 5), spare=st.integers(0, 60))
def test_units_fill_their_regions_lots_in_order_like_a_simple_reference(pledges, lot, spare):
    import datetime
    from types import SimpleNamespace

    from c2m_core.handoff.instructions import assign_units
    from c2m_core.handoff.plan import DemandLine, PlanSettings, plan_order
    from c2m_core.variants.records import Variant

    catalog = engraved_tv_catalog()
    stored = [
        SimpleNamespace(
            id=n + 1,
            key=f"k{n}",
            region=region,
            personalisation=tuple(
                {"engraving": f"U{u}"} if on else {} for u, on in enumerate(units)
            ),
        )
        for n, (region, units) in enumerate(pledges)
    ]
    by_region: dict[str, int] = {}
    for pledge, (_, units) in zip(stored, pledges, strict=True):
        by_region[pledge.region or "default"] = by_region.get(pledge.region or "default", 0) + len(
            units
        )
    variant = Variant(1, 1, "k", "TV", CINEMA_55)
    order = plan_order(
        "s",
        catalog,
        DemandLine(variant, sum(by_region.values()), by_region),
        PlanSettings(spare_percent=spare, max_lot_size=lot),
        datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    )
    placed = assign_units(order, catalog, list(reversed(stored)), {})
    # The reference: each region's personalised units, oldest pledge first, take the region's
    # lots' places one by one, in lot order.
    expected = []
    for region in sorted(by_region):
        places = [
            wo.id for wo in order.work_orders if wo.region == region for _ in range(wo.quantity)
        ]
        units = [
            (p.key, number)
            for p in stored
            if (p.region or "default") == region
            for number, values in enumerate(p.personalisation, 1)
            if values
        ]
        expected += [(key, number, places[i]) for i, (key, number) in enumerate(units)]
    assert sorted((u.order_key, u.unit, u.work_order_id) for u in placed) == sorted(expected)
    for wo in order.work_orders:
        assert sum(u.work_order_id == wo.id for u in placed) <= wo.quantity
    assert len({u.unit_id for u in placed}) == len(placed)
