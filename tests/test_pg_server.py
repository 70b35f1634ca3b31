"""The throwaway PostgreSQL server of the test run is not left behind by a run that is killed."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from pg_server import OWNER, reap_orphans

TESTS = Path(__file__).parent

START_AND_WAIT = """
import sys, time
from pg_server import start_server
server = start_server()
print(server.folder, server.pid, flush=True)
time.sleep(600)
"""


@pytest.fixture
def tmp_root():
    """A temporary folder the non-root server user can enter (pytest's own are private)."""
    folder = Path(tempfile.mkdtemp(prefix="c2m-reap-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_killed_runs_server_is_stopped_and_its_folder_removed(postgres_server, tmp_root):
    env = {**os.environ, "PYTHONPATH": str(TESTS), "TMPDIR": str(tmp_root)}
    run = subprocess.Popen(
        [sys.executable, "-c", START_AND_WAIT], stdout=subprocess.PIPE, text=True, env=env
    )
    folder, pid = run.stdout.readline().split()
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert running(int(pid)), "the killed run's server outlives it, which is what reaping is for"

    assert reap_orphans(tmp_root) == [Path(folder)]
    assert not running(int(pid))
    assert not Path(folder).exists()


def test_servers_of_live_runs_and_folders_without_owner_are_left_alone(postgres_server, tmp_root):
    (tmp_root / "c2m-pg-starting").mkdir()
    assert reap_orphans(tmp_root) == []
    # Other runs' orphans in the shared temporary folder may go; this live run's server stays.
    assert postgres_server.folder not in reap_orphans(postgres_server.folder.parent)
    assert (postgres_server.folder / OWNER).exists()
    assert running(postgres_server.pid)
