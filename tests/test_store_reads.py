"""RunStore's reads behind `fundwatch runs` and `fundwatch cases`, on a real DuckDB file."""

import json

import duckdb
import pytest

from fundwatch.store import RunStore


@pytest.fixture
def store(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    s = RunStore(con, review_db="")
    s.ensure_schema()
    runs = [("r1", 2023, "2026-01-01 10:00"), ("r2", 2023, "2026-01-02 10:00"), ("r3", 2024, "2026-01-03 10:00"),
            ("r0", 2023, "2026-01-02 10:00")]  # r0 ties with r2: the larger run id is the newer
    for run_id, year, started in runs:
        con.execute("INSERT INTO fw_runs (run_id, year, started_at, finished_at, rules_version, n_cases) "
                    "VALUES (?, ?, ?, ?, 'v', 0)", [run_id, year, started, started])
    cases = [("r2", "K1", 2, "new", "dibao"), ("r2", "K2", 1, "recurring", "subsidy"),
             ("r2", "K3", None, "resolved", "dibao"), ("r2", "K4", 3, "new", "dibao"), ("r1", "K9", 1, "new", "dibao")]
    for run_id, case_id, rank, status, program in cases:
        con.execute("INSERT INTO fw_cases (run_id, case_id, rank, status, program, entity_type, entity_id, "
                    "amount_at_risk) VALUES (?, ?, ?, ?, ?, 'household', 'H', 1.5)",
                    [run_id, case_id, rank, status, program])
    for run_id, case_id, evidence in [("r2", "K1", {"a": 1}), ("r2", "K1", {"b": 2}), ("r2", "K2", {"c": 3}),
                                      ("r1", "K9", {"d": 4})]:
        con.execute("INSERT INTO fw_hits (run_id, case_id, evidence) VALUES (?, ?, ?)",
                    [run_id, case_id, json.dumps(evidence)])
    yield s
    con.close()


def test_runs_newest_first_by_year_and_limit(store):
    assert list(store.runs()["run_id"]) == ["r3", "r2", "r0", "r1"]
    assert list(store.runs(2023)["run_id"]) == ["r2", "r0", "r1"]
    assert list(store.runs(2023, limit=1)["run_id"]) == ["r2"]
    assert list(store.runs()["cases"]) == [0, 0, 0, 0]  # n_cases under the name the CLI prints


def test_latest_run(store):
    assert (store.latest_run(), store.latest_run(2023), store.latest_run(2024)) == ("r3", "r2", "r3")
    assert store.latest_run(2019) is None


def test_case_rows_ranked_and_filtered(store):
    assert list(store.case_rows("r2")["case_id"]) == ["K2", "K1", "K4", "K3"]  # unranked (resolved) last
    assert list(store.case_rows("r2", status="new")["case_id"]) == ["K1", "K4"]
    assert list(store.case_rows("r2", program="dibao", top=2)["case_id"]) == ["K1", "K4"]
    assert list(store.case_rows("r2", status="new", program="subsidy")["case_id"]) == []
    assert list(store.case_rows("r1").columns) == ["rank", "case_id", "status", "review", "program", "entity_type",
                                                   "entity_id", "risk_score", "amount_at_risk", "rule_ids", "summary"]


def test_hit_evidence_per_case_of_the_run(store):
    evidence = store.hit_evidence("r2")
    assert sorted(evidence) == ["K1", "K2"]
    assert sorted(evidence["K1"]) == [json.dumps({"a": 1}), json.dumps({"b": 2})]
    assert store.hit_evidence("nope") == {}
