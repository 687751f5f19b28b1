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
        def query(self, sql, dialect="duckdb"):
            frame = super().query(sql, dialect)
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
SPARK_OVERRIDE = """\
  SELECT person_id AS entity_id, :year AS year, amount AS amount_at_risk, payment_id
  FROM (SELECT person_id, amount, payment_id,
               row_number() OVER (PARTITION BY person_id ORDER BY amount DESC, payment_id) AS rn
        FROM subsidy_payments WHERE year(period) = :year) x
  WHERE rn = 1 AND amount > :limit
"""


def _rule(name: str, engines=None) -> dict:
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
    if engines is not None:
        rule["engines"] = engines
    return rule


@pytest.fixture
def rules_dir(tmp_path):
    folder = tmp_path / "rules" / "subsidy"
    folder.mkdir(parents=True)
    rules = {
        "largest_override": _rule("largest_override", {"spark": {"query": SPARK_OVERRIDE,
                                                                 "note": "QUALIFY with * adds a column on Spark"}}),
        "largest_declared": _rule("largest_declared", {"spark": "uses QUALIFY; not yet written for Spark"}),
        "largest_silent": _rule("largest_silent"),
    }
    for name, rule in rules.items():
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(rule, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return tmp_path / "rules"


def test_a_rule_says_whether_and_how_it_runs_on_each_engine(rules_dir):
    ruleset = load_rules(rules_dir)
    assert not ruleset.errors, [str(e) for e in ruleset.errors]
    table = support_table(ruleset)
    assert table["subsidy.largest_override"] == {"duckdb": "yes", "spark": "override"}
    assert table["subsidy.largest_declared"] == {"duckdb": "yes", "spark": "no: uses QUALIFY; not yet written for Spark"}
    assert table["subsidy.largest_silent"]["spark"].startswith("no: its SQL uses QUALIFY with SELECT *")


def test_an_override_runs_on_spark_and_gives_the_duckdb_result(rules_dir, spark_engine):
    ruleset = load_rules(rules_dir)
    by_engine = {}
    for engine in (None, spark_engine):
        results = run_rule_tests(ruleset, ["subsidy.largest_override", "subsidy.largest_declared",
                                           "subsidy.largest_silent"], engine)
        by_engine[engine] = {r.rule_id: r for r in results}
    assert all(r.passed and not r.not_run for r in by_engine[None].values())
    spark = by_engine[spark_engine]
    assert spark["subsidy.largest_override"].passed and not spark["subsidy.largest_override"].not_run
    # Declared in the rule file: reported as not run, and that is no failure ...
    assert spark["subsidy.largest_declared"].passed and spark["subsidy.largest_declared"].not_run
    # ... found only by the portability check: a failure until the rule file says so.
    silent = spark["subsidy.largest_silent"]
    assert silent.not_run and not silent.passed and "declare it under `engines" in silent.message


def test_a_scan_on_spark_reports_rules_it_could_not_run(rules_dir, spark_engine):
    ruleset = load_rules(rules_dir)
    spark_engine.register("subsidy_payments", pd.DataFrame({
        "payment_id": ["1", "2"], "person_id": ["P1", "P2"], "program_code": ["A", "A"],
        "period": pd.to_datetime(["2023-03-01", "2023-04-01"]).date, "amount": [1500.0, 900.0]}))
    hits, outcomes = run_rules(spark_engine, ruleset, 2023, {"subsidy_payments"}, Config())
    by_id = {o.rule_id: o for o in outcomes}
    assert by_id["subsidy.largest_override"].status == "found" and set(hits["entity_id"]) == {"P1"}
    for rid in ("subsidy.largest_declared", "subsidy.largest_silent"):
        assert by_id[rid].status == "skipped" and "support on spark" in by_id[rid].describe()
    assert "QUALIFY" in by_id["subsidy.largest_silent"].message


def test_an_override_must_return_the_main_querys_columns(tmp_path):
    from fundwatch.rules.catalogue import parse_rule_text

    bad = _rule("largest_bad", {"spark": {"query": SPARK_OVERRIDE.replace(", payment_id\n", "\n", 1)}})
    path = tmp_path / "rules" / "subsidy" / "largest_bad.yaml"
    with pytest.raises(Exception, match="engines.spark.query: must return the main query's columns"):
        parse_rule_text(yaml.safe_dump(bad, allow_unicode=True), path)
    unknown = _rule("largest_bad", {"flink": "no"})
    with pytest.raises(Exception, match="engines.flink: unknown engine"):
        parse_rule_text(yaml.safe_dump(unknown, allow_unicode=True), path)


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
