"""On the bundled sample county, `fundwatch scan --engine spark` writes what the DuckDB scan
writes: the same loaded rows, every rule's rows and columns, the same cases, amounts and
outlier scores. And the Spark loader types and quarantines files as `fundwatch load` does.

The sample comparison is one test: it runs both scans once (pytest-xdist would otherwise
run a shared fixture once per worker) and reports every difference it finds, not the first.
"""

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from fundwatch.cli import main
from fundwatch.contract.tables import TABLES
from fundwatch.errors import LoadError
from tests.conftest import make_code, make_id

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
YEAR = "2023"
SCORE_TOLERANCE = 1e-6


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def _hit_rows(hits: pd.DataFrame, rule_id: str) -> tuple[list, set]:
    """A rule's hits as comparable rows (entity, amount, evidence) and its evidence columns."""
    part = hits[hits["rule_id"] == rule_id]
    rows, columns = [], set()
    for r in part.itertuples():
        evidence = json.loads(r.evidence)
        columns |= set(evidence)
        rows.append((r.entity_id, round(float(r.amount_at_risk), 2), json.dumps(evidence, sort_keys=True)))
    return sorted(rows), columns


def test_spark_scan_of_the_sample_equals_the_duckdb_scan(spark, tmp_path, monkeypatch):
    from fundwatch.engine.spark_engine import SparkEngine

    # Two workspaces give a case one id only when they share the case-id key (README: case ids).
    monkeypatch.setenv("FUNDWATCH_CASE_KEY", "shared-by-both-runs")
    runs = {}
    spark_conf = ["--spark-conf", "spark.sql.shuffle.partitions=3"]  # reaches the session, as any --spark-conf
    for name, extra in (("duckdb", []), ("spark", ["--engine", "spark", "--spark-master", "local[2]", *spark_conf])):
        out = tmp_path / name
        code = main(["--workspace", str(tmp_path / f"{name}.duckdb"), "scan", "--year", YEAR, "--data", str(SAMPLE),
                     "--out", str(out), "--unmask", "--top", "0", *extra])
        assert code == 0, name
        runs[name] = {"cases": pd.read_csv(out / "cases.csv", dtype=str, keep_default_na=False),
                      "hits": pd.read_csv(out / "rule_hits.csv", dtype=str, keep_default_na=False),
                      "run": json.loads((out / "run.json").read_text(encoding="utf-8"))}
    problems = []
    if spark.conf.get("spark.sql.shuffle.partitions") != "3":
        problems.append("--spark-conf spark.sql.shuffle.partitions=3 did not reach the session")

    # 1. Loading: every table has the same rows on both engines, nothing quarantined on either.
    spark_engine = SparkEngine(spark)  # the CLI's views live in the shared session
    con = duckdb.connect(str(tmp_path / "duckdb.duckdb"), read_only=True)
    for table in TABLES:
        cols = ", ".join(TABLES[table].column_names)  # not DuckDB's bookkeeping column of part files
        on_duck = con.execute(f"SELECT {cols} FROM {table}").df()
        on_spark = spark_engine.query(f"SELECT {cols} FROM {table}")
        if not _sorted(on_duck).equals(_sorted(on_spark)):
            problems.append(f"table {table}: {len(on_duck)} rows on DuckDB, {len(on_spark)} on Spark, or values differ")
    if spark_engine.spark.catalog.tableExists("fw_quarantine") and int(spark_engine.query("SELECT count(*) AS n FROM fw_quarantine")["n"].iloc[0]):
        problems.append("rows quarantined on Spark, none on DuckDB")
    con.close()
    duck_inputs, spark_inputs = runs["duckdb"]["run"]["inputs"], runs["spark"]["run"]["inputs"]
    if {k: v["rows"] for k, v in duck_inputs.items()} != {k: v["rows"] for k, v in spark_inputs.items()}:
        problems.append("run.json inputs: row counts differ")

    # 2. Every rule: the same rows (entity, amount, every evidence value) and the same columns.
    dh, sh = runs["duckdb"]["hits"], runs["spark"]["hits"]
    rule_ids = sorted(set(dh["rule_id"]) | set(sh["rule_id"]))
    assert len(rule_ids) >= 30, "the comparison would be vacuous: the sample should make nearly every rule fire"
    for rule_id in rule_ids:
        (d_rows, d_cols), (s_rows, s_cols) = _hit_rows(dh, rule_id), _hit_rows(sh, rule_id)
        if d_cols != s_cols:
            problems.append(f"{rule_id}: columns differ: {sorted(d_cols ^ s_cols)}")
        if d_rows != s_rows:
            diff = [r for r in d_rows if r not in s_rows][:2] + [r for r in s_rows if r not in d_rows][:2]
            problems.append(f"{rule_id}: {len(d_rows)} hits on DuckDB, {len(s_rows)} on Spark; e.g. {diff}")
    d_rules, s_rules = runs["duckdb"]["run"]["rules"], runs["spark"]["run"]["rules"]
    for rule_id, outcome in d_rules.items():
        if (outcome["status"], outcome["hits"], outcome["share"]) != (
                s_rules[rule_id]["status"], s_rules[rule_id]["hits"], s_rules[rule_id]["share"]):
            problems.append(f"{rule_id}: outcome {outcome['status']}/{outcome['hits']} on DuckDB, "
                            f"{s_rules[rule_id]['status']}/{s_rules[rule_id]['hits']} on Spark")

    # 3. The case list: same cases, entities, rule hits and amounts; scores within a tolerance.
    dc, sc = (runs[n]["cases"].set_index("case_id") for n in ("duckdb", "spark"))
    if set(dc.index) != set(sc.index):
        problems.append(f"cases only on DuckDB {sorted(set(dc.index) - set(sc.index))[:5]}, "
                        f"only on Spark {sorted(set(sc.index) - set(dc.index))[:5]}")
    common = sorted(set(dc.index) & set(sc.index))
    for col in ("entity_type", "entity_id", "program", "rule_ids", "amount_at_risk", "level", "signals", "programs",
                "region_code", "summary"):
        differ = [c for c in common if dc.at[c, col] != sc.at[c, col]]
        if differ:
            problems.append(f"cases: {col} differs for {len(differ)}, e.g. {differ[0]}: "
                            f"{dc.at[differ[0], col]!r} vs {sc.at[differ[0], col]!r}")
    for col in ("outlier_score", "risk_score"):
        d = pd.to_numeric(dc.loc[common, col], errors="coerce").to_numpy(dtype=float)
        s = pd.to_numeric(sc.loc[common, col], errors="coerce").to_numpy(dtype=float)
        if not np.allclose(d, s, atol=SCORE_TOLERANCE, rtol=0, equal_nan=True):
            problems.append(f"cases: {col} differs by up to {np.nanmax(np.abs(d - s)):.3g}")
    if dc.loc[common, "rank"].tolist() != sc.loc[common, "rank"].tolist():
        problems.append("cases: ranks differ")
    scored = pd.to_numeric(sc["outlier_score"], errors="coerce")
    assert scored.notna().sum() > 20, "the outlier scores compared must include scored entities"

    # 4. The outlier detector scored and flagged the same entities per programme.
    keep = ("program", "entity_type", "status", "entities", "flagged")
    d_out = [{k: o[k] for k in keep} for o in runs["duckdb"]["run"]["outliers"]]
    s_out = [{k: o[k] for k in keep} for o in runs["spark"]["run"]["outliers"]]
    if d_out != s_out:
        problems.append(f"outlier report: {d_out} vs {s_out}")

    # 5. The detector fitted on a sample (a random one plus the extremes, as for a programme
    # larger than fit_sample) and applied in several mapInPandas batches: the same scores.
    from fundwatch.detect import score_outliers
    from fundwatch.detect.features import FEATURE_SETS
    from fundwatch.engine import DuckDBEngine

    persons = [fs for fs in FEATURE_SETS if fs.key == "subsidy/person"]
    settings = {"fit_sample": 1000, "batch_size": 1000}
    present = set(runs["spark"]["run"]["inputs"])
    con = duckdb.connect(str(tmp_path / "duckdb.duckdb"))
    d_scores, d_report = score_outliers(DuckDBEngine(con), int(YEAR), present, settings, persons)
    con.close()
    s_scores, s_report = score_outliers(spark_engine, int(YEAR), present, settings, persons)
    # More entities than fit_sample: fit_model takes the sampled path (fundwatch/detect/model.py).
    assert d_report[0]["status"] == "scored" and d_report[0]["entities"] > 2 * settings["fit_sample"]
    assert d_scores["flagged"].sum() > 0
    d_scores, s_scores = (f.sort_values("entity_id", ignore_index=True) for f in (d_scores, s_scores))
    if d_scores["entity_id"].tolist() != s_scores["entity_id"].tolist():
        problems.append("sampled fit: other entities scored on Spark")
    elif not np.allclose(d_scores["outlier_score"], s_scores["outlier_score"], atol=SCORE_TOLERANCE, rtol=0):
        problems.append("sampled fit: outlier scores differ by up to "
                        f"{np.max(np.abs(d_scores['outlier_score'] - s_scores['outlier_score'])):.3g}")
    elif not (d_scores[["flagged", "explanation"]].fillna("").equals(s_scores[["flagged", "explanation"]].fillna(""))):
        problems.append("sampled fit: flagged entities or their explanations differ")
    if d_report[0]["flagged"] != s_report[0]["flagged"]:
        problems.append(f"sampled fit: {d_report[0]['flagged']} flagged on DuckDB, {s_report[0]['flagged']} on Spark")

    # 6. The run is recorded in the workspace on the driver, with its engine.
    assert runs["spark"]["run"]["engine"].startswith("SparkEngine(")
    con = duckdb.connect(str(tmp_path / "spark.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM fw_runs").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM fw_cases").fetchone()[0] == len(sc)
    con.close()
    assert not problems, "\n".join(problems)


# --- the loader, on files written to be awkward ----------------------------------------------

def _hostile_csv() -> str:
    good, bad = make_id(1), make_id(2)[:-1] + ("0" if make_id(2)[-1] != "0" else "1")
    head = "\ufeff支付编号,项目代码,身份证号,发放月份,发放金额,发放日期,行政区划代码,收款账号\r\n"
    rows = [
        f"P1,FARM,{good},2023-03,\"1,200.50元\",2023/3/5,330122101001,6217000011\r\n",  # quoted thousands, 元
        f"P2,FARM,{good.lower()[:-1] + good[-1].lower()},202304,100,20230405,330122101,6217000012\r\n",
        "\r\n",  # a blank line
        "   \r\n",  # a blank line of spaces
        f"P3,FARM,{bad},2023年5月,100,2023年5月6日,330122,6217000013\r\n",  # bad check digit
        f"P4,FARM,{good},2023-13,100,2023-06-31,330122101001,6217000014\r\n",  # no month 13, no 31 June
        f"P5,FARM,{good},2023-06,abc,45000,3301,1.10105E+17\r\n",  # bad money, Excel serial, bad region
        "支付编号,项目代码,身份证号,发放月份,发放金额,发放日期,行政区划代码,收款账号\r\n",  # repeated header
        f"P6,FARM,{good},2023-07,100\r\n",  # too few fields
        f"P7,FARM,{good},2023-07,100,2023-07-01,330122101001,6217000015,extra\r\n",  # too many
        f"P8,FARM,{good[:15]},2023-08,null,,330122101001,\r\n",  # legacy 15-digit ID, null word
        "P9,FARM,,2023-08,5,2023.8.9,330122101001,6217000016\r\n",  # missing required ID
        f"P10,\"FA\"RM,{good},2023-08,5,2023-08-09,330122101001,6217000017\r\n",  # text after a quote
        f",FARM,{good},2023/9,-15.5,2023-09-30 10:00:00,330122101001,6217000018\r\n",
        ",,,,,,,\r\n",  # a row of empty fields
    ]
    return head + "".join(rows)


def _write_parquets(folder: Path) -> None:
    """Typed Parquet columns (dates, decimals, doubles, integers) and text, as exports hold them."""
    good = make_id(3)
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT * FROM (VALUES
        ('Q1', 'H1', DATE '2023-02-01', CAST(1500.5 AS DECIMAL(18, 2)), DATE '2023-02-10', '6217000021'),
        ('Q2', 'H1', DATE '2023-03-01', CAST(-3 AS DECIMAL(18, 2)), NULL, '{good}'),
        ('Q3', 'H2', DATE '1899-03-01', CAST(10 AS DECIMAL(18, 2)), DATE '2023-03-10', NULL),
        ('Q4', NULL, NULL, NULL, NULL, '1.10105E+17')
    ) t(payment_id, household_id, period, amount, pay_date, bank_account))
    TO '{folder / "dibao_payments.parquet"}' (FORMAT parquet)""")
    con.execute(f"""COPY (SELECT * FROM (VALUES
        ('C1', 2023, 12345678.25, 0.1, 2.0, 1200, NULL),
        ('C2', 2023, -5.0, NULL, 1e20, 7, 3.333),
        ('C3', 1850, NULL, 100.0, 12.5, NULL, 0.0)
    ) t(coop_id, year, revenue, cost, surplus, subsidies_received, dividends_declared))
    TO '{folder / "coop_financials.parquet"}' (FORMAT parquet)""")
    notes = folder / "notes.parquet"  # not a contract table: listed as ignored
    con.execute(f"COPY (SELECT 1 AS x) TO '{notes}' (FORMAT parquet)")
    con.close()


def _compare_loads(folder: Path, spark):
    """Load `folder` with both loaders; assert the same tables, quarantine and report; return the quarantine."""
    from fundwatch.engine.spark_engine import SparkEngine
    from fundwatch.load.spark import load_into_spark
    from fundwatch.workspace import Workspace

    engine = SparkEngine(spark.newSession())
    loaded = load_into_spark(engine, str(folder))
    s_report = loaded.report
    # What was loaded comes back explicitly: a table per view, each described for the run record.
    assert loaded.present == set(s_report.tables) and all(engine.spark.catalog.tableExists(t) for t in loaded.present)
    assert {v["rows"] for v in loaded.inputs.values()} == {t.rows_loaded for t in s_report.tables.values()}
    with Workspace() as ws:
        d_report = ws.load(folder)
        for table in d_report.tables:
            cols = ", ".join(TABLES[table].column_names)  # not DuckDB's bookkeeping column of part files
            on_duck, on_spark = ws.engine.query(f"SELECT {cols} FROM {table}"), engine.query(f"SELECT {cols} FROM {table}")
            pd.testing.assert_frame_equal(_sorted(on_duck), _sorted(on_spark), check_dtype=True)
        cols = "table_name, line, column_name, raw_value, reason, problems, raw_row"
        q_duck = ws.engine.query(f"SELECT {cols} FROM fw_quarantine ORDER BY table_name, line")
    q_spark = engine.query(f"SELECT {cols} FROM fw_quarantine ORDER BY table_name, line")
    pd.testing.assert_frame_equal(q_duck, q_spark)
    drop = ["files"]
    pd.testing.assert_frame_equal(d_report.to_frame().drop(columns=drop), s_report.to_frame().drop(columns=drop))
    assert s_report.ignored == d_report.ignored
    return q_spark, s_report


def _reasons(quarantine: pd.DataFrame) -> set[str]:
    """Every reason of every quarantined row (a row's `reason` is its first problem only)."""
    found = set(quarantine["reason"])
    for problems in quarantine["problems"].dropna():
        found |= {p["reason"] for p in json.loads(problems)}
    return found


def test_spark_loader_types_and_quarantines_awkward_files_as_fundwatch_load_does(spark, tmp_path):
    (tmp_path / "subsidy_payments.csv").write_text(_hostile_csv(), encoding="utf-8", newline="")
    (tmp_path / "fund_allocations").mkdir()
    (tmp_path / "fund_allocations" / "part1.csv").write_text(
        "allocation_id;agency_code;program_code;amount;received_date\n"
        f"A1;{make_code(1)};FARM;1000;2023-01-05\nA2;{make_code(2)};FARM;2,000.00;2023-02-30\n", encoding="utf-8")
    (tmp_path / "fund_allocations" / "part2.csv").write_text(
        "allocation_id|agency_code|program_code|amount|received_date\n"
        f"A3|{make_code(3)[:-1]}0|FARM|5|2023-03-01\n", encoding="utf-8")
    (tmp_path / "civil_servants.csv").write_text(
        f"person_id,start_date,end_date\n{make_id(5)},2020-01-01,2019-06-30\n{make_id(6)},2020-01-01,\n",
        encoding="utf-8")
    _write_parquets(tmp_path)
    quarantine, report = _compare_loads(tmp_path, spark)
    # The files really were awkward: every kind of problem they hold was found (on both engines).
    assert {"bad_check_digit", "bad_row_shape", "bad_quotes", "bad_period", "bad_date", "bad_money",
            "bad_region_code", "legacy_id", "missing_required", "excel_mangled_id"} <= _reasons(quarantine)
    assert report.tables["subsidy_payments"].blank >= 3 and report.tables["subsidy_payments"].repeated_headers == 1
    assert report.ignored == ["notes.parquet"]
    assert report.tables["civil_servants"].warnings == [("end_date before start_date", 1)]


def test_spark_loader_refuses_what_it_cannot_read_naming_the_file(spark, tmp_path):
    from fundwatch.engine.spark_engine import SparkEngine
    from fundwatch.load.spark import load_into_spark

    engine = SparkEngine(spark.newSession())
    messy = SAMPLE / "messy"  # GBK CSVs with Chinese headers and an XLSX export
    with pytest.raises(LoadError) as caught:
        load_into_spark(engine, str(messy))
    text = str(caught.value)
    assert "subsidy_payments.xlsx: XLSX is not read on Spark" in text
    assert "dibao_members.csv: not UTF-8" in text
    assert not engine.spark.catalog.tableExists("dibao_members")  # nothing registered from a failed load
    with pytest.raises(LoadError, match="not a folder"):
        load_into_spark(engine, str(tmp_path / "missing"))
