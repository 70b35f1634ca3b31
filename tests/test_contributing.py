"""CONTRIBUTING.md's tutorial, "Writing a category plugin", run step by step in a fresh venv.

A fenced block preceded by a marker comment is a step:

- ``<!-- tutorial: run -->`` (or ``run exit=N``): run the shell block; it must exit 0 (or N).
  The working directory carries over from one run block to the next, as in a terminal.
- ``<!-- tutorial: output -->``: each line must appear, in order, in the last run's output.
- ``<!-- tutorial: file PATH -->`` / ``append PATH``: write (or append) the block to PATH.

Unmarked blocks (installing c2m from PyPI, uploading to it) are shown, not run.
"""

import re
import subprocess
from pathlib import Path

from venvs import ROOT, environment, make_venv

MARKER = re.compile(r"^<!-- tutorial: (run(?: exit=(\d+))?|output|(file|append) (\S+)) -->$")
FENCE = re.compile(r"^```")


def tutorial_steps(text: str) -> list[dict]:
    lines = text.splitlines()
    steps = []
    index = 0
    while index < len(lines):
        match = MARKER.match(lines[index].strip())
        index += 1
        if not match:
            continue
        while not FENCE.match(lines[index]):
            assert not lines[index].strip(), f"marker {match[0]} is not followed by a code block"
            index += 1
        end = index + 1
        while not FENCE.match(lines[end]):
            end += 1
        body = "\n".join(lines[index + 1 : end]) + "\n"
        index = end + 1
        if match[1].startswith("run"):
            steps.append({"kind": "run", "exit": int(match[2] or 0), "body": body})
        elif match[1] == "output":
            steps.append({"kind": "output", "body": body})
        else:
            steps.append({"kind": match[3], "path": match[4], "body": body})
    return steps


def contributing_tutorial() -> str:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    assert "## Writing a category plugin" in text
    return text.split("## Writing a category plugin", 1)[1].split("\n## ", 1)[0]


def test_the_tutorial_has_steps_of_every_kind():
    steps = tutorial_steps(contributing_tutorial())
    kinds = {step["kind"] for step in steps}
    assert kinds == {"run", "output", "file", "append"}
    runs = "".join(step["body"] for step in steps if step["kind"] == "run")
    for command in ("c2m plugin new", "pip install -e", "python -m pytest", "pip wheel"):
        assert command in runs


def test_the_tutorial_runs(tmp_path):
    bin_dir = make_venv(tmp_path / "venv")
    env = environment(bin_dir)
    env["PIP_NO_BUILD_ISOLATION"] = "0"  # pip's double negative: build without isolation
    env["PIP_NO_INDEX"] = "1"  # everything the tutorial needs is already installed
    cwd = tmp_path / "work"
    cwd.mkdir()
    state = tmp_path / "cwd"
    output = None
    for number, step in enumerate(tutorial_steps(contributing_tutorial()), 1):
        where = f"tutorial step {number} ({step['kind']})"
        if step["kind"] in ("file", "append"):
            path = cwd / step["path"]
            assert path.parent.is_dir(), f"{where}: {path.parent} does not exist"
            with path.open("w" if step["kind"] == "file" else "a") as fp:
                fp.write(step["body"])
        elif step["kind"] == "run":
            script = f"set -e\ncd {str(cwd)!r}\n{step['body']}pwd > {str(state)!r}\n"
            result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env)
            output = result.stdout + result.stderr
            assert result.returncode == step["exit"], f"{where}:\n{step['body']}\n{output}"
            if state.exists():
                cwd = Path(state.read_text().strip())
                state.unlink()
        else:
            assert output is not None, f"{where}: expected output before any command ran"
            lines = iter(output.splitlines())
            for expected in filter(None, step["body"].splitlines()):
                assert any(expected in line for line in lines), (
                    f"{where}: {expected!r} not found in order in:\n{output}"
                )
