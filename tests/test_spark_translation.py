"""What sqlglot's DuckDB -> Spark translation keeps and what it silently changes, run on both engines.

PORTABLE: constructs the rules and features use (or may), with the same result on DuckDB and
Spark through the engine (which prints DuckDB SQL for Spark, plus the one rewrite of `/`).
HAZARDS: constructs whose plain sqlglot translation gives another result on Spark (or fails
there); the engine refuses them (NotPortable) and `rules list` names them. Each hazard test
first shows the hazard is real, so a sqlglot release that fixes one makes its test fail and
the refusal can go.
"""

import math
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlglot

from fundwatch.engine.dialect import NotPortable, portability_problems

T = """(SELECT * FROM (VALUES
    (1, 'a', 2.5, DATE '2023-01-31', CAST(10.05 AS DECIMAL(18, 2))),
    (2, 'a', NULL, DATE '2023-03-01', CAST(3.10 AS DECIMAL(18, 2))),
    (3, 'b', 7.0, NULL, NULL),
    (4, 'b', 1.0, DATE '2024-02-29', CAST(0.07 AS DECIMAL(18, 2))),
    (5, 'b', 4.0, DATE '2023-12-31', CAST(1.01 AS DECIMAL(18, 2)))) v(i, g, x, d, m))"""

PORTABLE = {
    "median of doubles and integers": f"SELECT g, median(x) AS mx, median(i) AS mi FROM {T} t GROUP BY g",
    "median of a DECIMAL cast to DOUBLE": f"SELECT g, median(CAST(m AS DOUBLE)) AS mm FROM {T} t GROUP BY g",
    "date_diff in days": f"SELECT i, date_diff('day', DATE '2023-01-15', d) AS n FROM {T} t",
    "integer division, / and //": f"SELECT i, i / 2 AS a, i // 2 AS b, -i // 2 AS c, i % 3 AS r FROM {T} t",
    "year() and month() arithmetic": f"SELECT i, year(d) * 12 + month(d) AS ym FROM {T} t",
    "NULLs last in ORDER BY": f"SELECT i FROM {T} t ORDER BY d, i",
    "NULLs in row_number ascending": f"SELECT i, row_number() OVER (ORDER BY x, i) AS rn FROM {T} t",
    "NULLs in row_number descending": f"SELECT i, row_number() OVER (PARTITION BY g ORDER BY x DESC, i) AS rn FROM {T} t",
    "DECIMAL / integer (rewritten to DOUBLE)": f"SELECT i, m / 3 AS a, round(m * 7 / 3, 2) AS b FROM {T} t",
    "1 / 0.7 - 1, as the housing rules compute it": "SELECT CAST(round(4350.00 * (1 / 0.7 - 1), 2) AS DECIMAL(18, 2)) AS a",
    "DECIMAL sums, products and avg": f"SELECT g, sum(m) AS s, round(avg(m), 2) AS a, max(m * m) AS p FROM {T} t GROUP BY g",
    "DECIMAL compared and mixed with DOUBLE": f"SELECT i, m + x AS a, m > 1.5 AS b FROM {T} t",
    "greatest, least and coalesce with NULL": f"SELECT i, greatest(x, 2), least(x, 2), coalesce(m, 0) AS c FROM {T} t",
    "|| with NULL, concat": "SELECT 'a' || NULL AS a, concat('a', 'b') AS b",
    "substring from 1 and strpos": "SELECT substring('abcdef', 2, 3) AS a, strpos('abc', 'c') AS b",
    "date compared with a string": f"SELECT i FROM {T} t WHERE d >= '2023-02-01'",
    "count DISTINCT ignores NULL": f"SELECT count(DISTINCT x) AS a, count(x) AS b, count(*) AS c FROM {T} t",
    "UNION removes duplicates": f"SELECT g FROM {T} t UNION SELECT g FROM {T} u",
    "CASE, LIKE and IN": f"SELECT i, CASE WHEN g LIKE 'a%' THEN 1 ELSE 0 END AS a, i IN (1, 3) AS b FROM {T} t",
    "date_trunc to the month": f"SELECT i, CAST(date_trunc('month', d) AS DATE) AS a FROM {T} t",
    "CAST of a DATE to text": f"SELECT i, CAST(d AS VARCHAR) AS a FROM {T} t",
    "ln, exp, abs": f"SELECT i, round(exp(ln(x + 1)) - 1, 9) AS a, abs(-x) AS b FROM {T} t",
    "round half away from zero": "SELECT round(2.5) AS a, round(-2.5) AS b, round(0.125, 2) AS c",
}

HAZARDS = {
    # name: (DuckDB SQL, what the refusal says)
    "QUALIFY with SELECT *": (f"SELECT * FROM {T} t QUALIFY row_number() OVER (PARTITION BY g ORDER BY i) = 1",
                              "QUALIFY"),
    "epoch_ms": (f"SELECT i, epoch_ms(CAST(d AS TIMESTAMP)) AS e FROM {T} t", "epoch"),
    "date - date": (f"SELECT i, d - DATE '2023-01-01' AS n FROM {T} t", "date - date"),
    "list functions": (f"SELECT g, len(list(i)) AS n FROM {T} t GROUP BY g", "list functions"),
    "quantile_cont": (f"SELECT g, quantile_cont(x, 0.9) AS q FROM {T} t GROUP BY g", "percentile"),
    "percentile_cont WITHIN GROUP": (
        f"SELECT g, percentile_cont(0.25) WITHIN GROUP (ORDER BY i) AS q FROM {T} t GROUP BY g", "percentile"),
    "median of a DECIMAL": (f"SELECT g, median(m) AS q FROM {T} t GROUP BY g", None),
    "date_diff in months": (f"SELECT i, date_diff('month', DATE '2023-01-15', d) AS n FROM {T} t", "date_diff"),
    "date_diff in years": (f"SELECT i, date_diff('year', DATE '2023-06-15', d) AS n FROM {T} t", "date_diff"),
    "CAST of a fraction to an integer": ("SELECT CAST(2.7 AS INTEGER) AS a, CAST(-2.7 AS INTEGER) AS c", None),
    "substring from 0": ("SELECT substr('abcdef', 0, 3) AS a", "substring from position 0"),
    "log(x)": ("SELECT log(100) AS a", "log(x)"),
    "regexp_replace without 'g'": ("SELECT regexp_replace('a1b2', '[0-9]', '') AS a", "regexp_replace"),
    "TRY_CAST text to DATE": ("SELECT try_cast('2023/01/05' AS DATE) AS a, try_cast('2023-05' AS DATE) AS b",
                              "TRY_CAST"),
    "regexp_full_match": ("SELECT regexp_full_match('abc', 'a.c') AS a", "regexp_full_match"),
}


def _norm(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, Decimal | float):
        return round(float(v), 9)
    if isinstance(v, datetime | date):
        return v.isoformat()[:19]
    if hasattr(v, "total_seconds"):  # an INTERVAL comes back as a timedelta
        return f"interval {v}"
    if isinstance(v, list | tuple):
        return tuple(_norm(x) for x in v)
    return v


def _kind(dtype) -> str:
    return "int" if str(dtype).lower() in ("int32", "int64") else str(dtype)


def _rows(frame) -> list[tuple]:
    return sorted((tuple(_norm(v) for v in r) for r in frame.itertuples(index=False)), key=repr)


@pytest.fixture(scope="module")
def duck():
    import duckdb

    from fundwatch.engine import DuckDBEngine

    con = duckdb.connect(":memory:")
    yield DuckDBEngine(con)
    con.close()


@pytest.mark.parametrize("sql", list(PORTABLE.values()), ids=list(PORTABLE))
def test_portable_sql_gives_the_same_result_on_both_engines(sql, duck, spark_engine):
    assert not portability_problems(sql)
    a, b = duck.query(sql), spark_engine.query(sql)
    assert list(a.columns) == list(b.columns)
    # Same kinds of column; integer widths may differ (row_number, year() and strpos are BIGINT
    # on DuckDB, INT on Spark), which changes no value.
    assert [_kind(t) for t in a.dtypes] == [_kind(t) for t in b.dtypes]
    assert _rows(a) == _rows(b)


def test_decimal_division_rewrite_is_what_fixes_the_housing_rules(duck, spark_engine):
    """Without the rewrite Spark rounds 1 / 0.7 to 6 places: 1864.28 against DuckDB's 1864.29."""
    sql = "SELECT CAST(round(4350.00 * (1 / 0.7 - 1), 2) AS DECIMAL(18, 2)) AS a"
    plain = spark_engine.spark.sql(sqlglot.transpile(sql, read="duckdb", write="spark")[0]).collect()[0][0]
    assert float(plain) == 1864.28
    assert duck.query(sql)["a"].iloc[0] == spark_engine.query(sql)["a"].iloc[0] == 1864.29


@pytest.mark.parametrize(("sql", "named"), list(HAZARDS.values()), ids=list(HAZARDS))
def test_hazards_change_results_on_spark_and_are_refused(sql, named, duck, spark_engine):
    # The hazard is real: sqlglot's plain translation fails on Spark or returns something else.
    expected = duck.query(sql)
    try:
        raw = spark_engine._to_pandas(spark_engine.spark.sql(sqlglot.transpile(sql, read="duckdb", write="spark")[0]).toArrow())
        same = list(raw.columns) == list(expected.columns) and _rows(raw) == _rows(expected)
    except Exception:  # an error on Spark is a difference too
        same = False
    assert not same, "sqlglot now translates this faithfully: drop its refusal in fundwatch/engine/dialect.py"
    # ... so the engine refuses it, naming it, instead of answering differently.
    problems = portability_problems(sql)
    assert problems and (named is None or any(named in p for p in problems)), problems
    with pytest.raises(NotPortable):
        spark_engine.query(sql)
