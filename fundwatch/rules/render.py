"""A rule's SQL: parsed once with sqlglot, checked against the contract, printed per engine.

Placeholders `:name` are replaced by literals built from validated, typed values, so no
user text is ever pasted into a query. `:year`, `:year_start` and `:year_end` are set by
the scan.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.qualify import qualify

from fundwatch.contract.tables import TABLES
from fundwatch.errors import RuleError

SCAN_PARAMS = ("year", "year_start", "year_end")


def contract_schema() -> dict[str, dict[str, str]]:
    return {t.name: {c.name: c.sql_type for c in t.columns} for t in TABLES.values()}


def parse(sql: str, path, dialect: str = "duckdb") -> exp.Expression:
    try:
        tree = sqlglot.parse(sql, read=dialect)
    except ParseError as e:
        raise RuleError(path, "query", f"SQL does not parse: {e}") from None
    if len(tree) != 1 or not isinstance(tree[0], exp.Query):
        raise RuleError(path, "query", "must be exactly one SELECT statement")
    return tree[0]


def parse_expression(sql: str, path, field: str, dialect: str = "duckdb") -> exp.Expression:
    """One SQL expression (a macro's body, say), not a statement."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except ParseError as e:
        raise RuleError(path, field, f"SQL does not parse: {e}") from None
    if isinstance(tree, exp.Query):
        raise RuleError(path, field, "must be one expression, not a statement")
    return tree


def check_against_contract(tree: exp.Expression, rule, dialect: str = "duckdb", field: str = "query",
                           returns: tuple[str, ...] = ("entity_id", "year", "amount_at_risk")) -> None:
    """Every table is a declared input, every column exists in the contract, and the output has
    the columns `returns` (`field`: the rule file's key the SQL is under, for the message)."""
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    tables = {t.name for t in tree.find_all(exp.Table)} - ctes
    undeclared = tables - set(rule.inputs) - set(rule.optional_inputs)
    if undeclared:
        raise RuleError(rule.path, field,
                        f"reads {', '.join(sorted(undeclared))} which are not in `inputs` or `optional_inputs`")
    placeholders = {p.name for p in tree.find_all(exp.Placeholder)}
    unknown = placeholders - set(rule.params) - set(SCAN_PARAMS)
    if unknown:
        raise RuleError(rule.path, field, f"uses undeclared parameter(s) :{', :'.join(sorted(unknown))}")
    try:
        qualify(bind(tree, _sample_values(rule)), schema=contract_schema(), dialect=dialect,
                validate_qualify_columns=True)
    except OptimizeError as e:
        raise RuleError(rule.path, field, f"refers to something the data contract does not have: {e}") from None
    names = output_columns(tree)
    if "*" not in names:
        missing = [c for c in returns if c not in names]
        if missing:
            raise RuleError(rule.path, field, f"must return column(s) {', '.join(missing)}")


def output_columns(tree: exp.Expression) -> list[str]:
    return [s.alias_or_name for s in tree.selects]


def _sample_values(rule) -> dict:
    values = {name: p.default for name, p in rule.params.items()}
    values.update(scan_values(2000))
    return values


def scan_values(year: int) -> dict:
    return {"year": year, "year_start": dt.date(year, 1, 1), "year_end": dt.date(year, 12, 31)}


def literal(value) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float | Decimal):
        return exp.Literal.number(str(value))
    if isinstance(value, dt.date):
        return exp.Cast(this=exp.Literal.string(value.isoformat()), to=exp.DataType.build("DATE"))
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, list):
        return exp.Array(expressions=[literal(v) for v in value])
    raise TypeError(f"cannot bind {value!r}")


def bind(tree: exp.Expression, values: dict, empty_tables: set[str] = frozenset()) -> exp.Expression:
    """Replace placeholders by literals; read `empty_tables` (optional inputs not loaded) as empty."""

    def replace(node):
        if (year_range := _year_as_range(node, values)) is not None:
            return year_range
        if isinstance(node, exp.Table) and node.name in empty_tables and not node.args.get("db"):
            empty = sqlglot.parse_one(f"SELECT * FROM {node.name} WHERE 1 = 0")
            return exp.Subquery(this=empty, alias=exp.TableAlias(this=exp.to_identifier(node.alias_or_name)))
        # `x IN (:types)` with a list parameter expands to `x IN ('a', 'b')`, which every engine runs.
        if isinstance(node, exp.In) and len(node.expressions) == 1:
            only = node.expressions[0]
            if isinstance(only, exp.Placeholder) and isinstance(values.get(only.name), list):
                items = values[only.name] or [None]
                node.set("expressions", [literal(v) if v is not None else exp.Null() for v in items])
                return node
        if isinstance(node, exp.Placeholder) and node.name in values:
            return literal(values[node.name])
        return node

    return tree.copy().transform(replace)


def _year_as_range(node, values: dict) -> exp.Expression | None:
    """`year(col) = :year` as `col >= 'Y-01-01' AND col < 'Y+1-01-01'`: the same rows, but a
    range the engine can check against each row group's min and max and skip the groups
    outside the year (DuckDB's zone maps, Parquet statistics on Spark) instead of computing
    year() for every row."""
    if not isinstance(node, exp.EQ):
        return None
    sides = (node.this, node.expression)
    for fn, other in (sides, sides[::-1]):
        if (
            isinstance(fn, exp.Year)
            and isinstance(fn.this, exp.Column)
            and isinstance(other, exp.Placeholder)
            and other.name == "year"
            and isinstance(values.get("year"), int)
        ):
            year, col = values["year"], fn.this
            start, end = literal(dt.date(year, 1, 1)), literal(dt.date(year + 1, 1, 1))
            return exp.Paren(this=exp.and_(exp.GTE(this=col.copy(), expression=start), exp.LT(this=col.copy(), expression=end)))
    return None


def render(tree: exp.Expression, values: dict, dialect: str = "duckdb", empty_tables: set[str] = frozenset()) -> str:
    return bind(tree, values, empty_tables).sql(dialect=dialect)
