"""A server that placed pledges before answers what other servers changed since (both backends).

On PostgreSQL a connection that reserved units of a variant places its next pledge there in one
round trip, reserving against what it read then (``PresaleStore.reserve_known``); whatever
another server changed in between must give the answer a server that knew nothing gives.
"""

import pytest

from c2m_core import C2M
from c2m_core.presale.records import COMMITTED, HOLDING, IdempotencyConflict, SoldOut

TV = {
    "size": "43-4k",
    "backlight": "direct-led",
    "appearance": "graphite",
    "functions": "essential",
    "base": "feet",
}


def _error(app, *request) -> Exception:
    with pytest.raises(Exception) as raised:
        app.presale.place("c", *request)
    return raised.value


def test_a_server_that_placed_before_answers_what_other_servers_changed(db_target):
    with C2M(db_target) as setup:
        setup.campaigns.create("c", "tv", stages=["presale"])
        variant_id = setup.variants.add("c", TV).id
        setup.campaigns.advance("c")
        setup.presale.open("c", "7d", deposit="10%", capacity=5)
    with C2M(db_target) as first, C2M(db_target) as second:
        a1 = first.presale.place("c", variant_id, "ann", 1, "a1")
        b1 = second.presale.place("c", variant_id, "bob", 1, "b1")
        # a key another server stored: the same request replays its pledge, another conflicts
        assert first.presale.place("c", variant_id, "bob", 1, "b1") == b1
        first.presale.place("c", variant_id, "ann", 1, "a2")
        conflict = _error(first, variant_id, "bob", 2, "b1")
        assert isinstance(conflict, IdempotencyConflict)
        first.presale.place("c", variant_id, "ann", 1, "a3")
        # the last unit taken by another server
        second.presale.place("c", variant_id, "bob", 1, "b2")
        sold_out = _error(first, variant_id, "ann", 1, "a4")
        assert isinstance(sold_out, SoldOut) and sold_out.units_left == 0
        second.presale.cancel("c", "b2")
        a4 = first.presale.place("c", variant_id, "ann", 1, "a4")
        assert a4.state == COMMITTED and a4.id not in (a1.id, b1.id)
        # the pre-sale closed by another server
        second.presale.close("c")
        closed = _error(first, variant_id, "ann", 1, "a5")
        with C2M(db_target) as fresh:
            expected = _error(fresh, variant_id, "ann", 1, "a5")
        assert (type(closed), str(closed)) == (type(expected), str(expected))
    with C2M(db_target) as app:
        assert app.presale.audit("c").ok
        pledges = app.presale.pledges("c")
        assert sorted(p.key for p in pledges) == ["a1", "a2", "a3", "a4", "b1", "b2"]
        assert sum(p.quantity for p in pledges if p.state in HOLDING) <= 5
        payments = app.presale.payments("c")
        assert sorted(p.pledge_id for p in payments if p.kind == "deposit") == sorted(
            p.id for p in pledges
        )
