"""``c2m handoff``: run, status, retry, plan and configure from the command line."""

import json

import pytest
from click.testing import CliRunner
from handoff_support import BIG_85, CINEMA_55, SECRET, Clock, Receiver, quick_retries, tv_campaign

from c2m_core import C2M
from c2m_core.cli import make_cli


@pytest.fixture
def setup(tmp_path):
    app = C2M(db_path=tmp_path / "c2m.db", clock=Clock())
    tv_campaign(app, variants=(CINEMA_55, BIG_85))
    demand = tmp_path / "demand.json"
    demand.write_text(
        json.dumps(
            [
                {"variant": 1, "by_region": {"eu": 30, "cn": 12}},
                {
                    "variant": 2,
                    "by_region": {"eu": 8},
                    "unit_price": {"amount": 1, "currency": "CNY"},
                },
            ]
        )
    )
    return app, demand, tmp_path


def invoke(app, *args):
    return CliRunner().invoke(make_cli(), list(args), obj=app, catch_exceptions=False)


def test_run_status_and_run_again(setup):
    app, demand, tmp_path = setup
    out = tmp_path / "out"
    assert "no hand-off recorded yet" in invoke(app, "handoff", "status", "summer").output
    result = invoke(
        app, "handoff", "run", "summer", "--yes", "--to", f"dir:{out}", "--demand", str(demand)
    )
    assert result.exit_code == 0, result.output
    assert "HO-summer-V1" in result.output and "delivered" in result.output
    assert len(list(out.glob("HO-summer-V*.json"))) == 2

    again = invoke(app, "handoff", "run", "summer", "--yes", "--to", f"dir:{out}")
    assert again.exit_code == 0 and again.output.count("delivered") == 2

    status = json.loads(invoke(app, "handoff", "status", "summer", "--json").output)
    assert status["state"] == "handoff"
    assert [(h["id"], h["quantity"]) for h in status["handoffs"]] == [
        ("HO-summer-V1", 42),
        ("HO-summer-V2", 8),
    ]
    assert [d["attempts"] for h in status["handoffs"] for d in h["deliveries"]] == [1, 1]
    record = json.loads((out / "HO-summer-V2.json").read_bytes())
    assert record["unit_price"] == {"amount": 1, "currency": "CNY"}


def test_undelivered_exits_1_and_retry_delivers(setup, monkeypatch):
    app, demand, _ = setup
    monkeypatch.setenv("C2M_WEBHOOK_SECRET", SECRET)
    quick_retries(app)
    with Receiver({"/hook": [400, 400]}) as receiver:
        target = f"webhook:{receiver.url()}"
        result = invoke(
            app, "handoff", "run", "summer", "--yes", "--to", target, "--demand", str(demand)
        )
        assert result.exit_code == 1
        assert "2 deliveries are not delivered (dead)" in result.output
        assert "c2m handoff retry summer" in result.output
        retried = invoke(app, "handoff", "retry", "summer")
        assert retried.exit_code == 0 and retried.output.count("delivered") == 2
        assert len(receiver.accepted) == 2


def test_bad_input_exits_2_naming_what_to_fix(setup):
    app, demand, tmp_path = setup
    unknown = invoke(
        app, "handoff", "run", "summer", "--yes", "--to", "ftp:x", "--demand", str(demand)
    )
    assert unknown.exit_code == 2 and "not one of: dir:PATH, webhook:URL" in unknown.output
    bad = tmp_path / "bad.json"
    bad.write_text('[{"variant": 1, "by_region": {"eu": -3}}]')
    result = invoke(
        app, "handoff", "run", "summer", "--yes", "--to", f"dir:{tmp_path}", "--demand", str(bad)
    )
    assert result.exit_code == 2 and "by_region['eu'] must be an integer" in result.output
    bad.write_text('[{"variant": 9, "by_region": {"eu": 3}}]')
    result = invoke(app, "handoff", "plan", "summer", "--demand", str(bad))
    assert result.exit_code == 2 and "has no variant 9" in result.output
    bad.write_text("[{")
    result = invoke(app, "handoff", "plan", "summer", "--demand", str(bad))
    assert result.exit_code == 2 and "not valid JSON" in result.output
    assert app.handoff.status("summer").handoffs == ()


def test_configure_then_plan_previews_without_recording(setup):
    app, demand, _ = setup
    result = invoke(
        app,
        "handoff",
        "configure",
        "summer",
        "--spare-percent",
        "10",
        "--max-lot-size",
        "20",
        "--warehouse",
        "eu=WH-EU",
        "--warehouse",
        "default=WH-CN",
    )
    assert result.exit_code == 0, result.output
    assert "warehouses    default=WH-CN eu=WH-EU" in result.output
    plan = json.loads(
        invoke(app, "handoff", "plan", "summer", "--demand", str(demand), "--json").output
    )
    assert [(p["handoff_id"], p["quantity"]) for p in plan] == [
        ("HO-summer-V1", 47),
        ("HO-summer-V2", 9),
    ]
    assert plan[0]["work_orders"] == [
        ["WO-summer-V1-cn-L1", "WH-CN", 13],  # 12 + 1 of the 5 spare (10% of 42, rounded up)
        ["WO-summer-V1-eu-L1", "WH-EU", 17],  # 30 + 4 spare, in lots of at most 20
        ["WO-summer-V1-eu-L2", "WH-EU", 17],
    ]
    table = invoke(app, "handoff", "plan", "summer", "--demand", str(demand)).output
    assert "WO-summer-V2-eu-L1" in table
    assert app.handoff.status("summer").handoffs == ()
    bad = invoke(app, "handoff", "configure", "summer", "--warehouse", "eu")
    assert bad.exit_code == 2 and "REGION=CODE" in bad.output
