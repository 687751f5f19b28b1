"""Every rule's embedded tests on Spark, with the rule's whole result compared with DuckDB's,
and how a rule that cannot be translated says so.

The DuckDB side of the same tests is tests/test_rules_embedded.py; the comparison of every
rule's rows on the sample county is in tests/test_spark_sample.py.
"""

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
import yaml

from fundwatch.config import Config
from fundwatch.rules import load_rules
from fundwatch.rules.engines import support, support_table
from fundwatch.rules.params import coerce
from fundwatch.rules.runner import run_rule, run_rules
from fundwatch.rules.testing import fresh_engine, insert_rows, run_rule_tests, run_test

RULESET = load_rules()
CASES = [(rule, test) for rule in RULESET for test in rule.tests]


@pytest.fixture
def recording_spark(spark):
    """A SparkEngine that keeps every result it returns, to compare the rule's rows with DuckDB's."""
    from fundwatch.engine.spark_engine import SparkEngine

    class Recording(SparkEngine):
        def query(self, sql):
            frame = super().query(sql)
            self.results.append(frame)
            return frame

    engine = Recording(spark.newSession())
    engine.results = []
    return engine


def _norm(v):
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, float | np.floating | Decimal):
        return round(float(v), 6)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _rows(frame: pd.DataFrame) -> list[tuple]:
    return sorted((tuple(_norm(v) for v in r) for r in frame.astype(object).itertuples(index=False)), key=repr)


def _on_duckdb(rule, test) -> pd.DataFrame:
    """The rule's raw result (every output column) on DuckDB, on the test's rows."""
    duck = fresh_engine()
    try:
        for table, rows in test.data.items():
            assert not insert_rows(duck.con, table, rows)
        params = Config().rule_params(rule)
        params.update({k: coerce(rule.params[k].type, v, k) for k, v in test.params.items()})
        return run_rule(duck, rule, RULESET.trees[rule.id], test.year, params)
    finally:
        duck.con.close()


@pytest.mark.parametrize(("rule", "test"), CASES, ids=[f"{r.id}::{t.name}" for r, t in CASES])
def test_embedded_on_spark(rule, test, recording_spark):
    result = run_test(rule, RULESET.trees[rule.id], test, recording_spark)
    assert result.passed, result.message
    assert not result.not_run, result.message  # every rule of the catalogue runs on Spark
    # Not only the test's expectations: the rule's whole result on Spark (rows, evidence
    # columns and their names) is DuckDB's, on rows written to probe the rule's edges.
    expected, got = _on_duckdb(rule, test), recording_spark.results[-1]
    assert list(got.columns) == list(expected.columns)
    assert _rows(got) == _rows(expected)


def test_every_catalogue_rule_runs_on_both_engines():
    table = support_table(RULESET)
    assert len(table) == len(RULESET)
    assert {rid: row for rid, row in table.items() if row != {"duckdb": "yes", "spark": "yes"}} == {}


QUALIFY_STAR = """\
  SELECT person_id AS entity_id, :year AS year, amount AS amount_at_risk, payment_id
  FROM (SELECT * FROM subsidy_payments WHERE year(period) = :year
        QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY amount DESC, payment_id) = 1) x
  WHERE amount > :limit
"""
def _rule(name: str) -> dict:
    rule = {
        "id": f"subsidy.{name}", "title": {"en": "Largest payment above a limit", "zh": "单笔最大补贴超限"},
        "status": "experimental", "program": "subsidy", "entity_type": "person", "level": "low",
        "description": "A person's largest payment of the year is above the limit.",
        "basis": "Test rule.", "falsepositives": ["None: a test rule."], "inputs": ["subsidy_payments"],
        "params": {"limit": {"type": "money", "default": 1000, "description": "yuan"}},
        "matched_on": "person_id", "query": QUALIFY_STAR,
        "summary": {"en": "{entity_id}: payment {payment_id} of {amount_at_risk}",
                    "zh": "{entity_id}：{payment_id}笔{amount_at_risk}元"},
        "tests": [{"name": "largest above the limit", "year": 2023, "data": {"subsidy_payments": [
            {"payment_id": 1, "program_code": "A", "person_id": "P1", "period": "2023-03", "amount": "1,500.00"},
            {"payment_id": 2, "program_code": "A", "person_id": "P1", "period": "2023-04", "amount": "900.00"},
            {"payment_id": 3, "program_code": "A", "person_id": "P2", "period": "2023-04", "amount": "900.00"},
        ]}, "expect": ["P1"], "expect_not": ["P2"], "expect_amounts": {"P1": 1500.0}}],
    }
    return rule


@pytest.fixture
def rules_dir(tmp_path):
    folder = tmp_path / "rules" / "subsidy"
    folder.mkdir(parents=True)
    rules = {"largest_silent": _rule("largest_silent")}
    for name, rule in rules.items():
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(rule, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return tmp_path / "rules"


def test_a_rule_says_whether_it_runs_on_each_engine(rules_dir):
    ruleset = load_rules(rules_dir)
    assert not ruleset.errors, [str(e) for e in ruleset.errors]
    table = support_table(ruleset)
    assert table["subsidy.largest_silent"]["duckdb"] == "yes"
    assert table["subsidy.largest_silent"]["spark"].startswith("no: its SQL uses QUALIFY with SELECT *")


def test_a_refused_rule_fails_its_tests_on_spark_and_passes_on_duckdb(rules_dir, spark_engine):
    ruleset = load_rules(rules_dir)
    (on_duckdb,) = run_rule_tests(ruleset, ["subsidy.largest_silent"], None)
    assert on_duckdb.passed and not on_duckdb.not_run
    (on_spark,) = run_rule_tests(ruleset, ["subsidy.largest_silent"], spark_engine)
    assert on_spark.not_run and not on_spark.passed and "QUALIFY with SELECT *" in on_spark.message


def test_a_scan_on_spark_reports_rules_it_could_not_run(rules_dir, spark_engine):
    ruleset = load_rules(rules_dir)
    spark_engine.register("subsidy_payments", pd.DataFrame({
        "payment_id": ["1", "2"], "person_id": ["P1", "P2"], "program_code": ["A", "A"],
        "period": pd.to_datetime(["2023-03-01", "2023-04-01"]).date, "amount": [1500.0, 900.0]}))
    hits, outcomes = run_rules(spark_engine, ruleset, 2023, {"subsidy_payments"}, Config())
    (outcome,) = outcomes
    assert outcome.status == "skipped" and "support on spark" in outcome.describe() and hits.empty
    assert "QUALIFY" in outcome.message


def test_a_rule_file_names_no_engine(tmp_path):
    """Rules name no engine (the per-rule `engines:` overrides, used by no rule, are gone)."""
    from fundwatch.rules.catalogue import parse_rule_text

    old = {**_rule("largest_old"), "engines": {"spark": "not yet written for Spark"}}
    path = tmp_path / "rules" / "subsidy" / "largest_old.yaml"
    with pytest.raises(Exception, match="engines: unknown field"):
        parse_rule_text(yaml.safe_dump(old, allow_unicode=True), path)


def test_support_of_a_catalogue_rule_on_duckdb_needs_no_check():
    rule = RULESET["dibao.public_staff"]
    assert support(rule, RULESET.trees[rule.id], "duckdb") == ("yes", "")


def test_cli_rules_list_and_rules_test_on_spark(spark, capsys, tmp_path):
    from fundwatch.cli import main

    assert main(["--workspace", str(tmp_path / "ws.duckdb"), "rules", "list"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert "duckdb" in header and "spark" in header
    assert main(["rules", "test", "--engine", "spark", "dibao.public_staff"]) == 0
    out = capsys.readouterr().out
    n = len(RULESET["dibao.public_staff"].tests)
    assert "PASS dibao.public_staff" in out and f"{n} passed, 0 failed" in out
