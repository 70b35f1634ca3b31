"""The routes of the consumer pages (``/c/{slug}/...``) and the brand dashboard (``/dashboard``)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import attrs
import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from ...catalog import Choice
from ...errors import C2MError
from ...money import format_minor
from ...presale.pricing import catalog_price
from ...templating import core_templates_dir
from ..scopes import BRAND
from ..tokens import verify_token
from . import security
from .i18n import language, translator

STATIC_DIR = Path(__file__).resolve().parent / "static"
CONSUMER_COOKIE = "c2m_consumer"
BRAND_COOKIE = "c2m_brand"
CSRF_COOKIE = "c2m_csrf"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
#: The dashboard embeds the report, whose styles are inline; scripts stay forbidden.
DASHBOARD_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
CONFIG_PREFIX = "cfg."
COUNT_LIMIT = 200_000
#: How many of the latest wishes the dashboard lists.
RECENT_WISHES = 10


@attrs.frozen
class PagesConfig:
    """How the pages are served: a brand's template folder, the demo sign-in."""

    templates: Path | None = None
    demo_login: bool = False


class Pages:
    """What every page handler shares: the template environments and the signer."""

    def __init__(self, services, config: PagesConfig):
        self.services = services
        self.config = config
        self._envs: dict[str | None, jinja2.Environment] = {}
        self._signer: security.Signer | None = None

    def signer(self) -> security.Signer:
        if self._signer is None:
            self._signer = security.signer_for(self.services.app())
        return self._signer

    def env(self, app, category=None) -> jinja2.Environment:
        key = category.name if category is not None else None
        env = self._envs.get(key)
        if env is None:
            core = jinja2.FileSystemLoader(str(core_templates_dir()))
            loaders: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({"default": core}, ":")]
            if self.config.templates is not None:
                loaders.append(jinja2.FileSystemLoader(str(self.config.templates)))
            if category is not None and category.templates is not None:
                loaders.append(jinja2.FileSystemLoader(str(category.templates)))
            loaders.append(core)
            env = jinja2.Environment(
                loader=jinja2.ChoiceLoader(loaders),
                autoescape=True,
                undefined=jinja2.StrictUndefined,
            )
            app.pm.hook.prepare_jinja2_environment(env=env, app=app)
            env.filters["minor"] = _minor
            self._envs[key] = env
        return env


def _minor(value, currency: str | None = None) -> str:
    """``{{ 499900|minor("CNY") }}`` or ``{{ money|minor }}`` -> ``4,999.00``."""
    amount = getattr(value, "amount", value)
    return format_minor(amount, str(getattr(value, "currency", currency)))


def _pages(request: Request) -> Pages:
    return request.app.state.pages


class _View:
    """One request's page context: language, identity, CSRF cookie, rendering."""

    def __init__(self, request: Request, slug: str | None = None):
        self.request = request
        self.pages = _pages(request)
        self.app = self.pages.services.app()
        self.signer = self.pages.signer()
        self.lang = language(request.headers.get("accept-language"))
        self.t = translator(self.lang)
        self.slug = slug
        self.csrf_cookie = request.cookies.get(CSRF_COOKIE)
        self.new_csrf = None
        if not self.csrf_cookie:
            self.csrf_cookie = self.new_csrf = secrets.token_urlsafe(24)
        self.htmx = request.headers.get("hx-request") == "true"

    @property
    def secure(self) -> bool:
        host = self.request.url.hostname or ""
        return self.request.url.scheme == "https" or not security.is_loopback(host)

    def customer(self) -> str | None:
        data = self.signer.verify("consumer", self.request.cookies.get(CONSUMER_COOKIE))
        if data is None or data.get("c") != self.slug:
            return None
        return data["u"]

    def brand(self):
        data = self.signer.verify("brand", self.request.cookies.get(BRAND_COOKIE))
        if data is None:
            return None
        live = [t for t in self.app.store.server.tokens() if t["id"] == data.get("t")]
        return live[0] if live and live[0]["revoked_at"] is None else None

    def check_csrf(self, form: Mapping) -> None:
        if not security.csrf_ok(
            self.signer, self.request.cookies.get(CSRF_COOKIE), form.get("csrf")
        ):
            raise _Refused(
                403, "the form has expired or did not come from this site; reload the page"
            )

    def render(self, name: str, code: int = 200, csp: str = CSP, **context) -> HTMLResponse:
        category = context.get("category")
        env = self.pages.env(self.app, category)
        base = {
            "t": self.t,
            "lang": self.lang,
            "csrf": security.csrf_token(self.signer, self.csrf_cookie or ""),
            "demo_login": self.pages.config.demo_login,
            "htmx": self.htmx,
            "slug": self.slug,
        }
        html = env.get_template(name).render(base | context)
        response = HTMLResponse(html, status_code=code)
        self.finish(response, csp)
        return response

    def finish(self, response: Response, csp: str = CSP) -> Response:
        response.headers["Content-Security-Policy"] = csp
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Language"] = self.lang
        response.headers["Vary"] = "Accept-Language, Cookie, HX-Request"
        response.headers["Cache-Control"] = "no-store"
        if self.new_csrf:
            response.set_cookie(
                CSRF_COOKIE, self.new_csrf, httponly=True, samesite="strict", secure=self.secure
            )
        return response

    def redirect(self, url: str) -> Response:
        return self.finish(RedirectResponse(url, status_code=303))


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _problem_page(view: _View, status: int, message: str) -> HTMLResponse:
    return view.render("pages/message.html", code=status, title=view.t("error"), message=message)


def _guard(handler):
    """Run the plain ``def`` page ``handler`` in the thread pool, as the API's routes run, on
    that thread's ``for_thread()`` copy of the app; render C2M errors and refusals as a page
    naming what is wrong (never a traceback).

    The form body is read here, on the event loop, before the handler runs: the handler reads
    it with ``_form(request)``.
    """
    import functools

    def guarded(request: Request, form, args, kwargs):
        try:
            if isinstance(form, _Refused):
                raise form
            request.state.form = form
            return handler(request, *args, **kwargs)
        except _Refused as refused:
            view = _View(request, kwargs.get("slug"))
            return _problem_page(view, refused.status, refused.message)
        except C2MError as error:
            from ..problems import problem

            status, body = problem(error, request.url.path)
            view = _View(request, kwargs.get("slug"))
            return _problem_page(view, status, body.get("detail") or str(error))

    @functools.wraps(handler)
    async def run(request: Request, *args, **kwargs):
        form: dict[str, Any] | _Refused | None = None
        if request.method == "POST":
            try:
                form = _parse_form(await request.body())
            except _Refused as refused:
                form = refused
        return await run_in_threadpool(guarded, request, form, args, kwargs)

    return run


def _form(request: Request) -> dict[str, Any]:
    """The posted form of this request (read by ``_guard``): each field's value, or a list."""
    return request.state.form


def _parse_form(body: bytes) -> dict[str, Any]:
    from urllib.parse import parse_qsl

    if len(body) > 200_000:
        raise _Refused(413, "the form is too large")
    return _fields(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _query(request: Request) -> dict[str, Any]:
    """The query string's fields like a posted form's: each field's value, or a list."""
    return _fields(request.query_params.multi_items())


def _fields(pairs) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        out.setdefault(key, [])
        out[key].append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


def _values(data: Mapping, key: str) -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# Configurator ----------------------------------------------------------------------------------


def _configuration(data: Mapping, catalog) -> dict[str, Choice]:
    modules = {m.id: m for m in catalog.modules}
    chosen: dict[str, Choice] = {}
    for key in data:
        if key.startswith(CONFIG_PREFIX):
            module = modules.get(key[len(CONFIG_PREFIX) :])
            if module is None:
                continue
            known = [v for v in _values(data, key) if v and module.option(v) is not None]
            if module.multiple and known:
                chosen[module.id] = tuple(dict.fromkeys(known))
            elif known:
                chosen[module.id] = known[-1]
    return catalog.canonical(chosen)


def _configurator(view: _View, campaign, data: Mapping, message: str | None = None) -> dict:
    app = view.app
    category = app.campaigns.category(campaign)
    catalog = category.catalog
    engine = app.engine(category)
    chosen = _configuration(data, catalog)
    changes = ()
    if data.get("action") == "nearest":
        repaired = engine.repair(chosen)
        if repaired is not None:
            changes = repaired.changes
            kept = {c.module for c in changes if c.old is not None}
            chosen = {m: o for m, o in repaired.configuration.items() if m in chosen or m in kept}
    options = engine.options(chosen)
    count: int | None
    try:
        count = engine.count(chosen, max_states=COUNT_LIMIT) if options.satisfiable else 0
    except C2MError:
        count = None
    price = catalog_price(catalog, chosen).amount
    titles = {(m.id, o.id): o.title_in(view.lang) for m in catalog.modules for o in m.options}
    module_titles = {m.id: m.title_in(view.lang) for m in catalog.modules}
    return {
        "campaign": campaign,
        "category": category,
        "catalog": catalog,
        "chosen": chosen,
        "options": options,
        "count": count,
        "price": price,
        "currency": campaign.currency,
        "titles": titles,
        "module_titles": module_titles,
        "changes": changes,
        "form": {k: data.get(k, "") for k in ("note", "quantity", "region", "ceiling")},
        "customer": view.customer(),
        "message": message,
    }


def _int_field(data: Mapping, name: str, low: int, high: int, default=None, scale: int = 1):
    from ...errors import InvalidInput

    text = str(data.get(name) or "").strip()
    if not text:
        return default
    try:
        value = int(round(float(text) * scale)) if scale != 1 else int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high * scale:
        raise InvalidInput(
            f"{name}: {text!r} is not a number from {low} to {high}",
            field=name,
            value=text,
            accepted=f"{low} to {high}",
        )
    return value


# Routes ----------------------------------------------------------------------------------------


def router_for(services, config: PagesConfig) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/c/{slug}")
    @_guard
    def campaign_home(request: Request, slug: str):
        view = _View(request, slug)
        campaign = view.app.campaigns.get(slug)
        page = {"vote": "vote", "presale": "presale"}.get(campaign.state, "configure")
        return view.redirect(f"/c/{slug}/{page}")

    @router.get("/c/{slug}/signin")
    @_guard
    def signin(request: Request, slug: str, token: str = ""):
        view = _View(request, slug)
        data = view.signer.verify("consumer", token)
        if data is None or data.get("c") != slug:
            raise _Refused(403, "this sign-in link is not valid for this campaign, or has expired")
        response = view.redirect(f"/c/{slug}")
        response.set_cookie(
            CONSUMER_COOKIE,
            token,
            max_age=max(1, data["x"] - int(view.signer.clock())),
            httponly=True,
            samesite="lax",
            secure=view.secure,
        )
        return response

    @router.post("/c/{slug}/demo-login")
    @_guard
    def demo_login(request: Request, slug: str):
        view = _View(request, slug)
        form = _form(request)
        view.check_csrf(form)
        if not view.pages.config.demo_login:
            raise _Refused(404, "demo sign-in is off; sign in at the shop")
        name = str(form.get("name") or "").strip()
        if not 0 < len(name) <= 100:
            raise _Refused(422, "name: give 1 to 100 characters")
        view.app.campaigns.get(slug)
        token = security.consumer_token(view.signer, slug, name, security.SESSION_TTL)
        response = view.redirect(
            str(form.get("next") or f"/c/{slug}").split("?")[0]
            if str(form.get("next") or "").startswith(f"/c/{slug}")
            else f"/c/{slug}"
        )
        response.set_cookie(
            CONSUMER_COOKIE, token, httponly=True, samesite="lax", secure=view.secure
        )
        return response

    @router.get("/c/{slug}/configure")
    @_guard
    def configure(request: Request, slug: str):
        view = _View(request, slug)
        campaign = view.app.campaigns.get(slug)
        context = _configurator(view, campaign, _query(request))
        name = "pages/_configurator.html" if view.htmx else "pages/configure.html"
        return view.render(name, **context)

    @router.post("/c/{slug}/wish")
    @_guard
    def wish(request: Request, slug: str):
        view = _View(request, slug)
        form = _form(request)
        view.check_csrf(form)
        campaign = view.app.campaigns.get(slug)
        customer = view.customer()
        if customer is None:
            raise _Refused(401, view.t("sign_in_at_shop"))
        category = view.app.campaigns.category(campaign)
        stored = view.app.wishes.submit(
            slug,
            customer=customer,
            configuration=_configuration(form, category.catalog),
            quantity=_int_field(form, "quantity", 1, 1_000_000, default=1),
            region=(str(form.get("region") or "").strip() or None),
            price_ceiling=_int_field(form, "ceiling", 0, 10**9, scale=100),
            note=(str(form.get("note") or "").strip() or None),
        )
        context = _configurator(view, campaign, form, view.t("wish_stored", id=stored.id))
        return view.render("pages/configure.html", **context)

    # Vote -------------------------------------------------------------------------------------

    def _vote_context(view: _View, slug: str, data: Mapping, message=None, replaced=None):
        app = view.app
        campaign = app.campaigns.get(slug)
        vote = app.voting.get(slug)
        variants = {v.id: v for v in app.store.variants.for_campaign(campaign.id)}
        method = app.voting.method(vote.method) if vote else None
        customer = view.customer()
        mine = app.voting.ballot(slug, customer) if vote and customer else None
        candidates = [variants[c] for c in vote.candidates if c in variants] if vote else []
        order = [int(x) for x in _values(data, "rank") if x.isdecimal()]
        if sorted(order) != sorted(v.id for v in candidates):
            order = [v.id for v in candidates]
        move = str(data.get("move") or "")
        if ":" in move:
            direction, _, ident = move.partition(":")
            if ident.isdecimal() and int(ident) in order:
                i = order.index(int(ident))
                j = i - 1 if direction == "up" else i + 1
                if 0 <= j < len(order):
                    order[i], order[j] = order[j], order[i]
        prices = _prices(app, campaign, candidates)
        return {
            "campaign": campaign,
            "category": app.campaigns.category(campaign),
            "vote": vote,
            "method": method,
            "fields": method.fields if method else (),
            "candidates": candidates,
            "ranked": [variants[i] for i in order],
            "prices": prices,
            "customer": customer,
            "mine": mine,
            "message": message,
            "replaced": replaced,
            "max_approvals": (vote.options or {}).get("max_approvals") if vote else None,
        }

    @router.get("/c/{slug}/vote")
    @_guard
    def vote_page(request: Request, slug: str):
        view = _View(request, slug)
        context = _vote_context(view, slug, _query(request))
        return view.render("pages/vote.html", **context)

    @router.post("/c/{slug}/vote")
    @_guard
    def cast(request: Request, slug: str):
        view = _View(request, slug)
        form = _form(request)
        view.check_csrf(form)
        if form.get("move"):
            return view.render("pages/vote.html", **_vote_context(view, slug, form))
        customer = view.customer()
        if customer is None:
            raise _Refused(401, view.t("sign_in_at_shop"))
        vote = view.app.voting.require(slug)
        method = view.app.voting.method(vote.method)
        ballot: dict[str, Any] = {}
        if "choice" in method.fields and form.get("choice"):
            ballot["choice"] = (
                int(str(form["choice"])) if str(form["choice"]).isdecimal() else form["choice"]
            )
        if "approve" in method.fields:
            ballot["approve"] = [int(x) for x in _values(form, "approve") if x.isdecimal()]
        if "score" in method.fields:
            ballot["score"] = {
                k[len("score.") :]: int(v)
                for k, v in form.items()
                if k.startswith("score.") and isinstance(v, str) and v.isdecimal()
            }
        if "would_buy" in method.fields:
            ballot["would_buy"] = [int(x) for x in _values(form, "would_buy") if x.isdecimal()]
        if "rank" in method.fields:
            ballot["rank"] = ">".join(x for x in _values(form, "rank") if x.isdecimal())
        stored = view.app.voting.cast(slug, customer, ballot)
        message = view.t("ballot_stored")
        context = _vote_context(view, slug, form, message, stored.replaced)
        return view.render("pages/vote.html", **context)

    # Pre-sale ---------------------------------------------------------------------------------

    def _presale_context(view: _View, slug: str, message=None):
        app = view.app
        campaign = app.campaigns.get(slug)
        status = app.presale.status(slug) if _presale(app, slug) else None
        customer = view.customer()
        mine = (
            [p.to_dict() for p in app.presale.pledges(slug) if p.customer == customer]
            if status and customer
            else []
        )
        names = {v.id: v.name for v in app.store.variants.for_campaign(campaign.id, True)}
        return {
            "campaign": campaign,
            "category": app.campaigns.category(campaign),
            "status": status,
            "customer": customer,
            "mine": mine,
            "names": names,
            "message": message,
            "new_key": secrets.token_urlsafe(16),
            "time_left": _time_left(view, status.seconds_left) if status else "",
        }

    @router.get("/c/{slug}/presale")
    @_guard
    def presale_page(request: Request, slug: str):
        view = _View(request, slug)
        return view.render("pages/presale.html", **_presale_context(view, slug))

    @router.post("/c/{slug}/pledge")
    @_guard
    def pledge(request: Request, slug: str):
        view = _View(request, slug)
        form = _form(request)
        view.check_csrf(form)
        customer = view.customer()
        if customer is None:
            raise _Refused(401, view.t("sign_in_at_shop"))
        key = str(form.get("key") or "")
        if not 8 <= len(key) <= 64:
            raise _Refused(422, "key: the form's pledge key is missing; reload the page")
        placed = view.app.presale.place(
            slug,
            _int_field(form, "variant", 1, 2**62),
            customer,
            _int_field(form, "quantity", 1, 1000, default=1),
            key=f"page:{customer}:{key}",
            region=(str(form.get("region") or "").strip() or None),
        )
        message = view.t("pledged", state=placed.state)
        return view.render("pages/presale.html", **_presale_context(view, slug, message))

    # Dashboard --------------------------------------------------------------------------------

    @router.get("/dashboard")
    @_guard
    def dashboard_signin_page(request: Request):
        view = _View(request)
        campaigns = view.app.campaigns.list() if view.brand() else []
        return view.render(
            "pages/dashboard_signin.html", campaigns=campaigns, signed_in=bool(view.brand())
        )

    @router.post("/dashboard/signin")
    @_guard
    def dashboard_signin(request: Request):
        view = _View(request)
        form = _form(request)
        view.check_csrf(form)
        token = verify_token(view.app, str(form.get("token") or "").strip())
        if token is None or BRAND not in token.scopes:
            raise _Refused(
                403, "give a live token with the brand scope (c2m token create NAME --scope brand)"
            )
        response = view.redirect("/dashboard")
        session = view.signer.sign("brand", {"t": token.id}, security.SESSION_TTL)
        response.set_cookie(
            BRAND_COOKIE, session, httponly=True, samesite="strict", secure=view.secure
        )
        return response

    def _dashboard_context(view: _View, slug: str, message=None):
        from ...report import build_report, render_report

        if view.brand() is None:
            raise _Refused(401, "sign in with a brand token at /dashboard")
        app = view.app
        campaign = app.campaigns.get(slug)
        html = render_report(app, build_report(app, slug))
        styles = "\n".join(re.findall(r"<style[^>]*>(.*?)</style>", html, re.S))
        body = re.search(r"<body[^>]*>(.*)</body>", html, re.S)
        return {
            "campaign": campaign,
            "category": app.campaigns.category(campaign),
            "report_styles": jinja2.utils.markupsafe.Markup(styles),
            "report_body": jinja2.utils.markupsafe.Markup(body.group(1) if body else html),
            "actions": _actions(app, campaign),
            "recent": app.store.wishes.recent(campaign.id, RECENT_WISHES),
            "message": message,
            "methods": list(app.voting.methods),
        }

    @router.get("/dashboard/{slug}")
    @_guard
    def dashboard(request: Request, slug: str):
        view = _View(request, slug)
        context = _dashboard_context(view, slug)
        name = "pages/_dashboard_live.html" if view.htmx else "pages/dashboard.html"
        return view.render(name, csp=DASHBOARD_CSP, **context)

    @router.post("/dashboard/{slug}/action")
    @_guard
    def action(request: Request, slug: str):
        view = _View(request, slug)
        form = _form(request)
        view.check_csrf(form)
        context = _dashboard_context(view, slug)
        name = str(form.get("action") or "")
        known = {a["name"]: a for a in context["actions"]}
        if name not in known:
            raise _Refused(
                409, f"action {name!r} is not available at stage {context['campaign'].state}"
            )
        fields = {k: str(form.get(k) or "") for k in ("method", "deadline", "target")}
        if form.get("confirm") != "yes":
            return view.render(
                "pages/confirm.html",
                csp=DASHBOARD_CSP,
                action=known[name],
                fields=fields,
                **context,
            )
        done = _run_action(view.app, slug, name, fields)
        return view.render(
            "pages/dashboard.html", csp=DASHBOARD_CSP, **(_dashboard_context(view, slug, done))
        )

    router.mount("/static/c2m", StaticFiles(directory=str(STATIC_DIR)), name="c2m-static")
    return router


def _prices(app, campaign, variants) -> dict[int, int]:
    catalog = app.campaigns.category(campaign).catalog
    return {v.id: catalog_price(catalog, v.configuration).amount for v in variants}


def _presale(app, slug: str):
    try:
        return app.presale.get(slug)
    except C2MError:
        return None


def _time_left(view: _View, seconds: int | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0, int(seconds))
    return view.t("days_hours", d=seconds // 86400, h=(seconds % 86400) // 3600)


#: The dashboard's actions per stage: what each does, said before it is confirmed.
ACTIONS = {
    "aggregate": "Aggregate the wishes into variants (replaces earlier aggregated variants).",
    "advance": "Move the campaign from {state} to the next stage. It cannot be moved back.",
    "open_vote": "Open the vote with the chosen method over every variant.",
    "close_vote": "Close the vote and count it. Ballots after this are refused.",
    "open_presale": "Open the pre-sale for the winners until the deadline.",
    "close_presale": (
        "Close the pre-sale now: variants at their threshold tip, the others are refunded. "
        "It cannot be undone."
    ),
    "settle": "Close the pre-sale if its deadline has passed (tip or refund).",
    "handoff": "Hand the production orders off to the target. Deliveries cannot be recalled.",
}


def _actions(app, campaign) -> list[dict]:
    state = campaign.state
    names: list[str] = []
    if state == "wishes":
        names = ["aggregate", "advance"]
    elif state == "vote":
        vote = app.voting.get(campaign.slug)
        names = (
            ["open_vote"]
            if vote is None
            else (["close_vote"] if vote.state == "open" else ["advance"])
        )
    elif state == "presale":
        presale = _presale(app, campaign.slug)
        if presale is None:
            names = ["open_presale"]
        elif presale.state == "open":
            names = ["close_presale", "settle"]
        else:
            names = ["advance"]
    elif state == "handoff":
        names = ["handoff", "advance"]
    elif state == "draft":
        names = ["advance"]
    return [{"name": n, "text": ACTIONS[n].format(state=state)} for n in names]


def _run_action(app, slug: str, name: str, fields: Mapping[str, str]) -> str:
    if name == "aggregate":
        app.wishes.aggregate(slug)
        campaign = app.campaigns.get(slug)
        return f"aggregated: {len(app.store.variants.for_campaign(campaign.id))} variant(s)"
    if name == "advance":
        return f"campaign is now at {app.campaigns.advance(slug).state}"
    if name == "open_vote":
        vote = app.voting.open(slug, fields.get("method") or "plurality")
        return f"vote opened ({vote.method})"
    if name == "close_vote":
        app.voting.close(slug)
        return f"vote closed; winners: {', '.join(f'V{w}' for w in app.voting.winners(slug))}"
    if name == "open_presale":
        app.presale.open(
            slug, fields.get("deadline") or "14d", variants=app.voting.winners(slug) or None
        )
        return "pre-sale opened"
    if name == "close_presale":
        app.presale.close(slug)
        return "pre-sale closed"
    if name == "settle":
        closed = app.presale.settle_due(slug)
        return (
            "pre-sale closed: its deadline had passed"
            if closed
            else "the deadline has not passed; nothing to settle"
        )
    if name == "handoff":
        app.handoff.run(slug, [fields.get("target") or "dir:handoff"])
        return "handed off"
    raise AssertionError(name)


def query(data: Mapping[str, str]) -> str:
    return urlencode(data)
