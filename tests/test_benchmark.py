"""A small run of the benchmark, so that it cannot rot. Speed itself is never asserted here."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_smoke(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--scale", "0.05", "--json", str(out),
                           "--workdir", str(tmp_path / "w")], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert {"floor", "load", "rules", "outliers", "cases", "exports", "pandas"} <= set(report["stages"])
    assert all(v["seconds"] > 0 and v["peak_mb"] > 0 for v in report["stages"].values())
    # CPU time counts the whole process: the load's and the rules' DuckDB threads included.
    assert report["stages"]["load"]["cpu_seconds"] > 0 and report["stages"]["rules"]["cpu_seconds"] > 0
    assert report["end_to_end_cpu_seconds"] == pytest.approx(sum(
        report["stages"][s]["cpu_seconds"] for s in ("load", "rules", "outliers", "cases", "exports")))
    # The pandas version and fundwatch agree on what the three rules find.
    three = report["three_rules"]
    assert three["pandas_hits"] == three["fundwatch_hits"]
    # Each side's best of its runs is what is compared.
    assert len(three["fundwatch_runs"]) == len(three["pandas_runs"]) == 3
    assert three["fundwatch_seconds"] == min(three["fundwatch_runs"])
    assert three["pandas_seconds"] == min(three["pandas_runs"])
    assert three["fundwatch_cpu_seconds"] > 0 and three["pandas_cpu_seconds"] > 0
    assert "rows/s" in proc.stdout and "x the floor" in proc.stdout and "CPU s" in proc.stdout
