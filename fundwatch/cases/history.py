"""Cases across runs: new, recurring or resolved; analysts' reviews that survive every run.

A review is kept against the case_id with a fingerprint of the evidence it saw. A cleared
case sinks in the ranking (its score times `cleared_factor`) until its evidence changes,
when it rises again and says so.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import pandas as pd

from fundwatch.errors import FundwatchError

REVIEW_STATUSES = ("in_progress", "confirmed", "cleared")

def fingerprints(hits: pd.DataFrame) -> dict[str, str]:
    """case_id -> a hash of the evidence behind it (rules and their evidence, order-free)."""
    if hits.empty:
        return {}
    parts = pd.DataFrame({
        "case_id": hits["case_id"].to_numpy(dtype=object),
        "part": [f"{r}|{e}" for r, e in zip(hits["rule_id"], hits["evidence"], strict=True)],
    }).sort_values(["case_id", "part"], kind="stable")
    joined = parts.groupby("case_id", sort=True)["part"].agg("\n".join)
    return {cid: hashlib.sha256(text.encode()).hexdigest()[:16] for cid, text in joined.items()}


def latest_reviews(con) -> pd.DataFrame:
    return con.execute(
        """SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY case_id ORDER BY reviewed_at DESC) AS n
        FROM fw_reviews) WHERE n = 1"""
    ).df()


def annotate(cases: pd.DataFrame, hits: pd.DataFrame, previous: pd.DataFrame, reviews: pd.DataFrame) -> pd.DataFrame:
    """`cases` with evidence_fingerprint, status (new / recurring against the previous run of the
    year), review_status and review_note (the latest review; "evidence changed since review"
    where the evidence is not what the review saw). Ranking is cases/build.py's, once."""
    cases = cases.copy()
    fps = fingerprints(hits)
    cases["evidence_fingerprint"] = [fps.get(c, "") for c in cases["case_id"]]
    seen = set(previous["case_id"]) if not previous.empty else set()
    cases["status"] = ["recurring" if c in seen else "new" for c in cases["case_id"]]
    review = reviews.set_index("case_id") if not reviews.empty else pd.DataFrame()
    statuses, notes = [], []
    for cid, fp in zip(cases["case_id"], cases["evidence_fingerprint"], strict=True):
        if cid in review.index:
            r = review.loc[cid]
            statuses.append(r["status"])
            notes.append("evidence changed since review" if r["evidence_fingerprint"] != fp else "")
        else:
            statuses.append("")
            notes.append("")
    cases["review_status"] = statuses
    cases["review_note"] = notes
    return cases


def resolved_cases(previous: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """The case_ids of the previous run of the year that this run no longer lists."""
    seen = set(previous["case_id"]) if not previous.empty else set()
    return pd.DataFrame({"case_id": sorted(seen - set(cases["case_id"]))})


def rule_review_counts(con) -> pd.DataFrame:
    """Per rule: cases whose latest review confirmed or cleared (refuted) it, for the rule weights."""
    return con.execute(
        """WITH latest AS (
            SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY case_id ORDER BY reviewed_at DESC) AS n
                           FROM fw_reviews) WHERE n = 1)
        SELECT rule_id, count(*) FILTER (WHERE status = 'confirmed') AS confirmed,
               count(*) FILTER (WHERE status = 'cleared') AS refuted
        FROM (SELECT unnest(string_split(rule_ids, ';')) AS rule_id, status FROM latest
              WHERE rule_ids IS NOT NULL AND rule_ids <> '')
        GROUP BY rule_id ORDER BY rule_id"""
    ).df()


def record_review(con, case_id: str, status: str, note: str, recovered, author: str) -> dict:
    """Store an analyst's decision on a case of the latest run that has it."""
    if status not in REVIEW_STATUSES:
        raise FundwatchError(f"review status must be one of {', '.join(REVIEW_STATUSES)}, got {status!r}")
    found = con.execute(
        """SELECT c.year, c.evidence_fingerprint, c.rule_ids FROM fw_cases c JOIN fw_runs r USING (run_id)
        WHERE c.case_id = ? AND c.status <> 'resolved' ORDER BY r.started_at DESC LIMIT 1""",
        [case_id],
    ).fetchall()
    if not found:
        raise FundwatchError(f"no case {case_id!r} in any run (see `fundwatch cases`)")
    year, fp, rule_ids = found[0]
    row = {"case_id": case_id, "year": year, "status": status, "note": note, "recovered": recovered,
           "author": author, "reviewed_at": datetime.now(), "evidence_fingerprint": fp, "rule_ids": rule_ids}
    con.execute("INSERT INTO fw_reviews VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", list(row.values()))
    return row


def rule_stats(con) -> pd.DataFrame:
    """Per rule: cases reviewed, confirmed, cleared, measured precision, money recovered."""
    return con.execute(
        """WITH latest AS (
            SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY case_id ORDER BY reviewed_at DESC) AS n
                           FROM fw_reviews) WHERE n = 1),
        per_rule AS (
            SELECT unnest(string_split(rule_ids, ';')) AS rule_id, status, recovered FROM latest
            WHERE rule_ids IS NOT NULL AND rule_ids <> ''),
        cases AS (
            SELECT unnest(string_split(rule_ids, ';')) AS rule_id, count(DISTINCT case_id) AS cases
            FROM fw_cases WHERE status <> 'resolved' AND rule_ids <> '' GROUP BY 1)
        SELECT coalesce(c.rule_id, p.rule_id) AS rule_id, coalesce(any_value(c.cases), 0) AS cases,
               count(p.status) AS reviewed,
               count(*) FILTER (WHERE p.status = 'confirmed') AS confirmed,
               count(*) FILTER (WHERE p.status = 'cleared') AS cleared,
               round(count(*) FILTER (WHERE p.status = 'confirmed')
                     / nullif(count(*) FILTER (WHERE p.status IN ('confirmed', 'cleared')), 0), 3) AS precision,
               coalesce(sum(p.recovered), 0) AS recovered
        FROM cases c FULL JOIN per_rule p ON p.rule_id = c.rule_id
        GROUP BY 1 ORDER BY 1"""
    ).df()


def history_frame(con) -> pd.DataFrame:
    """Cases and amount at risk per year and programme, from the latest run of each year."""
    return con.execute(
        """WITH latest AS (
            SELECT year, arg_max(run_id, started_at) AS run_id FROM fw_runs GROUP BY year)
        SELECT c.year, c.program, count(*) AS cases, sum(c.amount_at_risk) AS amount_at_risk
        FROM fw_cases c JOIN latest l ON l.run_id = c.run_id
        WHERE c.status <> 'resolved'
        GROUP BY 1, 2 ORDER BY 1, 2"""
    ).df()
