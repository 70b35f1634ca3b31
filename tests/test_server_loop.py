"""The loop over HTTP: showcase, rewards, share codes and visits, feedback, forecast."""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("fastapi")

from loop_support import run_campaign  # noqa: E402

from c2m_core import C2M  # noqa: E402
from c2m_core.server import create_app  # noqa: E402
from c2m_core.server.tokens import create_token  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402


@pytest.fixture
def served(tmp_path, mini_catalog, category_plugin):
    app = C2M(tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog)])
    tokens = {s: create_token(app, s, [s])[0] for s in ("brand", "storefront", "read")}
    with TestClient(create_app(app, webhooks=False)) as client:

        def call(method, path, scope, json=None, **headers):
            headers["Authorization"] = f"Bearer {tokens[scope]}"
            return client.request(method, path, json=json, headers=headers)

        yield app, call
    app.close()


def test_the_loop_through_the_api(served, tmp_path):
    app, call = served
    seen = {}

    def share_and_pledge(app, variants):
        small, _ = variants
        response = call("POST", "/campaigns/c/share-codes", "storefront",
                        {"customer": "alice", "variant": small.id})  # fmt: skip
        assert response.status_code == 201
        code = response.json()["code"]
        again = call("POST", "/campaigns/c/share-codes", "storefront",
                     {"customer": "alice", "variant": small.id})  # fmt: skip
        assert again.json()["code"] == code  # one code per customer and variant
        assert call("POST", f"/share-codes/{code}/visits", "storefront", {}).status_code == 201
        assert call("POST", "/share-codes/nope/visits", "storefront", {}).status_code == 404
        body = {"variant": small.id, "customer": "hana", "quantity": 1, "share_code": code}
        response = call("POST", "/campaigns/c/pledges", "storefront", body,
                        **{"Idempotency-Key": "order-1"})  # fmt: skip
        assert response.status_code == 201, response.text
        seen["pledge"] = response.json()["id"]
        own = body | {"customer": "alice"}
        response = call("POST", "/campaigns/c/pledges", "storefront", own,
                        **{"Idempotency-Key": "order-2"})  # fmt: skip
        problem = response.json()
        assert response.status_code >= 400 and problem["field"] == "code"
        assert app.store.presale.pledge_by_key(small.campaign_id, "order-2") is None
        seen["funnel"] = call("GET", "/campaigns/c/sharing", "read").json()

    small, _ = run_campaign(
        app,
        tmp_path,
        rule={"kind": "fixed", "amount": 1000, "referral_per_unit": 50},
        before_close=share_and_pledge,
    )
    assert app.store.rewards.attribution(seen["pledge"]).referrer == "alice"
    assert seen["funnel"] == [
        {"variant_id": small.id, "shares": 1, "visits": 1, "pledges": 1, "units": 1}
    ]

    showcase = call("GET", "/campaigns/c/showcase?top=1", "storefront").json()
    assert [(s["variant_id"], s["units_pledged"]) for s in showcase] == [(small.id, 5)]
    assert showcase[0]["designers"][0] == {"customer": "alice", "units": 2}

    assert call("POST", "/campaigns/c/rewards/pay", "storefront").status_code == 403
    paid = call("POST", "/campaigns/c/rewards/pay", "brand")
    assert paid.status_code == 200 and paid.json()["paid_total"] == 1000 + 50
    assert call("POST", "/campaigns/c/rewards/pay", "brand").json()["recorded"] == 0  # once
    first = call("GET", "/campaigns/c/rewards?limit=2", "read").json()
    rest = call("GET", f"/campaigns/c/rewards?cursor={first['next_cursor']}", "read").json()
    ledger = first["items"] + rest["items"]
    assert [(r["recipient"], r["kind"], r["amount"]) for r in ledger] == [
        ("alice", "design", 667),
        ("bob", "design", 333),
        ("alice", "referral", 50),
    ]
    assert rest["next_cursor"] is None
    assert call("GET", "/campaigns/c/rewards?state=failed", "read").json()["items"] == []
    assert call("GET", "/campaigns/c/rewards", "storefront").status_code == 403

    text = "<b>The stand</b> is too low {{ 7*7 }}"
    response = call("POST", "/campaigns/c/feedback", "storefront",
                    {"variant": small.id, "customer": "erin", "text": text, "rating": 2,
                     "tags": ["delivery"]})  # fmt: skip
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["text"] == text and stored["department"] == "supply_chain"
    bad = call("POST", "/campaigns/c/feedback", "storefront",
               {"variant": small.id, "customer": "erin", "text": "x", "rating": 9})  # fmt: skip
    assert bad.status_code == 422 and "rating" in bad.json()["field"]
    wrong = call("POST", "/campaigns/c/feedback", "storefront",
                 {"variant": 999, "customer": "erin", "text": "late"})  # fmt: skip
    assert wrong.status_code == 422 and wrong.json()["field"] == "variant"
    listed = call("GET", "/campaigns/c/feedback?department=supply_chain", "read").json()
    assert [f["id"] for f in listed["items"]] == [stored["id"]]
    assert call("GET", "/campaigns/c/feedback?department=finance", "read").json()["items"] == []
    assert call("GET", "/campaigns/c/feedback/departments", "read").json() == {"supply_chain": 1}
    assert call("GET", "/campaigns/c/feedback", "storefront").status_code == 403

    forecast = call("GET", "/campaigns/c/forecast?level=0.9", "read").json()
    assert forecast == app.forecast.forecast("c", 0.9).to_dict()
    assert call("GET", "/campaigns/c/forecast?level=0.5", "read").status_code == 422
    assert call("GET", "/campaigns/nope/forecast", "read").status_code == 404


def test_feedback_and_share_codes_take_an_idempotency_key(served, tmp_path):
    app, call = served
    small, _ = run_campaign(app, tmp_path)
    body = {"variant": small.id, "customer": "erin", "text": "late"}
    first = call("POST", "/campaigns/c/feedback", "storefront", body, **{"Idempotency-Key": "f1"})
    again = call("POST", "/campaigns/c/feedback", "storefront", body, **{"Idempotency-Key": "f1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(app.feedback.list("c")) == 1
