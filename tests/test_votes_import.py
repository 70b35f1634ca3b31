"""Bulk casting and ballot files: line numbers, strict mode, batches, progress, early stop."""

import json

import pytest
from voting_support import voting_campaign

from c2m_core import C2M, InvalidInput
from c2m_core.voting.files import count_lines


@pytest.fixture
def app(tmp_path):
    with C2M(db_path=tmp_path / "c2m.db") as app:
        voting_campaign(app)  # variants 1, 2, 3
        yield app


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_import_reports_every_bad_row_with_its_line_and_imports_the_good_ones(app, tmp_path):
    app.voting.open("tv26", "score")
    path = write(
        tmp_path / "ballots.csv",
        "\ufeffvoter,score,would_buy\n"  # a spreadsheet's byte-order mark
        'ann,"1=5,2=3",1\n'
        "ben,1=9,\n"  # line 3: score out of range
        "\n"  # blank line 4 is skipped
        "cat,2=4;3=1,\n"
        ",1=1,\n"  # line 6: no voter
        "dan,4=2,\n"  # line 7: not a candidate
        'eve,"1=1",2,extra\n'  # line 8: too many cells
        "ann,3=5,3\n",  # line 9: ann again replaces line 2
    )
    report = app.voting.import_file("tv26", path)
    assert (report.received, report.imported, report.replaced) == (7, 3, 1)
    assert [(r.line, r.voter) for r in report.rejected] == [
        (3, "ben"),
        (6, ""),
        (7, "dan"),
        (8, None),
    ]
    assert "score '9' for variant 1 is not a whole number from 0 to 5" in report.rejected[0].message
    assert report.rejected[1].message.startswith("voter: ''")
    assert "variant 4 is not a candidate" in report.rejected[2].message
    assert report.rejected[3].message == "4 fields, but the header has 3"
    assert app.voting.ballot("tv26", "ann").ballot == {"score": [[3, 5]], "would_buy": [3]}
    assert app.voting.ballot("tv26", "cat").ballot == {"score": [[2, 4], [3, 1]]}
    assert [h.ballot for h in app.voting.history("tv26", "ann")] == [
        {"score": [[1, 5], [2, 3]], "would_buy": [1]}
    ]
    assert app.voting.count_ballots("tv26") == 2


def test_jsonl_import_reads_json_values_and_reports_bad_lines(app, tmp_path):
    app.voting.open("tv26", "schulze")
    lines = [
        json.dumps({"voter": "ann", "rank": "3>1=2"}),
        json.dumps({"voter": "ben", "rank": [[2], [1, 3]]}),
        "{not json",
        json.dumps(["ann", "1>2"]),
        json.dumps({"rank": "1>2"}),
        json.dumps({"voter": "cat", "choice": 1}),
        "",
        json.dumps({"voter": "dan", "rank": "2>2"}),
    ]
    path = write(tmp_path / "ballots.jsonl", "\n".join(lines) + "\n")
    report = app.voting.import_file("tv26", path)
    assert report.imported == 2
    assert [(r.line, r.message.split(";")[0]) for r in report.rejected] == [
        (3, "not valid JSON (Expecting property name enclosed in double quotes at column 2)"),
        (4, "expected a JSON object, got list"),
        (5, "missing voter"),
        (6, "unknown key 'choice'"),
        (8, "ballot field 'rank': variant 2 is given twice"),
    ]
    assert app.voting.ballot("tv26", "ben").ballot == {"rank": [[2], [1, 3]]}


def test_strict_import_stores_nothing_when_a_row_is_bad(app, tmp_path):
    app.voting.open("tv26", "plurality")
    path = write(tmp_path / "b.csv", "voter,choice\nann,1\nben,7\ncat,2\n")
    report = app.voting.import_file("tv26", path, strict=True, batch_size=1)
    assert report.imported == 0 and [r.line for r in report.rejected] == [3]
    assert "nothing was imported" in report.stopped
    assert app.voting.count_ballots("tv26") == 0
    good = write(tmp_path / "good.csv", "voter,choice\nann,1\ncat,2\n")
    report = app.voting.import_file("tv26", good, strict=True, batch_size=1)
    assert report.imported == 2 and report.stopped is None
    # One transaction, one event, however small the batches.
    assert len(app.store.events_since(0, types=("ballots.imported",))) == 1


def test_a_header_that_does_not_fit_the_method_is_refused_before_anything_is_stored(app, tmp_path):
    app.voting.open("tv26", "plurality")
    with pytest.raises(InvalidInput, match="unknown column 'chioce'; accepted: columns voter"):
        app.voting.import_file("tv26", write(tmp_path / "a.csv", "voter,chioce\nann,1\n"))
    with pytest.raises(InvalidInput, match=r"missing column\(s\) voter"):
        app.voting.import_file("tv26", write(tmp_path / "b.csv", "choice\n1\n"))
    with pytest.raises(InvalidInput, match="cannot tell the format.*or pass --format csv|jsonl"):
        app.voting.import_file("tv26", write(tmp_path / "c.txt", "voter,choice\n"))
    with pytest.raises(InvalidInput, match="no such file"):
        app.voting.import_file("tv26", tmp_path / "missing.csv")
    assert app.voting.count_ballots("tv26") == 0


def test_batches_commit_separately_and_progress_counts_every_row(app, tmp_path):
    app.voting.open("tv26", "approval")
    rows = "".join(f"v{i},{1 + i % 3}\n" for i in range(7)) + "bad,9\n"
    path = write(tmp_path / "b.csv", "voter,approve\n" + rows)
    seen = []
    report = app.voting.import_file("tv26", path, batch_size=3, progress=seen.append)
    assert report.imported == 7 and len(report.rejected) == 1
    assert sum(seen) == 8
    batches = app.store.events_since(0, types=("ballots.imported",))
    assert [(e.payload["first_line"], e.payload["ballots"]) for e in batches] == [
        (2, 3),
        (5, 3),
        (8, 1),
    ]
    assert count_lines(path) == 9


def test_an_import_stops_cleanly_when_the_vote_closes_midway(app, tmp_path):
    app.voting.open("tv26", "plurality")
    other = C2M(db_path=app.db_path)

    def ballots():
        for i in range(6):
            if i == 4:
                other.voting.close("tv26")  # another process closes the vote between batches
            yield f"v{i}", {"choice": 1}

    report = app.voting.cast_many("tv26", ballots(), batch_size=2)
    other.close()
    assert report.imported == 4
    assert report.stopped.startswith("stopped at line 5: the vote closed at")
    assert app.voting.count_ballots("tv26") == 4
    assert app.voting.results("tv26").ballots == 4


def test_cast_many_reports_positions(app):
    app.voting.open("tv26", "plurality")
    report = app.voting.cast_many("tv26", [("a", {"choice": 1}), ("b", {"choice": "x"})])
    assert report.imported == 1
    assert [(r.line, r.voter) for r in report.rejected] == [(2, "b")]
    with pytest.raises(InvalidInput, match="batch size"):
        app.voting.cast_many("tv26", [], batch_size=0)
