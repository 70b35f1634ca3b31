"""Hand-off documents: B2MML validity, JSON record, CSV, spec sheets, inert consumer text."""

import csv
import hashlib
import io
import itertools
import json
import random

import pytest
from handoff_support import BIG_85, CINEMA_55, T0, Clock, b2mml_schema, demand, tv_campaign
from lxml import etree

from c2m_core import C2M, C2MError, Catalog, Category, hookimpl
from c2m_core.catalog import Part
from c2m_core.handoff.documents import spec_sheet_context

NS = {"b": "http://www.mesa.org/xml/B2MML"}
NASTY = "<script>alert(1)</script> {{ 7*7 }} ]]> ../../etc/passwd a\\b & \"q\" 'x'"


def documents(app, slug):
    return {
        h.id: {d.kind: d for d in app.handoff.documents(h.id)}
        for h in app.handoff.status(slug).handoffs
    }


def handed_off(tmp_path, variants=(CINEMA_55,), by_region=None, settings=None, **kw):
    app = C2M(db_path=tmp_path / "c2m.db", clock=Clock())
    made = tv_campaign(app, variants=variants, settings=settings, **kw)
    lines = [demand(v, **(by_region or {"eu": 120, "default": 30})) for v in made]
    app.handoff.run("summer", [f"dir:{tmp_path / 'out'}"], demand=lines)
    return app, made


def valid_tv_configurations(app, count, seed=7):
    """``count`` valid TV configurations drawn from the whole product, reproducibly."""
    catalog = app.category("tv").catalog
    choices = [
        [(m.id, o.id) for o in m.options] + ([] if m.required else [(m.id, None)])
        for m in catalog.modules
    ]
    everything = list(itertools.product(*choices))
    random.Random(seed).shuffle(everything)
    found = []
    for combination in everything:
        configuration = {m: o for m, o in combination if o is not None}
        if not app.validate("tv", configuration):
            found.append(configuration)
            if len(found) == count:
                return found
    return found


# B2MML --------------------------------------------------------------------------------------------


def test_every_generated_b2mml_document_validates_against_the_official_schema(tmp_path):
    schema = b2mml_schema()
    app = C2M(db_path=tmp_path / "c2m.db", clock=Clock())
    configurations = valid_tv_configurations(app, 12)
    assert len(configurations) == 12
    variants = tv_campaign(
        app,
        title=NASTY,
        variants=configurations,
        settings={"spare_percent": 7, "max_lot_size": 35, "warehouses": {"eu": "WH-EU-1"}},
    )
    lines = [
        demand(v, **{"eu": 10 + 9 * i, "default": i}) if i % 2 else demand(v, eu=3 * i + 1)
        for i, v in enumerate(variants)
    ]
    with pytest.raises(C2MError, match="region 'default' has no warehouse"):
        app.handoff.run("summer", [f"dir:{tmp_path / 'out'}"], demand=lines)
    app.campaigns.configure("summer", warehouses={"eu": "WH-EU-1", "default": "WH-CN"})
    app.handoff.run("summer", [f"dir:{tmp_path / 'out'}"], demand=lines)

    written = sorted((tmp_path / "out").glob("*.b2mml.xml"))
    assert len(written) == 12
    for path in written:
        document = etree.parse(str(path))
        assert schema.validate(document), (path.name, schema.error_log)
        record = json.loads(path.with_name(path.name.replace(".b2mml.xml", ".json")).read_bytes())
        requests = document.findall(".//b:OperationsRequest", NS)
        assert [r.findtext("b:ID", namespaces=NS) for r in requests] == [
            wo["id"] for wo in record["work_orders"]
        ]
        for request, wo in zip(requests, record["work_orders"], strict=True):
            uses = request.findall(".//b:MaterialRequirement", NS)
            assert [u.findtext("b:MaterialUse", namespaces=NS) for u in uses] == ["Produced"] + [
                "Consumed"
            ] * len(record["bill_of_materials"])
            assert uses[0].findtext("b:Quantity/b:QuantityString", namespaces=NS) == str(
                wo["quantity"]
            )
            parameters = {
                p.findtext("b:ID", namespaces=NS): p.findtext(
                    "b:Value/b:ValueString", namespaces=NS
                )
                for p in request.findall(".//b:SegmentParameter", NS)
            }
            assert parameters["destination-region"] == wo["region"]
            assert parameters["destination-warehouse"] == wo["warehouse"]
        assert document.findtext(".//b:OperationsSchedule/b:OperationsType", namespaces=NS) == (
            "Production"
        )


@pytest.mark.parametrize(
    ("xpath", "change"),
    [
        (".//b:MaterialUse", lambda e: setattr(e, "text", "Eaten")),
        (".//b:ProcessSegmentID", lambda e: e.getparent().remove(e)),
        (".//b:OperationsType", lambda e: e.addprevious(etree.Element(f"{{{NS['b']}}}Colour"))),
        (".//b:CreationDateTime", lambda e: setattr(e, "text", "next tuesday")),
    ],
)
def test_a_broken_b2mml_document_does_not_validate(tmp_path, xpath, change):
    schema = b2mml_schema()
    app, (variant,) = handed_off(tmp_path)
    content = documents(app, "summer")[f"HO-summer-V{variant.id}"]["b2mml"].content
    document = etree.fromstring(content)
    assert schema.validate(document)
    change(document.find(xpath, NS))
    assert not schema.validate(document)


# JSON and CSV -------------------------------------------------------------------------------------


def test_the_json_record_is_complete_and_carries_its_own_sha256(tmp_path):
    app, (variant,) = handed_off(tmp_path, settings={"spare_percent": 10, "max_lot_size": 50})
    docs = documents(app, "summer")["HO-summer-V1"]
    record = json.loads(docs["json"].content)
    rest = {k: v for k, v in record.items() if k != "sha256"}
    canonical = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert record["sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert record["schema"] == "c2m.handoff/1"
    assert record["handoff_id"] == "HO-summer-V1"
    assert record["campaign"]["slug"] == "summer"
    assert record["category"]["id"] == "tv"
    assert [(o["module"], o["option"]) for o in record["variant"]["options"]] == list(
        CINEMA_55.items()
    )
    assert record["quantity"] == {
        "confirmed": 150,
        "spare_percent": 10,
        "spare": 15,
        "total": 165,
        "unit": "EA",
    }
    assert sum(wo["quantity"] for wo in record["work_orders"]) == 165
    assert max(wo["quantity"] for wo in record["work_orders"]) <= 50
    assert record["due_date"] == "2026-11-14"  # 2 Nov + 10 d (panel) + 2 d (assembly)
    assert {line["part_number"] for line in record["bill_of_materials"]} >= {
        "LDR-PNL-55U",
        "LIC-DV",
    }
    assert record["spec_sheet"] == {
        "file": "HO-summer-V1.spec.html",
        "media_type": "text/html; charset=utf-8",
        "sha256": hashlib.sha256(docs["spec_sheet"].content).hexdigest(),
    }
    assert record["unit_price"] == {"amount": 129900 + 70000 + 60000 + 79900, "currency": "CNY"}


def test_csv_files_have_stable_ids_and_agree_with_the_record(tmp_path):
    app, _ = handed_off(tmp_path, settings={"max_lot_size": 40})
    docs = documents(app, "summer")["HO-summer-V1"]
    record = json.loads(docs["json"].content)
    orders = list(csv.DictReader(io.StringIO(docs["work_orders"].content.decode())))
    assert [row["work_order_id"] for row in orders] == [wo["id"] for wo in record["work_orders"]]
    assert sum(int(row["quantity"]) for row in orders) == 150
    bom = list(csv.DictReader(io.StringIO(docs["bom"].content.decode())))
    assert [row["bom_line_id"] for row in bom] == [
        f"HO-summer-V1:{line['part_number']}" for line in record["bill_of_materials"]
    ]
    assert all(int(row["total_quantity"]) == 150 * int(row["quantity_per_unit"]) for row in bom)
    again_app, _ = handed_off(tmp_path / "again", settings={"max_lot_size": 40})
    again = documents(again_app, "summer")["HO-summer-V1"]
    assert again["work_orders"].content == docs["work_orders"].content
    assert again["bom"].content == docs["bom"].content


# Spec sheets --------------------------------------------------------------------------------------


def test_a_category_without_a_spec_sheet_gets_the_core_default(tmp_path):
    tv = C2M(db_path=":memory:").category("tv").catalog
    plain = Catalog.from_dict(tv.to_dict() | {"category": tv.to_dict()["category"] | {"id": "tv2"}})

    class Plain:
        @hookimpl
        def register_categories(self):
            return [Category(plain)]

    app = C2M(db_path=tmp_path / "c2m.db", plugins=[Plain()], clock=Clock())
    app.campaigns.create("plain", "tv2", stages=["handoff"])
    variant = app.variants.add("plain", CINEMA_55)
    app.handoff.run("plain", [f"dir:{tmp_path / 'out'}"], demand=[demand(variant, eu=5)])
    sheet = (tmp_path / "out" / "HO-plain-V1.spec.html").read_text()
    assert "Production spec sheet HO-plain-V1" in sheet and "Power budget" not in sheet
    assert "LDR-PNL-55U" in sheet


def test_spec_sheet_context_keeps_the_plugin_kit_names(tmp_path):
    app = C2M(db_path=tmp_path / "c2m.db", clock=Clock())
    (variant,) = tv_campaign(app)
    (order,) = app.handoff.plan("summer", demand=[demand(variant, eu=2)])
    campaign = app.campaigns.get("summer")
    context = spec_sheet_context(campaign, app.campaigns.category(campaign), order)
    assert {"category", "catalog", "variant", "options", "price"} <= set(context)
    assert [(m.id, o.id) for m, o in context["options"]] == list(CINEMA_55.items())
    assert context["price"].format() == "CNY 3,398.00"
    assert context["totals"]["watts"] == 145


# Plugins replace the bill of materials ------------------------------------------------------------


def test_a_plugin_can_replace_the_bill_of_materials(tmp_path):
    class Kitting:
        @hookimpl
        def build_bill_of_materials(self, category, variant, parts):
            assert category.name == "tv" and variant.configuration == CINEMA_55
            return [*parts, Part("KIT-MANUAL-EU"), Part("LDR-PSU-250", 1)]

    app = C2M(db_path=tmp_path / "c2m.db", plugins=[Kitting()], clock=Clock())
    (variant,) = tv_campaign(app)
    (order,) = app.handoff.plan("summer", demand=[demand(variant, eu=10)])
    bom = {line.part_number: line for line in order.bom}
    assert bom["KIT-MANUAL-EU"].total == 10 and bom["KIT-MANUAL-EU"].lead_time_days is None
    assert bom["LDR-PSU-250"].per_unit == 2 and bom["LDR-PSU-250"].total == 20


def test_a_bill_of_materials_plugin_returning_nonsense_is_named(tmp_path):
    class Broken:
        @hookimpl
        def build_bill_of_materials(self):
            return [Part("X", 0)]

    app = C2M(db_path=tmp_path / "c2m.db", plugins=[Broken()], clock=Clock())
    (variant,) = tv_campaign(app)
    with pytest.raises(C2MError, match=r"build_bill_of_materials must return Part.*quantity=0"):
        app.handoff.plan("summer", demand=[demand(variant, eu=1)])


# Consumer text stays data -------------------------------------------------------------------------


def test_consumer_text_stays_inert_in_html_xml_csv_json_and_file_names(tmp_path):
    regions = {NASTY: 7, '=HYPERLINK("http://x")': 3, "eu/../../up": 2}
    app = C2M(db_path=tmp_path / "c2m.db", clock=Clock())
    app.campaigns.create("summer", "tv", title=NASTY, stages=["handoff"])
    variant = app.variants.add("summer", CINEMA_55, name=NASTY)
    out = tmp_path / "deep" / "out"
    app.handoff.run("summer", [f"dir:{out}"], demand=[demand(variant, **regions)])

    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".manifest.lock",
        *(f"HO-summer-V1.{s}" for s in ("b2mml.xml", "bom.csv", "json", "spec.html")),
        "HO-summer-V1.work-orders.csv",
        "manifest.json",
    ]
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file() and out not in p.parents) == [
        tmp_path / "c2m.db",
        *sorted(tmp_path.glob("c2m.db-*")),
    ]
    docs = {d.kind: d for d in app.handoff.documents("HO-summer-V1")}

    html = docs["spec_sheet"].content.decode()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html and "]]&gt;" in html

    document = etree.fromstring(docs["b2mml"].content)
    assert not document.findall(".//script") and not document.findall(".//b:script", NS)
    described = document.findtext(".//b:OperationsSchedule/b:Description", namespaces=NS)
    assert described == f"{NASTY}: {NASTY}"
    regions_in_xml = {
        p.findtext("b:Value/b:ValueString", namespaces=NS)
        for p in document.findall(".//b:SegmentParameter", NS)
        if p.findtext("b:ID", namespaces=NS) == "destination-region"
    }
    assert regions_in_xml == set(regions)

    rows = list(csv.DictReader(io.StringIO(docs["work_orders"].content.decode())))
    assert {row["region"] for row in rows} == {NASTY, '\'=HYPERLINK("http://x")', "eu/../../up"}
    assert {row["variant_name"] for row in rows} == {NASTY}
    assert all("/" not in row["work_order_id"] for row in rows)

    record = json.loads(docs["json"].content)
    assert record["campaign"]["title"] == NASTY and record["variant"]["name"] == NASTY
    assert {d["region"] for d in record["destinations"]} == set(regions)

    assert b2mml_schema().validate(document)  # last: it skips where the schemas are absent


def test_characters_xml_cannot_carry_are_replaced_not_fatal(tmp_path):
    app = C2M(db_path=tmp_path / "c2m.db", clock=Clock())
    app.campaigns.create("summer", "tv", stages=["handoff"])
    variant = app.variants.add("summer", CINEMA_55, name="bell\x07 and nul\x00")
    app.handoff.run("summer", [f"dir:{tmp_path}/out"], demand=[demand(variant, eu=1)])
    content = {d.kind: d for d in app.handoff.documents("HO-summer-V1")}["b2mml"].content
    document = etree.fromstring(content)
    assert document.findtext(".//b:MaterialRequirement/b:Description", namespaces=NS) == (
        "bell\ufffd and nul\ufffd"
    )
    assert b2mml_schema().validate(document)


def test_documents_are_the_same_bytes_for_the_same_campaign(tmp_path):
    one, _ = handed_off(tmp_path / "one", variants=(CINEMA_55, BIG_85))
    two, _ = handed_off(tmp_path / "two", variants=(CINEMA_55, BIG_85))
    assert {
        h: {k: d.sha256 for k, d in docs.items()} for h, docs in documents(one, "summer").items()
    } == {h: {k: d.sha256 for k, d in docs.items()} for h, docs in documents(two, "summer").items()}
    record = json.loads(documents(one, "summer")["HO-summer-V1"]["json"].content)
    assert (
        record["handed_off_at"] == "2026-11-02T09:30:00Z" == T0.isoformat().replace("+00:00", "Z")
    )
