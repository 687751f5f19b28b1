"""Backtest a run against known cases: a synthetic world's ground truth or an office's confirmed cases.

The truth file has at least `kind` (anomaly | lookalike; other kinds are not judged here),
`entity_id` and `year`. Optional columns:
`rule_id` (the rule that must find it, or must not fire on a look-alike; empty = only a
statistical detector can see it) enables the per-rule figures, and `finding` (an id shared by
the truth rows that are ONE finding: the households paid into one official's account, the
agency and the recipients of one late batch) makes K and the distinct-findings figures count
findings instead of rows; without it every row is a finding of its own.

A case *names* an entity when it is the case's own entity, the entity of one of its hits, or
listed for it in fw_case_entities (where the workspace has that table). Entities are matched
by id alone: person, household, tenancy, cooperative and agency ids do not collide.

Figures per year (all from the run's fw_cases, fw_hits and fw_case_entities):

- cases: the ranked cases of the run; anomalies: anomaly truth rows; findings: K, the distinct
  anomaly findings;
- recall: the share of rule-detectable anomaly findings (rule_id non-empty) named by some case;
- precision_at_k: the share of the top K cases that name at least one anomaly;
  findings_top_k: the distinct anomaly findings the top K cases name;
- lookalikes_named: look-alike rows named by any case (an entity that is also an anomaly of the
  year does not count); lookalikes_flagged: look-alikes hit by their own rule_id;
- cases_per_anomaly: cases / K;
- outliers_top5 / outliers_named: the share of outlier-only anomaly findings (rule_id empty)
  named by a case in the top 5% of the list, and by any case.

Truth rows of coverage rules (rule_id `coverage.*`, or program `coverage`: those who should be
paid and are not) are judged against the run's coverage list (fw_coverage), not the case list:

- coverage_missed: their anomaly rows; coverage_recall: the share of them listed by their rule
  (or, without a rule_id, by any coverage rule); coverage_lookalikes_listed: look-alike rows
  listed in the coverage list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fundwatch.errors import FundwatchError
from fundwatch.store import RunStore


@dataclass
class Evaluation:
    overall: pd.DataFrame  # one row per year
    per_rule: pd.DataFrame

    def format(self) -> str:
        # One column per year, one line per figure: the figures outgrew a terminal's width.
        overall = self.overall.set_index("year").T if not self.overall.empty else self.overall
        parts = ["overall:", overall.to_string()]
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


def _has_table(con, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                            [name]).fetchone()[0])


def named_entities(con, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the run's ranked cases, best first; one row per case and entity it names, with its rank)."""
    cases = con.execute("SELECT case_id, entity_id, rank FROM fw_cases WHERE run_id = ? AND rank IS NOT NULL "
                        "ORDER BY rank", [run_id]).df()
    hits = con.execute("SELECT rule_id, entity_id, case_id FROM fw_hits WHERE run_id = ?", [run_id]).df()
    parts = [cases[["case_id", "entity_id"]], hits[["case_id", "entity_id"]]]
    if _has_table(con, "fw_case_entities"):
        parts.append(con.execute("SELECT case_id, entity_id FROM fw_case_entities WHERE run_id = ?", [run_id]).df())
    members = pd.concat(parts).drop_duplicates()
    members = members.merge(cases[["case_id", "rank"]], on="case_id")
    return cases, members


def _findings(rows: pd.DataFrame) -> pd.Series:
    """The finding of each truth row: its `finding`, else one of its own."""
    if "finding" in rows.columns:
        f = rows["finding"].astype(str).str.strip()
        return f.where(f != "", "row" + rows.index.astype(str))
    return "row" + rows.index.astype(str)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _is_coverage(truth: pd.DataFrame) -> pd.Series:
    by_rule = truth["rule_id"].str.startswith("coverage.")
    if "program" in truth.columns:
        return by_rule | (truth["program"].astype(str).str.strip() == "coverage")
    return by_rule


def coverage_figures(con, truth: pd.DataFrame, run_id: str) -> dict:
    """The coverage truth rows of one year judged against the run's coverage list."""
    listed = (con.execute("SELECT rule_id, entity_id FROM fw_coverage WHERE run_id = ?", [run_id]).df()
              if _has_table(con, "fw_coverage") else pd.DataFrame(columns=["rule_id", "entity_id"]))
    pairs, entities = set(zip(listed["rule_id"], listed["entity_id"], strict=True)), set(listed["entity_id"])
    missed = truth[truth["kind"] == "anomaly"]
    found = sum((r.rule_id, r.entity_id) in pairs if r.rule_id else r.entity_id in entities
                for r in missed.itertuples())
    lookalikes = truth[(truth["kind"] == "lookalike") & ~truth["entity_id"].isin(set(missed["entity_id"]))]
    return {"coverage_missed": len(missed), "coverage_recall": _share(found, len(missed)),
            "coverage_lookalikes": len(lookalikes),
            "coverage_lookalikes_listed": int(lookalikes["entity_id"].isin(entities).sum())}


def year_figures(con, truth: pd.DataFrame, year: int, run_id: str, k: int | None = None) -> tuple[dict, list]:
    t = truth[truth["year"] == year].copy()
    t["rule_id"] = t["rule_id"].fillna("").astype(str).str.strip()
    coverage = _is_coverage(t)
    coverage_rows, t = t[coverage], t[~coverage]
    t["_finding"] = _findings(t)
    cases, members = named_entities(con, run_id)
    hits = con.execute("SELECT rule_id, entity_id FROM fw_hits WHERE run_id = ?", [run_id]).df()
    anomalies = t[t["kind"] == "anomaly"]
    lookalikes = t[t["kind"] == "lookalike"]
    anomaly_ids = set(anomalies["entity_id"])
    named = set(members["entity_id"])
    findings = anomalies.groupby("_finding")["entity_id"].apply(set)
    detectable = anomalies[anomalies["rule_id"] != ""].groupby("_finding")["entity_id"].apply(set)
    outliers = anomalies[anomalies["rule_id"] == ""].groupby("_finding")["entity_id"].apply(set)

    top_k = k or max(1, len(findings))
    top_case_ids = list(cases.head(top_k)["case_id"])
    good_cases = set(members.loc[members["entity_id"].isin(anomaly_ids), "case_id"])
    named_top = set(members.loc[members["case_id"].isin(top_case_ids), "entity_id"])
    top5 = cases.head(math.ceil(0.05 * len(cases)))["case_id"]  # the first 5% of the list, by position
    named_top5 = set(members.loc[members["case_id"].isin(top5), "entity_id"])

    flagged_pairs = set(zip(hits["rule_id"], hits["entity_id"], strict=True))
    innocent = lookalikes[~lookalikes["entity_id"].isin(anomaly_ids)]
    row = {
        "year": year, "run_id": run_id, "cases": len(cases), "anomalies": len(anomalies), "findings": len(findings),
        "recall": _share(sum(bool(ids & named) for ids in detectable), len(detectable)),
        "k": top_k,
        "precision_at_k": _share(sum(c in good_cases for c in top_case_ids), len(top_case_ids)),
        "findings_top_k": sum(bool(ids & named_top) for ids in findings),
        "lookalikes": len(lookalikes),
        "lookalikes_named": int(innocent["entity_id"].isin(named).sum()),
        "lookalikes_flagged": sum((r.rule_id, r.entity_id) in flagged_pairs for r in lookalikes.itertuples()),
        "cases_per_anomaly": _share(len(cases), len(findings)),
        "outliers": len(outliers),
        "outliers_top5": _share(sum(bool(ids & named_top5) for ids in outliers), len(outliers)),
        "outliers_named": _share(sum(bool(ids & named) for ids in outliers), len(outliers)),
        **coverage_figures(con, coverage_rows, run_id),
    }
    per_rule = []
    for rule_id, group in t[t["rule_id"] != ""].groupby("rule_id"):
        an = group[group["kind"] == "anomaly"]
        lk = group[group["kind"] == "lookalike"]
        per_rule.append({
            "year": year, "rule_id": rule_id, "anomalies": len(an),
            "found": sum((rule_id, e) in flagged_pairs for e in an["entity_id"]),
            "lookalikes": len(lk), "lookalikes_flagged": sum((rule_id, e) in flagged_pairs for e in lk["entity_id"]),
            "hits": int((hits["rule_id"] == rule_id).sum()),
        })
    return row, per_rule


def evaluate(con, truth: pd.DataFrame, year: int | None = None, k: int | None = None,
             run_id: str | None = None) -> Evaluation:
    years = [year] if year else sorted(truth["year"].unique())
    overall, per_rule = [], []
    for y in years:
        rid = run_id or RunStore(con).latest_run(y)
        if rid is None:
            raise FundwatchError(f"no run for {y} in this workspace: run `fundwatch scan --year {y}` first")
        row, rules = year_figures(con, truth, y, rid, k)
        overall.append(row)
        per_rule += rules
    return Evaluation(pd.DataFrame(overall), pd.DataFrame(per_rule))
