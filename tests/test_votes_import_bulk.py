"""Ballot files (and ``cast_many``'s pairs) are read, checked and counted a batch at a time;
every import must store, reject and count exactly what reading the same file a row at a time
(``read_ballots``) and casting each good row on its own (``app.voting.cast``) does, on files
with bad rows, odd values, quoting, blank lines and replacements, and keep the running tally
equal to a recount. The shared reader's batches are checked against its rows the same way."""

import csv
import io
import itertools
import json
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_votes import BordaPlugin
from voting_support import cast_one_by_one, voting_campaign

from c2m_core import C2M, InvalidInput
from c2m_core.hookspecs import hookimpl
from c2m_core.imports import ImportFile
from c2m_core.voting import IncrementalMethod, Plurality
from c2m_core.voting.files import read_ballots

SLUGS = itertools.count()
METHODS = ["plurality", "approval", "score", "schulze"]
FIELDS = {
    "plurality": ["choice"],
    "approval": ["approve"],
    "score": ["score", "would_buy"],
    "schulze": ["rank"],
}
VOTERS = st.sampled_from(["ann", "bob", "cat", " cat ", "dan", "", "  ", "e" * 201, "bob"])


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    """Two databases: one imports files, the other casts their rows one by one."""
    folder = tmp_path_factory.mktemp("bulk")
    with C2M(db_path=folder / "bulk.db") as bulk, C2M(db_path=folder / "rows.db") as rows:
        yield bulk, rows


def id_cells(ids):
    """Variant ids as a voter might write them: known ids, unknown ones, odd forms."""
    known = [str(i) for i in ids]
    return st.sampled_from([*known, "0", "99", f"0{known[0]}", "x", ""])


@st.composite
def cell(draw, method, field, ids):
    """A cell for ``field``: mostly well-formed, sometimes not."""
    one = id_cells(ids)
    if field == "choice":
        return draw(one)
    if field in ("approve", "would_buy"):
        return draw(st.sampled_from([";", ",", " "])).join(draw(st.lists(one, max_size=3)))
    if field == "score":
        picked = draw(st.lists(st.sampled_from(ids), unique=True, min_size=1))
        if draw(st.booleans()):
            picked.sort(key=ids.index)  # candidate order: the fast reading's case
        scores = st.sampled_from(["0", "3", "5", "5", "3", "6", "-1", "a", "05"])
        pairs = [f"{i}{draw(st.sampled_from(['=', '=', ':']))}{draw(scores)}" for i in picked]
        if draw(st.integers(0, 5)) == 0:
            pairs.append(f"{draw(one)}=1")  # unknown or repeated
        return draw(st.sampled_from([";", ";", ",", "; "])).join(pairs)
    picked = draw(st.lists(st.sampled_from(ids), unique=True, min_size=1))
    text = str(picked[0])
    for ident in picked[1:]:
        text += draw(st.sampled_from([">", ">", "=", " > "])) + str(ident)
    if draw(st.integers(0, 6)) == 0:  # unknown, repeated or empty place, odd separators
        text += draw(st.sampled_from([">", "=", ">>", "\t>", "> "])) + draw(one)
    if draw(st.integers(0, 12)) == 0:  # characters no ranking holds
        text += draw(st.sampled_from(["é", "１", "x", "\\"]))
    return text


@st.composite
def ballot_file(draw, method, ids, fmt):
    """The text of a ballot file with its rows, bad rows and blank lines."""
    fields = FIELDS[method]
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["row"] * 8 + ["blank", "bad"]))
        voter = draw(VOTERS)
        values = {f: draw(cell(method, f, ids)) for f in fields if draw(st.integers(0, 5))}
        if fmt == "csv":
            out = io.StringIO()
            if kind == "blank":
                lines.append(draw(st.sampled_from(["", " ", ",,"])) + "\n")
                continue
            row = [voter] + [values.get(f, "") for f in fields]
            if kind == "bad":
                row.append("extra")
            csv.writer(out, lineterminator="\n").writerow(row)
            lines.append(out.getvalue())
        else:
            if kind == "blank":
                lines.append("\n")
                continue
            if kind == "bad":
                bad = ['{"voter": 1', "[1]", '{"voter": "a", "x": 1}', '{"voter": 2}']
                lines.append(draw(st.sampled_from(bad)) + "\n")
                continue
            data: dict = {"voter": voter, **values}
            if draw(st.integers(0, 4)) == 0:
                data.pop("voter")
            if method == "approval" and draw(st.booleans()):
                data["approve"] = [ids[0]]  # a JSON list: read one by one
            if method == "schulze" and draw(st.integers(0, 4)) == 0:
                data["rank"] = draw(st.sampled_from([[[ids[1]], [ids[0]]], ids[0], "a\nb"]))
            lines.append(json.dumps(data) + "\n")
    header = "voter," + ",".join(fields) + "\n" if fmt == "csv" else ""
    return header + "".join(lines)


def same_votes(apps, method):
    """A new campaign with the same vote in each app: its slug and candidates."""
    slug = f"b{next(SLUGS)}"
    for app in apps:
        voting_campaign(app, slug, variants=4)
        app.voting.open(slug, method)
    ids = list(apps[0].voting.get(slug).candidates)
    assert all(list(app.voting.get(slug).candidates) == ids for app in apps)
    return slug, ids


def outcome(app, slug, report):
    vote = app.voting.get(slug)
    return (
        report.to_dict(),
        [(b.voter, b.ballot) for b in app.store.voting.ballots(vote.id)],
        [(h.voter, h.ballot) for h in app.voting.history(slug)],
        app.store.voting.running_tally(vote.id),
    )


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), batch_size=st.integers(1, 5), strict=st.booleans())
def test_a_file_imports_exactly_as_its_rows_cast_one_by_one(
    apps, tmp_path_factory, method, fmt, data, batch_size, strict
):
    bulk, rows = apps
    slug, ids = same_votes(apps, method)
    folder = tmp_path_factory.mktemp("files")
    for n in range(2):  # the second file replaces ballots of the first
        path = folder / f"{n}.{fmt}"
        path.write_text(data.draw(ballot_file(method, ids, fmt)), encoding="utf-8")
        try:
            imported = bulk.voting.import_file(slug, path, strict=strict, batch_size=batch_size)
        except InvalidInput as ex:  # a file that cannot be used: refused, nothing stored
            with pytest.raises(InvalidInput, match=re.escape(str(ex))):
                read_ballots(path, FIELDS[method])
            continue
        reference = cast_one_by_one(rows, slug, read_ballots(path, FIELDS[method]), strict)
        assert outcome(bulk, slug, imported) == outcome(rows, slug, reference)
    assert bulk.voting.audit(slug).ok


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@settings(max_examples=5, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), batch_size=st.sampled_from([7, 64, 500]))
def test_large_files_with_repeated_ballots_count_as_their_rows(
    apps, tmp_path_factory, method, fmt, seed, batch_size
):
    """Hundreds of rows, mostly good, many sharing ballots and pieces of ballots, some
    voters twice: what each batch counts in one go is what the rows count one by one."""
    bulk, rows = apps
    slug, ids = same_votes(apps, method)
    rng = random.Random(seed)
    fields = FIELDS[method]
    lines = []
    for _ in range(600):
        ranked = rng.sample(ids, rng.randint(1, len(ids)))
        if method != "schulze":
            ranked.sort(key=ids.index)
        values = {
            "choice": str(ranked[0]),
            "approve": ";".join(map(str, ranked)),
            "score": ";".join(f"{c}={rng.randint(0, 5)}" for c in ranked),
            "would_buy": rng.choice(["", str(ids[0]), f"{ids[1]};{ids[2]}"]),
            "rank": "".join(f"{rng.choice('>=') if k else ''}{c}" for k, c in enumerate(ranked)),
        }
        if rng.random() < 0.03:
            values[fields[0]] = "9999"
        voter = f"v{rng.randrange(450)}"
        if fmt == "csv":
            lines.append(",".join([voter] + [values[f] for f in fields]) + "\n")
        else:
            lines.append(json.dumps({"voter": voter} | {f: values[f] for f in fields}) + "\n")
    header = "voter," + ",".join(fields) + "\n" if fmt == "csv" else ""
    path = tmp_path_factory.mktemp("large") / f"ballots.{fmt}"
    path.write_text(header + "".join(lines), encoding="utf-8")
    imported = bulk.voting.import_file(slug, path, batch_size=batch_size)
    reference = cast_one_by_one(rows, slug, read_ballots(path, fields))
    assert imported.replaced > 0 and imported.rejected
    assert outcome(bulk, slug, imported) == outcome(rows, slug, reference)
    assert bulk.voting.audit(slug).ok


# The shared reader -----------------------------------------------------------------------

CSV_CELLS = st.sampled_from(["a", "b c", "", " ", 'say "hi"', "x,y", "two\nlines", "é", "1=2"])


@st.composite
def csv_text(draw):
    lines = ["voter,score,would_buy\n"]
    for _ in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from(["row"] * 6 + ["blank", "short", "raw", "long"]))
        if kind == "blank":
            lines.append(draw(st.sampled_from(["\n", " \n", ",,\n", "\r\n"])))
        elif kind == "raw":
            lines.append(draw(st.sampled_from(['a,"open\n', 'a,b"c,d\n', "a,b,c\r", '"q"x,y,z\n'])))
        else:
            width = 2 if kind == "short" else 3
            cells = [draw(CSV_CELLS) for _ in range(width)]
            if kind == "long":
                cells[1] = "z" * 10_001
            out = io.StringIO()
            csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerow(cells)
            lines.append(out.getvalue())
    return "".join(lines)


@st.composite
def jsonl_text(draw):
    lines = []
    for _ in range(draw(st.integers(1, 10))):
        lines.append(
            draw(
                st.sampled_from(
                    [
                        '{"voter": "a", "score": "1=2"}',
                        '{"voter": "b"}',
                        '  {"voter": "c", "would_buy": "1"}  ',
                        '{"voter": "d", "score": [1, 2]}',
                        '{"voter": ""}',
                        '{"score": "1=1"}',
                        '{"voter": "e", "other": 1}',
                        '{"voter": "f"} x',
                        "[1]",
                        "{bad",
                        "",
                        "   ",
                        '{"voter": "' + "g" * 10_001 + '"}',
                        '{"voter": 5}',
                        '{"voter": "h"',
                        '"score": "2"}',
                        '{"voter": "i"},{"voter": "j"}',
                        '{"voter": "k", "score": "},{"}',
                    ]
                )
            )
        )
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


def source(text, fmt):
    return ImportFile(
        io.BytesIO(text.encode()), ["voter", "score", "would_buy"], ["voter"], fmt, ["score"]
    )


@settings(max_examples=200)
@given(
    text=st.one_of(csv_text().map(lambda t: (t, "csv")), jsonl_text().map(lambda t: (t, "jsonl"))),
    size=st.integers(1, 4),
)
def test_batches_hold_exactly_the_rows_read_one_by_one(text, size):
    text, fmt = text
    try:
        one_by_one = source(text, fmt)
    except InvalidInput as ex:  # a file that cannot be used, refused when it is opened
        with pytest.raises(InvalidInput, match=re.escape(str(ex))):
            source(text, fmt).batches(size)
        return
    expected = list(one_by_one.cells() if fmt == "csv" else one_by_one.rows())
    found = []
    for batch in source(text, fmt).batches(size):
        assert len(batch.lines) == len(batch.rows)
        found += list(zip(batch.lines, batch.rows, strict=True)) + batch.rejected
    line = lambda item: item.line if hasattr(item, "line") else item[0]  # noqa: E731
    assert sorted(found, key=line) == expected


def test_a_line_holding_two_objects_cannot_make_up_for_one_spread_over_two():
    """Read as one array, these lines hold as many values as lines: the first two lines are
    one object, the third two. Each line is a row of its own, and none of these is usable."""
    text = '{"voter": "a"\n"score": "1"}\n{"voter": "b"},{"voter": "c"}\n'
    batches = list(source(text, "jsonl").batches(10))
    assert [row.line for batch in batches for row in batch.rejected] == [1, 2, 3]
    assert not any(batch.rows for batch in batches)


class FirstChoice(IncrementalMethod):
    """A plugin's incremental method with no batch form of its own: the default one reads
    its ballots (each distinct one once) and counts them with its ``counters``."""

    name = "first"
    fields = ("rank",)

    def normalise(self, ballot, candidates, options):
        first = str(self.require(ballot, "rank", "a ranking")).split(">")[0].strip()
        return {"first": Plurality().normalise({"choice": first}, candidates, options)["choice"]}

    def counters(self, ballots, candidates, options):
        return Plurality().counters(
            (({"choice": ballot["first"]}, count) for ballot, count in ballots),
            candidates,
            options,
        )

    def tally_counters(self, counters, candidates, winners, options):
        return Plurality().tally_counters(counters, candidates, winners, options)


class FirstChoicePlugin:
    @hookimpl
    def register_voting_methods(self, app):
        return [FirstChoice()]


@pytest.mark.parametrize("name", ["borda", "first"])
def test_plugin_methods_import_files_and_count_them_as_their_rows(tmp_path, name):
    plugins = [BordaPlugin(), FirstChoicePlugin()]
    with (
        C2M(db_path=tmp_path / "bulk.db", plugins=plugins) as bulk,
        C2M(db_path=tmp_path / "rows.db", plugins=plugins) as rows,
    ):
        for app in (bulk, rows):
            voting_campaign(app, variants=3)
            app.voting.open("tv26", name)
        a, b, c = bulk.voting.get("tv26").candidates
        path = tmp_path / "ballots.csv"
        path.write_text(
            f"voter,rank\nann,{a}>{b}>{c}\nbob,{c}>{b}\ncat,{c}>{c}\nann,{b}>{a}\n"
            f"dan,{b}>{a}>{c}\nzed,99>{a}\neve,{c}>{a}\n",
            encoding="utf-8",
        )
        for _ in range(2):  # the second time, every ballot replaces one
            imported = bulk.voting.import_file("tv26", path, batch_size=4)
            reference = cast_one_by_one(rows, "tv26", read_ballots(path, ["rank"]))
            assert outcome(bulk, "tv26", imported) == outcome(rows, "tv26", reference)
            assert 7 in [r.line for r in imported.rejected]  # variant 99
        assert bulk.voting.audit("tv26").ok
        assert bulk.voting.close("tv26") == rows.voting.close("tv26")


@st.composite
def cast_pair(draw, method, ids):
    """A ``(voter, ballot)`` pair as a shop's code might pass one: mostly a mapping of the
    method's fields, sometimes with a field it does not read, blank or non-text values, or no
    mapping at all; the voter sometimes unusable too."""
    voter = draw(st.one_of(VOTERS, st.sampled_from([None, 5, "ann"])))
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return voter, draw(st.sampled_from([None, "x", 3, ["rank"], ("choice", ids[0])]))
    values = {f: draw(cell(method, f, ids)) for f in FIELDS[method] if draw(st.integers(0, 5))}
    if kind == 1:
        values[draw(st.sampled_from(["other", "choice", "rank", 1]))] = str(ids[0])
    elif kind == 2:
        field = FIELDS[method][0]
        values[field] = draw(
            st.sampled_from(
                [None, "", [], ids[0], [ids[0], ids[1]], {ids[0]: 3}, [[ids[1]], [ids[0]]], True]
            )
        )
    return voter, values


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), batch_size=st.integers(1, 5), strict=st.booleans())
def test_cast_many_stores_and_rejects_as_casting_each_pair_on_its_own(
    apps, method, data, batch_size, strict
):
    bulk, rows = apps
    slug, ids = same_votes(apps, method)
    for _ in range(2):  # the second time, ballots replace the first ones
        pairs = data.draw(st.lists(cast_pair(method, ids), min_size=1, max_size=12))
        seen = []
        imported = bulk.voting.cast_many(
            slug, iter(pairs), strict=strict, batch_size=batch_size, progress=seen.append
        )
        assert sum(seen) == len(pairs)
        numbered = [(n, voter, ballot, None) for n, (voter, ballot) in enumerate(pairs, 1)]
        reference = cast_one_by_one(rows, slug, numbered, strict)
        assert outcome(bulk, slug, imported) == outcome(rows, slug, reference)
    assert bulk.voting.audit(slug).ok
