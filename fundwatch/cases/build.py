"""One case per entity and year, merging every rule hit and outlier score.

A person whose evidence appears in two or more programmes (a dibao household hit and a
cooperative hit naming the same person_id, say) becomes one cross-programme case of
entity_type `person`, and those hits move into it. `case_id` depends only on the entity
and year, so it is the same on every run.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pandas as pd

from fundwatch.cases.score import Scoring

LEVEL_ORDER = {"low": 1, "medium": 2, "high": 3, "critical": 4}
CASE_COLUMNS = ["rank", "year", "case_id", "entity_type", "entity_id", "program", "risk_score", "rule_ids",
                "outlier_score", "amount_at_risk", "summary", "level", "signals", "programs", "summary_zh"]


def case_id(entity_type: str, entity_id: str, year: int, key: bytes) -> str:
    """`C<year>-` and 12 hex digits of an HMAC of the entity under the workspace's secret `key`.

    Keyed because a plain hash of a resident ID is reversed in a second: a masked export shows
    the ID's area code and last four characters, which leaves only the birth date to try."""
    digest = hmac.new(key, f"fundwatch-case:{entity_type}:{entity_id}".encode(), hashlib.sha256).hexdigest()[:12]
    return f"C{year}-{digest}"


def _subject(row) -> str | None:
    """The person a hit is about: the entity itself, or the evidence's person_id."""
    if row["entity_type"] == "person":
        return row["entity_id"]
    try:
        return json.loads(row["evidence"]).get("person_id")
    except (TypeError, ValueError):
        return None


def assign_cases(hits: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """Hits with the case each belongs to (case_entity_type, case_entity_id, case_program)."""
    hits = hits.copy()
    if hits.empty:
        for c in ("case_entity_type", "case_entity_id", "case_program", "case_id"):
            hits[c] = pd.Series(dtype="object")
        return hits
    hits["subject"] = [_subject(r) for r in hits.to_dict("records")]
    programs = hits.dropna(subset=["subject"]).groupby(["subject", "year"])["program"].nunique()
    cross = {key for key, n in programs.items() if n >= 2}
    is_cross = [(s, y) in cross for s, y in zip(hits["subject"], hits["year"], strict=True)]
    hits["case_entity_type"] = ["person" if c else t for c, t in zip(is_cross, hits["entity_type"], strict=True)]
    hits["case_entity_id"] = [s if c else e for c, s, e in zip(is_cross, hits["subject"], hits["entity_id"], strict=True)]
    hits["case_program"] = ["cross" if c else p for c, p in zip(is_cross, hits["program"], strict=True)]
    hits["case_id"] = [case_id(t, e, y, key) for t, e, y in
                       zip(hits["case_entity_type"], hits["case_entity_id"], hits["year"], strict=True)]
    return hits.drop(columns=["subject"])


def build_cases(hits: pd.DataFrame, outliers: pd.DataFrame | None, year: int, scoring: Scoring, *,
                key: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cases, hits with case_id). `outliers` has entity_type, entity_id, program, outlier_score, explanation.
    `key` is the workspace's case-id secret (Workspace.case_key)."""
    hits = assign_cases(hits, key)
    cases = _rule_cases(hits, year)
    cases = _merge_outliers(cases, outliers, year, key)
    if cases.empty:
        return pd.DataFrame(columns=CASE_COLUMNS), hits
    cases["risk_score"] = [scoring.score(lv, amt, o) for lv, amt, o in
                           zip(cases["levels"], cases["amount_at_risk"], cases["outlier_score"].fillna(0), strict=True)]
    # Deterministic order: score, then money, then id.
    cases = cases.sort_values(["risk_score", "amount_at_risk", "case_id"], ascending=[False, False, True])
    cases["rank"] = range(1, len(cases) + 1)
    cases["amount_at_risk"] = cases["amount_at_risk"].round(2)
    return cases[CASE_COLUMNS].reset_index(drop=True), hits


def _rule_cases(hits: pd.DataFrame, year: int) -> pd.DataFrame:
    """One row per case_id of `hits`, set-wise (no loop over hits): its top hit (highest level,
    then amount, then the smallest rule_id, entity_id and evidence) describes it; the amount is
    the largest of its rules' totals.

    Nothing here may depend on the order of the rows of `hits`: a rule query's rows come in no
    set order (DuckDB's differs between runs), and the same hits must give the same cases."""
    if hits.empty:
        return pd.DataFrame()
    h = hits.assign(_level=hits["level"].map(LEVEL_ORDER))
    # A total order on what a hit says (rows equal in all of these describe a case alike), so the
    # top hit and every per-case sum below see the hits in the same order whatever order they came in.
    h = h.sort_values(["case_id", "_level", "amount_at_risk", "rule_id", "entity_id", "evidence"],
                      ascending=[True, False, False, True, True, True], kind="stable")
    top = h.drop_duplicates("case_id").set_index("case_id")
    per_rule = h.groupby(["case_id", "rule_id"], sort=True).agg(amount=("amount_at_risk", "sum"),
                                                                level=("_level", "max")).reset_index()
    by_case = per_rule.groupby("case_id", sort=False)
    rules = by_case["rule_id"].agg(list)
    level_names = {v: k for k, v in LEVEL_ORDER.items()}
    levels = by_case["level"].agg(lambda s: [level_names[v] for v in s])
    programs = h.groupby("case_id", sort=False)["program"].agg(lambda s: ";".join(sorted(s.unique())))
    ids = list(top.index)
    rules, levels, programs = rules[ids], levels[ids], programs[ids]
    others = [", ".join(r for r in rs if r != t) for rs, t in zip(rules, top["rule_id"], strict=True)]
    n = [len(rs) for rs in rules]
    extra = [f" (+{k - 1} more signal{'s' if k > 2 else ''}: {o})" if k > 1 else "" for k, o in zip(n, others, strict=True)]
    extra_zh = [f"（另有{k - 1}条线索：{o}）" if k > 1 else "" for k, o in zip(n, others, strict=True)]
    return pd.DataFrame({
        "year": year, "case_id": ids, "entity_type": top["case_entity_type"].to_numpy(),
        "entity_id": top["case_entity_id"].to_numpy(), "program": top["case_program"].to_numpy(),
        "rule_ids": [";".join(rs) for rs in rules], "outlier_score": None,
        "amount_at_risk": per_rule.groupby("case_id", sort=False)["amount"].max()[ids].astype(float).to_numpy(),
        "summary": top["summary_en"].to_numpy() + pd.Series(extra, dtype=object).to_numpy(),
        "summary_zh": top["summary_zh"].to_numpy() + pd.Series(extra_zh, dtype=object).to_numpy(),
        "level": [max(lv, key=LEVEL_ORDER.get) for lv in levels], "levels": list(levels), "signals": n,
        "programs": programs.to_numpy(),
    })


def _merge_outliers(cases: pd.DataFrame, outliers: pd.DataFrame | None, year: int, key: bytes) -> pd.DataFrame:
    if outliers is None or outliers.empty:
        if cases.empty:
            return cases
        cases["outlier_score"] = pd.Series([None] * len(cases), dtype="float64")
        return cases
    # Only the scores that can matter get a case_id (hashing millions of entities is slow): those
    # of entities named by a rule case or flagged. Then one row per entity, its highest score;
    # of equal scores (one entity in two programmes) the first programme, whatever the row order.
    flagged_ids = outliers["entity_id"][outliers["flagged"].to_numpy(dtype=bool)] if "flagged" in outliers else outliers["entity_id"]
    wanted = set(flagged_ids) | (set(cases["entity_id"].astype(str)) if not cases.empty else set())
    o = outliers[outliers["entity_id"].isin(wanted)]
    o = o.sort_values(["outlier_score", "entity_type", "entity_id", "program", "explanation"],
                      ascending=[False, True, True, True, True], kind="stable")
    o = o.drop_duplicates(["entity_type", "entity_id"]).copy()
    o["case_id"] = [case_id(t, e, year, key) for t, e in zip(o["entity_type"], o["entity_id"], strict=True)]
    flagged = o[o["flagged"]] if "flagged" in o else o
    if cases.empty:
        cases = pd.DataFrame(columns=[c for c in CASE_COLUMNS if c not in ("rank", "risk_score")] + ["levels"])
    merged = cases.merge(o[["case_id", "outlier_score", "explanation", "explanation_zh"]], on="case_id", how="left",
                         suffixes=("_old", ""))
    if "outlier_score_old" in merged:
        merged = merged.drop(columns=["outlier_score_old"])
    # Purely statistical cases: flagged by the detector, no rule fired.
    new = flagged[~flagged["case_id"].isin(cases["case_id"])]
    stat = pd.DataFrame({
        "year": year, "case_id": new["case_id"], "entity_type": new["entity_type"], "entity_id": new["entity_id"],
        "program": new["program"], "rule_ids": "", "outlier_score": new["outlier_score"],
        "amount_at_risk": new.get("amount_at_risk", 0.0), "summary": new["explanation"],
        "summary_zh": new["explanation_zh"], "level": "", "levels": [[] for _ in range(len(new))], "signals": 0,
        "programs": new["program"],
    })
    has_expl = merged["explanation"].notna() & merged["outlier_score"].notna()
    merged.loc[has_expl, "summary"] = merged.loc[has_expl, "summary"] + " Also statistically unusual: " + merged.loc[has_expl, "explanation"]
    merged.loc[has_expl, "summary_zh"] = merged.loc[has_expl, "summary_zh"] + " 统计上亦异常：" + merged.loc[has_expl, "explanation_zh"]
    merged = merged.drop(columns=["explanation", "explanation_zh"])
    return pd.concat([merged, stat], ignore_index=True) if not stat.empty else merged
