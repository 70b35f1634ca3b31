"""One import path: wishes, ballots and pledges read by one reader, with one exit-code rule."""

import codecs
import datetime
import io
import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from c2m_core import C2M
from c2m_core.cli import make_cli
from c2m_core.errors import InvalidInput
from c2m_core.imports import MAX_COLUMNS, MAX_FIELD, ImportFile, Rejected

NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
SMALL = {"size": "s", "stand": "feet"}
LARGE = {"size": "l", "stand": "wall"}

# (command, campaign, a good CSV header, a good row) for each import command
COMMANDS = {
    "wish": ("w", "customer,size,stand", "u1,s,feet"),
    "vote": ("v", "voter,choice", "ann,1"),
    "pledge": ("p", "variant,customer,quantity,key", "3,ann,2,k1"),
}


@pytest.fixture
def app(tmp_path, mini_catalog, category_plugin):
    with C2M(
        tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog)], clock=lambda: NOW
    ) as app:
        app.campaigns.create("w", "mini", stages=["wishes"])
        app.campaigns.advance("w")
        for slug, stage in (("v", "vote"), ("p", "presale")):
            app.campaigns.create(slug, "mini", stages=[stage])
            app.variants.add(slug, SMALL)
            app.variants.add(slug, LARGE)
            app.campaigns.advance(slug)
        app.voting.open("v", "plurality")
        app.presale.open("p", "7d")
        yield app


def stored(app) -> tuple[int, int, int]:
    return (
        app.wishes.count("w"),
        app.voting.count_ballots("v"),
        len(app.presale.pledges("p")),
    )


def run_import(app, command, path, *extra):
    slug = COMMANDS[command][0]
    return CliRunner().invoke(make_cli(), [command, "import", slug, str(path), *extra], obj=app)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_exit_codes_are_the_same_for_the_three_imports(app, tmp_path, command):
    _, header, good = COMMANDS[command]
    path = tmp_path / "rows.csv"
    path.write_text(f"{header}\n{good}\n", encoding="utf-8")
    ok = run_import(app, command, path)
    assert ok.exit_code == 0, ok.output
    bad = ",".join(["x"] * len(header.split(",")))
    path.write_text(f"{header}\n{bad}\n", encoding="utf-8")
    some = run_import(app, command, path)
    assert some.exit_code == 1, some.output
    assert "line 2" in some.output
    path.write_text("nothing,known\n1,2\n", encoding="utf-8")
    unusable = run_import(app, command, path)
    assert unusable.exit_code == 2 and "line 1" in unusable.output
    assert "Traceback" not in unusable.output
    help_text = CliRunner().invoke(make_cli(), [command, "import", "--help"]).output
    assert "Exit codes: 0 every row stored; 1 some rows rejected" in help_text


HOSTILE = {
    "latin-1": ("customer,size\nJosé,s\n".encode("latin-1"), "line 2 is not UTF-8 text"),
    "utf-16": ("customer,size\nu1,s\n".encode("utf-16"), "UTF-16 text, not UTF-8"),
    "nul": (b"customer,size\nu1\0,s\n", "line 2 holds a NUL byte"),
    "empty": (b"", "the file is empty"),
    "blank": (b"\n\n  \n", "the file is empty"),
    "bom only": (codecs.BOM_UTF8, "the file is empty"),
    "header alone": (b"HEADER\n", "line 1 is a header and no rows follow"),
    "header and blank rows": (b"HEADER\n\n , \n,\n", "line 1 is a header and no rows follow"),
    "thousands of columns": (
        (",".join(f"c{i}" for i in range(5000)) + "\n1\n").encode(),
        f"the header has 5,000 columns, more than {MAX_COLUMNS}",
    ),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_get_a_clear_message_and_store_nothing(app, tmp_path, command, name):
    data, message = HOSTILE[name]
    header = COMMANDS[command][1]
    path = tmp_path / "rows.csv"
    path.write_bytes(data.replace(b"HEADER", header.encode()))
    if name in ("latin-1", "utf-16", "nul"):
        path.write_bytes(data.replace(b"customer,size", header.encode()))
    result = run_import(app, command, path)
    assert result.exit_code == 2, result.output
    assert message in result.output and "accepted" in result.output
    assert "Traceback" not in result.output
    assert stored(app) == (0, 0, 0)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_huge_field_and_a_wide_row_are_rejected_rows(app, tmp_path, command):
    _, header, good = COMMANDS[command]
    path = tmp_path / "rows.csv"
    width = len(header.split(","))
    huge = ",".join(["y" * (MAX_FIELD + 1)] * width)
    wide = ",".join(["1"] * 3000)
    path.write_text(f"{header}\n{huge}\n{wide}\n{good}\n", encoding="utf-8")
    result = run_import(app, command, path, "--json")
    assert result.exit_code == 1, result.output
    rejected = json.loads(result.stdout)["rejected"]
    assert [r["line"] for r in rejected] == [2, 3]
    assert "characters is too long; at most 10,000 are accepted" in json.dumps(rejected)
    assert f"3,000 fields, but the header has {width}" in json.dumps(rejected)
    assert sum(stored(app)) == 1


def test_a_utf8_bom_is_accepted_and_jsonl_works_for_all_three(app, tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes(codecs.BOM_UTF8 + b"customer,size\nu1,s\n")
    assert run_import(app, "wish", path).exit_code == 0
    lines = {
        "wish": {"customer": "u2", "configuration": {"size": "l"}},
        "vote": {"voter": "ann", "choice": 2},
        "pledge": {"variant": 4, "customer": "bob", "quantity": 1, "key": "k9"},
    }
    for command, line in lines.items():
        path = tmp_path / f"{command}.jsonl"
        path.write_bytes(codecs.BOM_UTF8 + (json.dumps(line) + "\n").encode())
        result = run_import(app, command, path)
        assert result.exit_code == 0, result.output
    assert stored(app) == (2, 1, 1)


@given(st.binary(max_size=300))
def test_random_bytes_never_raise_anything_but_invalid_input(data):
    try:
        rows = list(ImportFile(io.BytesIO(data), ["a", "b"], ["a"], "csv"))
    except InvalidInput as ex:
        assert "accepted" in str(ex)
        return
    for row in rows:
        assert isinstance(row, Rejected) or (isinstance(row[0], int) and "a" in row[1])
    try:
        rows = list(ImportFile(io.BytesIO(data), ["a", "b"], ["a"], "jsonl"))
    except InvalidInput as ex:
        assert "accepted" in str(ex)


def test_random_bytes_through_the_cli_exit_2_or_reject_rows(app, tmp_path):
    path = tmp_path / "noise.csv"
    path.write_bytes(bytes(range(256)) * 4)
    for command in COMMANDS:
        result = run_import(app, command, path)
        assert result.exit_code == 2 and "accepted: UTF-8 text" in result.output
    assert stored(app) == (0, 0, 0)


def test_import_pledges_from_rows_a_file_object_and_a_path(app, tmp_path):
    report = app.presale.import_pledges(
        "p",
        [
            {"variant": 3, "customer": "ann", "quantity": 2, "key": "o1"},
            {"variant": 7, "customer": "bob", "quantity": 1, "key": "o2"},
            {"variant": 4, "customer": "cat", "quantity": 2**70, "key": "o3"},
            {"variant": 4, "customer": "dan", "quantity": 1, "key": "o1"},
        ],
    )
    assert (report.rows, report.placed, report.units) == (4, 1, 2)
    assert [(r.line, r.key) for r in report.rejected] == [(2, "o2"), (3, "o3"), (4, "o1")]
    assert "from 1 to 1,000,000,000" in report.rejected[1].reason
    again = app.presale.import_pledges(
        "p", io.StringIO("variant,customer,quantity,key\n3,ann,2,o1\n")
    )
    assert (again.placed, again.rejected) == (1, ())  # the same key again: a replay
    path = tmp_path / "more.jsonl"
    path.write_text('{"variant": 4, "customer": "eve", "quantity": 3, "key": "o4"}\n')
    assert app.presale.import_pledges("p", path).units == 3
    strict = app.presale.import_pledges(
        "p", [{"variant": 3, "customer": "fay", "quantity": 1, "key": "o5"}, {}], strict=True
    )
    assert not strict.committed and strict.placed == 0
    assert [p.key for p in app.presale.pledges("p")] == ["o1", "o4"]
    with pytest.raises(InvalidInput, match="the file is empty"):
        app.presale.import_pledges("p", io.BytesIO(b""), format="csv")


@settings(max_examples=300)
@given(
    st.lists(
        st.one_of(
            st.builds(
                lambda obj, before, after: before + json.dumps(obj) + after,
                st.dictionaries(
                    st.sampled_from(["voter", "rank", "other"]),
                    st.one_of(
                        st.text(max_size=5), st.integers(), st.none(), st.lists(st.integers())
                    ),
                    max_size=3,
                ),
                st.sampled_from(["", " ", "\t", "\ufeff"]),
                st.sampled_from(["", " ", "\t ", "\u3000", "x", "}", " {}", "\x0b"]),
            ),
            st.text(max_size=12),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_json_lines_read_fast_as_json_loads_reads_them(lines):
    """The reader's quick path for JSON Lines (a value from column 1) reads exactly what
    ``json.loads`` reads, and refuses exactly what it refuses, with its message."""
    import c2m_core.imports as imports

    text = "\n".join(line.replace("\n", " ").replace("\r", " ") for line in lines) + "\n"
    if not text.strip() or "\0" in text:
        return

    def rows():
        try:
            source = ImportFile(
                io.BytesIO(text.encode("utf-8", "surrogatepass")),
                ["voter", "rank"],
                ["voter"],
                "jsonl",
                nested=["rank"],
            )
        except InvalidInput as ex:
            return str(ex)
        return [r.to_dict() if isinstance(r, Rejected) else r for r in source]

    fast = rows()

    def careful(text, index):
        raise StopIteration(index)

    original, imports._scan = imports._scan, careful
    try:
        assert fast == rows()
    finally:
        imports._scan = original


def _lines_by_walking(data: bytes, max_line: int):
    """What ``check_bytes`` finds in plain ASCII ``data``, by splitting it whole: the line
    count or the message of the first problem (a line too long, nothing but blanks)."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        if len(line) > max_line:
            return f"line {number} is longer than {max_line:,} bytes"
    if not data.strip():
        return "the file is empty"
    return data.count(b"\n") + (not data.endswith(b"\n"))


@settings(max_examples=300)
@given(
    data=st.lists(st.sampled_from([b"a", b"bc", b" ", b"\n", b"\r\n", b"defgh"]), max_size=40).map(
        b"".join
    ),
    max_line=st.integers(1, 9),
    cuts=st.lists(st.integers(0, 200), max_size=6),
)
def test_lines_are_counted_and_measured_however_the_file_is_cut(data, max_line, cuts):
    """``check_bytes`` counts lines and finds the first one too long whatever chunks the
    file arrives in (chunks longer or shorter than a line, a line over several chunks)."""
    from c2m_core.imports import check_bytes

    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    chunks = [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    expected = _lines_by_walking(data, max_line)
    try:
        found = check_bytes(iter(chunks), "f.csv", max_line=max_line).lines
    except InvalidInput as ex:
        found = str(ex)
        assert isinstance(expected, str) and found.startswith(f"f.csv: {expected}"), found
        return
    assert found == expected
