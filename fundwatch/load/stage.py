"""Turn rows of raw text (a staging table, or a CSV as it is read) into typed rows and
quarantined rows, in one SQL pass.

Each column goes through three steps (fundwatch/load/values.py): clean the text, parse the
value, judge why it is unusable. A row with any unusable value is quarantined whole, with
every problem listed and its raw values kept as JSON, so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fundwatch.contract.tables import TableSpec
from fundwatch.load.headers import HeaderMap
from fundwatch.load.ids import ric_digits_sql, ric_place_sql, ric_reason_sql, uscc_reason_sql
from fundwatch.load.readers import RawFile, drop_skipped
from fundwatch.load.values import already_clean_sql, bounded_sql, clean_sql, reason_sql, value_sql


@dataclass
class StagedFile:
    raw: RawFile
    typed: str  # temp table, in the source's order: contract columns + __line, __bad, __skip, __problems
    rows_read: int
    blank_rows: int  # rows whose every field is empty (besides blank lines)
    repeated_headers: int
    good: int
    bad: int
    unknown: list[str] = field(default_factory=list)  # headers that map to no column


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _trim_sql(x: str) -> str:
    """trim(x), skipped for a value it would not change: trim() copies every value, and
    most are ASCII without a leading or trailing space (in ASCII, trim() removes spaces only)."""
    return f"CASE WHEN starts_with({x}, ' ') OR ends_with({x}, ' ') OR strlen({x}) <> length({x}) THEN trim({x}) ELSE {x} END"


def stage_file(con, raw: RawFile, spec: TableSpec, headers: HeaderMap, check_ids: bool = True) -> StagedFile:
    """Type and judge the rows of `raw.source` (a staging table, or the CSV reader itself).
    `check_ids=False` (rule tests) keeps IDs as cleaned text.

    The typed table holds the source's rows in its order. A source without line numbers
    (`raw.numbered` false: a CSV read as it is typed) keeps its skipped rows and NULL lines
    here: its reader numbers the quarantined rows, then drops the skipped ones."""
    typed = raw.staging + "_typed"
    present = [c for c in spec.columns if c.name in headers.columns]
    src = ", ".join(f"c{headers.columns[c.name]} AS {_q('raw_' + c.name)}" for c in present)
    all_raw = [f"c{i}" for i in range(len(raw.headers))]
    is_blank = " AND ".join(f"coalesce(trim({c}), '') = ''" for c in all_raw) or "true"
    header_text = [h.strip().replace(chr(39), chr(39) * 2) for h in raw.headers]
    is_header = " AND ".join(f"coalesce(trim(c{i}), '') = '{h}'" for i, h in enumerate(header_text)) or "false"
    # Nearly every row has a first field that is neither empty nor the first header: one
    # test of that field settles it, and only the rest are checked column by column.
    skip = f"CASE WHEN {is_blank} THEN 'blank' WHEN {is_header} THEN 'header' END"
    if all_raw:
        first = f"coalesce({_trim_sql('c0')}, '')"
        skip = f"CASE WHEN {first} <> '' AND {first} <> '{header_text[0]}' THEN NULL ELSE {skip} END"

    def k(c):
        return _q("k_" + c.name)

    # Values already clean (nearly all IDs and amounts) skip trimming and cleaning: g_<name> says so.
    shape = {c.name: already_clean_sql(_q("raw_" + c.name), c) for c in present}
    flags = "".join(f", {sql} AS {_q('g_' + name)}" for name, sql in shape.items() if sql)

    def unless_clean(c, if_clean: str, otherwise: str) -> str:
        return f"CASE WHEN {_q('g_' + c.name)} THEN {if_clean} ELSE {otherwise} END" if shape[c.name] else otherwise

    trimmed = ", ".join(
        f"{unless_clean(c, 'NULL', _trim_sql(_q('raw_' + c.name)))} AS {_q('t_' + c.name)}" for c in present
    )
    cleaned = ", ".join(
        f"{unless_clean(c, _q('raw_' + c.name), clean_sql(_q('t_' + c.name), c, trimmed=True))} AS {k(c)}"
        for c in present
    )
    checks, digits = [], []  # digits: an ID's 17 digits as a number, and whether its birth place was a county
    for c in present:
        if c.kind == "person_id":
            if check_ids:
                reason = ric_reason_sql(k(c), _q("n_" + c.name), _q("pl_" + c.name))
                digits.append(f"{ric_digits_sql(k(c))} AS {_q('n_' + c.name)}")
                digits.append(f"{ric_place_sql(con, k(c))} AS {_q('pl_' + c.name)}")
            checks.append(f"{reason if check_ids else 'NULL'} AS {_q('chk_' + c.name)}")
        elif c.kind == "credit_code":
            checks.append(f"{uscc_reason_sql(k(c)) if check_ids else 'NULL'} AS {_q('chk_' + c.name)}")
    values, bounded, reasons = [], [], []
    for c in present:
        v = _q("v_" + c.name)
        if c.kind in ("person_id", "credit_code"):
            chk = _q("chk_" + c.name)
            values.append(f"CASE WHEN {chk} IS NULL THEN {k(c)} END AS {_q('p_' + c.name)}")
            missing = "'missing_required'" if c.required else "NULL"
            reasons.append(f"CASE WHEN {k(c)} IS NULL THEN {missing} ELSE {chk} END")
        else:
            values.append(f"{value_sql(k(c), c)} AS {_q('p_' + c.name)}")
            reasons.append(reason_sql(k(c), v, c))
        bounded.append(f"{bounded_sql(_q('p_' + c.name), c)} AS {v}")
    judged = ", ".join(f"({r}) AS {_q('r_' + c.name)}" for c, r in zip(present, reasons, strict=True))
    any_bad = " OR ".join(f"{_q('r_' + c.name)} IS NOT NULL" for c in present) or "false"
    problems = ", ".join(
        f"CASE WHEN {_q('r_' + c.name)} IS NOT NULL THEN "
        f"{{'column': '{c.name}', 'raw': {_q('raw_' + c.name)}, 'reason': {_q('r_' + c.name)}}} END"
        for c in present
    )
    out_cols = ", ".join(
        (f"{_q('v_' + c.name)} AS {_q(c.name)}" if c.name in headers.columns else f"CAST(NULL AS {c.sql_type}) AS {_q(c.name)}")
        for c in spec.columns
    )
    raw_json = "json_object(" + ", ".join(
        f"'{h.replace(chr(39), chr(39) * 2)}', c{i}" for i, h in enumerate(raw.headers)
    ) + ")"
    # The list of problems and the raw row as JSON are built for bad rows only: most rows are good.
    # No join in the typing: DuckDB writes the rows in the source's order, on every core.
    # Skipped rows (blank, repeated header) are typed too and dropped after: with every row of
    # the source kept, a row's rowid is its place in the source (the CSV reader's line numbers).
    line = "" if raw.numbered else ", CAST(NULL AS BIGINT) AS __line"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {typed} AS
    WITH src AS (
        SELECT *{line}, {src}, {skip} AS __skip
        FROM {raw.source or raw.staging}),
    shaped AS (SELECT *{flags} FROM src),
    trimmed AS (SELECT *{', ' + trimmed if trimmed else ''} FROM shaped),
    cleaned AS (SELECT *{', ' + cleaned if cleaned else ''} FROM trimmed),
    numbered AS (SELECT *{''.join(', ' + d for d in digits)} FROM cleaned),
    checked AS (SELECT *{''.join(', ' + c for c in checks)} FROM numbered),
    parsed AS (SELECT *, {', '.join(values)} FROM checked),
    valued AS (SELECT *, {', '.join(bounded)} FROM parsed),
    judged AS (SELECT *, {judged} FROM valued),
    flagged AS (SELECT *, __skip IS NULL AND ({any_bad}) AS __bad FROM judged)
    SELECT {out_cols}, __line, __bad, __skip,
           CASE WHEN __bad THEN {raw_json} END AS __raw_row,
           CASE WHEN __bad THEN list_filter([{problems}], lambda p: p IS NOT NULL) END AS __problems
    FROM flagged""")
    total, blank, header, good, bad = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE __skip = 'blank'), count(*) FILTER (WHERE __skip = 'header'),
                   count(*) FILTER (WHERE __skip IS NULL AND NOT __bad), count(*) FILTER (WHERE __bad)
            FROM {typed}"""
    ).fetchall()[0]
    if raw.numbered and blank + header:
        drop_skipped(con, typed)
    # Rows read = loaded + quarantined + repeated headers; blank rows, like blank lines, are
    # counted apart (StagedFile.blank_rows), so the balance holds for every file.
    rows_read = total - blank + len(raw.bad_shape)
    return StagedFile(raw, typed, rows_read, blank, header, good, bad)

