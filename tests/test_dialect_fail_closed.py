"""Translation fails closed: when the portability check itself cannot be made, the SQL is
refused ("cannot translate: ...") and a rule using it is not run on that engine."""

import pytest
import sqlglot

from fundwatch.engine import dialect
from fundwatch.engine.dialect import NotPortable, portability_problems, transpile
from fundwatch.rules import load_rules
from fundwatch.rules.engines import support

# DuckDB reads it (and fails on it); sqlglot's qualifier raises on the alias used twice.
UNCHECKABLE = "SELECT p.amount FROM dibao_payments p JOIN dibao_payments p ON true"


def test_sql_the_check_cannot_read_is_refused():
    (problem,) = portability_problems(UNCHECKABLE)
    assert problem.startswith("cannot translate:") and "Alias already used" in problem
    with pytest.raises(NotPortable, match="cannot translate"):
        transpile(UNCHECKABLE, "duckdb", "spark")


def test_an_exception_in_the_type_check_refuses(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("sqlglot broke")

    monkeypatch.setattr("sqlglot.optimizer.annotate_types.annotate_types", broken)
    dialect._problems.cache_clear()
    sql = "SELECT household_id, amount / 2 AS half FROM dibao_payments"
    try:
        assert portability_problems(sql) == [
            "cannot translate: the portability check failed (RuntimeError: sqlglot broke)"]
        with pytest.raises(NotPortable, match="sqlglot broke"):
            transpile(sql, "duckdb", "spark")
    finally:
        monkeypatch.undo()
        dialect._problems.cache_clear()
    assert portability_problems(sql) == []  # the same SQL, checked: nothing to refuse


def test_work_tables_outside_the_contract_are_still_translated():
    sql = "SELECT w.a, count(*) AS n FROM fw_work w JOIN dibao_payments p ON p.household_id = w.a GROUP BY w.a"
    assert portability_problems(sql) == []
    assert "CAST" not in transpile(sql, "duckdb", "spark")


def test_a_rule_whose_sql_cannot_be_checked_is_not_run_on_spark():
    ruleset = load_rules()
    rule = ruleset["dibao.public_staff"]
    state, why = support(rule, sqlglot.parse_one(UNCHECKABLE, read="duckdb"), "spark")
    assert state == "no" and why.startswith("cannot translate:")
    assert support(rule, ruleset.trees[rule.id], "spark") == ("yes", "")
