"""What changed since a run, and whether a stored run of a year can stand for a new scan.

Each load records, per part file it read or dropped, the years the rows it added or removed
cover (fw_load_files.touched_years): for a table of payments or ledger rows (a `period`) and
a cooperative table (a `year`), the years of every date the row holds, since a payment of
December paid in January feeds the next year's agency figures; for a registry (civil
servants, deaths, vehicles, households...) every year, since a registry row can matter to
any year. A scan of year Y may reuse the latest stored run of Y when no load since that
run touched Y, no review was written since, and it would run with the same rules, config,
options and tables (`scan_key`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from fundwatch.contract.tables import TABLES

ALL = "all"  # every year: what a changed registry touches


def year_columns(table: str) -> list[str] | None:
    """The date-like columns whose years a row of `table` touches; None: it touches every year."""
    spec = TABLES[table]
    names = set(spec.column_names)
    if "period" not in names and "year" not in names:
        return None
    return [c.name for c in spec.columns if c.kind in ("period", "date", "year")]


def years_of(con, table: str, source: str, where: str = "true") -> set[int] | str:
    """The years rows of `source` (laid out as `table`) touch, or ALL."""
    cols = year_columns(table)
    if cols is None:
        return ALL
    parts = " UNION ".join(
        f"SELECT DISTINCT {'' if TABLES[table].column(c).kind == 'year' else 'year'}({c}) AS y FROM {source} "
        f"WHERE ({where}) AND {c} IS NOT NULL"
        for c in cols
    )
    return {int(r[0]) for r in con.execute(parts).fetchall()}


def union(a: set[int] | str, b: set[int] | str) -> set[int] | str:
    return ALL if ALL in (a, b) else a | b


def encode_years(years: set[int] | str) -> str:
    return ALL if years == ALL else ",".join(str(y) for y in sorted(years))


def touched_years(con, since: datetime, history: frozenset[str] = frozenset()) -> set[int] | str:
    """The years that loads finished after `since` touched: a set, or ALL. A change to a table in
    `history` (one a rule reads beyond the scanned year, e.g. for a baseline) touches every year."""
    out: set[int] | str = set()
    for table, text in con.execute(
        "SELECT DISTINCT table_name, touched_years FROM fw_load_files WHERE loaded_at > ? AND touched_years IS NOT NULL",
        [since],
    ).fetchall():
        years = ALL if text == ALL else {int(y) for y in text.split(",") if y}
        out = union(out, ALL if years and table in history else years)
    return out


def scan_key(rules_version: str, config, outliers: bool, rule_ids, present, case_key: bytes = b"",
             reviews: str = "") -> str:
    """What a scan's result depends on besides the data: a stored run with another key is not reused."""
    import fundwatch

    # Every file of the layered configuration (fundwatch.toml and what it extends) by content,
    # and the values it resolves to: a changed profile or county section is another scan.
    texts = []
    for name in getattr(config, "files", None) or ([config.path] if getattr(config, "path", None) else []):
        try:
            with open(name, "rb") as f:
                texts.append(hashlib.sha256(f.read()).hexdigest())
        except OSError:
            texts.append(None)
    text = texts or None
    parts = {
        "fundwatch": fundwatch.__version__, "rules": rules_version, "config": text,
        "params": getattr(config, "params", None), "layers": repr(getattr(config, "layers", None)),
        "outliers": bool(outliers), "case_key": hashlib.sha256(case_key).hexdigest(),  # another key, other ids
        # what the reviews say (the workspace's or the workbench's): they weigh the rules and sink cleared cases
        "reviews": hashlib.sha256(reviews.encode()).hexdigest(),
        "rule_ids": sorted(rule_ids) if rule_ids else None, "tables": sorted(present or []),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def reusable_run(con, year: int, key: str, history: frozenset[str] = frozenset()) -> str | None:
    """The run id of the latest stored run of `year` if a scan with `key` would give the same
    cases: recorded with that key (the reviews included) and no load since touched `year`
    (a change to a `history` table touches every year)."""
    row = con.execute(
        """SELECT r.run_id, coalesce(k.read_at, r.started_at), k.scan_key
        FROM fw_runs r LEFT JOIN fw_run_keys k USING (run_id)
        WHERE r.year = ? ORDER BY coalesce(k.read_at, r.started_at) DESC, r.run_id DESC LIMIT 1""", [int(year)]
    ).fetchall()
    if not row or row[0][2] != key:
        return None
    run_id, started_at, _ = row[0]
    touched = touched_years(con, started_at, history)
    if touched == ALL or int(year) in touched:
        return None
    return run_id  # a review written since changes the key (scan_key: reviews)
