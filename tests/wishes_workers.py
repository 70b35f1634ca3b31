"""A wish import that stops at a known point, for the killed-import test (run as a process)."""

import sys
from contextlib import contextmanager

from c2m_core import C2M
from c2m_core.wishes.imports import read_wishes


def import_and_pause(db_path: str, slug: str, path: str, batch_size: int, pause_after: int):
    """Import ``path``; once ``pause_after`` batches are committed, stop inside the next batch's
    transaction (its rows written, not committed), print how many wishes that transaction sees,
    and wait for a line on stdin that never comes: the test kills the process there."""
    with C2M(db_path=db_path) as app:
        committed = 0
        depth = 0
        store = app.store
        real_transaction = store.transaction

        def progress(line):
            nonlocal committed
            committed += 1

        @contextmanager
        def transaction():
            nonlocal depth
            depth += 1
            try:
                with real_transaction() as inner:
                    yield inner
                    if depth == 1 and committed == pause_after:
                        print(app.wishes.count(slug), flush=True)
                        sys.stdin.readline()
            finally:
                depth -= 1

        store.transaction = transaction
        modules = app.campaigns.catalog(app.campaigns.get(slug)).module_ids
        _, rows = read_wishes(path, modules)
        app.wishes.submit_many(slug, rows, batch_size=batch_size, progress=progress)
