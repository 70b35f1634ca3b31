"""The HTTP API in process: plugins' routes (``register_routes``), tokens from the command
line, the in-flight ``Idempotency-Key`` answer, and the OpenAPI document."""

from __future__ import annotations

import json
import warnings

import pytest

pytest.importorskip("fastapi")

from click.testing import CliRunner  # noqa: E402

from c2m_core import C2M, NotFound, hookimpl  # noqa: E402
from c2m_core.cli import make_cli  # noqa: E402
from c2m_core.server import Route, create_app  # noqa: E402
from c2m_core.server.tokens import create_token, verify_token  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402


def energy_label(app, request):
    campaign = app.campaigns.get(request.path_params["slug"])
    if request.query.get("fail"):
        raise NotFound("no label yet", field="slug", value=campaign.slug)
    return {"campaign": campaign.slug, "label": "A", "token": request.token}


def note(app, request):
    return 201, {"noted": request.body, "scopes": list(request.scopes)}


class LabelPlugin:
    @hookimpl
    def register_routes(self, app):
        return [
            Route("GET", "/labels/{slug}", energy_label, scopes=("brand", "read"), summary="A"),
            Route("POST", "/notes", note, scopes=("storefront",)),
        ]


@pytest.fixture
def served(db_target):
    """The API over a fresh database of each backend (the server's tables, secrets included)."""
    app = C2M(db_target, plugins=[LabelPlugin()])
    tokens = {s: create_token(app, s, [s])[0] for s in ("brand", "storefront", "read")}
    app.campaigns.create("tv26", "tv")
    with TestClient(create_app(app, webhooks=False)) as client:
        yield client, tokens, app
    app.close()


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_register_routes_serves_plugin_routes_with_scopes_and_problems(served):
    client, tokens, _ = served
    answer = client.get("/plugins/labels/tv26", headers=auth(tokens["read"]))
    assert answer.json() == {"campaign": "tv26", "label": "A", "token": "read"}
    assert client.get("/plugins/labels/tv26").status_code == 401
    assert client.get("/plugins/labels/tv26", headers=auth(tokens["storefront"])).status_code == 403
    missing = client.get("/plugins/labels/nope", headers=auth(tokens["brand"]))
    assert missing.status_code == 404 and missing.json()["field"] == "campaign"
    failed = client.get("/plugins/labels/tv26?fail=1", headers=auth(tokens["brand"]))
    assert (failed.status_code, failed.json()["detail"]) == (404, "no label yet")
    posted = client.post("/plugins/notes", json={"a": 1}, headers=auth(tokens["storefront"]))
    assert (posted.status_code, posted.json()) == (
        201,
        {"noted": {"a": 1}, "scopes": ["storefront"]},
    )
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/plugins/labels/{slug}"]["get"]["x-c2m-scopes"] == ["brand", "read"]


def test_creating_a_campaign_whose_slug_is_taken_is_a_409_naming_the_slug(served):
    client, tokens, app = served
    answer = client.post(
        "/campaigns",
        json={"slug": "tv26", "category": "tv", "title": "Again"},
        headers={**auth(tokens["brand"]), "Idempotency-Key": "again"},
    )
    assert answer.status_code == 409
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert (answer.json()["field"], answer.json()["value"]) == ("slug", "tv26")
    assert [c.title for c in app.campaigns.list()] == ["tv26"]


def test_a_request_in_flight_with_the_same_key_gets_409_and_retry_after(served):
    client, tokens, app = served
    body = {"slug": "tv27", "category": "tv"}
    # Another worker is processing this very request right now.
    services = client.app.state.c2m
    token = verify_token(app, tokens["brand"])
    assert services.claim(token, "k-1", "POST", "/campaigns", json.dumps(body).encode()) is None
    answer = client.post(
        "/campaigns",
        content=json.dumps(body),
        headers=auth(tokens["brand"]) | {"Idempotency-Key": "k-1"},
    )
    assert answer.status_code == 409 and answer.headers["Retry-After"] == "1"
    assert answer.headers["Content-Type"] == "application/problem+json"
    with pytest.raises(NotFound):
        app.campaigns.get("tv27")


def test_token_commands_create_list_and_revoke(db_target, served):
    client, _, _ = served
    db = str(db_target)
    runner = CliRunner()
    made = runner.invoke(
        make_cli(), ["--db", db, "token", "create", "shop", "--scope", "storefront"]
    )
    assert made.exit_code == 0, made.output
    text = made.stdout.strip()
    assert text.startswith("c2m_")
    listed = runner.invoke(make_cli(), ["--db", db, "token", "list", "--json"])
    assert text not in listed.output and '"storefront"' in listed.output
    assert client.get("/campaigns", headers=auth(text)).status_code == 200
    token_id = next(t.id for t in [*_tokens(db)] if t.name == "shop")
    revoked = runner.invoke(make_cli(), ["--db", db, "token", "revoke", str(token_id)])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/campaigns", headers=auth(text)).status_code == 401
    bad = runner.invoke(make_cli(), ["--db", db, "token", "create", "x", "--scope", "admin"])
    assert bad.exit_code == 2 and "brand" in bad.output
    with C2M(db) as app:
        assert all(text not in str(row) for row in app.store.server.tokens())  # only a hash


def _tokens(db):
    from c2m_core.server.tokens import list_tokens

    with C2M(db) as app:
        return list_tokens(app)
