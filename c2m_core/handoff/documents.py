"""The hand-off documents of one production order, rendered once and stored as bytes.

- ``<id>.json``: the canonical record (``SCHEMA``), with a sha256 of its own content.
- ``<id>.work-orders.csv`` and ``<id>.bom.csv``: stable id columns, so an ERP import upserts.
- ``<id>.b2mml.xml``: a B2MML V07 (ISA-95) ``ProcessOperationsSchedule``, ``OperationsType``
  Production, one ``OperationsRequest`` per work order. The Business To Manufacturing Markup
  Language (B2MML) is used courtesy of MESA International.
- ``<id>.spec.html``: the spec sheet, from the category's ``spec_sheet.html`` template (the
  core's default otherwise); see ``spec_sheet_context`` for the variables it gets.
- ``<id>.personalisation.csv`` (when the order has personalised units): one row per
  personalised unit and field, the work instructions; the same units are in the JSON record's
  work orders and in the B2MML as one ``SegmentParameter`` per unit. Images are delivered as
  ``<sha256>.<ext>`` files beside the documents (see ``HandoffService.documents``).

File names come from ids only. Text from consumers (region names, variant names, titles) is
data: JSON-encoded, CSV-quoted (and defused against spreadsheet formulas), XML- and HTML-escaped.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import NamedTuple, cast

from ..catalog import Module, Option
from ..money import Money
from .instructions import UnitInstruction, images
from .plan import ProductionOrder
from .records import Document

SCHEMA = "c2m.handoff/1"
SPEC_SHEET_TEMPLATE = "spec_sheet.html"
B2MML_NAMESPACE = "http://www.mesa.org/xml/B2MML"
B2MML_RELEASE = "V0701"
B2MML_ACKNOWLEDGEMENT = (
    "The Business To Manufacturing Markup Language (B2MML) is used courtesy of MESA International."
)
UNIT = "EA"

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ChosenOption(NamedTuple):
    """A module and the option the variant chose for it (unpacks as ``module, option``)."""

    module: Module
    option: Option


def file_names(handoff_id: str) -> dict[str, str]:
    """The file name of each document kind: built from the hand-off id only."""
    return {
        "json": f"{handoff_id}.json",
        "work_orders": f"{handoff_id}.work-orders.csv",
        "bom": f"{handoff_id}.bom.csv",
        "b2mml": f"{handoff_id}.b2mml.xml",
        "spec_sheet": f"{handoff_id}.spec.html",
        "personalisation": f"{handoff_id}.personalisation.csv",
    }


def build_documents(
    app, campaign, category, order: ProductionOrder, units: tuple[UnitInstruction, ...] = ()
) -> tuple[Document, ...]:
    """Render every document of ``order``; the JSON record comes first.

    ``units`` are the order's personalised units: the record (with a catalog that declares
    personalisation fields), the B2MML and a ``personalisation`` CSV (when there are any) carry
    them.
    """
    names = file_names(order.handoff_id)
    context = spec_sheet_context(campaign, category, order)
    html = app.jinja_environment(category).get_template(SPEC_SHEET_TEMPLATE).render(context)
    spec = Document("spec_sheet", names["spec_sheet"], "text/html; charset=utf-8", html.encode())
    record = handoff_record(campaign, category, order, spec, units)
    documents = [
        Document("json", names["json"], "application/json", json_bytes(record)),
        Document(
            "work_orders", names["work_orders"], "text/csv; charset=utf-8", work_orders_csv(order)
        ),
        Document("bom", names["bom"], "text/csv; charset=utf-8", bom_csv(order)),
        Document(
            "b2mml",
            names["b2mml"],
            "application/xml",
            b2mml_schedule(campaign, category, order, units),
        ),
        spec,
    ]
    if units:
        documents.append(
            Document(
                "personalisation",
                names["personalisation"],
                "text/csv; charset=utf-8",
                personalisation_csv(order, units),
            )
        )
    return tuple(documents)


# Spec sheet ---------------------------------------------------------------------------------------


def chosen_options(category, order: ProductionOrder) -> list[ChosenOption]:
    catalog = category.catalog
    return [ChosenOption(m, o) for m, o in catalog.chosen_options(order.variant.configuration)]


def unit_price(category, order: ProductionOrder) -> Money:
    """The price consumers paid, else the catalog price (base plus the options' deltas)."""
    if order.unit_price is not None:
        return order.unit_price
    catalog = category.catalog
    options = catalog.chosen_options(order.variant.configuration)
    return Money(catalog.base_price + sum(o.price for _, o in options), catalog.currency)


def spec_sheet_context(campaign, category, order: ProductionOrder) -> dict:
    """The variables a ``spec_sheet.html`` template gets (all of them, always):

    - ``category``: the ``Category`` (``name``, ``title``)
    - ``catalog``: the campaign's frozen ``Catalog`` (``rule(id)`` finds a limit, e.g. a budget)
    - ``campaign``: the ``Campaign`` (``slug``, ``title``, ``settings``)
    - ``variant``: the ``Variant`` (``id``, ``name``, ``key``, ``configuration``)
    - ``options``: ``ChosenOption(module, option)`` pairs in catalog order
    - ``totals``: each numeric attribute summed over the chosen options (``totals.watts``)
    - ``price``: the unit price as ``Money`` (what consumers paid, else the catalog price)
    - ``order``: the ``ProductionOrder`` (``handoff_id``, ``sku``, ``confirmed``, ``spare``,
      ``quantity``, ``destinations``, ``lead_time_days``, ``assembly_days``, ``handed_off_at``,
      ``due_date``)
    - ``bom``: the order's ``BomLine`` list (``part_number``, ``per_unit``, ``total``,
      ``lead_time_days``, ``sources``)
    - ``work_orders``: the order's ``WorkOrder`` list (``id``, ``region``, ``warehouse``, ``lot``,
      ``lots``, ``quantity``)
    """
    options = chosen_options(category, order)
    totals: dict[str, int | float] = {}
    for _, option in options:
        for name, value in option.attributes.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                totals[name] = totals.get(name, 0) + value
    return {
        "category": category,
        "catalog": category.catalog,
        "campaign": campaign,
        "variant": order.variant,
        "options": options,
        "totals": totals,
        "price": unit_price(category, order),
        "order": order,
        "bom": list(order.bom),
        "work_orders": list(order.work_orders),
    }


# JSON ---------------------------------------------------------------------------------------------


def canonical_json(data) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes the record's sha256 is taken over."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def json_bytes(data) -> bytes:
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def record_digest(record: Mapping) -> str:
    """The sha256 of a record without its ``sha256`` key, over ``canonical_json``."""
    return hashlib.sha256(
        canonical_json({k: v for k, v in record.items() if k != "sha256"})
    ).hexdigest()


def _time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _due_time(order: ProductionOrder) -> str:
    return f"{order.due_date.isoformat()}T23:59:59Z"


def handoff_record(
    campaign,
    category,
    order: ProductionOrder,
    spec_sheet: Document,
    units: tuple[UnitInstruction, ...] = (),
) -> dict:
    """The canonical record of a hand-off, with ``sha256`` = ``record_digest`` of the rest.

    With a catalog that declares personalisation fields, each work order lists its
    personalised ``units`` and ``personalisation`` lists the fields, the number of units and
    every image (delivered as ``file``, named by its sha256).
    """
    catalog = category.catalog
    price = unit_price(category, order)
    record = {
        "schema": SCHEMA,
        "handoff_id": order.handoff_id,
        "handed_off_at": _time(order.handed_off_at),
        "campaign": {"slug": campaign.slug, "title": campaign.title},
        "category": {
            "id": catalog.id,
            "title": catalog.title,
            "catalog_version": catalog.version,
            "catalog_digest": catalog.digest,
        },
        "variant": {
            "id": order.variant.id,
            "sku": order.sku,
            "key": order.variant.key,
            "name": order.variant.name,
            "options": [
                {
                    "module": module.id,
                    "module_title": module.title,
                    "option": option.id,
                    "title": option.title,
                    "lead_time_days": option.lead_time_days,
                    "attributes": dict(option.attributes),
                }
                for module, option in chosen_options(category, order)
            ],
        },
        "unit_price": {"amount": price.amount, "currency": price.currency},
        "quantity": {
            "confirmed": order.confirmed,
            "spare_percent": order.spare_percent,
            "spare": order.spare,
            "total": order.quantity,
            "unit": UNIT,
        },
        "destinations": [
            {
                "region": d.region,
                "warehouse": d.warehouse,
                "confirmed": d.confirmed,
                "spare": d.spare,
                "quantity": d.quantity,
            }
            for d in order.destinations
        ],
        "lead_time_days": order.lead_time_days,
        "assembly_days": order.assembly_days,
        "due_date": order.due_date.isoformat(),
        "bill_of_materials": [
            {
                "line_id": bom_line_id(order.handoff_id, line.part_number),
                "part_number": line.part_number,
                "per_unit": line.per_unit,
                "total": line.total,
                "unit": UNIT,
                "lead_time_days": line.lead_time_days,
                "sources": list(line.sources),
            }
            for line in order.bom
        ],
        "work_orders": [
            {
                "id": wo.id,
                "region": wo.region,
                "warehouse": wo.warehouse,
                "lot": wo.lot,
                "lots": wo.lots,
                "quantity": wo.quantity,
                "due_date": order.due_date.isoformat(),
            }
            for wo in order.work_orders
        ],
        "spec_sheet": {
            "file": spec_sheet.name,
            "media_type": spec_sheet.media_type,
            "sha256": spec_sheet.sha256,
        },
    }
    if catalog.personalisation:
        for work_order in cast(list, record["work_orders"]):
            work_order["units"] = [
                unit.to_dict() for unit in units if unit.work_order_id == work_order["id"]
            ]
        record["personalisation"] = {
            "fields": [field.to_dict() for field in catalog.personalisation],
            "units": len(units),
            "images": [
                {k: v for k, v in upload.to_dict().items() if k != "created_at"}
                for upload in images(units)
            ],
        }
    record["sha256"] = record_digest(record)
    return record


def bom_line_id(handoff_id: str, part_number: str) -> str:
    return f"{handoff_id}:{part_number}"


# CSV ----------------------------------------------------------------------------------------------


def _text_cell(text: str) -> str:
    """Consumer text as a CSV cell a spreadsheet shows, never runs (OWASP: prefix a quote)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv(header: list[str], rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def work_orders_csv(order: ProductionOrder) -> bytes:
    """One row per work order; ``work_order_id`` is the upsert key."""
    header = [
        "work_order_id",
        "handoff_id",
        "campaign",
        "sku",
        "variant_id",
        "variant_name",
        "region",
        "warehouse",
        "lot",
        "lots",
        "quantity",
        "unit",
        "due_date",
    ]
    rows = [
        [
            wo.id,
            order.handoff_id,
            order.campaign_slug,
            order.sku,
            order.variant.id,
            _text_cell(order.variant.name),
            _text_cell(wo.region),
            wo.warehouse or "",
            wo.lot,
            wo.lots,
            wo.quantity,
            UNIT,
            order.due_date.isoformat(),
        ]
        for wo in order.work_orders
    ]
    return _csv(header, rows)


def bom_csv(order: ProductionOrder) -> bytes:
    """One row per part number of the order; ``bom_line_id`` is the upsert key."""
    header = [
        "bom_line_id",
        "handoff_id",
        "sku",
        "part_number",
        "quantity_per_unit",
        "total_quantity",
        "unit",
        "lead_time_days",
        "sources",
    ]
    rows = [
        [
            bom_line_id(order.handoff_id, line.part_number),
            order.handoff_id,
            order.sku,
            line.part_number,
            line.per_unit,
            line.total,
            UNIT,
            "" if line.lead_time_days is None else line.lead_time_days,
            " ".join(line.sources),
        ]
        for line in order.bom
    ]
    return _csv(header, rows)


def personalisation_csv(order: ProductionOrder, units: tuple[UnitInstruction, ...]) -> bytes:
    """One row per personalised unit and field; ``instruction_id`` is the upsert key. Images
    are named by their sha256 (``image_file``), never by a name the customer chose."""
    header = [
        "instruction_id",
        "unit_id",
        "work_order_id",
        "handoff_id",
        "sku",
        "order_key",
        "unit",
        "field",
        "kind",
        "text",
        "image_file",
        "image_sha256",
        "media_type",
    ]
    rows = [
        [
            f"{unit.unit_id}:{value.field}",
            unit.unit_id,
            unit.work_order_id,
            order.handoff_id,
            order.sku,
            _text_cell(unit.order_key),
            unit.unit,
            value.field,
            value.kind,
            "" if value.text is None else _text_cell(value.text),
            value.image.file_name if value.image else "",
            value.image.sha256 if value.image else "",
            value.image.media_type if value.image else "",
        ]
        for unit in units
        for value in unit.values
    ]
    return _csv(header, rows)


# B2MML --------------------------------------------------------------------------------------------


def _xml_text(value) -> str:
    """Text XML 1.0 can carry: characters it forbids become U+FFFD."""
    return _NOT_XML.sub("\ufffd", str(value))


def _sub(parent: ET.Element, tag: str, text=None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = _xml_text(text)
    return element


def _parameter(parent: ET.Element, name: str, *values: str) -> None:
    parameter = _sub(parent, "SegmentParameter")
    _sub(parameter, "ID", name)
    for value in values:
        holder = _sub(parameter, "Value")
        _sub(holder, "ValueString", value)
        _sub(holder, "DataType", "string")


def _quantity(parent: ET.Element, units: int) -> None:
    quantity = _sub(parent, "Quantity")
    _sub(quantity, "QuantityString", units)
    _sub(quantity, "DataType", "integer")
    _sub(quantity, "UnitOfMeasure", UNIT)


def _unit_parameter(parent: ET.Element, unit: UnitInstruction) -> None:
    """A personalised unit as a ``SegmentParameter``: its id, and one ``ParameterChild`` per
    field (the text, or the image's file name; the field's title as description)."""
    parameter = _sub(parent, "SegmentParameter")
    _sub(parameter, "ID", unit.unit_id)
    _sub(parameter, "Description", f"personalised unit {unit.unit} of order {unit.order_key}")
    for value in unit.values:
        child = _sub(parameter, "ParameterChild")
        _sub(child, "ID", value.field)
        holder = _sub(child, "Value")
        _sub(holder, "ValueString", value.text if value.image is None else value.image.file_name)
        _sub(holder, "DataType", "string")
        described = value.title
        if value.image is not None:
            described += f" ({value.image.media_type}, sha256 {value.image.sha256})"
        _sub(child, "Description", described)


def b2mml_schedule(
    campaign, category, order: ProductionOrder, units: tuple[UnitInstruction, ...] = ()
) -> bytes:
    """A B2MML V07 ``ProcessOperationsSchedule`` for the order (UTF-8 XML bytes).

    One ``OperationsRequest`` per work order, each with one ``SegmentRequirement`` (assembly)
    holding the destination region and warehouse as ``SegmentParameter``s, the produced
    variant as a ``MaterialRequirement`` with ``MaterialUse`` Produced (its options as
    properties), and every part as a ``MaterialRequirement`` with ``MaterialUse`` Consumed.
    """
    start, due = _time(order.handed_off_at), _due_time(order)
    # Plain tags plus an explicit xmlns: ElementTree's default_namespace rejects the
    # unqualified releaseID attribute the schema requires.
    root = ET.Element(
        "ProcessOperationsSchedule", {"xmlns": B2MML_NAMESPACE, "releaseID": B2MML_RELEASE}
    )
    area = _sub(root, "ApplicationArea")
    sender = _sub(area, "Sender")
    _sub(sender, "LogicalID", "c2m")
    _sub(sender, "ComponentID", "c2m-handoff")
    _sub(area, "CreationDateTime", start)
    _sub(area, "BODID", order.handoff_id)
    data = _sub(root, "DataArea")
    _sub(data, "Process")
    schedule = _sub(data, "OperationsSchedule")
    _sub(schedule, "ID", order.handoff_id)
    _sub(schedule, "Description", f"{campaign.title}: {order.variant.name}")
    _sub(schedule, "PublishedDate", start)
    _sub(schedule, "StartTime", start)
    _sub(schedule, "EndTime", due)
    _sub(schedule, "OperationsType", "Production")
    _sub(schedule, "ScheduleState", "Released")
    options = chosen_options(category, order)
    for wo in order.work_orders:
        request = _sub(schedule, "OperationsRequest")
        _sub(request, "ID", wo.id)
        _sub(request, "Description", f"{order.sku} lot {wo.lot} of {wo.lots} for {wo.region}")
        _sub(request, "StartTime", start)
        _sub(request, "EndTime", due)
        _sub(request, "OperationsType", "Production")
        _sub(request, "RequestState", "Released")
        segment = _sub(request, "SegmentRequirement")
        _sub(segment, "ID", f"{wo.id}-assembly")
        _sub(segment, "EarliestStartTime", start)
        _sub(segment, "LatestEndTime", due)
        _sub(segment, "OperationsType", "Production")
        _sub(segment, "ProcessSegmentID", f"{category.name}-assembly")
        _sub(segment, "OperationsDefinitionID", order.sku)
        _sub(segment, "OperationsSegmentID", "assembly")
        _parameter(segment, "handoff-id", order.handoff_id)
        _parameter(segment, "destination-region", wo.region)
        if wo.warehouse:
            _parameter(segment, "destination-warehouse", wo.warehouse)
        for unit in units:
            if unit.work_order_id == wo.id:
                _unit_parameter(segment, unit)
        produced = _sub(segment, "MaterialRequirement")
        _sub(produced, "ID", f"{wo.id}-output")
        _sub(produced, "MaterialDefinitionID", order.sku)
        _sub(produced, "Description", order.variant.name)
        _sub(produced, "MaterialUse", "Produced")
        _quantity(produced, wo.quantity)
        for module, option in options:
            prop = _sub(produced, "MaterialRequirementProperty")
            _sub(prop, "ID", module.id)
            value = _sub(prop, "Value")
            _sub(value, "ValueString", option.id)
            _sub(value, "DataType", "string")
        for line in order.bom:
            consumed = _sub(segment, "MaterialRequirement")
            _sub(consumed, "ID", f"{wo.id}-{line.part_number}")
            _sub(consumed, "MaterialDefinitionID", line.part_number)
            _sub(consumed, "MaterialUse", "Consumed")
            _quantity(consumed, line.per_unit * wo.quantity)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<!-- {B2MML_ACKNOWLEDGEMENT} -->\n{body}\n'
    ).encode()
