"""The pages over HTTP without a browser: consumer tokens from the API (expiry, campaign,
tampering), settling pre-sales, ``--demo-login`` only on loopback, CSRF, the ``default:``
template prefix, and page handlers off the event loop."""

from __future__ import annotations

import base64
import datetime
import json
import re
import threading
import warnings

import pytest

pytest.importorskip("fastapi")

from click.testing import CliRunner  # noqa: E402

from c2m_core import C2M  # noqa: E402
from c2m_core.campaigns.service import CampaignService  # noqa: E402
from c2m_core.cli import make_cli  # noqa: E402
from c2m_core.money import format_minor  # noqa: E402
from c2m_core.server import create_app  # noqa: E402
from c2m_core.server.tokens import create_token  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402

START = datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.UTC)
#: Loopback, so the pages' cookies are not marked Secure and the test client sends them back.
BASE = "http://127.0.0.1"


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += datetime.timedelta(**delta)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_site(tmp_path, clock):
    made = []

    def make(**options):
        app = C2M(tmp_path / f"c2m-{len(made)}.db", clock=clock)
        for slug in ("tv1", "tv2"):
            app.campaigns.create(slug, "tv", title=f"TV {slug}")
            app.campaigns.advance(slug)
        tokens = {s: create_token(app, s, [s])[0] for s in ("brand", "storefront", "read")}
        client = TestClient(create_app(app, webhooks=False, **options), base_url=BASE)
        client.__enter__()
        made.append((client, app))
        return client, app, tokens

    yield make
    for client, app in made:
        client.__exit__(None, None, None)
        app.close()


@pytest.fixture
def site(make_site):
    return make_site()


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def csrf_of(client, path="/c/tv1/configure") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def issue(client, tokens, slug="tv1", customer="shop-42", ttl=60, scope="storefront"):
    return client.post(
        f"/campaigns/{slug}/consumer-tokens",
        json={"customer": customer, "ttl_seconds": ttl},
        headers=auth(tokens[scope]),
    )


def post_wish(client, slug="tv1", note="hello", csrf=None):
    form = {"note": note, "quantity": "1", "cfg.size": "55-lcd"}
    if csrf is not None:
        form["csrf"] = csrf
    return client.post(f"/c/{slug}/wish", data=form, follow_redirects=False)


def stored_wishes(app, slug="tv1"):
    campaign = app.campaigns.get(slug)
    return [
        {"customer": w.customer, "note": w.note} for w in app.store.wishes.after(campaign.id, 0)
    ]


# Consumer tokens ------------------------------------------------------------------------------


def test_consumer_token_signs_the_customer_in_and_their_wish_is_theirs(site):
    client, app, tokens = site
    issued = issue(client, tokens)
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["campaign"] == "tv1" and body["customer"] == "shop-42"
    assert body["expires_in"] == 60
    signin = client.get(body["signin_path"], follow_redirects=False)
    assert signin.status_code == 303 and signin.headers["location"] == "/c/tv1"
    assert "c2m_consumer" in signin.headers["set-cookie"]
    assert "httponly" in signin.headers["set-cookie"].lower()
    page = client.get("/c/tv1/configure")
    assert "shop-42" in page.text
    assert post_wish(client, csrf=csrf_of(client)).status_code == 200
    assert [w["customer"] for w in stored_wishes(app)] == ["shop-42"]


def test_consumer_tokens_need_a_storefront_or_brand_token_and_a_sane_lifetime(site):
    client, _, tokens = site
    assert issue(client, tokens, scope="read").status_code == 403
    assert issue(client, tokens, scope="brand").status_code == 201
    assert client.post("/campaigns/tv1/consumer-tokens", json={"customer": "x"}).status_code == 401
    too_long = issue(client, tokens, ttl=10 * 24 * 3600)
    assert too_long.status_code == 422 and "ttl_seconds" in too_long.text
    assert issue(client, tokens, slug="nope").status_code == 404


def test_an_expired_token_is_refused_and_its_cookie_stops_working(site, clock):
    client, app, tokens = site
    path = issue(client, tokens, ttl=60).json()["signin_path"]
    assert client.get(path, follow_redirects=False).status_code == 303
    csrf = csrf_of(client)
    clock.advance(seconds=61)
    refused = client.get(path, follow_redirects=False)
    assert refused.status_code == 403 and "expired" in refused.text
    # The cookie set before carries the same expired token: the pages no longer act for it.
    assert post_wish(client, csrf=csrf).status_code == 401
    assert stored_wishes(app) == []


def test_a_token_for_another_campaign_is_refused(site):
    client, app, tokens = site
    path = issue(client, tokens, slug="tv2").json()["signin_path"]
    other = path.replace("/c/tv2/", "/c/tv1/")
    refused = client.get(other, follow_redirects=False)
    assert refused.status_code == 403 and "c2m_consumer" not in refused.headers.get(
        "set-cookie", ""
    )
    # Signed in on tv2, the same browser is not signed in on tv1.
    assert client.get(path, follow_redirects=False).status_code == 303
    assert post_wish(client, csrf=csrf_of(client)).status_code == 401
    assert (
        post_wish(client, slug="tv2", csrf=csrf_of(client, "/c/tv2/configure")).status_code == 200
    )
    assert stored_wishes(app) == [] and len(stored_wishes(app, "tv2")) == 1


def _retarget(token: str, **changes) -> str:
    body, mac = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    data.update(changes)
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + mac


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: _retarget(t, u="someone-else"),
        lambda t: _retarget(t, c="tv2"),
        lambda t: _retarget(t, x=t and 4102444800),
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t.split(".")[0],
        lambda t: "",
    ],
    ids=["customer", "campaign", "expiry", "mac", "no-mac", "empty"],
)
def test_a_tampered_token_is_refused_and_sets_no_cookie(site, tamper):
    client, app, tokens = site
    token = issue(client, tokens).json()["token"]
    slug = "tv2" if "tv2" in str(tamper(token)) else "tv1"
    refused = client.get(f"/c/{slug}/signin", params={"token": tamper(token)})
    assert refused.status_code == 403
    assert "c2m_consumer" not in refused.headers.get("set-cookie", "")
    # Even planted as the cookie, a tampered token signs no one in.
    client.cookies.set("c2m_consumer", tamper(token))
    assert (
        post_wish(client, slug=slug, csrf=csrf_of(client, f"/c/{slug}/configure")).status_code
        == 401
    )
    assert stored_wishes(app, slug) == []


# Settling pre-sales ---------------------------------------------------------------------------


def _selling(app, slug):
    app.campaigns.create(slug, "tv", title=slug, stages=("presale",))
    for configuration in app.engine("tv").sample(2, seed=3):
        app.variants.add(slug, configuration)
    while app.campaigns.get(slug).state != "presale":
        app.campaigns.advance(slug)
    app.presale.open(slug, "2d", threshold=1_000)


def test_settle_closes_a_presale_past_its_deadline_once(site, clock):
    client, app, tokens = site
    _selling(app, "ps1")
    _selling(app, "ps2")
    route = "/campaigns/ps1/presale/settle"
    assert client.post(route, headers=auth(tokens["storefront"])).status_code == 403
    early = client.post(route, headers=auth(tokens["brand"]))
    assert early.status_code == 200 and early.json() == {"closed": []}
    assert app.presale.get("ps1").state == "open"
    clock.advance(days=2, seconds=1)
    assert client.post(route, headers=auth(tokens["brand"])).json() == {"closed": ["ps1"]}
    assert app.presale.get("ps1").state != "open"
    assert app.presale.get("ps2").state == "open"  # only the campaign named
    assert client.post(route, headers=auth(tokens["brand"])).json() == {"closed": []}
    assert client.post("/settle", headers=auth(tokens["read"])).status_code == 403
    assert client.post("/settle", headers=auth(tokens["brand"])).json() == {"closed": ["ps2"]}
    assert client.post("/settle", headers=auth(tokens["brand"])).json() == {"closed": []}
    assert app.presale.get("ps2").state != "open"


# --demo-login ---------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "example.com", "::"])
def test_serve_demo_login_refuses_a_non_loopback_host(tmp_path, monkeypatch, host):
    import uvicorn

    from c2m_core.app import DB_ENV
    from c2m_core.server.asgi import DEMO_LOGIN_ENV, TEMPLATES_ENV

    for name in (DB_ENV, DEMO_LOGIN_ENV, TEMPLATES_ENV):  # serve sets these for its workers
        monkeypatch.setenv(name, "")
    started = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append(k))
    result = CliRunner().invoke(
        make_cli(), ["--db", str(tmp_path / "c.db"), "serve", "--host", host, "--demo-login"]
    )
    assert result.exit_code != 0 and started == []
    assert "--demo-login" in result.output and "loopback" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_serve_demo_login_starts_on_loopback(tmp_path, monkeypatch, host):
    import uvicorn

    from c2m_core.app import DB_ENV
    from c2m_core.server.asgi import DEMO_LOGIN_ENV, TEMPLATES_ENV

    for name in (DB_ENV, DEMO_LOGIN_ENV, TEMPLATES_ENV):  # serve sets these for its workers
        monkeypatch.setenv(name, "")
    started = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append(k))
    result = CliRunner().invoke(
        make_cli(), ["--db", str(tmp_path / "c.db"), "serve", "--host", host, "--demo-login"]
    )
    assert result.exit_code == 0, result.output
    assert [k["host"] for k in started] == [host]


def test_without_demo_login_the_pages_offer_no_name_sign_in(site):
    client, app, _ = site
    page = client.get("/c/tv1/configure")
    assert 'id="demo-name"' not in page.text
    refused = client.post("/c/tv1/demo-login", data={"name": "mallory", "csrf": csrf_of(client)})
    assert refused.status_code == 404
    assert "c2m_consumer" not in refused.headers.get("set-cookie", "")


# CSRF -----------------------------------------------------------------------------------------


def _signed_in(client, tokens, slug="tv1"):
    client.get(issue(client, tokens, slug=slug).json()["signin_path"])


@pytest.mark.parametrize("which", ["missing", "garbage", "another-browser", "expired"])
def test_a_form_without_its_csrf_token_changes_nothing(site, clock, which):
    client, app, tokens = site
    _signed_in(client, tokens)
    mine = csrf_of(client)
    if which == "missing":
        token = None
    elif which == "garbage":
        token = "not-a-token"
    elif which == "another-browser":
        with TestClient(client.app, base_url=BASE) as other:
            token = csrf_of(other)
    else:
        token = mine
        clock.advance(hours=13)
        _signed_in(client, tokens)
    refused = post_wish(client, csrf=token)
    assert refused.status_code == 403 and "reload" in refused.text
    assert stored_wishes(app) == []
    if which != "expired":
        assert post_wish(client, csrf=mine).status_code == 200
        assert len(stored_wishes(app)) == 1


def test_dashboard_actions_without_csrf_change_nothing(site):
    client, app, tokens = site
    signin = client.post(
        "/dashboard/signin", data={"token": tokens["brand"], "csrf": csrf_of(client, "/dashboard")}
    )
    assert signin.status_code == 200
    for token in (None, "forged"):
        data = {"action": "advance", "confirm": "yes"}
        if token:
            data["csrf"] = token
        assert client.post("/dashboard/tv1/action", data=data).status_code == 403
    assert app.campaigns.get("tv1").state == "wishes"
    # The brand's sign-in form is protected too: no session without the token.
    with TestClient(client.app, base_url=BASE) as other:
        assert other.post("/dashboard/signin", data={"token": tokens["brand"]}).status_code == 403
        assert "c2m_brand" not in other.cookies


# Templates ------------------------------------------------------------------------------------


def test_a_brand_template_extends_the_default_page_with_the_default_prefix(make_site, tmp_path):
    folder = tmp_path / "brand"
    (folder / "pages").mkdir(parents=True)
    (folder / "pages" / "configure.html").write_text(
        '{% extends "default:pages/configure.html" %}'
        "{% block title %}Acme · {{ super() }}{% endblock %}"
        '{% block main %}<p id="acme-banner">Acme TVs</p>{{ super() }}{% endblock %}',
        encoding="utf-8",
    )
    client, app, _ = make_site(templates=folder)
    page = client.get("/c/tv1/configure")
    assert page.status_code == 200, page.text
    assert '<p id="acme-banner">Acme TVs</p>' in page.text
    assert re.search(r"<title>Acme · TV tv1", page.text)
    assert 'id="configurator"' in page.text  # the default page's body is still there
    # Pages the brand did not override are the defaults.
    assert "acme-banner" not in client.get("/dashboard").text


# The event loop -------------------------------------------------------------------------------


def test_a_slow_page_does_not_hold_up_other_requests(site, monkeypatch):
    client, app, _ = site
    entered, release = threading.Event(), threading.Event()
    seen = []
    original = CampaignService.get

    def slow_get(self, slug):
        if slug == "tv2":
            seen.append((threading.get_ident(), self.app))
            entered.set()
            release.wait(60)  # a safety valve: the assertions below fail if it is needed
        return original(self, slug)

    monkeypatch.setattr(CampaignService, "get", slow_get)
    results = {}
    slow = threading.Thread(
        target=lambda: results.setdefault("slow", client.get("/c/tv2/configure"))
    )
    slow.start()
    try:
        assert entered.wait(60), "the slow page never started"
        fast = client.get("/c/tv1/configure")
        assert fast.status_code == 200
        # The other page was served while the slow one was still blocked.
        assert not release.is_set() and slow.is_alive()
    finally:
        release.set()
        slow.join(60)
    assert results["slow"].status_code == 200
    # The page ran on a worker thread's own copy of the app, not the loaded one.
    (ident, used), *_ = seen
    assert used is not app and ident != threading.get_ident()


# Consumer text on the dashboard -----------------------------------------------------------------

HOSTILE = "<script>alert(1)</script> {{ 7*7 }} \u202eevil"


@pytest.mark.parametrize("accept", ["en-US,en;q=0.9", "zh-CN,zh;q=0.9"])
def test_the_dashboard_lists_recent_wishes_with_consumer_text_inert(site, accept):
    client, app, tokens = site
    client.headers["Accept-Language"] = accept
    path = issue(client, tokens, customer=HOSTILE).json()["signin_path"]
    client.get(path)
    assert post_wish(client, note=HOSTILE, csrf=csrf_of(client)).status_code == 200
    client.post(
        "/dashboard/signin", data={"token": tokens["brand"], "csrf": csrf_of(client, "/dashboard")}
    )
    page = client.get("/dashboard/tv1")
    assert page.status_code == 200
    assert page.headers["content-language"] == accept[:2]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    section = page.text.split('id="recent-wishes"')[1].split("</section>")[0]
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }} \u202eevil"
    # Customer and note, each escaped, and each isolated so the override cannot flip the row.
    assert section.count(f"<bdi>{escaped}</bdi>") == 2
    assert "<script>alert" not in page.text and "49" not in section
    assert ("最新愿望" in section) == accept.startswith("zh")


# Multi-select modules ---------------------------------------------------------------------------


def test_a_multi_select_module_is_checkboxes_priced_per_pack_and_wished_as_a_set(site):
    client, app, tokens = site
    app.campaigns.create("fridge1", "fridge", title="Fridge")
    app.campaigns.advance("fridge1")
    campaign = app.campaigns.get("fridge1")
    catalog = app.campaigns.catalog(campaign)
    picked = {"cfg.layout": "french-door", "cfg.functions": ["sterilizer", "fast-freeze"]}
    page = client.get("/c/fridge1/configure", params=picked)
    assert page.status_code == 200, page.text
    for option in catalog.module("functions").options:
        box = re.search(rf'<input type="checkbox" id="opt-functions-{option.id}"[^>]*>', page.text)
        assert box is not None, option.id
        assert ("checked" in box.group(0)) == (option.id in ("sterilizer", "fast-freeze"))
    chosen = {"layout": "french-door", "functions": ("fast-freeze", "sterilizer")}
    price = catalog.base_price + sum(o.price for _, o in catalog.chosen_options(chosen))
    assert (
        f'<span id="price">{campaign.currency} {format_minor(price, campaign.currency)}'
        in page.text
    )

    client.get(issue(client, tokens, slug="fridge1").json()["signin_path"])
    form = dict(picked, note="", quantity="1", csrf=csrf_of(client, "/c/fridge1/configure"))
    posted = client.post("/c/fridge1/wish", data=form, follow_redirects=False)
    assert posted.status_code == 200, posted.text
    (wish,) = app.store.wishes.after(campaign.id, 0)
    assert wish.configuration["functions"] == ("fast-freeze", "sterilizer")
