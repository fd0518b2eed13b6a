"""rigs.machine: the load and CPU facts every benchmark writes; pool workers that end with their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from facecraft.rigs.machine import load_average, machine_facts


def test_load_average_is_three_rounded_figures_where_the_os_has_one():
    if not hasattr(os, "getloadavg"):
        pytest.skip("no load average on this platform")
    load = load_average()
    assert len(load) == 3 and all(x >= 0 and round(x, 2) == x for x in load)


def test_no_load_average_reads_none(monkeypatch):
    def fail():
        raise OSError("unavailable")

    monkeypatch.setattr(os, "getloadavg", fail)
    assert load_average() is None
    assert machine_facts()["load_average"] is None
    assert machine_facts()["cpu_count"] == os.cpu_count()


def _running(pid: int) -> bool:
    """Whether process ``pid`` is alive (a zombie, ended but not yet reaped, is not)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in f)
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_workers_end_when_their_parent_is_killed(tmp_path):
    script, pid_file = tmp_path / "parent.py", tmp_path / "worker.pid"
    script.write_text(
        "import os, pathlib, signal, sys\n"
        "from facecraft.rigs.machine import spawn_pool\n"
        "if __name__ == '__main__':\n"
        "    here = str(pathlib.Path(sys.argv[1]).parent)\n"
        "    pool = spawn_pool(1, initializer=os.chdir, initargs=(here,))\n"
        "    assert pool.submit(os.getcwd).result() == here  # the initializer ran, after the watch\n"
        "    pathlib.Path(sys.argv[1]).write_text(str(pool.submit(os.getpid).result()))\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    # no pipes to the parent: a worker left running would hold them open
    done = subprocess.run([sys.executable, str(script), str(pid_file)], stdout=subprocess.DEVNULL, timeout=120)
    assert done.returncode == -signal.SIGKILL
    worker = int(pid_file.read_text())
    deadline = time.monotonic() + 30  # the watch polls every second; a worker left waiting would run on
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _running(worker):
        os.kill(worker, signal.SIGKILL)
        pytest.fail(f"pool worker {worker} still ran 30 s after its parent was killed")
