"""Which engines a rule runs on, and the SQL it runs there.

A rule is written once, in DuckDB's dialect, and printed for Spark by sqlglot. On an engine
it is one of:

- "yes": the query is translated (fundwatch/engine/dialect.py), results unchanged;
- "override": the rule's `engines: {spark: {query: ...}}` supplies the engine's own SQL
  (same output columns), for a function that truly differs there;
- "no": the rule says it cannot run there (`engines: {spark: "why"}`), or its SQL uses a
  construct whose translation would change results. It is then reported as not run,
  with the reason, by `rules list`, `rules test` and every scan: never run silently wrong.
"""

from __future__ import annotations

import functools

from fundwatch.engine import ENGINES
from fundwatch.engine.dialect import portability_problems
from fundwatch.errors import RuleError
from fundwatch.rules.render import _sample_values, bind, check_against_contract, output_columns, parse


@functools.lru_cache(maxsize=1024)
def _override_tree(query: str, path: str, dialect: str):
    return parse(query, path, dialect=dialect)


def override_tree(rule, dialect: str):
    """The parsed override query of `rule` on `dialect`, or None."""
    entry = rule.engines.get(dialect)
    if not entry or not entry["query"]:
        return None
    return _override_tree(entry["query"], str(rule.path), dialect)


def check_overrides(rule, tree) -> None:
    """An override reads what the rule declares and returns the same columns (the summaries use them)."""
    for dialect, entry in rule.engines.items():
        if not entry["query"]:
            continue
        where = f"engines.{dialect}.query"
        try:
            other = override_tree(rule, dialect)
        except RuleError as e:
            raise RuleError(rule.path, where, str(e).split(": query: ", 1)[-1]) from None
        try:
            # Tables and parameters are checked like the main query's; columns by name only
            # (the contract check qualifies in DuckDB's dialect, which need not parse it).
            check_against_contract(other, rule, dialect=dialect)
        except RuleError as e:
            raise RuleError(rule.path, where, str(e).split(": query: ", 1)[-1]) from None
        if output_columns(other) != output_columns(tree):
            raise RuleError(rule.path, where, f"must return the main query's columns {output_columns(tree)}, "
                                              f"returns {output_columns(other)}")


def support(rule, tree, dialect: str) -> tuple[str, str]:
    """("yes" | "override" | "no", why) for running `rule` on an engine of `dialect`."""
    if dialect == "duckdb":
        return "yes", ""
    entry = rule.engines.get(dialect)
    if entry:
        return ("override", entry["note"]) if entry["query"] else ("no", entry["note"])
    problems = _problems(rule, tree)
    if problems:
        return "no", "its SQL uses " + "; ".join(problems)
    return "yes", ""


def _problems(rule, tree) -> list[str]:
    return portability_problems(bind(tree, _sample_values(rule)))


def support_table(ruleset) -> dict[str, dict[str, str]]:
    """rule id -> engine -> "yes" / "override" / "no: why"."""
    out = {}
    for rule in ruleset:
        row = {}
        for dialect in ENGINES:
            state, why = support(rule, ruleset.trees[rule.id], dialect)
            row[dialect] = state if state != "no" else f"no: {why}" if why else "no"
        out[rule.id] = row
    return out
