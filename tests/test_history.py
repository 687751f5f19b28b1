"""Runs over time: stable case ids, new/recurring/resolved, reviews that survive rescans, exit codes."""

import json

import duckdb
import pandas as pd
import pytest

from fundwatch.cli import main
from tests.conftest import make_id

STAFF_A, STAFF_B = make_id(1), make_id(2)


def write_world(d, staff=(STAFF_A, STAFF_B), extra_payment=False):
    d.mkdir(exist_ok=True)
    pd.DataFrame({"person_id": list(staff), "employer": "县财政局", "employer_type": "government",
                  "start_date": "2015-01-01"}).to_csv(d / "civil_servants.csv", index=False)
    members = [("H1", STAFF_A), ("H2", STAFF_B)] + [(f"H{i}", make_id(10 + i)) for i in range(3, 40)]
    pd.DataFrame(members, columns=["household_id", "person_id"]).to_csv(d / "dibao_members.csv", index=False)
    pays = [(f"{h}-{m}", h, f"2023-{m:02d}", 900 if h == "H1" else 500) for h, _ in members for m in (1, 2, 3)]
    if extra_payment:
        pays.append(("H1-4", "H1", "2023-04", 900))
    pd.DataFrame(pays, columns=["payment_id", "household_id", "period", "amount"]).to_csv(
        d / "dibao_payments.csv", index=False)


def scan(tmp_path, data, *extra):
    code = main(["--workspace", str(tmp_path / "ws.duckdb"), "scan", "--year", "2023", "--data", str(data),
                 "--out", str(tmp_path / "out"), *extra])
    return code, pd.read_csv(tmp_path / "out" / "cases.csv", dtype={"entity_id": str})


def test_case_ids_status_and_reviews_across_runs(tmp_path):
    data = tmp_path / "data"
    write_world(data)
    code, first = scan(tmp_path, data)
    assert code == 0
    assert list(first["entity_id"]) == ["H1", "H2"] and set(first["status"]) == {"new"}
    _, second = scan(tmp_path, data, "--rescan")  # without it, nothing changed: the first run is given back
    assert list(second["case_id"]) == list(first["case_id"])  # stable ids
    assert set(second["status"]) == {"recurring"}

    h1 = first.loc[first["entity_id"] == "H1", "case_id"].iloc[0]
    assert main(["--workspace", str(tmp_path / "ws.duckdb"), "review", h1, "--status", "cleared",
                 "--note", "salary verified", "--author", "tester"]) == 0
    _, third = scan(tmp_path, data)
    assert list(third["entity_id"]) == ["H2", "H1"]  # the cleared case sinks
    assert third.loc[third["entity_id"] == "H1", "review_status"].iloc[0] == "cleared"

    write_world(data, extra_payment=True)  # new evidence on the cleared case
    _, fourth = scan(tmp_path, data)
    assert list(fourth["entity_id"]) == ["H1", "H2"]

    write_world(data, staff=(STAFF_A,), extra_payment=True)  # H2's evidence is gone
    _, fifth = scan(tmp_path, data)
    assert list(fifth["entity_id"]) == ["H1"]
    import duckdb

    con = duckdb.connect(str(tmp_path / "ws.duckdb"), read_only=True)
    statuses = con.execute("SELECT entity_id, status FROM fw_cases WHERE run_id = (SELECT run_id FROM fw_runs "
                           "ORDER BY started_at DESC, run_id DESC LIMIT 1) ORDER BY 1").fetchall()
    stats = con.execute("SELECT count(*) FROM fw_reviews WHERE status = 'cleared' AND author = 'tester'").fetchall()
    con.close()
    assert statuses == [("H1", "recurring"), ("H2", "resolved")]
    assert stats == [(1,)]


def test_case_ids_are_keyed_per_workspace_unless_a_key_is_shared(tmp_path, monkeypatch):
    import hashlib

    monkeypatch.delenv("FUNDWATCH_CASE_KEY", raising=False)
    data = tmp_path / "data"
    write_world(data)
    ids = {}
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        ids[name] = list(scan(tmp_path / name, data)[1]["case_id"])
    assert ids["a"] == list(scan(tmp_path / "a", data)[1]["case_id"])  # stable within a workspace
    assert set(ids["a"]).isdisjoint(ids["b"])  # another workspace, another key
    # Not the plain hash of the entity, which anyone could recompute from a masked ID.
    plain = "C2023-" + hashlib.sha256(b"fundwatch-case:household:H1").hexdigest()[:12]
    assert plain not in ids["a"] + ids["b"]
    monkeypatch.setenv("FUNDWATCH_CASE_KEY", "the province's key")
    shared = [list(scan(tmp_path / name, data)[1]["case_id"]) for name in ("a", "b")]
    assert shared[0] == shared[1] and set(shared[0]).isdisjoint(ids["a"])


def test_run_json_and_masked_outputs(tmp_path):
    data = tmp_path / "data"
    write_world(data)
    scan(tmp_path, data)
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["year"] == 2023 and run["outputs"]["ids_unmasked"] is False
    assert run["rules"]["dibao.public_staff"]["status"] == "found"
    assert "subsidy_payments" in " ".join(run["skipped_rules"].values()) or run["skipped_rules"]
    hits = (tmp_path / "out" / "rule_hits.csv").read_text(encoding="utf-8-sig")
    assert STAFF_A not in hits and STAFF_A[:6] + "********" + STAFF_A[-4:] in hits
    scan(tmp_path, data, "--unmask")
    assert STAFF_A in (tmp_path / "out" / "rule_hits.csv").read_text(encoding="utf-8-sig")
    assert json.loads((tmp_path / "out" / "run.json").read_text())["outputs"]["ids_unmasked"] is True


def test_exit_codes(tmp_path, monkeypatch):
    data = tmp_path / "data"
    write_world(data)
    assert scan(tmp_path, data, "--fail-on", "critical")[0] == 1
    assert scan(tmp_path, data, "--fail-on", "critical", "--rule", "dibao.public_staff")[0] == 1
    (data / "deaths.csv").write_text("person_id,name\n1,a\n")
    assert main(["--workspace", str(tmp_path / "ws.duckdb"), "scan", "--year", "2023", "--data", str(data)]) == 2
    assert main(["--workspace", str(tmp_path / "ws.duckdb"), "review", "nosuchcase", "--status", "cleared"]) == 2
    assert main(["--workspace", str(tmp_path / "ws.duckdb"), "scan", "--year", "2023", "--rule", "no.such"]) == 2


@pytest.mark.parametrize(("target", "error", "code", "says"), [
    ("fundwatch.report.outputs.hit_table", RuntimeError("simulated bug"), 3, "internal error (please report it)"),
    ("fundwatch.detect.score_outliers", duckdb.OutOfMemoryException(
        "Out of Memory Error: failed to pin block of size 256.0 KiB (1 GiB used)"), 4,
     "ran out of memory within its limit (Out of Memory Error: failed to pin block"),
], ids=["internal error", "out of memory"])
def test_a_failed_scan_exits_with_its_code_and_leaves_previous_outputs(tmp_path, monkeypatch, capsys, target, error,
                                                                       code, says):
    data = tmp_path / "data"
    write_world(data)
    assert scan(tmp_path, data)[0] == 0
    before = (tmp_path / "out" / "cases.csv").read_bytes()

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(target, fail)
    # --rescan: nothing changed, so the stored run would otherwise be reused and nothing fail
    assert main(["--workspace", str(tmp_path / "ws.duckdb"), "scan", "--year", "2023", "--rescan",
                 "--out", str(tmp_path / "out")]) == code
    err = capsys.readouterr().err
    assert says in err
    if code == 4:  # not a bug: how to go on, no traceback
        assert "fundwatch --memory-limit 4GB scan" in err and "Traceback" not in err
    # The previous run's files are all still there, unchanged, and no temporary file is left.
    assert (tmp_path / "out" / "cases.csv").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "cases.csv", "cases.xlsx", "coverage.csv", "coverage_rates.csv", "report.html", "rule_hits.csv", "run.json"]


def test_the_load_report_comes_before_what_the_scan_says_and_stays_when_it_fails(tmp_path, monkeypatch, capsys):
    import fundwatch.rules.runner as runner

    data = tmp_path / "data"
    write_world(data)
    real, calls = runner.run_rule, []

    def short_of_memory_once(engine, rule, *args):
        calls.append(rule.id)
        if len(calls) == 1:  # beside another query: run again alone, with a warning
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to pin block of size 256.0 KiB")
        return real(engine, rule, *args)

    def outliers_fail(*args, **kwargs):
        raise duckdb.OutOfMemoryException("Out of Memory Error: failed to pin block of size 256.0 KiB")

    monkeypatch.setattr(runner, "run_rule", short_of_memory_once)
    monkeypatch.setattr("fundwatch.detect.score_outliers", outliers_fail)
    code = main(["--workspace", str(tmp_path / "ws.duckdb"), "scan", "--year", "2023", "--data", str(data),
                 "--out", str(tmp_path / "out"), "--rule", "dibao.public_staff"])
    err = capsys.readouterr().err
    assert code == 4 and calls == ["dibao.public_staff", "dibao.public_staff"]
    loaded = err.index(f"from {data}: 158 rows loaded, 0 quarantined")
    assert loaded < err.index("dibao.public_staff ran out of memory beside another") < err.index("error: DuckDB ran out")


def test_a_scan_that_checked_nothing_says_so(tmp_path, capsys):
    from fundwatch.report.tables import outcome_counts, outcome_table

    ws, out = str(tmp_path / "ws.duckdb"), tmp_path / "out"
    # Nothing loaded: an error, not an empty case list that reads as a clean year.
    assert main(["--workspace", ws, "scan", "--year", "2023", "--out", str(out)]) == 2
    assert "nothing to scan for 2023: no input table is loaded" in capsys.readouterr().err
    assert not out.exists()
    data = tmp_path / "data"
    write_world(data)
    for year, nothing in ((2021, True), (2023, False)):
        assert main(["--workspace", ws, "scan", "--year", str(year), "--data", str(data), "--out", str(out)]) == 0
        err = capsys.readouterr().err
        run = json.loads((out / "run.json").read_text())
        ran = {k: v for k, v in run["rules"].items() if v["status"] in ("found", "clean")}
        notes = set(outcome_table(run, "en").set_index("rule_id").loc[list(ran), "note"])
        if nothing:  # the data holds no payment of 2021: each rule that ran had nobody to judge
            assert ran and {v["population"] for v in ran.values()} == {0}
            assert f"rules: {len(ran)} ran on nothing" in err
            assert "dibao.public_staff: ran on nothing: none of its entities has records in the year" in err
            assert "nothing was checked for 2021" in err
            assert notes == {"ran on nothing: none of its entities has records in the year"}
            assert outcome_counts(run)["ran_on_nothing"] == len(ran)  # a card of report.html, a row of cases.xlsx
        else:
            assert all(v["population"] > 0 for v in ran.values()) and "ran on nothing" not in err
            assert run["rules"]["dibao.public_staff"]["population"] == 39  # households paid in 2023
            assert notes == {""} and outcome_counts(run)["ran_on_nothing"] == 0


def test_statistical_cases_without_any_rule_hit():
    from fundwatch.cases.build import build_cases
    from fundwatch.cases.score import Scoring
    from fundwatch.rules.runner import HIT_COLUMNS

    outliers = pd.DataFrame({"entity_type": ["household", "household"], "entity_id": ["H1", "H2"],
                             "program": ["dibao", "dibao"], "outlier_score": [0.99, 0.4], "flagged": [True, False],
                             "explanation": ["H1 stands out", ""], "explanation_zh": ["H1 异常", ""],
                             "amount_at_risk": [1200.0, 0.0]})
    _built = build_cases(pd.DataFrame(columns=HIT_COLUMNS), outliers, 2023, Scoring(), key=b"test")
    cases = _built.cases
    assert list(cases["entity_id"]) == ["H1"] and cases["rule_ids"].iloc[0] == ""
    assert cases["summary"].iloc[0] == "H1 stands out" and 0 < cases["risk_score"].iloc[0] < 100


def test_cases_do_not_depend_on_the_order_of_hits_or_outliers():
    """A rule's rows come in no set order (DuckDB, several threads), so the same hits in another
    order must give the same cases: ties on level and amount go to the smaller rule_id, then
    entity_id, then evidence; an entity's outlier scores that tie go to the smaller programme."""
    import numpy as np

    from fundwatch.cases.build import build_cases
    from fundwatch.cases.score import Scoring
    from fundwatch.rules.runner import HIT_COLUMNS

    def hit(rule_id, program, entity_type, entity_id, level, amount, evidence):
        ev = json.dumps(evidence)
        return dict(zip(HIT_COLUMNS, [rule_id, "1", program, entity_type, entity_id, 2023, level, amount,
                                      "person_id", ev, f"{rule_id} {entity_id} {ev}", f"{rule_id} {ev}"],
                        strict=True))

    p, q = make_id(3), make_id(4)
    hits = pd.DataFrame([
        # One person, two rules tied on level and amount: the smaller rule_id describes the case.
        hit("subsidy.paid_after_death", "subsidy", "person", p, "critical", 1200.0, {"death_date": "2022-11-03"}),
        hit("subsidy.duplicate_payment", "subsidy", "person", p, "critical", 1200.0, {"payment_ids": ["P1", "P2"]}),
        hit("subsidy.over_entitlement", "subsidy", "person", p, "medium", 0.1, {"basis_quantity": 1}),
        hit("subsidy.over_entitlement", "subsidy", "person", p, "medium", 0.2, {"basis_quantity": 2}),
        hit("subsidy.over_entitlement", "subsidy", "person", p, "medium", 0.3, {"basis_quantity": 3}),
        # One household, one rule twice with the same level and amount: the smaller evidence wins.
        hit("dibao.public_staff", "dibao", "household", "H2", "high", 500.0, {"person_id": make_id(5)}),
        hit("dibao.public_staff", "dibao", "household", "H2", "high", 500.0, {"person_id": make_id(6)}),
        # A cross-programme person: same rule, level and amount from two entities; smaller entity_id wins.
        hit("dibao.public_staff", "dibao", "household", "H9", "high", 700.0, {"person_id": q}),
        hit("dibao.public_staff", "dibao", "household", "H8", "high", 700.0, {"person_id": q}),
        hit("cooperative.dividend_over_surplus", "cooperative", "cooperative", "C1", "high", 700.0,
            {"person_id": q}),
    ])
    outliers = pd.DataFrame({
        "entity_type": ["household", "household", "person", "person"], "entity_id": ["H7", "H7", p, p],
        "program": ["housing", "dibao", "subsidy", "housing"], "outlier_score": [0.95, 0.95, 0.9, 0.9],
        "flagged": [True, True, True, True], "amount_at_risk": [300.0, 300.0, 0.0, 0.0],
        "explanation": ["housing H7", "dibao H7", "subsidy p", "housing p"],
        "explanation_zh": ["住房", "低保", "补贴", "住房"]})

    def cases_of(h, o):
        _built = build_cases(h.reset_index(drop=True), o.reset_index(drop=True), 2023, Scoring(), key=b"k")
        cases = _built.cases
        return cases

    rng = np.random.default_rng(7)
    first = cases_of(hits, outliers)
    for order, o_order in [(np.arange(len(hits))[::-1], np.arange(len(outliers))[::-1]),
                           (rng.permutation(len(hits)), rng.permutation(len(outliers)))]:
        pd.testing.assert_frame_equal(cases_of(hits.iloc[order], outliers.iloc[o_order]), first)

    c = first.set_index("entity_id")
    assert c.loc[p, "summary"].startswith("subsidy.duplicate_payment ")
    assert "(+2 more signals: subsidy.over_entitlement, subsidy.paid_after_death)" in c.loc[p, "summary"]
    assert "Also statistically unusual: housing p" in c.loc[p, "summary"]
    assert c.loc["H2", "summary"].startswith(f'dibao.public_staff H2 {{"person_id": "{make_id(5)}"}}')
    assert c.loc[q, "program"] == "cross" and c.loc[q, "summary"].startswith("cooperative.dividend_over_surplus C1 ")
    assert c.loc["H7", "program"] == "dibao" and c.loc["H7", "summary"] == "dibao H7"


def test_a_global_option_after_the_command_gets_a_hint(capsys):
    assert main(["scan", "--year", "2023", "--memory-limit", "1GB"]) == 2
    err = capsys.readouterr().err
    assert "No such option '--memory-limit'" in err and "put it before the command" in err
    assert main(["scan", "--year", "2023", "--bogus"]) == 2
    assert "put it before the command" not in capsys.readouterr().err
