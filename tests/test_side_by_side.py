"""Jobs run side by side (fundwatch/engine/side_by_side.py): a failure or an interrupt stops
them at once: nothing more starts and the queries still running are interrupted. A job that
runs out of memory beside others runs again alone."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from fundwatch.engine import DuckDBEngine
from fundwatch.engine.side_by_side import side_by_side

# Seconds of work for two cores if nothing interrupts it: the tests pass in well under one.
SLOW_QUERY = "SELECT sum(hash(i)) FROM range(2000000000) t(i)"


@pytest.fixture
def engine():
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    yield DuckDBEngine(con)
    con.close()


def _jobs(signal_failure):
    """A slow query, a job that fails (by `signal_failure`) once the query runs, then two
    more jobs that must never start; and what each of them saw."""
    seen: dict[str, object] = {}
    running, ended = threading.Event(), threading.Event()

    def slow(e):
        running.set()
        try:
            e.con.execute(SLOW_QUERY).fetchall()
            seen["slow"] = "finished"
        except duckdb.InterruptException:
            seen["slow"] = "interrupted"
        ended.set()

    def failing(e):
        assert running.wait(30)
        time.sleep(0.3)  # the slow query is under way
        signal_failure()
        # A signal is handled by the main thread a moment later: this worker takes no next
        # job before the caller has reacted (it interrupts the slow query when it does).
        ended.wait(30)

    def later(name):
        def job(e):
            seen[name] = "ran"
        return job

    return [slow, failing, later("later1"), later("later2")], seen


def test_a_failing_job_interrupts_the_running_query_and_starts_no_more(engine):
    def boom():
        raise RuntimeError("boom")

    jobs, seen = _jobs(boom)
    with pytest.raises(RuntimeError, match="boom"):
        side_by_side(engine, jobs, 2)
    assert seen == {"slow": "interrupted"}
    assert engine.query("SELECT 42 AS x")["x"].iloc[0] == 42  # still usable


CTRL_C = """
import json, os, signal, sys, threading
import duckdb
# Ctrl-C raises KeyboardInterrupt, as in any Python started from a terminal: a test runner's
# worker that ignores SIGINT passes that on to its children, and Python then installs no handler.
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, {tests!r})
from test_side_by_side import _jobs
from fundwatch.engine import DuckDBEngine
from fundwatch.engine.side_by_side import side_by_side

con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
engine = DuckDBEngine(con)
jobs, seen = _jobs(lambda: {send})
try:
    side_by_side(engine, jobs, 2)
    outcome = "returned"
except KeyboardInterrupt:
    outcome = "KeyboardInterrupt"
print(json.dumps({{"outcome": outcome, "seen": seen, "usable": int(engine.query("SELECT 42 AS x")["x"].iloc[0])}}))
"""


@pytest.mark.parametrize("send", [
    "os.kill(os.getpid(), signal.SIGINT)",  # Ctrl-C, as the terminal sends it: to the process
    # The kernel may hand a process's signal to any thread: here to the job's own, while the
    # main thread waits for the jobs (its handler runs only when the main thread runs Python).
    "signal.pthread_kill(threading.get_ident(), signal.SIGINT)",
], ids=["to the process", "to a worker thread"])
def test_ctrl_c_interrupts_the_running_query_and_starts_no_more(send):
    # In a process of its own: SIGINT must reach a main thread waiting on the jobs, as in a
    # terminal or a Jupyter kernel, which a test run's worker threads cannot stand for.
    proc = subprocess.run([sys.executable, "-c", CTRL_C.format(tests=str(Path(__file__).parent), send=send)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"outcome": "KeyboardInterrupt", "seen": {"slow": "interrupted"}, "usable": 42}


def test_results_come_in_the_order_of_the_jobs(engine):
    def job(k):
        def run(e):
            time.sleep(0.05 * (4 - k))  # later jobs finish first
            return int(e.query(f"SELECT {k} AS k")["k"].iloc[0])
        return run

    assert side_by_side(engine, [job(k) for k in range(5)], 2) == [0, 1, 2, 3, 4]


def test_a_job_out_of_memory_beside_another_runs_again_alone(engine, capsys):
    # DuckDB's own exception, raised while another job runs (two jobs share one memory limit).
    busy, runs = threading.Event(), {"big": 0}

    def other(e):
        busy.set()
        time.sleep(0.3)
        busy.clear()
        return int(e.query("SELECT 1 AS one")["one"].iloc[0])

    def big(e):
        runs["big"] += 1
        if runs["big"] == 1:
            assert busy.wait(5)  # `other` runs
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to pin block of size 256.0 KiB")
        assert not busy.is_set()  # alone now
        return int(e.query("SELECT 2 AS two")["two"].iloc[0])

    def never_enough(e):
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate")

    assert side_by_side(engine, [other, big], 2, name="test job", labels=["other", "big"]) == [1, 2]
    assert runs["big"] == 2  # beside `other` (out of memory), then alone
    assert "test job: big ran out of memory beside another; running it again alone" in capsys.readouterr().err
    with pytest.raises(duckdb.OutOfMemoryException):
        side_by_side(engine, [other, never_enough], 2)
