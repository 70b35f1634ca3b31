"""``c2m demo`` on PostgreSQL: the same campaign, stage by stage, as on SQLite for one seed.

The demo reads the wall clock (the pre-sale deadline, when the hand-off was made), and the
two runs deliver to different folders; everything else in the report and in the hand-off
files must be equal.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import attrs
from click.testing import CliRunner

from c2m_core import C2M
from c2m_core.cli import cli
from c2m_core.report import build_report

SEED, WISHES = 11, 300
#: What depends on when the demo ran, in the hand-off records.
CLOCK_FIELDS = ("handed_off_at", "sha256")


def demo(db: str, out: Path):
    """Run ``c2m demo`` on ``db``; the campaign's report figures and hand-off records, without
    what depends on the wall clock or on the output folder."""
    args = ["--db", db, "demo", "--wishes", str(WISHES), "--seed", str(SEED), "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert re.search(r"^  report\s+\S+", result.stdout, re.M)
    with C2M(db) as app:
        figures = attrs.asdict(build_report(app, "demo-tv"))
    figures.pop("generated_at")
    figures["presale"].pop("deadline")
    factory = out / "demo-tv" / "factory"
    records = {}
    for path in sorted(factory.glob("HO-*.json")):
        record = json.loads(path.read_bytes())
        records[path.name] = {k: v for k, v in record.items() if k not in CLOCK_FIELDS}
        # the spec sheet says when it was issued, to the minute: its digest follows the clock
        records[path.name]["spec_sheet"].pop("sha256")
    text = json.dumps(figures, sort_keys=True, default=str).replace(str(factory), "FACTORY")
    return json.loads(text), records


def test_the_demo_on_postgresql_reports_what_it_reports_on_sqlite(tmp_path, postgres_url):
    on_sqlite = demo(str(tmp_path / "c2m.db"), tmp_path / "sqlite")
    figures, records = demo(postgres_url, tmp_path / "postgresql")
    assert figures["state"] == "closed" and figures["funnel"] and records
    assert figures["presale"]["rows"] and figures["production"]["orders"]
    assert figures == on_sqlite[0]
    assert records == on_sqlite[1]
