"""The bundled sample: the messy variant quarantines exactly its broken rows, and the README's
first command works end to end through the installed console script."""

import json
from pathlib import Path

import pandas as pd

from fundwatch.contract.tables import TABLES
from fundwatch.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
CONTRACT_CASE_COLUMNS = ["rank", "year", "case_id", "entity_type", "entity_id", "program", "risk_score", "rule_ids",
                         "outlier_score", "amount_at_risk", "summary"]


def test_messy_sample_quarantines_exactly_the_broken_rows():
    expected = pd.read_csv(SAMPLE / "messy" / "expected_quarantine.csv")
    with Workspace() as ws:
        report = ws.load(SAMPLE / "messy")
        got = ws.con.execute("SELECT file, line, column_name, reason FROM fw_quarantine").fetchall()
    got = sorted((Path(f).name, line, col, reason) for f, line, col, reason in got)
    want = sorted(zip(expected["file"], expected["line"], expected["column"], expected["reason_code"], strict=True))
    assert got == want
    for t in report.tables.values():
        assert t.rows_read == t.rows_loaded + t.rows_quarantined + t.repeated_headers
    assert report.rows_loaded > 100


def test_bundled_sample_loads_without_quarantine(sample_loaded):
    _, report = sample_loaded  # the sample's load, once for the test run (tests/conftest.py)
    assert report.rows_quarantined == 0 and report.ignored == []
    assert len(report.tables) == len(TABLES) and report.rows_loaded > 50_000  # every contract table


def test_readme_first_command_end_to_end(readme_scan):
    proc, tmp_path = readme_scan  # the README's command, run once for every test reading its outputs
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "cases for 2023" in proc.stdout and "rank" in proc.stdout
    out = tmp_path / "out"
    cases = pd.read_csv(out / "cases.csv", dtype={"entity_id": str})
    assert list(cases.columns[: len(CONTRACT_CASE_COLUMNS)]) == CONTRACT_CASE_COLUMNS
    # Every entity a finding names, and each rule's weight in the case (README: Outputs).
    assert {"entities", "n_entities", "weights"} <= set(cases.columns)
    assert (cases["n_entities"] >= 1).all() and cases["entities"].str.contains(":").all()
    assert list(cases["rank"]) == list(range(1, len(cases) + 1)) and len(cases) > 50
    assert cases["risk_score"].between(0, 100).all() and cases["risk_score"].is_monotonic_decreasing
    hits = pd.read_csv(out / "rule_hits.csv")
    assert set(hits["case_id"]) <= set(cases["case_id"]) and len(hits) >= len(cases[cases["rule_ids"].notna()])
    run = json.loads((out / "run.json").read_text())
    assert run["year"] == 2023 and run["rules_version"] and len(run["inputs"]) == len(TABLES)
    assert not run["skipped_rules"] and not run["failed_rules"]
    assert (tmp_path / "fundwatch.duckdb").stat().st_mode & 0o077 == 0  # owner only
