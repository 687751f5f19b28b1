"""Resident ID (GB 11643) and credit code (GB 32100) checks, vectorised in SQL.

python-stdnum is the reference: `stdnum.cn.ric.is_valid` checks length, digits, the check
digit, the birth date and that the birth-place code was a county in the birth year. We
export stdnum's county database into a small table so the same check runs as one SQL
expression over millions of rows; tests/test_ids.py holds the two equal.
"""

from __future__ import annotations

import functools

import pandas as pd

RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RIC_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

LOC_TABLE = "fw_ref_cn_loc"
SPAN_TABLE = "fw_ref_cn_loc_spans"  # the same years per code, overlapping ranges merged (ric_place_sql reads it)


@functools.cache
def county_codes() -> pd.DataFrame:
    """stdnum's cn/loc database as rows (code, start_year, end_year); NULL = open-ended."""
    from stdnum import numdb

    rows: list[tuple[str, int | None, int | None]] = []

    def walk(prefixes, prefix):
        for _length, low, _high, props, children in prefixes:
            # numdb stores ranges of codes; cn/loc only uses single codes (low == high).
            code = prefix + low
            if len(code) == 6 and "county" in props:
                for county in props["county"].split(","):
                    if county.startswith("["):
                        span = county[1:].split("]")[0]
                        start, end = span.split("-")
                        rows.append((code, int(start) if start else None, int(end) if end else None))
                    else:
                        rows.append((code, None, None))
            walk(children, code)

    walk(numdb.get("cn/loc").prefixes, "")
    frame = pd.DataFrame(rows, columns=["code", "start_year", "end_year"])
    return frame.astype({"start_year": "Int32", "end_year": "Int32"})


def ric_digits_sql(v: str) -> str:
    """The first 17 characters of an ID as one integer (NULL unless digits), for
    `ric_reason_sql(v, digits, ...)`: computed once in a column of its own."""
    return f"try_cast(substr({v}, 1, 17) AS BIGINT)"


def ric_checksum_sql(digits: str) -> str:
    """The check character of an ID whose first 17 characters are digits, from `digits` (a
    column of `ric_digits_sql`) by arithmetic on that integer, much faster than 17 substrings."""
    terms = " + ".join(f"(({digits} // {10 ** (16 - i)}) % 10) * {w}" for i, w in enumerate(RIC_WEIGHTS))
    return f"substr('{RIC_CHECK}', (({terms}) % 11) + 1, 1)"


def ric_year_sql(v: str) -> str:
    return f"try_cast(substr({v}, 7, 4) AS INTEGER)"


MASK_DIGITS = 19  # a mask below 2 ** 62 (checked in _place_masks) has at most 19 decimal digits
COUNTY_TYPE = "fw_ref_cn_county"  # an ENUM of the county codes: a cast finds a code's index without a join


@functools.cache
def _place_masks(spans: tuple[tuple[str, int | None, int | None], ...]) -> tuple[str, int, int]:
    """(one BIGINT per county code, in code order, each written in MASK_DIGITS digits as one
    SQL string, first and last year held). Bit y - first of a code's number: the code was a
    county in year y; bit last - first + 1: in every year before `first`; bit last - first + 2:
    in every year after `last`. One string, not a list of 3,000 constants: binding such a list
    took 35 ms of every file's typing statement (5 s of a load of 167 part files)."""
    years = [y for _, start, end in spans for y in (start, end) if y is not None] or [2000]
    first, last = min(years), max(years)
    if last - first + 2 > 62:
        raise ValueError("county spans cover too many years for one BIGINT per code")
    masks: dict[str, int] = {}
    for code, start, end in spans:
        m = masks.get(code, 0)
        for y in range(first if start is None else start, (last if end is None else end) + 1):
            m |= 1 << (y - first)
        m |= (1 << (last - first + 1)) if start is None else 0
        m |= (1 << (last - first + 2)) if end is None else 0
        masks[code] = m
    return "'" + "".join(str(masks[c]).zfill(MASK_DIGITS) for c in sorted(masks)) + "'", first, last


def ric_place_sql(con, v: str) -> str:
    """True when the birth-place code of ID `v` (17 digits and a check character) was a county
    in its birth year: a lookup in one number per code, found by an ENUM cast, no join (a join
    would keep DuckDB from typing rows in file order on every core). tests/test_ids.py holds
    it equal to python-stdnum on both sides of every county's range boundaries."""
    spans = tuple(con.execute(f"SELECT code, start_year, end_year FROM {SPAN_TABLE} ORDER BY ALL").fetchall())
    masks, first, last = _place_masks(spans)
    year = ric_year_sql(v)
    bit = f"CASE WHEN {year} < {first} THEN {last - first + 1} WHEN {year} > {last} THEN {last - first + 2} ELSE {year} - {first} END"
    start = f"CAST(enum_code(try_cast(substr({v}, 1, 6) AS {COUNTY_TYPE})) AS INTEGER) * {MASK_DIGITS} + 1"
    mask = f"CAST(substr({masks}, {start}, {MASK_DIGITS}) AS BIGINT)"
    return f"coalesce((({mask} >> ({bit})) & 1) = 1, false)"


def ric_reason_sql(v: str, digits: str, place: str) -> str:
    """Reason code why the cleaned (trimmed, upper-cased) ID `v` is invalid, NULL if valid.
    `digits`: a column holding `ric_digits_sql(v)`; `place`: a column holding `ric_place_sql`
    of `v` (whether the birth place was a county in the birth year), as the loader computes
    them in columns of their own (stage.py)."""
    birth = f"try_strptime(substr({v}, 7, 8), '%Y%m%d')"
    year = ric_year_sql(v)
    # An ID of the right shape (nearly all) matches one pattern and skips the other two: a
    # value of 17 digits and a digit or X is neither an Excel number nor 15 digits long.
    shape = f"regexp_full_match({v}, '[0-9]{{17}}[0-9X]')"
    return f"""CASE
        WHEN {v} IS NULL THEN NULL
        WHEN NOT {shape} THEN CASE
            WHEN regexp_full_match({v}, '[0-9](\\.[0-9]+)?E\\+?[0-9]+|[0-9]+\\.[0-9]+') THEN 'excel_mangled_id'
            WHEN regexp_full_match({v}, '[0-9]{{15}}') THEN 'legacy_id'
            ELSE 'bad_id_format' END
        WHEN substr({v}, 18, 1) <> {ric_checksum_sql(digits)} THEN 'bad_check_digit'
        WHEN {birth} IS NULL OR {year} < 1 THEN 'bad_birth_date'
        WHEN NOT {place} THEN 'unknown_birth_place'
    END"""


def uscc_reason_sql(v: str) -> str:
    terms = " + ".join(
        f"(strpos('{USCC_ALPHABET}', substr({v}, {i + 1}, 1)) - 1) * {w}" for i, w in enumerate(USCC_WEIGHTS)
    )
    check = f"substr('{USCC_ALPHABET}', ((31 - (({terms}) % 31)) % 31) + 1, 1)"
    return f"""CASE
        WHEN {v} IS NULL THEN NULL
        WHEN regexp_full_match({v}, '[0-9](\\.[0-9]+)?E\\+?[0-9]+|[0-9]+\\.[0-9]+') THEN 'excel_mangled_id'
        WHEN NOT regexp_full_match({v}, '[0-9]{{8}}[0-9ABCDEFGHJKLMNPQRTUWXY]{{10}}') THEN 'bad_code_format'
        WHEN substr({v}, 18, 1) <> {check} THEN 'bad_check_digit'
    END"""


def merge_spans(rows) -> list[tuple[str, int | None, int | None]]:
    """(code, start, end) ranges, NULL open-ended, with the ranges of a code that overlap
    merged (stdnum lists 232701 as 1981-2018 and 2018-): the same years, disjoint."""
    lo, hi = float("-inf"), float("inf")
    out: list[tuple[str, int | None, int | None]] = []
    by_code: dict[str, list[tuple[float, float]]] = {}
    for code, start, end in rows:
        by_code.setdefault(code, []).append((lo if start is None else start, hi if end is None else end))
    for code in sorted(by_code):
        spans: list[list[float]] = []
        for start, end in sorted(by_code[code]):
            if spans and start <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], end)
            else:
                spans.append([start, end])
        out.extend((code, None if s == lo else int(s), None if e == hi else int(e)) for s, e in spans)
    return out


def _exists(con, table: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchall()[0][0])


def install_reference_tables(con) -> None:
    """Create the county-code tables and the ENUM of codes the ID check looks up (idempotent)."""
    if not _exists(con, LOC_TABLE):
        codes = county_codes()  # noqa: F841 - read by DuckDB's replacement scan below
        con.execute(f"CREATE TABLE {LOC_TABLE} AS SELECT * FROM codes")
    if not _exists(con, SPAN_TABLE):
        rows = con.execute(f"SELECT code, start_year, end_year FROM {LOC_TABLE}").fetchall()
        spans = pd.DataFrame(merge_spans(rows), columns=["code", "start_year", "end_year"])
        spans = spans.astype({"start_year": "Int32", "end_year": "Int32"})  # noqa: F841 - replacement scan
        con.execute(f"CREATE TABLE {SPAN_TABLE} AS SELECT * FROM spans")
    if not con.execute("SELECT count(*) FROM duckdb_types() WHERE type_name = ?", [COUNTY_TYPE]).fetchall()[0][0]:
        con.execute(f"CREATE TYPE {COUNTY_TYPE} AS ENUM (SELECT DISTINCT code FROM {SPAN_TABLE} ORDER BY code)")
