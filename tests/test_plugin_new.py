"""``c2m plugin new``: a standalone plugin that installs beside c2m and passes its own tests."""

import importlib.util
import json
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner
from venvs import ROOT, environment, make_venv, pip_install

from c2m_core import InvalidInput
from c2m_core.cli import cli
from c2m_core.scaffold import TEMPLATE_DIR, PluginNames, new_plugin
from c2m_core.testing import CHECKS, check_plugin

EXPECTED_FILES = {
    ".gitignore",
    "README.md",
    "pyproject.toml",
    "c2m_desk_lamp/__init__.py",
    "c2m_desk_lamp/catalog.toml",
    "c2m_desk_lamp/templates/spec_sheet.html",
    "tests/test_desk_lamp.py",
}


def files(folder):
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_names_derive_from_the_category_name():
    names = PluginNames.from_name("desk_lamp")
    assert (names.category, names.package, names.distribution, names.entry_point) == (
        "desk-lamp",
        "c2m_desk_lamp",
        "c2m-desk-lamp",
        "c2m.desk_lamp",
    )
    assert names.title == "Desk lamp"
    assert names.core == ">=0.1,<1"


@pytest.mark.parametrize(
    "name, problem",
    [
        ("Desk", "not accepted: use lower-case letters"),
        ("desk lamp", "not accepted"),
        ("desk--lamp", "not accepted"),
        ("-desk", "not accepted"),
        ("9lives", "not accepted"),
        ("../evil", "not accepted"),
        ("c2m-lamp", "give the category name alone"),
        ("class", "is a Python keyword"),
    ],
)
def test_bad_names_are_refused(tmp_path, name, problem):
    with pytest.raises(InvalidInput, match=problem):
        new_plugin(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_command_writes_the_plugin(tmp_path):
    result = CliRunner().invoke(cli, ["plugin", "new", "desk-lamp", "--path", str(tmp_path)])
    assert result.exit_code == 0, result.output
    target = tmp_path / "c2m-desk-lamp"
    assert f"Created {target}" in result.output
    assert files(target) == EXPECTED_FILES
    pyproject = (target / "pyproject.toml").read_text()
    assert '"c2m.desk_lamp" = "c2m_desk_lamp"' in pyproject
    assert 'dependencies = ["c2m>=0.1,<1"]' in pyproject


def test_the_command_refuses_bad_names_and_existing_folders(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["plugin", "new", "Desk Lamp", "--path", str(tmp_path)])
    assert result.exit_code == 2
    assert "plugin NAME 'Desk Lamp' is not accepted" in result.output
    (tmp_path / "c2m-desk-lamp").mkdir()
    result = runner.invoke(cli, ["plugin", "new", "desk-lamp", "--path", str(tmp_path)])
    assert result.exit_code == 2
    assert "c2m-desk-lamp' already exists; choose another NAME or --path" in result.output
    (tmp_path / "file").write_text("")
    result = runner.invoke(cli, ["plugin", "new", "desk-lamp", "--path", str(tmp_path / "file")])
    assert result.exit_code == 2
    assert "is a file" in result.output


def test_the_generated_plugin_passes_the_conformance_kit(tmp_path):
    target = new_plugin("desk-lamp", tmp_path)
    spec = importlib.util.spec_from_file_location(
        "c2m_desk_lamp", target / "c2m_desk_lamp" / "__init__.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    check_plugin(module)
    # it shows a multi-select module, which the kit's checks cover
    [category] = module.register_categories()
    extras = category.catalog.module("extras")
    assert extras.multiple and (extras.minimum, extras.maximum) == (0, 2)
    assert "modules" in CHECKS


def test_the_generated_plugin_installs_beside_c2m_and_passes_its_tests(tmp_path):
    target = new_plugin("desk-lamp", tmp_path)
    bin_dir = make_venv(tmp_path / "venv")
    pip_install(bin_dir, "-e", str(target))
    env = environment(bin_dir)

    listed = subprocess.run(
        ["c2m", "plugins", "--json"], capture_output=True, text=True, env=env, check=True
    )
    plugins = {row["name"]: row for row in json.loads(listed.stdout)}
    assert plugins["c2m.desk_lamp"]["version"] == "0.1.0"
    assert plugins["c2m.desk_lamp"]["categories"] == ["desk-lamp"]
    assert {"c2m.tv", "c2m.fridge", "c2m.toilet_seat", "c2m.sofa"} <= plugins.keys()

    tests = subprocess.run(
        [str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=target,
        capture_output=True,
        text=True,
        env=env,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert f"{len(CHECKS) + 8} passed" in tests.stdout  # a test per check, a valid one, 7 rules


def test_the_wheel_ships_the_scaffold_and_the_bundled_plugins(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["--no-index", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = tmp_path.glob("c2m-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    scaffold = {
        f"c2m_core/scaffold/plugin/{p.relative_to(TEMPLATE_DIR).as_posix()}"
        for p in TEMPLATE_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert scaffold and scaffold <= names
    for package in ("c2m_tv", "c2m_fridge", "c2m_toilet_seat", "c2m_sofa"):
        assert f"{package}/catalog.toml" in names
    for package in ("c2m_fridge", "c2m_toilet_seat", "c2m_sofa"):
        assert f"{package}/templates/spec_sheet.html" in names
    assert "c2m_core/testing.py" in names
    assert "c2m_core/py.typed" in names  # type checkers read c2m_core's annotations
