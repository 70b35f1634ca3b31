"""Throwaway virtualenvs for tests that install a generated plugin beside c2m.

The venv is made without pip and sees this interpreter's packages (c2m's dependencies, pytest,
pip, hatchling) through a ``.pth`` file; a ``pip`` script runs that pip for the venv. c2m is
installed into it editable from this checkout, so it has its own ``c2m`` script. Installs use
no build isolation: fast and offline.
"""

import os
import site
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_venv(path: Path) -> Path:
    """Create the venv at ``path`` with c2m installed; return its ``bin`` folder."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    bin_dir = path / ("Scripts" if os.name == "nt" else "bin")
    purelib = subprocess.run(
        [str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    parents = "; ".join(f"site.addsitedir({p!r})" for p in site.getsitepackages())
    Path(purelib, "_c2m_test_parent.pth").write_text(f"import site; {parents}\n")
    pip_install(bin_dir, "-e", str(ROOT))
    pip = bin_dir / "pip"  # the venv has no pip of its own: run the visible one for it
    pip.write_text(f'#!/bin/sh\nexec "{bin_dir / "python"}" -m pip "$@"\n')
    pip.chmod(0o755)
    return bin_dir


def pip_install(bin_dir: Path, *args: str) -> None:
    result = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--no-deps"]
        + ["--no-build-isolation", "--no-index", *args],
        capture_output=True,
        text=True,
        env=environment(bin_dir),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def environment(bin_dir: Path) -> dict[str, str]:
    """The environment of a user of the venv: its ``bin`` first, every installed plugin loaded."""
    env = {k: v for k, v in os.environ.items() if k not in ("C2M_LOAD_PLUGINS", "PYTHONPATH")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(bin_dir.parent)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env
