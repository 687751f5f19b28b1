"""A small run of the benchmark, so that it cannot rot. Speed itself is never asserted here."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """(the benchmark's output, its JSON file) of one small run."""
    tmp_path = tmp_path_factory.mktemp("bench")
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--scale", "0.05", "--json", str(out),
                           "--workdir", str(tmp_path / "w")], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, out


def test_benchmark_smoke(smoke):
    proc, out = smoke
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
    # The floor is the best of three passes; each side's best of its runs is what is compared.
    assert len(report["floor_runs"]) == 3 and report["stages"]["floor"]["seconds"] == min(report["floor_runs"])
    assert len(three["fundwatch_runs"]) == len(three["pandas_runs"]) == 3
    assert three["fundwatch_seconds"] == min(three["fundwatch_runs"])
    assert three["pandas_seconds"] == min(three["pandas_runs"])
    assert three["fundwatch_cpu_seconds"] > 0 and three["pandas_cpu_seconds"] > 0
    assert "rows/s" in proc.stdout and "x the floor" in proc.stdout and "CPU s" in proc.stdout


def compare(tmp_path, before: list[dict], after: list[dict], *flags):
    files = {}
    for side, runs in (("before", before), ("after", after)):
        files[side] = []
        for i, run in enumerate(runs):
            path = tmp_path / f"{side}{i}.json"
            path.write_text(json.dumps(run))
            files[side].append(str(path))
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compare.py"), "--before", *files["before"],
                           "--after", *files["after"], *flags], capture_output=True, text=True, timeout=60)


def verdicts(stdout: str) -> dict[str, str]:
    rows = [line.rsplit(None, 4) for line in stdout.splitlines()[1:] if not line.startswith("note:")]
    return {row[0]: row[-1] for row in rows}


def scaled(report: dict, stage: str, factor: float) -> dict:
    run = json.loads(json.dumps(report))
    run["stages"][stage]["seconds"] *= factor
    run["stages"][stage]["cpu_seconds"] *= factor
    return run


def test_compare_calls_a_change_only_beyond_the_noise_of_the_runs(smoke, tmp_path):
    report = json.loads(smoke[1].read_text())
    # The load twice as slow in every run of the change; the rules 5% faster in one run only.
    before = [report, scaled(report, "rules", 1.1)]
    slow_load = scaled(report, "load", 2.0)
    after = [slow_load, scaled(slow_load, "rules", 0.95)]
    proc = compare(tmp_path, before, after)
    assert proc.returncode == 0, proc.stderr
    v = verdicts(proc.stdout)
    assert v["load s"] == "worse" and v["load CPU s"] == "worse"
    assert v["rules s"] == "same"  # 0.95 and 1.0 against 1.0 and 1.1: the ranges overlap
    assert v["floor s"] == "same" and v["outliers CPU s"] == "same"
    assert "fewer than three runs" in proc.stdout
    assert "findings differ" not in proc.stdout
    assert compare(tmp_path, before, after, "--fail-if-worse").returncode == 1
    assert compare(tmp_path, before, [report, scaled(report, "load", 0.5)], "--fail-if-worse").returncode == 0


def test_compare_reports_changed_findings_and_refuses_another_setup(smoke, tmp_path):
    report = json.loads(smoke[1].read_text())
    other = json.loads(json.dumps(report))
    other["three_rules"]["fundwatch_hits"]["dibao.public_staff"] += 1
    proc = compare(tmp_path, [report], [other])
    assert proc.returncode == 0 and "findings differ on the same inputs: three_rules.fundwatch_hits" in proc.stdout
    bigger = {**report, "scale": report["scale"] * 2}
    proc = compare(tmp_path, [report], [bigger])
    assert proc.returncode == 2
    assert "after0.json: scale is" in proc.stderr and "only runs of the same setup" in proc.stderr
