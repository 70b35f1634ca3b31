"""A storefront talking to `c2m serve` over HTTP, with nothing but the standard library.

A shop in any language does the same: send a token, JSON in and out, an Idempotency-Key on
every POST that creates something (for a pledge: the shop's order id), read problem details
on errors. Run it against a server (the brand team made a storefront token)::

    c2m token create shop --scope storefront
    c2m serve --port 8000 &
    python examples/storefront_client.py --url http://127.0.0.1:8000 --token c2m_... tv26

It prints the campaign, the remaining options after choosing a size, and the pre-sale's
offers. The tests drive a whole campaign through ``Client``.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request


class Problem(Exception):
    """An error answer: RFC 9457 problem details (``status``, ``kind``, ``detail``, fields)."""

    def __init__(self, status: int, body: dict):
        super().__init__(f"{status} {body.get('kind')}: {body.get('detail')}")
        self.status = status
        self.body = body


class Client:
    """JSON over HTTP to a c2m server with a bearer token (never through a proxy)."""

    def __init__(self, url: str, token: str | None, timeout: float = 60.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def request(self, method: str, path: str, body=None, key: str | None = None, headers=None):
        """``(status, headers, data)`` of one request; error answers too (no exception)."""
        sent = {"Accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        if key is not None:
            sent["Idempotency-Key"] = key
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=sent)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, answer, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, answer, raw = error.code, error.headers, error.read()
        kind = answer.get("Content-Type", "")
        parsed = json.loads(raw) if "json" in kind else raw.decode("utf-8", "replace")
        return status, answer, parsed

    def call(self, method: str, path: str, body=None, key: str | None = None):
        """The data of a successful answer; ``Problem`` otherwise."""
        status, _, data = self.request(method, path, body, key)
        if status >= 400:
            raise Problem(status, data if isinstance(data, dict) else {"detail": data})
        return data

    # What a storefront does --------------------------------------------------------------------

    def remaining_options(self, category: str, configuration: dict) -> dict:
        """Module -> options still possible after ``configuration`` (the configurator's click)."""
        answer = self.call(
            "POST", f"/categories/{category}/options", {"configuration": configuration}
        )
        return {module: info["available"] for module, info in answer["modules"].items()}

    def wish(self, slug: str, customer: str, configuration: dict, wish_id: str) -> dict:
        body = {"customer": customer, "configuration": configuration, "external_id": wish_id}
        return self.call("POST", f"/campaigns/{slug}/wishes", body, key=wish_id)

    def ballot(self, slug: str, voter: str, ballot: dict) -> dict:
        return self.call("PUT", f"/campaigns/{slug}/ballots/{voter}", ballot)

    def pledge(self, slug: str, order_id: str, variant: int, customer: str, quantity: int = 1):
        body = {"variant": variant, "customer": customer, "quantity": quantity}
        return self.call("POST", f"/campaigns/{slug}/pledges", body, key=order_id)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("slug")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True)
    args = parser.parse_args(argv)
    client = Client(args.url, args.token)
    campaign = client.call("GET", f"/campaigns/{args.slug}")
    print(f"{campaign['slug']}: {campaign['title']} ({campaign['state']})")
    remaining = client.remaining_options(campaign["category"], {})
    for module, options in remaining.items():
        print(f"  {module}: {', '.join(options)}")
    if campaign["state"] in ("presale", "handoff", "closed"):
        for offer in client.call("GET", f"/campaigns/{args.slug}/offers"):
            print(f"  variant {offer['variant_id']}: {offer['unit_price']} {offer['currency']}")


if __name__ == "__main__":
    main()
