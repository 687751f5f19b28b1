"""Closed outcomes, in the shapes the scan and `fundwatch stats` read (RunStore, cases/weights.py).

属实 and 部分属实 confirm a case's rules, 不属实 refutes them, 无法核实 does neither.
"""

from __future__ import annotations

import pandas as pd

from fundwatch.review import db
from fundwatch.review.states import CLOSED, CONFIRMED, OUTCOME_AS_REVIEW, PARTLY, PENDING, REFUTED

REVIEW_COLUMNS = ["case_id", "year", "status", "note", "recovered", "author", "reviewed_at",
                  "evidence_fingerprint", "rule_ids"]


def latest_reviews(url: str) -> pd.DataFrame:
    """One row per case the workbench has taken up, as fw_reviews' latest row would be."""
    con = db.connect(url)
    try:
        rows = con.execute("SELECT case_id, year, state, outcome, reason, recovered, closed_by, assignee, "
                           "updated_at, evidence_fingerprint, rule_ids FROM wb_cases WHERE state <> ?",
                           [PENDING]).fetchall()
    finally:
        con.close()
    out = [{"case_id": r["case_id"], "year": r["year"],
            "status": OUTCOME_AS_REVIEW[r["outcome"]] if r["state"] == CLOSED and r["outcome"] else "in_progress",
            "note": r["reason"] or "", "recovered": r["recovered"], "author": r["closed_by"] or r["assignee"] or "",
            "reviewed_at": pd.Timestamp(r["updated_at"]).tz_localize(None), "evidence_fingerprint":
            r["evidence_fingerprint"], "rule_ids": r["rule_ids"]} for r in rows]
    return pd.DataFrame(out, columns=REVIEW_COLUMNS)


def _closed_per_rule(url: str) -> pd.DataFrame:
    con = db.connect(url)
    try:
        rows = con.execute("SELECT rule_ids, outcome, recovered FROM wb_cases WHERE state = ? AND outcome IS NOT NULL",
                           [CLOSED]).fetchall()
    finally:
        con.close()
    per_rule = [(rule, r["outcome"], r["recovered"] or 0.0)
                for r in rows for rule in (r["rule_ids"] or "").split(";") if rule]
    return pd.DataFrame(per_rule, columns=["rule_id", "outcome", "recovered"])


def rule_review_counts(url: str) -> pd.DataFrame:
    """rule_id, confirmed, refuted: as history.rule_review_counts, from closed outcomes."""
    closed = _closed_per_rule(url)
    if closed.empty:
        return pd.DataFrame({"rule_id": pd.Series(dtype=object), "confirmed": pd.Series(dtype="int64"),
                             "refuted": pd.Series(dtype="int64")})
    g = closed.groupby("rule_id", sort=True)["outcome"]
    return pd.DataFrame({"confirmed": g.agg(lambda s: int(s.isin([CONFIRMED, PARTLY]).sum())),
                         "refuted": g.agg(lambda s: int((s == REFUTED).sum()))}).reset_index()


def rule_stats(url: str, cases_per_rule: pd.DataFrame) -> pd.DataFrame:
    """`fundwatch stats` from the workbench: cases (from the workspace), reviewed (closed), confirmed,
    cleared (不属实), precision and recovered per rule."""
    closed = _closed_per_rule(url)
    base = cases_per_rule[["rule_id", "cases"]] if not cases_per_rule.empty else pd.DataFrame(
        {"rule_id": pd.Series(dtype=object), "cases": pd.Series(dtype="int64")})
    if closed.empty:
        per = pd.DataFrame(columns=["rule_id", "reviewed", "confirmed", "cleared", "recovered"])
    else:
        g = closed.groupby("rule_id")
        per = pd.DataFrame({"reviewed": g.size(),
                            "confirmed": g["outcome"].agg(lambda s: int(s.isin([CONFIRMED, PARTLY]).sum())),
                            "cleared": g["outcome"].agg(lambda s: int((s == REFUTED).sum())),
                            "recovered": g["recovered"].sum()}).reset_index()
    out = base.merge(per, on="rule_id", how="outer")
    for col in ("cases", "reviewed", "confirmed", "cleared", "recovered"):
        out[col] = out[col].fillna(0)
    for col in ("cases", "reviewed", "confirmed", "cleared"):
        out[col] = out[col].astype("int64")
    decided = out["confirmed"] + out["cleared"]
    out["precision"] = (out["confirmed"] / decided.where(decided > 0)).round(3)
    return out[["rule_id", "cases", "reviewed", "confirmed", "cleared", "precision", "recovered"]].sort_values(
        "rule_id").reset_index(drop=True)
