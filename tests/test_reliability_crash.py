"""Issue 9, crash safety: SIGKILL at random points of a load and of a scan.

The CLI runs in a child process on a generated county and is killed after a random delay
(seeded: the same points on every run). After each kill the workspace opens, holds one
complete state (every table of the previous load or every table of the new one, never a
mix; every recorded run with all its cases), and the output folder holds whole files of
one run only. The next run succeeds. FUNDWATCH_KILLS=n: 2n kills per command (n at random
delays, n within a moment of its last progress event).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from fundwatch.contract.tables import TABLES
from fundwatch.report.files import JOURNAL, recover
from fundwatch.workspace import Workspace
from fundwatch_sample import generate_world

ROOT = Path(__file__).resolve().parent.parent
KILLS = int(os.environ.get("FUNDWATCH_KILLS", "4"))  # x2: anywhere, and late
SEED = 9
OUTPUTS = {"cases.csv", "rule_hits.csv", "coverage.csv", "coverage_rates.csv", "cases.xlsx", "report.html", "run.json"}
KILL_POINTS: list[dict] = []  # what every kill hit, printed at the end of each test

pytestmark = pytest.mark.slow


def cli(ws: Path, *args) -> list[str]:
    return [sys.executable, "-m", "fundwatch.cli", "--workspace", str(ws), "--wait", "60", "--log-format", "json",
            *args]


def run(cmd, cwd) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def timed(cmd, cwd, event: str) -> tuple[float, float]:
    """Run `cmd` to the end: (seconds in all, seconds from the event containing `event` to the end)."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    seen = None
    for line in proc.stderr:
        if line.startswith("{") and event in json.loads(line)["message"]:
            seen = time.monotonic()
    assert proc.wait() == 0
    ended = time.monotonic()
    return ended - started, ended - (seen or started)


def killed(cmd, cwd, delay: float, after: str | None = None) -> str:
    """Run `cmd`, SIGKILL it `delay` seconds after it starts (or after it logs an event
    containing `after`); the last progress event it logged before."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    messages = []
    if after is not None:
        for line in proc.stderr:
            if line.startswith("{"):
                messages.append(json.loads(line)["message"])
                if after in messages[-1]:
                    break
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    messages += [json.loads(line)["message"] for line in err.splitlines() if line.startswith("{")]
    if proc.returncode != -signal.SIGKILL:
        return f"finished (exit {proc.returncode})"
    where = messages[-1] if messages else "starting"
    return f"{delay:.2f}s after {where!r}" if after else where


def kill_schedule(rng: random.Random, seconds: float, last_event: str, tail: float) -> list[tuple[float, str | None]]:
    """KILLS delays anywhere in the run, and KILLS within `tail` seconds of its last event
    (the commit, the checkpoint, the output files: short windows a random delay rarely hits)."""
    anywhere = [(rng.uniform(0.05, seconds * 1.1), None) for _ in range(KILLS)]
    late = [(rng.uniform(0, tail), last_event) for _ in range(KILLS)]
    return [x for pair in zip(anywhere, late, strict=True) for x in pair]


def tables_state(ws: Path) -> dict:
    """Per contract table: (content hash, rows, quarantined); checks they match the tables."""
    con = duckdb.connect(str(ws), read_only=True)
    try:
        versions = {t: (h, n, q) for t, h, n, q in con.execute(
            "SELECT table_name, content_hash, rows_loaded, rows_quarantined FROM fw_table_versions").fetchall()}
        for t in TABLES:
            rows = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            quarantined = con.execute("SELECT count(*) FROM fw_quarantine WHERE table_name = ?", [t]).fetchone()[0]
            assert (rows, quarantined) == tuple(versions.get(t, (None, 0, 0))[1:]), t
        return versions
    finally:
        con.close()


def runs_state(ws: Path) -> dict[str, int]:
    """run id -> cases; checks every recorded run has all its cases and hits."""
    con = duckdb.connect(str(ws), read_only=True)
    try:
        runs = dict(con.execute("SELECT run_id, n_cases FROM fw_runs").fetchall())
        stored = dict(con.execute(
            "SELECT run_id, count(*) FROM fw_cases WHERE status <> 'resolved' GROUP BY 1").fetchall())
        hits = dict(con.execute("SELECT run_id, count(*) FROM fw_hits GROUP BY 1").fetchall())
        for run_id, n in runs.items():
            assert stored.get(run_id, 0) == n, run_id
            run = json.loads(con.execute("SELECT run_json FROM fw_runs WHERE run_id = ?", [run_id]).fetchone()[0])
            assert hits.get(run_id, 0) == run["row_counts"]["rule_hits"], run_id
        assert set(stored) <= set(runs) and set(hits) <= set(runs)  # no cases or hits of an unrecorded run
        return runs
    finally:
        con.close()


def english(summaries) -> bool:
    """Summaries written in English (two English words in a row; Chinese ones have none)."""
    return any(re.search(r"[A-Za-z]{3,} [A-Za-z]{3,}", s) for s in summaries)


def check_outputs(out: Path, runs: dict[str, int]) -> str | None:
    """Whole files of one run: run.json names a recorded run, the other files agree with it
    (count of cases, language). Returns the run id, or None if there are no outputs yet."""
    names = {p.name for p in out.iterdir()} if out.exists() else set()
    assert not [n for n in names - OUTPUTS if not n.startswith(".")], names  # nothing a person would open
    if "run.json" not in names:
        assert not names & OUTPUTS, names
        return None
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["run_id"] in runs
    lang = run["outputs"]["lang"]
    cases = pd.read_csv(out / "cases.csv", dtype=str, keep_default_na=False)
    hits = pd.read_csv(out / "rule_hits.csv", dtype=str, keep_default_na=False)
    assert len(cases) == runs[run["run_id"]] == run["row_counts"]["cases"]
    assert len(hits) == run["row_counts"]["rule_hits"]
    assert english(cases["summary"]) == (lang == "en"), "cases.csv is not the run.json run's"
    assert english(hits["summary"]) == (lang == "en"), "rule_hits.csv is not the run.json run's"
    sheets = openpyxl.load_workbook(out / "cases.xlsx", read_only=True).sheetnames
    assert (sheets[0] == "汇总") == (lang == "zh"), "cases.xlsx is not the run.json run's"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.rstrip().endswith("</html>") and run["run_id"] in page
    return run["run_id"]


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """Two versions of a county (different seeds) and the state each leaves when loaded."""
    tmp = tmp_path_factory.mktemp("crash")
    worlds, states = {}, {}
    for name, seed in (("A", 3), ("B", 4)):
        worlds[name] = tmp / name
        generate_world(worlds[name], scale=0.2, seed=seed)
        (worlds[name] / "ground_truth.csv").unlink()
        with Workspace() as ws:
            ws.load(worlds[name])
            states[name] = {t: (h, n, q) for t, h, n, q in ws.con.execute(
                "SELECT table_name, content_hash, rows_loaded, rows_quarantined FROM fw_table_versions").fetchall()}
    assert states["A"] != states["B"]
    return tmp, worlds, states


def test_sigkill_during_load_leaves_one_complete_state(county, tmp_path):
    tmp, worlds, states = county
    ws = tmp_path / "ws.duckdb"
    last = sorted(p.name for p in worlds["A"].iterdir())[-1]  # the last file read; then the transaction
    seconds, tail = timed(cli(ws, "load", str(worlds["A"])), tmp_path, last)
    rng = random.Random(SEED)
    current = "A"
    for i, (delay, after) in enumerate(kill_schedule(rng, seconds, last, tail * 1.1)):
        target = "B" if current == "A" else "A"
        phase = killed(cli(ws, "load", str(worlds[target])), tmp_path, delay, after)
        state = tables_state(ws)  # opens, and every table agrees with its recorded version
        assert state in (states["A"], states["B"]), f"kill {i} at {delay:.2f}s ({phase}): a mix of two loads"
        now = "A" if state == states["A"] else "B"
        KILL_POINTS.append({"kind": "load", "delay": round(delay, 2), "phase": phase,
                            "state": "new" if now == target else "previous"})
        current = now
    # The next run succeeds and loads exactly its files.
    target = "B" if current == "A" else "A"
    run(cli(ws, "load", str(worlds[target])), tmp_path)
    assert tables_state(ws) == states[target]
    with Workspace(ws) as w:  # and the workspace still opens read-write
        assert w.loaded_tables()
    _report("load")


def test_sigkill_during_scan_keeps_runs_and_outputs_whole(county, tmp_path):
    tmp, worlds, states = county
    ws, out = tmp_path / "ws.duckdb", tmp_path / "out"
    run(cli(ws, "load", str(worlds["A"])), tmp_path)
    # The last event: then the run's transaction, the output files and their renames.
    seconds, tail = timed(cli(ws, "scan", "--rescan", "--year", "2023", "--out", str(out), "--lang", "en"), tmp_path,
                          "recording the run")
    runs = runs_state(ws)
    assert check_outputs(out, runs) in runs
    rng = random.Random(SEED + 1)
    for i, (delay, after) in enumerate(kill_schedule(rng, seconds, "recording the run", tail * 1.1)):
        lang = "zh" if i % 2 == 0 else "en"  # alternate, so files of two runs cannot pass for one
        before = dict(runs)
        phase = killed(cli(ws, "scan", "--rescan", "--year", "2023", "--out", str(out), "--lang", lang), tmp_path, delay, after)
        runs = runs_state(ws)
        assert set(before) <= set(runs) and len(runs) - len(before) <= 1, f"kill {i} ({phase})"
        interrupted = (out / JOURNAL).exists()
        if interrupted:  # killed between the first and the last rename: the next publish completes the set
            assert recover(out)
        shown = check_outputs(out, runs)
        KILL_POINTS.append({"kind": "scan", "delay": round(delay, 2), "phase": phase,
                            "run": "recorded" if len(runs) > len(before) else "not recorded",
                            "outputs": "new" if shown not in before else "previous",
                            "publish": "interrupted, completed" if interrupted else "whole"})
        assert tables_state(ws) == states["A"]  # a scan never changes the loaded tables
    # The next run succeeds and cleans up after the killed ones.
    before = dict(runs)
    done = run(cli(ws, "scan", "--rescan", "--year", "2023", "--out", str(out), "--lang", "en"), tmp_path)
    runs = runs_state(ws)
    assert check_outputs(out, runs) not in before
    assert {p.name for p in out.iterdir()} == OUTPUTS, "temporary files of killed runs are left"
    assert "error" not in done.stderr.lower()
    _report("scan")


def _report(kind: str) -> None:
    points = [p for p in KILL_POINTS if p["kind"] == kind]
    print(f"\n{len(points)} kill points during {kind}:")
    for p in points:
        print("  ", {k: v for k, v in p.items() if k != "kind"})


# --- the output set, killed between its renames ------------------------------------------------

PUBLISH = """
import os, sys, time
from pathlib import Path
from fundwatch.report import files

real = os.replace
pause, stage_pause = float(sys.argv[3]), float(sys.argv[4])

def slow(src, dst):  # each output's rename takes a while: the window a kill must hit
    real(src, dst)
    if Path(dst).name in ("a.csv", "b.csv", "run.json"):
        print("renamed", Path(dst).name, flush=True)
        time.sleep(pause)

os.replace = slow
out, tag = Path(sys.argv[1]), sys.argv[2]
with files.publish_together(out) as stage:
    print("staging", flush=True)
    for name in ("a.csv", "b.csv", "run.json"):
        stage(out / name).write_text(tag)
        time.sleep(stage_pause)
"""


def publish(out: Path, tag: str, pause: float = 0.0, stage_pause: float = 0.0) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", PUBLISH, str(out), tag, str(pause), str(stage_pause)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def contents(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in out.iterdir() if not p.name.startswith(".")}


@pytest.mark.parametrize("renamed", [1, 2])
def test_a_publish_killed_between_renames_is_completed_not_mixed(tmp_path, renamed):
    out = tmp_path / "out"
    assert publish(out, "old").wait() == 0
    proc = publish(out, "new", pause=3)
    assert proc.stdout.readline() == "staging\n"
    for _ in range(renamed):
        assert proc.stdout.readline().startswith("renamed")
    proc.kill()
    proc.wait()
    assert set(contents(out).values()) == {"old", "new"}  # mixed, for now
    assert (out / JOURNAL).exists()
    assert publish(out, "next").wait() == 0  # the next publish completes the killed one first...
    assert contents(out) == {"a.csv": "next", "b.csv": "next", "run.json": "next"}
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.csv", "run.json"]  # ...and sweeps its temps
    KILL_POINTS.append({"kind": "publish", "phase": f"after {renamed} of 3 renames"})


def _temps_of(out: Path, proc: subprocess.Popen) -> list[Path]:
    """`proc`'s temporary files in `out`, once it has written one (it prints "staging" just
    before: on a busy machine the file comes some time after)."""
    deadline = time.monotonic() + 60
    while not (found := [p for p in out.iterdir() if f".fw{proc.pid}." in p.name]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_a_publish_killed_while_staging_leaves_the_old_set_and_no_lasting_temps(tmp_path):
    out = tmp_path / "out"
    assert publish(out, "old").wait() == 0
    proc = publish(out, "new", stage_pause=30)
    proc.stdout.readline()  # staging
    assert _temps_of(out, proc)
    proc.kill()
    proc.wait()
    assert contents(out) == {"a.csv": "old", "b.csv": "old", "run.json": "old"}
    live = publish(out, "live", stage_pause=30)  # a writer still at work keeps its temporary files
    live.stdout.readline()
    assert _temps_of(out, live)
    assert recover(out) is False
    from fundwatch.report.files import sweep_stale

    swept = sweep_stale(out)
    assert swept and all(f".fw{proc.pid}." in n for n in swept)
    assert [p for p in out.iterdir() if f".fw{live.pid}." in p.name]
    live.kill()
    live.wait()


def test_two_processes_publishing_to_one_folder_leave_one_whole_set(tmp_path):
    out = tmp_path / "out"
    for round_ in range(2):
        procs = [publish(out, f"{tag}{round_}", pause=0.1) for tag in ("x", "y")]
        assert [p.wait() for p in procs] == [0, 0]
        assert len(set(contents(out).values())) == 1, contents(out)
