"""Two processes on one workspace: the second waits for the first or exits with a clear message."""

import subprocess
import sys
import time

from fundwatch.cli import main
from fundwatch.workspace import Workspace

HOLD = """
import sys, time
from fundwatch.workspace import Workspace
ws = Workspace(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
ws.close()
"""


def hold(path, seconds):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def test_second_process_exits_with_clear_message_after_its_wait(tmp_path, capsys):
    path = tmp_path / "ws.duckdb"
    Workspace(path).close()
    proc = hold(path, 20)
    try:
        started = time.monotonic()
        assert main(["--workspace", str(path), "--wait", "1", "runs"]) == 2
        assert time.monotonic() - started >= 1
        err = capsys.readouterr().err
        assert "in use by another fundwatch process" in err and "--wait" in err
    finally:
        proc.kill()
        proc.wait()


def test_second_process_waits_and_then_works(tmp_path, capsys):
    path = tmp_path / "ws.duckdb"
    Workspace(path).close()
    proc = hold(path, 2)
    try:
        assert main(["--workspace", str(path), "--wait", "30", "runs"]) == 0
        assert "no runs yet" in capsys.readouterr().out
    finally:
        proc.wait()
