"""Production planning: quantities, lots, ids, bill of materials, due dates (pure functions)."""

import collections
import datetime
import math
from fractions import Fraction

import pytest
from handoff_support import BIG_85, CINEMA_55, OLED_65, T0
from hypothesis import given, settings
from hypothesis import strategies as st

from c2m_core import C2M, InvalidInput
from c2m_core.catalog import Part
from c2m_core.handoff.plan import (
    DemandLine,
    PlanSettings,
    apportion,
    expand_bom,
    handoff_id,
    plan_order,
    region_token,
    spare_units,
    split_lots,
    warehouse_for,
    work_order_id,
)
from c2m_core.variants import Variant, variant_key


@pytest.fixture(scope="module")
def catalog():
    return C2M(db_path=":memory:").category("tv").catalog


def make_variant(catalog, configuration, variant_id=3):
    return Variant(
        id=variant_id,
        campaign_id=1,
        key=variant_key(catalog, configuration),
        name="test variant",
        configuration=configuration,
    )


regions = st.dictionaries(
    st.one_of(st.sampled_from(["default", "eu", "cn-east", "US"]), st.text(min_size=1)),
    st.integers(min_value=0, max_value=5000),
    min_size=1,
    max_size=6,
).filter(lambda d: sum(d.values()) > 0)


@given(st.integers(0, 100_000), st.integers(0, 5000))
def test_lots_add_up_never_exceed_the_line_and_are_fewest(quantity, max_lot):
    lots = split_lots(quantity, max_lot)
    assert sum(lots) == quantity
    assert all(lot > 0 for lot in lots)
    if max_lot:
        assert all(lot <= max_lot for lot in lots)
        assert len(lots) == math.ceil(quantity / max_lot)
    else:
        assert len(lots) == (1 if quantity else 0)
    if lots:
        assert max(lots) - min(lots) <= 1
    assert split_lots(quantity, max_lot) == lots


@given(st.integers(0, 10_000), st.lists(st.integers(0, 10_000), min_size=1, max_size=8))
def test_apportion_adds_up_and_stays_within_one_unit_of_the_quota(total, weights):
    shares = apportion(total, weights)
    whole = sum(weights)
    if whole == 0:
        assert shares == [0] * len(weights)
        return
    assert sum(shares) == total
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - Fraction(total * weight, whole)) < 1


@given(st.integers(0, 1_000_000), st.integers(0, 300))
def test_spare_is_the_percentage_rounded_up(confirmed, percent):
    assert spare_units(confirmed, percent) == math.ceil(Fraction(confirmed * percent, 100))


@settings(max_examples=60)
@given(
    by_region=regions,
    spare_percent=st.integers(0, 50),
    max_lot=st.integers(0, 700),
    variant_id=st.integers(1, 10_000),
)
def test_work_orders_add_up_exactly_with_deterministic_unique_ids(
    catalog, by_region, spare_percent, max_lot, variant_id
):
    variant = make_variant(catalog, CINEMA_55, variant_id)
    line = DemandLine(variant, sum(by_region.values()), by_region)
    plan = PlanSettings(spare_percent=spare_percent, max_lot_size=max_lot)
    order = plan_order("summer-2026", catalog, line, plan, T0)

    assert order.confirmed == line.quantity
    assert order.quantity == line.quantity + spare_units(line.quantity, spare_percent)
    assert sum(wo.quantity for wo in order.work_orders) == order.quantity
    assert all(0 < wo.quantity <= (max_lot or order.quantity) for wo in order.work_orders)
    for destination in order.destinations:
        assert destination.confirmed == by_region[destination.region]
        lots = [wo for wo in order.work_orders if wo.region == destination.region]
        assert sum(wo.quantity for wo in lots) == destination.quantity
        assert [wo.lot for wo in lots] == list(range(1, len(lots) + 1))
    ids = [wo.id for wo in order.work_orders]
    assert len(set(ids)) == len(ids)
    assert all("/" not in i and "\\" not in i and ".." not in i for i in ids)
    again = plan_order("summer-2026", catalog, line, plan, T0 + datetime.timedelta(days=3))
    assert [wo.id for wo in again.work_orders] == ids
    assert again.handoff_id == order.handoff_id == f"HO-summer-2026-V{variant_id}"


@given(st.lists(st.text(min_size=1, max_size=40), min_size=2, max_size=20, unique=True))
def test_region_tokens_never_collide_and_are_safe(names):
    tokens = [region_token(name) for name in names]
    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        assert token.replace("_", "").isalnum() and token.isascii()


def test_ids_separate_campaigns_whose_slugs_share_a_prefix():
    # "a-v1" is a valid slug; the upper-case V keeps campaign "a" variant 1 apart from it
    assert handoff_id("a", 1) != handoff_id("a-v1", 1)
    assert work_order_id(handoff_id("a", 12), "eu", 1) != work_order_id(
        handoff_id("a-1", 2), "eu", 1
    )
    assert work_order_id("HO-x-V1", "eu", 2) == "WO-x-V1-eu-L2"


@pytest.mark.parametrize("configuration", [CINEMA_55, OLED_65, BIG_85])
def test_bill_of_materials_matches_a_brute_force_count(catalog, configuration):
    variant = make_variant(catalog, configuration)
    order = plan_order("s", catalog, DemandLine(variant, 40, {"eu": 40}), PlanSettings(), T0)
    expected = collections.Counter()
    for module in catalog.modules:
        if module.id in configuration:
            for part in module.option(configuration[module.id]).parts:
                expected[part.number] += part.quantity
    assert {line.part_number: line.per_unit for line in order.bom} == dict(expected)
    assert all(line.total == line.per_unit * order.quantity for line in order.bom)


def test_parts_used_by_several_options_aggregate_with_their_sources(catalog):
    # flagship and essential never combine, so build the overlap by hand: two options, one part
    configuration = {"functions": "voice", "base": "feet"}
    parts = [Part("FN-BASE-01"), Part("MIC-FF-4"), Part("BS-FT-01", 2), Part("FN-BASE-01", 3)]
    bom = {line.part_number: line for line in expand_bom(catalog, configuration, parts, 10)}
    assert bom["FN-BASE-01"].per_unit == 4 and bom["FN-BASE-01"].total == 40
    assert bom["FN-BASE-01"].sources == ("functions.voice",)
    assert bom["BS-FT-01"].total == 20 and bom["BS-FT-01"].lead_time_days == 3
    extra = expand_bom(catalog, configuration, [Part("GLUE-7")], 5)[0]
    assert (extra.sources, extra.lead_time_days, extra.total) == ((), None, 5)


def test_due_date_is_longest_lead_time_plus_assembly_from_the_hand_off_date(catalog):
    variant = make_variant(catalog, BIG_85)  # 85" panel 18 d, mini-LED 12 d, the rest less
    late_evening = datetime.datetime(2026, 11, 2, 23, 59, tzinfo=datetime.UTC)
    order = plan_order(
        "s", catalog, DemandLine(variant, 5, {"eu": 5}), PlanSettings(assembly_days=3), late_evening
    )
    assert order.lead_time_days == 18
    assert order.due_date == datetime.date(2026, 11, 23)


def test_regions_go_to_their_warehouses_and_unmapped_ones_are_refused():
    warehouses = {"eu": "WH-EU", "default": "WH-CN"}
    assert warehouse_for("eu", warehouses) == "WH-EU"
    assert warehouse_for("jp", warehouses) == "WH-CN"
    assert warehouse_for("jp", {}) is None
    with pytest.raises(InvalidInput, match="region 'jp' has no warehouse.*'eu'"):
        warehouse_for("jp", {"eu": "WH-EU"})


def test_spare_units_are_shared_between_regions_and_follow_their_warehouse(catalog):
    variant = make_variant(catalog, CINEMA_55)
    line = DemandLine(variant, 1050, {"eu": 600, "default": 450})
    plan = PlanSettings(
        spare_percent=5, max_lot_size=400, warehouses={"eu": "WH-EU", "default": "WH-CN"}
    )
    order = plan_order("summer", catalog, line, plan, T0)
    assert order.spare == 53
    assert [(d.region, d.warehouse, d.confirmed, d.spare) for d in order.destinations] == [
        ("default", "WH-CN", 450, 23),
        ("eu", "WH-EU", 600, 30),
    ]
    assert [(wo.id, wo.warehouse, wo.quantity) for wo in order.work_orders] == [
        ("WO-summer-V3-default-L1", "WH-CN", 237),
        ("WO-summer-V3-default-L2", "WH-CN", 236),
        ("WO-summer-V3-eu-L1", "WH-EU", 315),
        ("WO-summer-V3-eu-L2", "WH-EU", 315),
    ]


@pytest.mark.parametrize(
    ("quantity", "by_region", "message"),
    [
        (10, {"eu": 4}, "adds up to 4 units but quantity is 10"),
        (0, {"eu": 0}, "demand quantity must be an integer of at least 1, got 0"),
        (3, {"eu": -1, "cn": 4}, r"by_region\['eu'\] must be an integer"),
        (3, {"": 3}, "region '' must be a non-empty string"),
        (3, {}, "by_region must be a non-empty mapping"),
    ],
)
def test_bad_demand_names_the_field(catalog, quantity, by_region, message):
    with pytest.raises(InvalidInput, match=message):
        DemandLine(make_variant(catalog, CINEMA_55), quantity, by_region)


def test_warehouses_setting_accepts_codes_only(tmp_path):
    app = C2M(db_path=tmp_path / "c2m.db")
    with pytest.raises(InvalidInput, match=r"warehouses: 'eu' -> '\.\./x' is not accepted"):
        app.campaigns.create("a", "tv", settings={"warehouses": {"eu": "../x"}})
    with pytest.raises(InvalidInput, match="warehouses"):
        app.campaigns.create("a", "tv", settings={"warehouses": "WH-EU"})
    campaign = app.campaigns.create("a", "tv", settings={"warehouses": {"<b>eu</b>": "WH-EU"}})
    assert PlanSettings.from_campaign(campaign).warehouses == {"<b>eu</b>": "WH-EU"}
    assert app.campaigns.configure("a", spare_percent=5).setting("spare_percent") == 5
    with pytest.raises(InvalidInput, match="max_lot_size: -1 is out of range"):
        app.campaigns.configure("a", max_lot_size=-1)
