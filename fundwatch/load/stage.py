"""Turn a staging table of raw text into typed rows and quarantined rows, in one SQL pass.

Each column goes through three steps (fundwatch/load/values.py): clean the text, parse the
value, judge why it is unusable. A row with any unusable value is quarantined whole, with
every problem listed and its raw values kept as JSON, so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fundwatch.contract.tables import TableSpec
from fundwatch.load.headers import HeaderMap
from fundwatch.load.ids import ric_reason_sql, uscc_reason_sql
from fundwatch.load.readers import RawFile
from fundwatch.load.values import bounded_sql, clean_sql, reason_sql, value_sql


@dataclass
class StagedFile:
    raw: RawFile
    typed: str  # temp table: contract columns + __line + __problems
    rows_read: int
    blank_rows: int  # rows whose every field is empty (besides blank lines)
    repeated_headers: int
    good: int
    bad: int
    unknown: list[str] = field(default_factory=list)  # headers that map to no column


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def stage_file(con, raw: RawFile, spec: TableSpec, headers: HeaderMap, check_ids: bool = True) -> StagedFile:
    """Type and judge a staging table. `check_ids=False` (rule tests) keeps IDs as cleaned text."""
    typed = raw.staging + "_typed"
    present = [c for c in spec.columns if c.name in headers.columns]
    src = ", ".join(f"c{headers.columns[c.name]} AS {_q('raw_' + c.name)}" for c in present)
    all_raw = [f"c{i}" for i in range(len(raw.headers))]
    is_blank = " AND ".join(f"coalesce(trim({c}), '') = ''" for c in all_raw) or "true"
    is_header = (
        " AND ".join(
            f"coalesce(trim(c{i}), '') = '{h.strip().replace(chr(39), chr(39) * 2)}'"
            for i, h in enumerate(raw.headers)
        )
        or "false"
    )

    def k(c):
        return _q("k_" + c.name)

    cleaned = ", ".join(f"{clean_sql(_q('raw_' + c.name), c)} AS {k(c)}" for c in present)
    checks = []
    for c in present:
        if c.kind == "person_id":
            checks.append(f"{ric_reason_sql(k(c)) if check_ids else 'NULL'} AS {_q('chk_' + c.name)}")
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
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {typed} AS
        WITH src AS (
            SELECT *, {src},
                   CASE WHEN {is_blank} THEN 'blank' WHEN {is_header} THEN 'header' END AS __skip
            FROM {raw.staging}),
        cleaned AS (SELECT *, {cleaned} FROM src WHERE __skip IS NULL),
        checked AS (SELECT *{', ' + ', '.join(checks) if checks else ''} FROM cleaned),
        parsed AS (SELECT *, {', '.join(values)} FROM checked),
        valued AS (SELECT *, {', '.join(bounded)} FROM parsed),
        judged AS (SELECT *, {judged} FROM valued),
        flagged AS (SELECT *, ({any_bad}) AS __bad FROM judged)
        SELECT {out_cols}, __line, __bad,
               CASE WHEN __bad THEN {raw_json} END AS __raw_row,
               CASE WHEN __bad THEN list_filter([{problems}], lambda p: p IS NOT NULL) END AS __problems
        FROM flagged"""
    )
    counts = con.execute(
        f"""SELECT count(*),
                   count(*) FILTER (WHERE {is_blank}),
                   count(*) FILTER (WHERE NOT ({is_blank}) AND {is_header})
            FROM {raw.staging}"""
    ).fetchall()[0]
    good, bad = con.execute(
        f"SELECT count(*) FILTER (WHERE NOT __bad), count(*) FILTER (WHERE __bad) FROM {typed}"
    ).fetchall()[0]
    # Rows read = loaded + quarantined + repeated headers; blank rows, like blank lines, are
    # counted apart (StagedFile.blank_rows), so the balance holds for every file.
    rows_read = counts[0] - counts[1] + len(raw.bad_shape)
    return StagedFile(raw, typed, rows_read, counts[1], counts[2], good, bad)
