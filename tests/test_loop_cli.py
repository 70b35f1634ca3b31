"""The loop's commands and report section: rewards, feedback, forecast; text stays data."""

import json

from click.testing import CliRunner
from loop_support import run_campaign

from c2m_core import C2M
from c2m_core.cli import make_cli
from c2m_core.report import build_report, render_report


def test_reward_feedback_and_forecast_commands(tmp_path, mini_catalog, category_plugin):
    app = C2M(tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog)])
    small, _ = run_campaign(app, tmp_path)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(make_cli(), list(args), obj=app, catch_exceptions=False)

    assert run("reward", "pay", "c").exit_code == 2  # no rule yet: says how to set one
    result = run("reward", "rule", "c", "--fixed", "10.00")
    assert result.exit_code == 0 and "EUR 10.00" in result.output
    assert run("reward", "rule", "c", "--fixed", "1.234").exit_code == 2  # too many decimals
    result = run("reward", "pay", "c", "--json")
    assert json.loads(result.output)["paid_total"] == 1000
    assert "alice" in run("reward", "ledger", "c").output
    assert "alice (2)" in run("reward", "showcase", "c").output
    text = "<b>The stand</b> {{ 7*7 }}"
    result = run("feedback", "add", "c", "--variant", str(small.id), "--customer", "erin",
                 "--text", text, "--rating", "2")  # fmt: skip
    assert result.exit_code == 0 and "names module stand" in result.output
    assert run("feedback", "add", "c", "--variant", "1", "--customer", "e", "--text", "x",
               "--rating", "9").exit_code == 2  # fmt: skip
    listed = json.loads(run("feedback", "list", "c", "--json").output)
    assert listed[0]["text"] == text
    result = run("feedback", "seed", "c2", "--from", "c", "--create")
    assert result.exit_code == 0 and "1 wish(es)" in result.output
    forecast = json.loads(run("forecast", "c", "--json").output)
    assert forecast["source"] == "wishes" and len(forecast["variants"]) == 2
    html = render_report(app, build_report(app, "c"))
    assert "Closing the loop" in html and "Forecast against actual" in html
    app.close()


def test_feedback_text_is_escaped_in_the_report(tmp_path, mini_catalog, category_plugin):
    app = C2M(tmp_path / "c2m.db", plugins=[category_plugin(mini_catalog)])
    small, _ = run_campaign(app, tmp_path)
    app.rewards.share("c", "<script>alert(1)</script>", small.id)
    app.feedback.submit("c", small.id, "erin", "<script>x</script> late", tags=["<i>"])
    html = render_report(app, build_report(app, "c"))
    assert "<script>" not in html
    app.close()
