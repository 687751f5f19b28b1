"""Issue 9, concurrency: two scans and a load started together on one workspace.

One works at a time; the others wait (a long --wait) or give up with a clear message and
exit 2 (a short one). Nothing is corrupted: every recorded run is complete, the tables are
the previous load's or the new one's, and the shared output folder holds one run's files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fundwatch.workspace import Workspace
from fundwatch_sample import generate_world
from tests.test_reliability_crash import OUTPUTS, check_outputs, runs_state, tables_state

ROOT = Path(__file__).resolve().parent.parent
BUSY = "is in use by another fundwatch process"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("together")
    worlds, states = {}, {}
    for name, seed in (("A", 5), ("B", 6)):
        worlds[name] = tmp / name
        generate_world(worlds[name], scale=0.1, seed=seed)
        (worlds[name] / "ground_truth.csv").unlink()
        with Workspace() as ws:
            ws.load(worlds[name])
            states[name] = {t: (h, n, q) for t, h, n, q in ws.con.execute(
                "SELECT table_name, content_hash, rows_loaded, rows_quarantined FROM fw_table_versions").fetchall()}
    return worlds, states


def start(ws: Path, wait: float, *args) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "fundwatch.cli", "--workspace", str(ws), "--wait", str(wait), *args]
    return subprocess.Popen(cmd, cwd=ws.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def together(ws: Path, wait: float, worlds, out: Path, load: str) -> list[tuple[str, int, str]]:
    """Start two scans (one output folder, two languages) and a load at the same moment."""
    procs = {
        "scan en": start(ws, wait, "scan", "--rescan", "--year", "2023", "--out", str(out), "--lang", "en"),
        "scan zh": start(ws, wait, "scan", "--rescan", "--year", "2023", "--out", str(out), "--lang", "zh"),
        "load": start(ws, wait, "load", "--force", str(worlds[load])),
    }
    results = []
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=600)
        results.append((name, proc.returncode, err))
    return results


@pytest.mark.parametrize("wait", [0.3, 300])
def test_two_scans_and_a_load_together(county, tmp_path, wait):
    worlds, states = county
    ws, out = tmp_path / "ws.duckdb", tmp_path / "out"
    with Workspace(ws) as w:
        w.load(worlds["A"])
    current = "A"
    for round_ in range(int(os.environ.get("FUNDWATCH_ROUNDS", "1"))):
        before_runs = runs_state(ws)
        target = "B" if current == "A" else "A"
        started = time.monotonic()
        results = together(ws, wait, worlds, out, target)
        codes = {name: code for name, code, _ in results}
        for name, code, err in results:
            if code == 2:
                assert BUSY in err and "--wait" in err, (name, err[-500:])  # gave up, and says why
            else:
                assert code == 0, (name, err[-2000:])
        if wait > 100:
            assert set(codes.values()) == {0}, codes  # everyone waited their turn
        assert 0 in codes.values()
        # Nothing corrupted: runs complete, one load's tables, one run's files.
        runs = runs_state(ws)
        scans_done = sum(code == 0 for name, code in codes.items() if name.startswith("scan"))
        assert len(runs) == len(before_runs) + scans_done
        current = target if codes["load"] == 0 else current
        assert tables_state(ws) == states[current]
        if scans_done:
            assert check_outputs(out, runs) in runs
            assert {p.name for p in out.iterdir()} == OUTPUTS
        print(f"\nwait {wait}s, round {round_}: {codes} in {time.monotonic() - started:.1f}s")
