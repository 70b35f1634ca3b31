"""The embedding API: instances that don't interfere, ``for_thread`` copies, the public names."""

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import c2m_core
from c2m_core import (
    C2M,
    Event,
    IdempotencyConflict,
    Pledge,
    SoldOut,
    Violation,
    Wish,
    hookimpl,
)
from c2m_core import app as app_module

SMALL_FEET = {"size": "s", "stand": "feet"}
SMALL_WALL = {"size": "s", "stand": "wall"}
LARGE_WALL = {"size": "l", "stand": "wall"}


class Recorder:
    """Records, with the ``app`` it was called for, every notification a shop would follow."""

    def __init__(self):
        self.calls = []
        self.lock = threading.Lock()

    def _add(self, app, *call):
        with self.lock:
            self.calls.append((app, *call))

    @hookimpl
    def wish_submitted(self, app, campaign, wish):
        self._add(app, "wish_submitted", wish.customer)

    @hookimpl
    def ballot_cast(self, app, campaign, voter, ballot):
        self._add(app, "ballot_cast", voter)

    @hookimpl
    def pledge_placed(self, app, campaign, pledge):
        self._add(app, "pledge_placed", pledge.key)

    @hookimpl
    def variant_tipped(self, app, campaign, variant, units):
        self._add(app, "variant_tipped", variant.configuration["size"], units)

    def names(self):
        return [call[1:] for call in self.calls]


class NoFeet:
    """A custom rule only one of the two instances has: complete TVs never stand on feet."""

    @hookimpl
    def validate_configuration(self, category, configuration, complete):
        if complete and configuration.get("stand") == "feet":
            return [Violation("no-feet", "this shop sells no footed stands", ("stand.feet",))]
        return []


def collect_wishes(app):
    """Campaign ``drive`` of the mini category, collecting wishes."""
    app.campaigns.create("drive", "mini")
    app.campaigns.advance("drive")


def open_vote(app):
    """Two variants (small and large, both on the wall) and a plurality vote with 2 winners."""
    small = app.variants.add("drive", SMALL_WALL)
    large = app.variants.add("drive", LARGE_WALL)
    app.campaigns.advance("drive")
    app.voting.open("drive", "plurality", winners=2)
    return small, large


def open_presale(app, capacity=None, threshold=2):
    """Close the vote and open a pre-sale on both variants."""
    app.voting.close("drive")
    app.campaigns.advance("drive")
    app.presale.open("drive", "7d", deposit="10%", threshold=threshold, capacity=capacity)


def test_two_instances_with_their_own_database_and_plugins_do_not_interfere(
    tmp_path, mini_catalog, category_plugin
):
    seen_a, seen_b = Recorder(), Recorder()
    a = C2M(tmp_path / "a.db", plugins=[category_plugin(mini_catalog), seen_a, NoFeet()])
    b = C2M(tmp_path / "b.db", plugins=[category_plugin(mini_catalog), seen_b])
    with a, b:
        for app in (b, a):  # the same slug in each database
            collect_wishes(app)

        # Wishes. The same partial wish: B's engine says some complete TV has feet; A's
        # (built afterwards, from the same catalog, under A's extra rule) says none does.
        wish_b = b.wishes.submit("drive", "bea", {"stand": "feet"}, external_id="w-1")
        wish_a = a.wishes.submit("drive", "ann", {"stand": "feet"}, external_id="w-1")
        assert isinstance(wish_a, Wish) and wish_b.valid and not wish_a.valid
        assert [v["rule"] for v in wish_a.violations] == ["unsatisfiable"]
        assert a.wishes.submit("drive", "ann", SMALL_FEET).valid is False
        assert b.wishes.submit("drive", "bob", SMALL_FEET).valid is True
        assert (a.wishes.count("drive"), b.wishes.count("drive")) == (2, 2)

        # Ballots: one per voter in each database.
        small_a, _ = open_vote(a)
        small_b, large_b = open_vote(b)
        a.voting.cast("drive", "ann", {"choice": small_a.id})
        b.voting.cast("drive", "ann", {"choice": large_b.id})
        b.voting.cast("drive", "bob", {"choice": small_b.id})
        assert (a.voting.count_ballots("drive"), b.voting.count_ballots("drive")) == (1, 2)

        # Pledges: the same idempotency key names a different pledge in each database.
        open_presale(a, threshold=2)
        open_presale(b, threshold=5)
        pledge_a = a.presale.place("drive", small_a.id, "ann", 2, key="order-1")
        pledge_b = b.presale.place("drive", large_b.id, "bea", 1, key="order-1")
        assert isinstance(pledge_a, Pledge)
        assert (pledge_a.quantity, pledge_b.quantity) == (2, 1)
        with pytest.raises(IdempotencyConflict):
            a.presale.place("drive", small_a.id, "ann", 3, key="order-1")
        assert b.presale.place("drive", large_b.id, "bea", 1, key="order-1").id == pledge_b.id

        a.presale.close("drive")  # small tips in A (2 of 2); nothing tips in B (1 of 5)
        b.presale.close("drive")

    assert seen_a.names() == [
        ("wish_submitted", "ann"),
        ("wish_submitted", "ann"),
        ("ballot_cast", "ann"),
        ("pledge_placed", "order-1"),
        ("variant_tipped", "s", 2),
    ]
    assert seen_b.names() == [
        ("wish_submitted", "bea"),
        ("wish_submitted", "bob"),
        ("ballot_cast", "ann"),
        ("ballot_cast", "bob"),
        ("pledge_placed", "order-1"),
    ]
    assert {call[0] for call in seen_a.calls} == {a}
    assert {call[0] for call in seen_b.calls} == {b}

    # Events: each log holds its own instance's changes only.
    with C2M(tmp_path / "a.db", plugins=[category_plugin(mini_catalog)]) as again_a:
        events_a = again_a.events.since(0, limit=10_000)
    with C2M(tmp_path / "b.db", plugins=[category_plugin(mini_catalog)]) as again_b:
        events_b = again_b.events.since(0, limit=10_000)
    assert all(isinstance(event, Event) for event in events_a + events_b)
    voters_a = [e.payload["voter"] for e in events_a if e.type == "ballot.cast"]
    voters_b = [e.payload["voter"] for e in events_b if e.type == "ballot.cast"]
    assert (voters_a, voters_b) == (["ann"], ["ann", "bob"])
    tipped = [e.type for e in events_a + events_b if e.type.startswith("variant.")]
    assert tipped.count("variant.tipped") == 1
    assert [e.payload["customer"] for e in events_b if e.type == "wish.submitted"] == [
        "bea",
        "bob",
    ]


def test_for_thread_shares_plugins_and_caches_but_not_the_connection(
    tmp_path, mini_catalog, category_plugin
):
    seen = Recorder()
    base = C2M(tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog), seen])
    with base:
        collect_wishes(base)
        copy = base.for_thread()
        assert copy.pm is base.pm and copy.caches is base.caches
        assert copy.categories is base.categories and copy.clock is base.clock
        assert copy.db_path == base.db_path
        with copy:
            wish = copy.wishes.submit("drive", "ann", SMALL_WALL)
            assert copy.store is not base.store
        assert base.wishes.get("drive", wish.id) == wish
        assert seen.calls == [(copy, "wish_submitted", "ann")]


def test_an_instance_refuses_use_from_another_thread(tmp_path, mini_app):
    mini_app.campaigns.create("drive", "mini")  # opens the connection in this thread
    errors = []

    def elsewhere():
        try:
            mini_app.campaigns.get("drive")
        except sqlite3.ProgrammingError as ex:
            errors.append(ex)
        with mini_app.for_thread() as app:
            errors.append(app.campaigns.get("drive").slug)

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert isinstance(errors[0], sqlite3.ProgrammingError)
    assert errors[1] == "drive"


def test_for_thread_copies_build_the_configuration_engine_once(
    tmp_path, mini_catalog, category_plugin, monkeypatch
):
    built = []

    class Counting(app_module.Engine):
        def __init__(self, *args, **kwargs):
            built.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(app_module, "Engine", Counting)
    with C2M(tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog)]) as base:
        collect_wishes(base)

        def submit(n):
            with base.for_thread() as app:
                return app.wishes.submit("drive", f"c{n}", {"stand": "wall"}).valid

        with ThreadPoolExecutor(4) as pool:
            assert all(pool.map(submit, range(1, 9)))  # concurrent first builds may race
        first = len(built)
        assert 1 <= first <= 4
        for n in range(9, 13):
            submit(n)
        assert len(built) == first
        with C2M(tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog)]) as other:
            other.wishes.submit("drive", "c0", {"stand": "wall"})
        assert len(built) == first + 1  # a separate instance has its own engines


def test_threads_pledging_through_copies_never_oversell(tmp_path, mini_catalog, category_plugin):
    seen = Recorder()
    base = C2M(tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog), seen])
    with base:
        collect_wishes(base)
        small, _ = open_vote(base)
        open_presale(base, capacity=12, threshold=12)

        def pledge(key):
            with base.for_thread() as app:
                try:
                    return app.presale.place("drive", small.id, f"cust-{key}", 1, key=key).id
                except SoldOut:
                    return None

        keys = [f"k{n}" for n in range(20)] + ["same"] * 10
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(pledge, keys))
        distinct = [r for r, k in zip(results, keys, strict=True) if k != "same"]
        same = {r for r, k in zip(results, keys, strict=True) if k == "same"}
        assert len(same) == 1  # one pledge for the key, or every repeat was sold out
        stored = base.presale.pledges("drive")
        assert sum(p.quantity for p in stored) == 12 == len(stored)
        assert sum(r is not None for r in distinct) + (same != {None}) == 12
        assert len({p.key for p in stored}) == 12
        placed = [call[2] for call in seen.calls if call[1] == "pledge_placed"]
        assert sorted(placed) == sorted(p.key for p in stored)
        assert all(call[0] is not base for call in seen.calls)  # each copy is its own ``app``


def test_plugins_from_another_instance_on_another_database(tmp_path, mini_catalog, category_plugin):
    with C2M(tmp_path / "a.db", plugins=[category_plugin(mini_catalog)]) as a:
        b = C2M(tmp_path / "b.db", plugins_from=a)
        with b:
            b.campaigns.create("drive", "mini")
            assert b.pm is a.pm
            assert [c.slug for c in b.campaigns.list()] == ["drive"]
            assert a.campaigns.list() == []


def test_a_backend_imports_what_it_needs_from_the_package():
    for name in c2m_core.__all__:
        assert hasattr(c2m_core, name), name
    earlier = {"C2M", "C2MError", "Catalog", "CatalogError", "Category", "InvalidInput", "Money"}
    earlier |= {"PluginError", "PluginMeta", "UnknownCategory", "Violation", "hookimpl"}
    for_backends = {"Event", "IdempotencyConflict", "SoldOut", "PresaleClosed", "UnknownCampaign"}
    for_backends |= {"IllegalTransition", "InvalidBallot", "NoVote", "VoteNotOpen", "Wish"}
    assert earlier | for_backends <= set(c2m_core.__all__)
    assert issubclass(c2m_core.IdempotencyConflict, c2m_core.Conflict)
    assert issubclass(c2m_core.UnknownCampaign, c2m_core.NotFound)
    assert issubclass(c2m_core.SoldOut, c2m_core.errors.SoldOut)
    assert c2m_core.SoldOut is SoldOut
    assert c2m_core.Event.__module__ == "c2m_core.store.records"
    assert c2m_core.UnknownCampaign.__module__ == "c2m_core.campaigns.records"
