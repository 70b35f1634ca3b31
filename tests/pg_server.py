"""A throwaway PostgreSQL server for the test run, and one fresh database per test.

The server is initialised in a temporary folder and listens only on a Unix socket in that
folder (no TCP port). PostgreSQL refuses to run as root, so when the tests run as root the
server runs as a system user (``c2mtest``, created when missing). It is stopped by its PID at
the end of the session, also when the session fails. A run that is killed cannot stop its
server, so each folder names the process that owns it, and the next start stops the servers of
owners that are gone and removes their folders (``reap_orphans``).

Each test gets its own database, created from a template that was migrated once
(``CREATE DATABASE ... TEMPLATE``), so per-test set-up costs a file copy, not a migration.

When the binaries are missing the test run installs the Debian package ``postgresql``
(``components.py``); where it cannot, the tests that need PostgreSQL are skipped with the reason,
except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from components import ensure_installed

SERVER_USER = "c2mtest"
ROLE = "c2m"
TEMPLATE = "c2m_template"
VERSIONS = ("15", "16", "17", "14")
PREFIX = "c2m-pg-"
OWNER = "owner"


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``, or None."""
    for version in VERSIONS:
        candidate = Path(f"/usr/lib/postgresql/{version}/bin")
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    return None


class Unavailable(Exception):
    """PostgreSQL cannot be started here (the reason is the message)."""


class PostgresServer:
    """One PostgreSQL server in a temporary folder, reached through its Unix socket."""

    def __init__(self, bin_dir: Path, durable: bool = False):
        self.bin_dir = bin_dir
        self.durable = durable
        self.folder = Path(tempfile.mkdtemp(prefix=PREFIX))
        (self.folder / OWNER).write_text(_process_identity(os.getpid()) or "")
        self.data = self.folder / "data"
        self.pid: int | None = None
        self._names = itertools.count(1)
        self._run_as: dict = {}

    def url(self, database: str) -> str:
        """A ``postgresql://`` URL for ``database`` on this server (socket in ``folder``)."""
        return f"postgresql://{ROLE}@/{database}?host={self.folder}"

    def start(self) -> None:
        if os.geteuid() == 0:
            self._run_as = _server_user()
            os.chown(self.folder, self._run_as["user"], self._run_as["group"])
        self._run(
            self.bin_dir / "initdb",
            "-D",
            self.data,
            "-U",
            ROLE,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        settings = [
            "-c listen_addresses=''",
            f"-c unix_socket_directories='{self.folder}'",
            "-c max_connections=200",
            "-c shared_buffers=32MB",
            "-c max_locks_per_transaction=128",
        ]
        if not self.durable:
            # A throwaway server for tests: durability is not what they check.
            settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        options = " ".join(settings)
        self._run(
            self.bin_dir / "pg_ctl",
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            self.data,
            "-l",
            self.folder / "server.log",
            "-o",
            options,
        )
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])

    def _run(self, *argv) -> None:
        result = subprocess.run(
            [str(a) for a in argv],
            capture_output=True,
            text=True,
            cwd=self.folder,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
            **self._run_as,
        )
        if result.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise Unavailable(
                f"{Path(str(argv[0])).name} failed ({result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}\n{tail}"
            )

    def stop(self) -> None:
        """Stop the server by its PID (fast shutdown, then kill) and remove its folder."""
        if self.pid is not None:
            _stop_process(self.pid)
            self.pid = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def admin(self):
        import psycopg

        return psycopg.connect(self.url("postgres"), autocommit=True)

    def create_template(self, prepare) -> None:
        """Create the template database and let ``prepare(url)`` migrate it, once."""
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        prepare(self.url(TEMPLATE))
        with self.admin() as conn:
            conn.execute(f"ALTER DATABASE {TEMPLATE} WITH ALLOW_CONNECTIONS false")

    def create_database(self) -> str:
        """A new database copied from the template; returns its name."""
        name = f"c2m_test_{next(self._names)}"
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _stop_process(pid: int) -> None:
    """Ask ``pid`` to shut down fast, wait up to 30 s for it to go, then kill it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)


def _process_identity(pid: int) -> str | None:
    """``pid`` and its start time, which tell this process from a later one given the same
    PID; None when no such process runs."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return str(pid)
    # Fields after the command name, which is in parentheses and may hold spaces.
    start_time = stat.rsplit(")", 1)[1].split()[19]
    return f"{pid} {start_time}"


def reap_orphans(root: str | Path | None = None) -> list[Path]:
    """Stop the servers of test runs that were killed and remove their folders.

    A folder is an orphan when the process written in its ``owner`` file no longer runs.
    Folders without an owner (being created, or from before owners were recorded) are left
    alone. The server is stopped only when its postmaster's command line names the folder, so a
    PID reused by another process is never signalled. Returns the folders removed.
    """
    removed = []
    for folder in sorted(Path(root or tempfile.gettempdir()).glob(f"{PREFIX}*")):
        try:
            owner = (folder / OWNER).read_text()
            alive = _process_identity(int(owner.split()[0])) == owner
        except (OSError, ValueError, IndexError):
            continue
        if alive:
            continue
        data = folder / "data"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((data / "postmaster.pid").read_text().split()[0])
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if str(data).encode() in command:
                _stop_process(pid)
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _server_user() -> dict:
    """``subprocess`` arguments that run a command as the non-root server user."""
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVER_USER,
            ],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(SERVER_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def start_server(durable: bool = False) -> PostgresServer:
    """Start a server, or raise ``Unavailable`` saying why not.

    :param durable: keep fsync and synchronous commit on, as in production (benchmarks)
    """
    try:
        import psycopg  # noqa: F401
    except ImportError as ex:
        raise Unavailable(f"psycopg is not installed ({ex}); pip install -e '.[test]'") from ex
    problem = ensure_installed(["postgresql"], lambda: find_bin_dir() is not None)
    reap_orphans()
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise Unavailable(f"PostgreSQL binaries (initdb, pg_ctl) not found: {problem}")
    server = PostgresServer(bin_dir, durable=durable)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server
