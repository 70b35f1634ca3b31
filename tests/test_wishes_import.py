"""Importing wishes from files: rejected rows, strict mode, encodings, a killed import."""

import itertools
import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from waiting import HANG_SECONDS

from c2m_core import C2M, InvalidInput
from c2m_core.wishes import ImportRejected
from c2m_core.wishes.imports import read_wishes
from c2m_core.wishes.records import NewWish, NewWishes
from c2m_core.wishes.synthetic import synthetic_wishes, write_csv

HERE = Path(__file__).resolve().parent
HEADER = "external_id,customer,quantity,region,note,size,backlight,appearance,functions,base\n"


@pytest.fixture
def app(tmp_path):
    with C2M(db_path=tmp_path / "c2m.db") as app:
        app.campaigns.create("tv-2026", "tv")
        app.campaigns.advance("tv-2026")
        yield app


def import_file(app, path, **kwargs):
    modules = app.campaigns.catalog(app.campaigns.get("tv-2026")).module_ids
    _, rows = read_wishes(path, modules, kwargs.pop("format", None))
    return app.wishes.submit_many("tv-2026", rows, **kwargs)


def consistent(app) -> int:
    db = app.store.db
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    wishes = db.execute("SELECT COUNT(*) FROM wishes").fetchone()[0]
    events = db.execute("SELECT COUNT(*) FROM events WHERE type = 'wish.submitted'").fetchone()[0]
    assert wishes == events
    linked = db.execute(
        "SELECT COUNT(DISTINCT w.id) FROM wishes w JOIN events e "
        "ON e.type = 'wish.submitted' AND json_extract(e.payload, '$.wish_id') = w.id"
    ).fetchone()[0]
    assert linked == wishes
    return wishes


def test_csv_rows_are_imported_and_bad_ones_reported_by_line(app, tmp_path):
    path = tmp_path / "wishes.csv"
    path.write_text(
        HEADER
        + "w1,u1,2,CN-SD,,65-oled,,graphite,cinema,feet\n"
        + "w2,u2,0,,,55-4k,,,,\n"  # quantity 0
        + "w3,u3,1,,,55-4k,,,\n"  # a field short
        + "w4,u4,1,,,43-4k,mini-led,,,\n"  # against the rules: stored as invalid
        + "w5,u5,1,,,65-oledd,,,,\n"  # unknown option
        + 'w6,u6,1,,"a note, with ""quotes""\nover two lines",77-oled,,,,\n'
        + "\n"
        + "w7,,1,,,77-oled,,,,\n"  # no customer
        + "w8,u8,1,,,,,walnut,,\n",
        encoding="utf-8",
    )
    report = import_file(app, path, batch_size=2)
    assert [(r.line, r.reason.split(":")[0]) for r in report.rejected] == [
        (3, "quantity"),
        (4, "9 fields, but the header has 10"),
        (6, "configuration"),
        (10, "customer"),
    ]
    assert "did you mean '65-oled'" in report.rejected[2].reason
    assert (report.rows, report.imported, report.invalid, report.duplicates) == (8, 4, 1, 0)
    w6 = app.store.wishes.by_external_id(1, "w6")
    assert w6.note == 'a note, with "quotes"\nover two lines'
    assert w6.configuration == {"size": "77-oled"}
    assert app.store.wishes.by_external_id(1, "w1").quantity == 2
    assert consistent(app) == 4


def test_jsonl_rows_and_their_errors(app, tmp_path):
    path = tmp_path / "wishes.jsonl"
    lines = [
        {"customer": "u1", "configuration": {"size": "65-oled"}, "external_id": "a"},
        "not json",
        ["a", "list"],
        {"customer": "u2", "colour": "red"},
        {"customer": "u3", "raw": "75寸 mini-led 壁挂", "quantity": 3},
        {"customer": "u4", "configuration": {"size": "43-4k"}, "price_ceiling": "cheap"},
    ]
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines)
        + "\n",
        encoding="utf-8",
    )
    report = import_file(app, path)
    assert [r.line for r in report.rejected] == [2, 3, 4, 6]
    assert "not valid JSON" in report.rejected[0].reason
    assert "unknown key 'colour'" in report.rejected[2].reason
    assert report.rejected[3].reason.startswith("price_ceiling: 'cheap'")
    assert report.imported == 2
    wish = app.store.wishes.after(1, 1)[0]
    assert wish.configuration == {"size": "75-4k", "backlight": "mini-led", "base": "wall-mount"}
    assert consistent(app) == 2


def test_strict_imports_all_or_nothing(app, tmp_path):
    path = tmp_path / "wishes.csv"
    good = "".join(f"s{i},u{i},1,,,55-4k,,,,\n" for i in range(10))
    path.write_text(HEADER + good + "bad,u,1,,,55-4k,,,,,,\n" + good, encoding="utf-8")
    with pytest.raises(ImportRejected, match="1 of 21 rows rejected; nothing was imported") as ex:
        import_file(app, path, strict=True, batch_size=3)
    assert [r.line for r in ex.value.report.rejected] == [12]
    assert consistent(app) == 0
    path.write_text(HEADER + good, encoding="utf-8")
    assert import_file(app, path, strict=True, batch_size=3).imported == 10


def test_a_file_that_is_not_utf8_is_refused_before_anything_is_stored(app, tmp_path):
    path = tmp_path / "wishes.csv"
    path.write_bytes((HEADER + "w1,Müller,1,,,55-4k,,,,\n").encode("latin-1"))
    with pytest.raises(InvalidInput, match=r"line 2 is not UTF-8 text: byte 0xfc"):
        import_file(app, path)
    assert consistent(app) == 0


def test_unreadable_files_name_what_is_accepted(app, tmp_path):
    path = tmp_path / "wishes.txt"
    path.write_text(HEADER, encoding="utf-8")
    with pytest.raises(InvalidInput, match="cannot tell the format.*--format"):
        import_file(app, path)
    path = tmp_path / "wishes.csv"
    path.write_text("customer,colour\nu1,red\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="unknown column 'colour'; accepted: columns customer"):
        import_file(app, path)
    path.write_text("quantity,size\n1,55-4k\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="missing column.s. customer"):
        import_file(app, path)
    path.write_text("", encoding="utf-8")
    with pytest.raises(InvalidInput, match="empty"):
        import_file(app, path)


def test_a_megabyte_of_free_text_is_a_rejected_row(app, tmp_path):
    big = "好" * 1_000_000
    csv_path = tmp_path / "wishes.csv"
    csv_path.write_text(
        HEADER + f"a,u1,1,,{big},55-4k,,,,\nb,u2,1,,short,55-4k,,,,\n", encoding="utf-8"
    )
    report = import_file(app, csv_path)
    assert [r.line for r in report.rejected] == [2]
    assert "cannot be read as CSV (field larger than field limit" in report.rejected[0].reason
    jsonl_path = tmp_path / "wishes.jsonl"
    jsonl_path.write_text(
        json.dumps({"customer": "u3", "note": big}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    report = import_file(app, jsonl_path)
    assert report.rejected[0].reason == (
        "note: 1,000,000 characters is too long; at most 10,000 are accepted"
    )
    assert consistent(app) == 1
    assert app.store.wishes.by_external_id(1, "b").note == "short"


def test_rerunning_an_import_stores_nothing_twice(app, tmp_path):
    path = tmp_path / "wishes.csv"
    path.write_text(HEADER + "".join(f"s{i},u{i},1,,,55-4k,,,,\n" for i in range(7)))
    assert import_file(app, path, batch_size=3).imported == 7
    report = import_file(app, path, batch_size=3)
    assert (report.imported, report.duplicates) == (0, 7)
    assert consistent(app) == 7


def test_an_import_killed_midway_leaves_a_consistent_database_and_reruns(tmp_path):
    db = tmp_path / "c2m.db"
    rows = 60_000
    with C2M(db_path=db) as app:
        app.campaigns.create("tv-2026", "tv")
        app.campaigns.advance("tv-2026")
        category = app.category("tv")
        wishes = synthetic_wishes(
            category.catalog, lambda c: not app.validate(category, c), rows, seed=3
        )
        path = tmp_path / "wishes.csv"
        write_csv(path, wishes, category.catalog.module_ids)
    paused = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, wishes_workers; wishes_workers.import_and_pause(*sys.argv[1:4], 1000, 3)",
            str(db),
            "tv-2026",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])},
    )
    try:
        ready, _, _ = select.select([paused.stdout], [], [], HANG_SECONDS)
        seen = paused.stdout.readline() if ready else ""
    finally:
        paused.kill()  # SIGKILL: no cleanup, no rollback by the process itself
        paused.wait()
        paused.stdin.close()
        paused.stdout.close()
    assert paused.returncode == -signal.SIGKILL
    assert seen.strip() == "4000"  # killed inside the fourth batch's transaction

    with C2M(db_path=db) as app:
        stored = consistent(app)
        # Killed midway: the three committed batches with their events, nothing of the fourth.
        assert stored == 3000
    command = [sys.executable, "-c", "from c2m_core.cli import cli; cli()", "--db", str(db)]
    command += ["wish", "import", "tv-2026", str(path), "--batch-size", "1000"]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    assert finished.returncode == 0, finished.stderr
    assert f"{stored:,} already present" in finished.stdout
    with C2M(db_path=db) as app:
        assert consistent(app) == rows
        distinct = app.store.db.execute("SELECT COUNT(DISTINCT external_id) FROM wishes")
        assert distinct.fetchone()[0] == rows


def test_an_import_stops_when_the_campaign_leaves_its_wishes_stage(app):
    from c2m_core.campaigns.records import IllegalTransition

    rows = [(n, {"customer": f"u{n}", "configuration": {"size": "55-4k"}}) for n in range(1, 7)]
    advanced = []

    def advance_after_the_first_batch(line):
        if not advanced:
            advanced.append(app.campaigns.advance("tv-2026").state)

    with pytest.raises(IllegalTransition, match="is in state 'vote'; wishes are stored only"):
        app.wishes.submit_many(
            "tv-2026", rows, batch_size=2, progress=advance_after_the_first_batch
        )
    assert advanced == ["vote"]
    assert app.wishes.count("tv-2026") == 2  # the first batch, and nothing after the change
    assert consistent(app) == 2


def test_an_import_stores_what_submitting_each_row_stores(app, tmp_path):
    """Rows that repeat a configuration are judged once and share it; what is stored for each
    is what ``submit`` stores for that row alone."""
    catalog = app.campaigns.catalog(app.campaigns.get("tv-2026"))
    wishes = list(
        synthetic_wishes(
            catalog, lambda c: not app.validate("tv", c), 400, seed=3, invalid_share=0.2
        )
    )
    path = tmp_path / "wishes.csv"
    write_csv(path, wishes, catalog.module_ids)
    report = import_file(app, path)
    assert report.imported == 400 and not report.rejected
    app.campaigns.create("one-by-one", "tv")
    app.campaigns.advance("one-by-one")
    for row in wishes:
        app.wishes.submit("one-by-one", **{k: v for k, v in row.items() if v is not None})

    def stored(slug):
        campaign = app.campaigns.get(slug).id
        return [
            (w.external_id, w.customer, dict(w.configuration), w.quantity, w.region,
             w.price_ceiling, w.note, w.valid, w.violations, w.suggestion)
            for w in app.store.wishes.after(campaign, 0)
        ]  # fmt: skip

    imported = stored("tv-2026")
    assert imported == stored("one-by-one")
    assert len({str(row[2]) for row in imported}) < 400  # configurations did repeat
    assert any(not row[7] for row in imported)  # and some broke a rule


_CELLS = st.sampled_from(
    ["", " ", "u1", "u2", "w1", "w2", "1", "2", "0", "150", "-1", "1.5", "１", "99999999999999999",
     "1000000000000000", "CN-SD", "a note", "65-oled", " 65-oled ", "55-4k", "43-4k", "mini-led",
     "graphite", "walnut", "feet", "nope", "a,b", 'say "hi"', "two\nlines", "x" * 201, "\t"]
)  # fmt: skip
_HEADERS = [
    "external_id,customer,quantity,region,price_ceiling,note,size,backlight,appearance,functions,base",
    "size,customer,backlight,external_id,appearance,quantity,functions,note,base,region",
    "customer,raw,size,base",
    "customer,external_id",
]


def _csv_line(cells, quoted: bool) -> str:
    if not quoted:
        return ",".join(cells)
    return ",".join('"' + cell.replace('"', '""') + '"' if "," in cell else cell for cell in cells)


_SLUGS = itertools.count()


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory):
    """One database for many examples (each imports into campaigns of its own)."""
    with C2M(db_path=tmp_path_factory.mktemp("quick-csv") / "c2m.db") as app:
        yield app


_PLAIN = {
    "external_id": ["", "w1", "w2", "w3", " ", "x" * 201],
    "customer": ["u1", "u2", "", " ", "x" * 201],
    "quantity": ["", "1", "2", "100", "0", "500", " 2"],
    "region": ["", "CN-SD", " ", "\t"],
    "price_ceiling": ["", "0", "1500", "1000000000000000", "99999999999999999", "1.5", "１"],
    "note": ["", "a note", " "],
    "size": ["", "65-oled", " 65-oled ", "43-4k", "nope"],
    "backlight": ["", "mini-led"],
    "appearance": ["", "graphite", "walnut"],
    "functions": ["", "voice", "nope"],
    "base": ["", "feet"],
}


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.lists(st.booleans(), min_size=len(_PLAIN), max_size=len(_PLAIN)),
            st.integers(0, 3 * len(_PLAIN)),  # the cell that may be odd (most rows: none)
            st.integers(0, 6),
        ),
        min_size=1,
        max_size=12,
    ),
    st.integers(1, 5),
)
def test_plain_rows_read_column_by_column_import_as_row_by_row(shared_app, rows, batch_size):
    """The quick reader takes a run of plain lines a column at a time: what it stores and
    rejects is what the rows read one by one give, whichever cell is not plain."""
    text = ",".join(_PLAIN) + "\n"
    for firsts, odd, pick in rows:
        cells = [
            values[0 if first else 1] for values, first in zip(_PLAIN.values(), firsts, strict=True)
        ]
        if odd < len(_PLAIN):
            values = list(_PLAIN.values())[odd]
            cells[odd] = values[pick % len(values)]
        text += ",".join(cells) + "\n"
    assert _both_readers(shared_app, text, batch_size)


def _both_readers(app, text: str, batch_size: int) -> bool:
    """Import ``text`` with the quick reader and with the rows read one by one, each into a
    campaign of its own; True when both give the same report and stored wishes."""
    path = Path(app.store.path).parent / "wishes.csv"
    path.write_text(text, encoding="utf-8")
    modules = app.category("tv").catalog.module_ids

    def imported(quick: bool):
        slug = f"c{next(_SLUGS)}"
        app.campaigns.create(slug, "tv")
        app.campaigns.advance(slug)
        try:
            _, rows = read_wishes(path, modules)
        except InvalidInput as ex:
            return str(ex)
        try:
            report = app.wishes.submit_many(
                slug, rows if quick else (row for row in rows), batch_size=batch_size
            )
        except InvalidInput as ex:
            return str(ex)
        campaign = app.campaigns.get(slug).id
        stored = [
            (w.external_id, w.customer, dict(w.configuration), w.quantity, w.region,
             w.price_ceiling, w.note, w.raw, w.valid, w.violations, w.suggestion)
            for w in app.store.wishes.after(campaign, 0)
        ]  # fmt: skip
        return report.to_dict(), stored

    return imported(quick=True) == imported(quick=False)


@settings(max_examples=150)
@given(
    st.sampled_from(_HEADERS),
    st.lists(
        st.tuples(
            st.integers(-1, 1),  # cells missing or one too many
            st.lists(_CELLS, min_size=12, max_size=12),
            st.booleans(),  # quote cells holding commas
            st.sampled_from(["\n", "\r\n", "\n\n", "\n , ,\n"]),
        ),
        min_size=1,
        max_size=12,
    ),
    st.booleans(),
)
def test_the_quick_csv_reader_imports_what_the_row_reader_imports(
    shared_app, header, rows, last_newline
):
    """``submit_many`` reads a CSV file from ``read_wishes`` with its own quicker reader (plain
    lines split on commas, configurations judged once per module cells' text): it stores and
    rejects exactly what the rows read one by one store and reject, with the same lines and
    messages, whatever the file holds (quotes, blank lines, bad values, ragged rows)."""
    width = header.count(",") + 1
    text = header + "\n"
    for change, cells, quoted, end in rows:
        text += _csv_line(cells[: max(1, width + change)], quoted) + end
    if not last_newline:
        text = text.rstrip("\n")
    assert _both_readers(shared_app, text, batch_size=3)


_NEW_WISHES = st.lists(
    st.builds(
        NewWish,
        customer=st.text(max_size=3),
        configuration=st.dictionaries(st.sampled_from("ab"), st.sampled_from("xy")),
        quantity=st.integers(1, 9),
        region=st.none() | st.text(max_size=2),
        external_id=st.none() | st.text(max_size=2),
        valid=st.booleans(),
    ),
    max_size=8,
)


@given(wishes=_NEW_WISHES, more=_NEW_WISHES, index=st.integers(-9, 9), cut=st.slices(10))
def test_new_wishes_held_by_column_read_as_the_list_of_tuples(wishes, more, index, cut):
    """The batch an import gathers column by column is, read back, the list it was given:
    appended one by one or a column at a time, indexed, sliced and cleared."""
    batch = NewWishes(wishes)
    if more:
        batch.extend_columns(*zip(*more, strict=True))
    expected = wishes + more
    assert list(batch) == expected and len(batch) == len(expected)
    assert list(batch[cut]) == expected[cut]
    if -len(expected) <= index < len(expected):
        assert batch[index] == expected[index]
    batch.clear()
    if more:
        batch.append(more[0])
    assert list(batch) == more[:1]


@pytest.mark.parametrize("batch_size", [2, 5])
def test_a_plain_line_with_a_module_cell_too_many_or_too_few_is_rejected(shared_app, batch_size):
    """Lines that are plain but for the number of module cells are read as the row reader
    reads them (rejected with their line), also when the same module cells were judged
    before with the right number."""
    header = ",".join(_PLAIN)
    good = "w1,u1,1,CN-SD,,,65-oled,,graphite,,feet"
    text = "\n".join(
        [header, good, good.replace("w1", "w2") + ",extra", "w3,u1,1,CN-SD,,,65-oled,,graphite,"]
        + [good.replace("w1", f"v{n}") for n in range(4)]
    )
    assert _both_readers(shared_app, text + "\n", batch_size)
    path = Path(shared_app.store.path).parent / "wishes.csv"
    slug = f"c{next(_SLUGS)}"
    shared_app.campaigns.create(slug, "tv")
    shared_app.campaigns.advance(slug)
    _, rows = read_wishes(path, shared_app.category("tv").catalog.module_ids)
    report = shared_app.wishes.submit_many(slug, rows, batch_size=batch_size)
    assert [r.line for r in report.rejected] == [3, 4] and report.imported == 5
