"""Outreach states of the coverage list: recorded like case reviews, kept across rescans.

A state is appended to fw_outreach against the row's outreach_id, which depends only on the
entity, the programme (coverage rule) and the year: a rescan lists the same person and programme
under the same id, and the latest state is attached to it again.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from fundwatch.errors import FundwatchError

# state -> (English, Chinese); reached is still open (contacted, not yet settled), the others close it.
STATES = {
    "reached": ("reached", "已联系"),
    "enrolled": ("enrolled", "已纳入"),
    "not_eligible": ("not eligible after visit", "核实不符合"),
    "refused": ("refused", "本人放弃"),
}
OPEN_STATES = ("", "reached")


def latest_states(con) -> pd.DataFrame:
    """outreach_id, status, note, author, recorded_at: the latest state of each row."""
    return con.execute(
        """SELECT outreach_id, status, note, author, recorded_at FROM (
             SELECT *, row_number() OVER (PARTITION BY outreach_id ORDER BY recorded_at DESC) AS n
             FROM fw_outreach) WHERE n = 1 ORDER BY outreach_id"""
    ).df()


def record_outreach(con, outreach_id: str, status: str, note: str, author: str) -> dict:
    """Record a state on a row of the latest run that lists it."""
    if status not in STATES:
        raise FundwatchError(f"outreach status must be one of {', '.join(STATES)}, got {status!r}")
    found = con.execute(
        """SELECT c.year, c.rule_id, c.township FROM fw_coverage c JOIN fw_runs r USING (run_id)
        WHERE c.outreach_id = ? ORDER BY r.started_at DESC LIMIT 1""", [outreach_id]).fetchall()
    if not found:
        raise FundwatchError(f"no coverage row {outreach_id!r} in any run (see `fundwatch outreach`)")
    year, rule_id, township = found[0]
    row = {"outreach_id": outreach_id, "year": year, "rule_id": rule_id, "township": township, "status": status,
           "note": note, "author": author, "recorded_at": datetime.now()}
    con.execute("INSERT INTO fw_outreach (outreach_id, year, rule_id, township, status, note, author, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", list(row.values()))
    return row


def open_tasks(con, township: str | None = None, year: int | None = None) -> pd.DataFrame:
    """The open outreach tasks (no state yet, or reached) of the latest run of each year (or of
    `year`), of one township (its 9-digit code; a longer region code is cut to it) or of all,
    ranked as the list is. For the workbench's township queue and `fundwatch outreach`."""
    township = str(township)[:9] if township else None
    return con.execute(
        """WITH latest AS (SELECT year, arg_max(run_id, started_at) AS run_id FROM fw_runs
                           WHERE ? IS NULL OR year = ? GROUP BY year),
        states AS (SELECT outreach_id, arg_max(status, recorded_at) AS status FROM fw_outreach GROUP BY outreach_id)
        SELECT c.year, c.rank, c.outreach_id, c.township, c.rule_id, c.title, c.entity_type, c.entity_id,
               c.months_missed, c.amount_owed, coalesce(s.status, '') AS outreach_status, c.summary, c.evidence
        FROM fw_coverage c JOIN latest l ON l.run_id = c.run_id
        LEFT JOIN states s ON s.outreach_id = c.outreach_id
        WHERE coalesce(s.status, '') IN ('', 'reached') AND (? IS NULL OR c.township = ?)
        ORDER BY c.year DESC, c.rank""", [year, year, township, township]).df()


def attach_states(coverage: pd.DataFrame, states: pd.DataFrame) -> pd.DataFrame:
    """`coverage` with outreach_status and outreach_note from the latest states."""
    coverage = coverage.copy()
    by_id = states.set_index("outreach_id") if not states.empty else pd.DataFrame(columns=["status", "note"])
    for col, source in (("outreach_status", "status"), ("outreach_note", "note")):
        found = coverage["outreach_id"].map(by_id[source]).astype(object)
        coverage[col] = found.where(found.notna(), "")
    return coverage
