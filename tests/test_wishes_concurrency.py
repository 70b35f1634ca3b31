"""Several processes submitting overlapping external ids into one database (each backend)."""

import multiprocessing

from c2m_core import C2M

WORKERS = 4
IDS_PER_WORKER = 60
OVERLAP = 30


def submit_wishes(db_path, worker):
    """Each worker covers ids [worker * 30, worker * 30 + 60): every id but the ends twice."""
    ids = range(worker * OVERLAP, worker * OVERLAP + IDS_PER_WORKER)
    with C2M(db_path=db_path) as app:
        if worker % 2:
            items = [
                (n, {"customer": f"w{worker}", "external_id": f"order-{i}", "raw": "65寸 OLED"})
                for n, i in enumerate(ids, start=1)
            ]
            for start in range(0, len(items), 7):
                app.wishes.submit_many("tv-2026", items[start : start + 7], batch_size=3)
        else:
            for i in ids:
                wish = app.wishes.submit(
                    "tv-2026", f"w{worker}", {"size": "55-4k"}, external_id=f"order-{i}"
                )
                assert wish.external_id == f"order-{i}"


def test_overlapping_external_ids_from_several_processes(db_target):
    db_path = db_target
    with C2M(db_path=db_path) as app:
        app.campaigns.create("tv-2026", "tv")
        app.campaigns.advance("tv-2026")
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=submit_wishes, args=(db_path, worker)) for worker in range(WORKERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    expected = (WORKERS - 1) * OVERLAP + IDS_PER_WORKER
    with C2M(db_path=db_path) as app:
        store = app.store
        rows = store.query("SELECT external_id, COUNT(*) FROM wishes GROUP BY external_id")
        assert len(rows) == expected
        assert all(count == 1 for _, count in rows)
        events = store.events_since(0, limit=10 * expected, types=("wish.submitted",))
        ids = [row[0] for row in store.query("SELECT id FROM wishes")]
        assert sorted(e.payload["wish_id"] for e in events) == sorted(ids)
        assert app.wishes.count("tv-2026") == expected
