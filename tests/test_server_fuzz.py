"""A property-based fuzz of the API from its own OpenAPI document (schemathesis, in process).

For any generated request, of any operation: no 500, and the response matches the documented
status codes, content type and schema. A campaign in each stage gives the requests something
real to hit. Operations that reach outside the process (hand-off targets, webhook deliveries)
are left out: a generated `dir:` target would write files wherever it names.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from c2m_core import C2M  # noqa: E402
from c2m_core.server import create_app  # noqa: E402
from c2m_core.server.tokens import create_token  # noqa: E402

TV_43 = {
    "size": "43-4k",
    "backlight": "direct-led",
    "appearance": "graphite",
    "functions": "essential",
    "base": "feet",
}
OUTSIDE = ("/campaigns/{slug}/handoff", "/campaigns/{slug}/handoff/retry", "/webhooks/dispatch")


def _app():
    folder = Path(tempfile.mkdtemp(prefix="c2m-fuzz-"))
    app = C2M(folder / "fuzz.db")
    token, _ = create_token(app, "fuzz", ["brand"])
    for slug, stages in (("w", 1), ("v", 2), ("p", 3)):
        app.campaigns.create(slug, "tv")
        for _ in range(stages):
            app.campaigns.advance(slug)
        if stages >= 2:
            variant = app.variants.add(slug, TV_43)
    app.presale.open("p", "7d", deposit="10%", threshold=1, capacity=50)
    app.presale.place("p", variant.id, "ann", 1, key="k1")
    return app, token


LOADED, TOKEN = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(LOADED, webhooks=False))


@schema.exclude(path=OUTSIDE).parametrize()
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_responses_match_their_schema(case):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
