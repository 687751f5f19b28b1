"""Run a rule's embedded tests in a fresh in-memory DuckDB, or on another engine.

Test rows are written as in a CSV (`period: 2023-03`, `amount: 1,200.00`) and go through
the loader's own typing (fundwatch/load/stage.py), except that IDs are not checksum-validated
so tests can use short readable ids. A value that does not parse fails the test and names
the row. On another engine (`run_test(..., engine=spark_engine)`) the rows are typed the same
way in DuckDB and handed to it as the rule's input tables; the rule then runs there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from fundwatch.config import Config
from fundwatch.contract.tables import TABLES
from fundwatch.engine.duckdb_engine import DuckDBEngine
from fundwatch.load.headers import HeaderMap
from fundwatch.load.readers import RawFile
from fundwatch.load.stage import stage_file
from fundwatch.rules.engines import support
from fundwatch.rules.params import coerce
from fundwatch.rules.runner import hits_frame, run_rule


@dataclass
class TestResult:
    rule_id: str
    test: str
    passed: bool
    message: str = ""
    not_run: bool = False  # the rule says it cannot run on this engine (message: why)


def fresh_engine() -> DuckDBEngine:
    con = duckdb.connect(":memory:")
    for spec in TABLES.values():
        con.execute(spec.ddl())
    return DuckDBEngine(con)


def insert_rows(con, table: str, rows: list[dict]) -> list[str]:
    """Insert test rows through the loader's own typing; returns problems instead of raising."""
    spec = TABLES[table]
    names = [c.name for c in spec.columns if any(c.name in r for r in rows)]
    frame = pd.DataFrame({f"c{i}": pd.array([None if r.get(n) is None else str(r[n]) for r in rows], dtype="string")
                          for i, n in enumerate(names)})
    frame["__line"] = range(1, len(rows) + 1)
    con.register("_fx_frame", frame)
    con.execute("CREATE OR REPLACE TEMP TABLE _fx AS SELECT * FROM _fx_frame")
    con.unregister("_fx_frame")
    raw = RawFile(Path(f"<test data {table}>"), "_fx", names, 0)
    headers = HeaderMap(columns={n: i for i, n in enumerate(names)})
    problems = [f"column {c}: missing_required (in every row)" for c in spec.required if c not in names]
    staged = stage_file(con, raw, spec, headers, check_ids=False)
    bad = con.execute(f"SELECT __line, __problems FROM {staged.typed} WHERE __bad ORDER BY 1").fetchall()
    problems += [f"row {line} column {p['column']}: {p['reason']}" for line, ps in bad for p in ps]
    if not problems:
        cols = ", ".join(f'"{c}"' for c in spec.column_names)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {staged.typed}")
    con.execute(f"DROP TABLE {staged.typed}")
    con.execute("DROP TABLE _fx")
    return problems


def run_test(rule, tree, test, engine=None) -> TestResult:
    """Run one embedded test on a fresh in-memory DuckDB, or on `engine` (a SparkEngine)."""
    duck = fresh_engine()
    target = engine or duck
    if engine is not None:
        state, why = support(rule, tree, engine.dialect)
        if state == "no":
            # A rule refused on this engine fails its test there: every rule is written to
            # run everywhere (docs/spark.md says how to write around each refusal).
            duck.con.close()
            return TestResult(rule.id, test.name, False, f"not run on {engine.dialect}: {why}", not_run=True)
    try:
        for table, rows in test.data.items():
            problems = insert_rows(duck.con, table, rows)
            if problems:
                return TestResult(rule.id, test.name, False, f"test data {table}: " + "; ".join(problems[:5]))
        if engine is not None:
            for table in (*rule.inputs, *rule.optional_inputs):
                engine.register(table, duck.con.sql(f"SELECT * FROM {table}").arrow())
        params = Config().rule_params(rule)
        for name, raw in test.params.items():
            if name not in rule.params:
                return TestResult(rule.id, test.name, False, f"test sets unknown parameter {name!r}")
            params[name] = coerce(rule.params[name].type, raw, f"tests.{test.name}.params.{name}")
        hits = hits_frame(rule, run_rule(target, rule, tree, test.year, params))
    except Exception as e:  # a rule that cannot run fails its test, with the reason
        return TestResult(rule.id, test.name, False, f"{type(e).__name__}: {e}")
    finally:
        duck.con.close()
    flagged = set(hits["entity_id"])
    problems = []
    missed = [e for e in test.expect if e not in flagged]
    wrong = [e for e in test.expect_not if e in flagged]
    if missed:
        problems.append(f"expected but not flagged: {', '.join(missed)}")
    if wrong:
        problems.append(f"flagged but must not be: {', '.join(wrong)}")
    for entity, amount in test.expect_amounts.items():
        got = hits.loc[hits["entity_id"] == entity, "amount_at_risk"]
        if got.empty or abs(float(got.sum()) - amount) > 0.005:
            problems.append(f"{entity}: amount_at_risk {float(got.sum()) if not got.empty else None} != {amount}")
    if not hits.empty and (hits["year"] != test.year).any():
        problems.append(f"returned hits for a year other than {test.year}")
    if not hits.empty and hits["summary_en"].str.contains("—").all() and hits["summary_en"].str.len().lt(20).all():
        problems.append("summary renders empty")
    return TestResult(rule.id, test.name, not problems, "; ".join(problems))


def run_rule_tests(ruleset, ids=None, engine=None) -> list[TestResult]:
    results = []
    for rule in ruleset.select(ids):
        for test in rule.tests:
            results.append(run_test(rule, ruleset.trees[rule.id], test, engine))
    return results
