"""Debian packages the tests start for real (PostgreSQL, Chromium), installed where missing.

The README's test command must work on a fresh machine, so the test run itself installs a
missing component with apt-get (as root, or with password-less sudo), once, before the first test
that needs it; several test processes take turns through a file lock. Where it cannot be
installed, the caller skips with the reason, except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

LOCK = Path(tempfile.gettempdir()) / "c2m-tests-apt.lock"


def in_ci() -> bool:
    """True in CI (``CI`` is 1, true or yes), where a component that cannot start fails the run."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def ensure_installed(packages: Sequence[str], present: Callable[[], bool]) -> str | None:
    """Install the Debian ``packages`` unless ``present()``; None when present, else why not."""
    if present():
        return None
    if shutil.which("apt-get") is None:
        return f"{', '.join(packages)} not installed, and there is no apt-get to install them"
    if os.geteuid() == 0:
        prefix: list[str] = []
    elif shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"]).returncode == 0:
        prefix = ["sudo", "-n"]
    else:
        return (
            f"{', '.join(packages)} not installed; run `sudo apt-get install {' '.join(packages)}` "
            "(the tests install them when run as root or with password-less sudo)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if present():  # another test process installed them meanwhile
            return None
        for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *packages]):
            done = subprocess.run([*prefix, *command], env=env, capture_output=True, text=True)
            if done.returncode != 0:
                return f"`{' '.join(command)}` failed: {done.stderr.strip()[-800:]}"
    return None if present() else f"installed {', '.join(packages)}, but still cannot find them"
