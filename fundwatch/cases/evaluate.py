"""Backtest a run against known cases: the sample world's ground truth or an office's confirmed cases.

The truth file has at least `kind` (anomaly | lookalike), `entity_id` and `year`; `rule_id`
(the rule that must find it, or must not fire on a look-alike) enables per-rule figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fundwatch.errors import FundwatchError


@dataclass
class Evaluation:
    overall: pd.DataFrame  # one row per year
    per_rule: pd.DataFrame

    def format(self) -> str:
        parts = ["overall:", self.overall.to_string(index=False)]
        if not self.per_rule.empty:
            parts += ["", "per rule:", self.per_rule.to_string(index=False)]
        return "\n".join(parts)


def read_truth(path) -> pd.DataFrame:
    path = Path(path)
    try:
        truth = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as e:
        raise FundwatchError(f"{path}: cannot read the truth file: {e}") from e
    missing = [c for c in ("kind", "entity_id", "year") if c not in truth.columns]
    if missing:
        raise FundwatchError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(truth.columns)}")
    if "rule_id" not in truth.columns:
        truth["rule_id"] = ""
    years = pd.to_numeric(truth["year"].str.strip(), errors="coerce")
    bad = years.isna() | (years != years.round())
    if bad.any():
        line = int(bad.to_numpy().argmax()) + 2  # + the header line, 1-based
        raise FundwatchError(f"{path}: line {line}, column year: expected a year such as 2023, "
                             f"got {truth['year'].iloc[line - 2]!r}")
    truth["year"] = years.astype(int)
    return truth


def _latest_run(con, year: int) -> str | None:
    rows = con.execute("SELECT run_id FROM fw_runs WHERE year = ? ORDER BY started_at DESC, run_id DESC LIMIT 1",
                       [year]).fetchall()
    return rows[0][0] if rows else None


def evaluate(con, truth: pd.DataFrame, year: int | None = None, k: int | None = None,
             run_id: str | None = None) -> Evaluation:
    years = [year] if year else sorted(truth["year"].unique())
    overall, per_rule = [], []
    for y in years:
        rid = run_id or _latest_run(con, y)
        if rid is None:
            raise FundwatchError(f"no run for {y} in this workspace: run `fundwatch scan --year {y}` first")
        t = truth[truth["year"] == y]
        anomalies = t[t["kind"] == "anomaly"]
        hits = con.execute("SELECT rule_id, entity_id, case_id FROM fw_hits WHERE run_id = ?", [rid]).df()
        cases = con.execute("SELECT case_id, entity_id, rank FROM fw_cases WHERE run_id = ? AND rank IS NOT NULL "
                            "ORDER BY rank", [rid]).df()
        # Every entity a case stands for: its own id and the entities of its hits.
        members = pd.concat([cases[["case_id", "entity_id"]], hits[["case_id", "entity_id"]]]).drop_duplicates()
        members = members.merge(cases[["case_id", "rank"]], on="case_id")
        truth_ids = set(anomalies["entity_id"])
        found_ids = truth_ids & set(members["entity_id"])
        top_k = k or max(1, len(truth_ids))
        top_cases = set(cases.head(top_k)["case_id"])
        good_cases = set(members.loc[members["entity_id"].isin(truth_ids), "case_id"])
        lookalikes = t[t["kind"] == "lookalike"]
        flagged_pairs = set(zip(hits["rule_id"], hits["entity_id"], strict=True))
        false_pos = [r for r in lookalikes.itertuples() if (r.rule_id, r.entity_id) in flagged_pairs]
        overall.append({
            "year": y, "run_id": rid, "cases": len(cases), "anomalies": len(truth_ids),
            "recall": round(len(found_ids) / len(truth_ids), 3) if truth_ids else None,
            "k": top_k, "precision_at_k": round(len(top_cases & good_cases) / min(top_k, len(cases)), 3) if len(cases) else None,
            "lookalikes": len(lookalikes), "lookalikes_flagged": len(false_pos),
        })
        for rule_id, group in t[t["rule_id"] != ""].groupby("rule_id"):
            an = group[group["kind"] == "anomaly"]
            lk = group[group["kind"] == "lookalike"]
            per_rule.append({
                "year": y, "rule_id": rule_id, "anomalies": len(an),
                "found": sum((rule_id, e) in flagged_pairs for e in an["entity_id"]),
                "lookalikes": len(lk), "lookalikes_flagged": sum((rule_id, e) in flagged_pairs for e in lk["entity_id"]),
                "hits": int((hits["rule_id"] == rule_id).sum()),
            })
    return Evaluation(pd.DataFrame(overall), pd.DataFrame(per_rule))
