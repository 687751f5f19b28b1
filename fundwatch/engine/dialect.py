"""DuckDB SQL printed in another engine's dialect by sqlglot, and where that is not safe.

sqlglot's translation is right almost everywhere, and silently wrong in a few places that
tests/test_spark_translation.py runs on both engines. They are handled in two ways:

- **one rewrite**, because the catalogue needs it: DuckDB's `/` always divides in DOUBLE;
  Spark divides DECIMALs in DECIMAL rounded to 6 places, so `(1 / 0.7 - 1) * 4350.00` is
  1864.29 on DuckDB and 1864.28 on Spark (housing.tenant_deceased on the sample). Every
  `a / b` is printed as `CAST(a AS DOUBLE) / b`, which is what DuckDB computes.
- **a refusal** for the rest (`portability_problems`): constructs whose translation changes
  results and that no rule uses. A rule using one says so in `rules list` and is not run
  on that engine; any other SQL sent to the engine raises NotPortable. Nothing is
  translated silently wrong.
- **failing closed**: when a check itself cannot be made (sqlglot raises while reading
  the SQL's structure or types), that is a refusal too ("cannot translate: ..."), never an
  SQL waved through unchecked.
"""

from __future__ import annotations

import functools

import sqlglot
from sqlglot import exp

from fundwatch.errors import FundwatchError


class NotPortable(FundwatchError):
    """SQL whose translation to the engine's dialect would change its results."""


# --- the refusals -------------------------------------------------------------------------

_LIST_NODES = tuple(
    getattr(exp, n)
    for n in (
        "Array", "ArrayAgg", "ArrayContains", "ArrayFilter", "ArraySize", "ArrayConcat", "ArrayJoin",
        "ArrayToString", "ArraySlice", "ArraySort", "ArrayUniqueAgg", "Bracket", "Explode", "Unnest",
        "Split", "StringToArray", "Lambda", "Transform", "GenerateSeries",
    )
    if hasattr(exp, n)
)  # fmt: skip
_PERCENTILES = tuple(
    getattr(exp, n) for n in ("PercentileCont", "PercentileDisc", "Quantile", "ApproxQuantile") if hasattr(exp, n)
)
_EPOCH_NAMES = {"EPOCH_MS", "EPOCH_US", "EPOCH_NS", "EPOCH"}
_INTEGER = exp.DataType.INTEGER_TYPES
_FRACTIONAL = {exp.DataType.Type.DECIMAL, exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}
_DATES = {exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.DATETIME}


def _type(node) -> exp.DataType.Type | None:
    t = getattr(node, "type", None)
    return t.this if isinstance(t, exp.DataType) else None


def _syntax_problems(tree: exp.Expression) -> list[str]:
    out = []
    for node in tree.walk():
        if isinstance(node, exp.Select) and node.args.get("qualify") is not None and any(
            isinstance(s, exp.Star) or (isinstance(s, exp.Column) and isinstance(s.this, exp.Star))
            for s in node.selects
        ):
            out.append("QUALIFY with SELECT * (the rewrite for Spark adds a column)")
        elif isinstance(node, _PERCENTILES) or (
            isinstance(node, exp.WithinGroup) and isinstance(node.this, _PERCENTILES)
        ):
            out.append("percentile functions (become approximate or fail)")
        elif isinstance(node, _LIST_NODES) and not isinstance(node.parent, exp.In):
            out.append(f"list functions ({node.key})")
        elif isinstance(node, exp.TimeToUnix | exp.UnixToTime) or (
            isinstance(node, exp.Anonymous) and str(node.this).upper() in _EPOCH_NAMES
        ):
            out.append("epoch arithmetic (time zone and unit differ)")
        elif isinstance(node, exp.DateDiff):
            unit = str(node.args.get("unit") or "day").strip("'").lower()
            if unit not in ("day", "days", "d"):
                out.append(f"date_diff('{unit}', ...) (Spark counts whole {unit}s, DuckDB boundaries)")
        elif isinstance(node, exp.Log) and node.args.get("expression") is None:
            out.append("log(x) (log10 on DuckDB, ln on Spark): write log10(x) or ln(x)")
        elif isinstance(node, exp.RegexpReplace) and not node.args.get("modifiers"):
            out.append("regexp_replace without 'g' (DuckDB replaces the first match, Spark every one)")
        elif isinstance(node, exp.Substring):
            start = node.args.get("start")
            if isinstance(start, exp.Literal) and not start.is_string and float(start.this) == 0:
                out.append("substring from position 0")
        elif isinstance(node, exp.TryCast) and node.to.this in _DATES:
            out.append("TRY_CAST to a date (the text each engine accepts differs)")
        elif node.key == "regexpfullmatch" or (
            isinstance(node, exp.Anonymous) and str(node.this).upper() in ("REGEXP_FULL_MATCH", "TRY_STRPTIME")
        ):
            name = "regexp_full_match" if node.key == "regexpfullmatch" else str(node.this).lower()
            out.append(f"{name} (printed as a function Spark does not have)")
    return out


def _type_problems(tree: exp.Expression) -> list[str]:
    """Problems that depend on column types: checked when the tables are the contract's."""
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    from fundwatch.rules.render import contract_schema

    schema = contract_schema()
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    if {t.name for t in tree.find_all(exp.Table)} - ctes - set(schema):
        # fundwatch's own SQL on its work tables (registered frames, written tables): their
        # types are unknown here. Rule SQL reads contract tables only (checked at load), so
        # for it an exception below is a refusal, never a skipped check.
        return []
    typed = annotate_types(qualify(tree.copy(), schema=schema, dialect="duckdb", validate_qualify_columns=False),
                           schema=schema)
    out = []
    for node in typed.walk():
        if isinstance(node, exp.Median) and _type(node.this) == exp.DataType.Type.DECIMAL:
            out.append("median of a DECIMAL (DuckDB keeps the scale, Spark returns DOUBLE): cast it to DOUBLE")
        elif isinstance(node, exp.Cast) and node.to.this in _INTEGER and _type(node.this) in _FRACTIONAL:
            out.append("CAST of a fraction to an integer (DuckDB rounds, Spark truncates): round() it first")
        elif isinstance(node, exp.Sub) and _type(node.this) in _DATES and _type(node.expression) in _DATES:
            out.append("date - date (an INTERVAL on Spark): use date_diff('day', a, b)")
    return out


@functools.lru_cache(maxsize=4096)
def _problems(sql: str, dialect: str) -> tuple[str, ...]:
    tree = sqlglot.parse_one(sql, read=dialect)
    try:
        found = _syntax_problems(tree) + _type_problems(tree)
    except Exception as e:  # fail closed: SQL that cannot be checked is not run elsewhere
        first = str(e).splitlines()[0] if str(e) else ""
        return (f"cannot translate: the portability check failed ({type(e).__name__}: {first})",)
    return tuple(dict.fromkeys(found))


def portability_problems(sql_or_tree, dialect: str = "duckdb") -> list[str]:
    """Why `sql_or_tree` (DuckDB SQL) would give other results on Spark; empty if it would not."""
    sql = sql_or_tree if isinstance(sql_or_tree, str) else sql_or_tree.sql(dialect=dialect)
    return list(_problems(sql, dialect))


# --- the rewrite --------------------------------------------------------------------------


def _double_division(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Div) and not (
        isinstance(node.this, exp.Cast) and node.this.to.this == exp.DataType.Type.DOUBLE
    ):
        node.set("this", exp.Cast(this=node.this, to=exp.DataType.build("DOUBLE")))
    return node


@functools.lru_cache(maxsize=4096)
def transpile(sql: str, read: str, write: str) -> str:
    """`sql` in dialect `read` printed in dialect `write`; raises NotPortable where that would change results."""
    if read == write:
        return sql
    trees = sqlglot.parse(sql, read=read)
    out = []
    for tree in trees:
        if tree is None:
            continue
        if read == "duckdb":
            problems = portability_problems(tree.sql(dialect="duckdb"))
            if problems:
                raise NotPortable(f"cannot run on {write} without changing results: {'; '.join(problems)}")
            tree = tree.transform(_double_division)
        out.append(tree.sql(dialect=write))
    return ";\n".join(out)
