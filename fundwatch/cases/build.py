"""The case list: merged findings (cases/merge.py), their outlier scores, history and reviews,
scored and ranked once.

A case's amount at risk is, per entity it names, the largest amount any one rule puts at risk
for it (signals about one entity usually cover the same payments), added over its entities (one
account's six households are six households' money). Its summary is its top hit's, with what
else it names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fundwatch.cases import history
from fundwatch.cases.merge import LEVEL_ORDER, MEMBER_COLUMNS, case_id, entity_key, merge_hits
from fundwatch.cases.score import Scoring
from fundwatch.contract.outputs import CASES
from fundwatch.detect.explain import NOTABLE_Z
from fundwatch.entities import ENTITY_TYPES
from fundwatch.rules import RuleSet

STATISTICAL = "statistical"  # the level of a case no rule stated, only the detector


@dataclass
class CaseList:
    cases: pd.DataFrame  # CASES columns, best first
    hits: pd.DataFrame  # with case_id (None: folded into a mis-tuned rule's finding) and weight
    members: pd.DataFrame  # MEMBER_COLUMNS: every entity each case names


def build_cases(hits: pd.DataFrame, outliers: pd.DataFrame | None, year: int, scoring: Scoring, *, key: bytes,
                ruleset=None, previous: pd.DataFrame | None = None, reviews: pd.DataFrame | None = None,
                ran_rules: set[str] = frozenset()) -> CaseList:
    """The ranked case list of `year`.

    `hits` are rule hits, with `weight` and `folded` from cases/weights.py (without them a hit
    weighs its level's weight); `outliers` has entity_type, entity_id, program, outlier_score,
    flagged, explanation(_zh); `key` is the workspace's case-id secret; `previous` the cases of
    the year's previous run and `reviews` the latest review of each case (cases/history.py);
    `ran_rules` the rules that ran (an entity flagged only on features such rules judge, and did
    not flag, is not listed by itself)."""
    hits = hits.copy()
    if "weight" not in hits:
        hits["weight"] = [scoring.level_weights.get(lv, 0.0) for lv in hits["level"]]
    if "folded" not in hits:
        hits["folded"] = False
    hits, members = merge_hits(hits, ruleset if ruleset is not None else RuleSet(), year, key)
    listed = hits[hits["case_id"].notna()]
    cases = _rule_cases(listed, year)
    cases, members = _merge_outliers(cases, members, outliers, year, key, ran_rules)
    cases = _with_members(cases, members)
    cases = history.annotate(cases, listed, previous if previous is not None else pd.DataFrame(),
                             reviews if reviews is not None else pd.DataFrame())
    return CaseList(rank(cases, scoring), hits, members)


def strength_factor(strength: pd.Series) -> pd.Series:
    """0-1: how much of the detector's score counts, by how far out the strongest feature lies.

    Every flagged entity sits in the top percent or two of the forest's scores, so the percentile
    alone cannot order them; 1 - exp(-z / NOTABLE_Z) is 0.63 at the least deviation that may be
    flagged and near 1 for one several times further out (a grant six times the typical one).
    Unknown strength counts whole."""
    z = pd.to_numeric(strength, errors="coerce")
    return (1 - np.exp(-z.clip(lower=0) / NOTABLE_Z)).where(z.notna(), 1.0)


def rank(cases: pd.DataFrame, scoring: Scoring) -> pd.DataFrame:
    """Score every case and order them: score, then money, then id (deterministic)."""
    if cases.empty:
        return pd.DataFrame(columns=CASES.column_names)
    cases = cases.copy()
    flagged_score = cases["outlier_score"].where(cases["outlier_flagged"].fillna(False).astype(bool), 0.0)
    if "outlier_strength" in cases:
        flagged_score = flagged_score * strength_factor(cases["outlier_strength"])
    cases["risk_score"] = [scoring.score(w, float(a), float(o) if pd.notna(o) else 0.0) for w, a, o in
                           zip(cases["rule_weights"], cases["amount_at_risk"], flagged_score, strict=True)]
    sink = (cases["review_status"] == "cleared") & (cases["review_note"] == "")
    cases.loc[sink, "risk_score"] = (cases.loc[sink, "risk_score"] * scoring.cleared_factor).round(1)
    cases = cases.sort_values(["risk_score", "amount_at_risk", "case_id"], ascending=[False, False, True])
    cases["rank"] = range(1, len(cases) + 1)
    cases["amount_at_risk"] = cases["amount_at_risk"].astype(float).round(2)
    return cases.reindex(columns=CASES.column_names).reset_index(drop=True)


def _rule_cases(hits: pd.DataFrame, year: int) -> pd.DataFrame:
    """One row per case of `hits`, set-wise; nothing here depends on the order of the hits."""
    if hits.empty:
        return pd.DataFrame()
    h = hits.assign(_level=hits["level"].map(LEVEL_ORDER))
    h = h.sort_values(["case_id", "weight", "_level", "amount_at_risk", "rule_id", "entity_id", "evidence"],
                      ascending=[True, False, False, False, True, True, True], kind="stable")
    top = h.drop_duplicates("case_id").set_index("case_id")
    per_rule = h.groupby(["case_id", "rule_id"], sort=True).agg(weight=("weight", "max"), level=("_level", "max"))
    per_rule = per_rule.reset_index()
    by_case = per_rule.groupby("case_id", sort=False)
    rules = by_case["rule_id"].agg(list)
    weights = by_case["weight"].agg(list)
    level_names = {v: k for k, v in LEVEL_ORDER.items()}
    levels = by_case["level"].agg(lambda s: [level_names[v] for v in s])
    # Per entity, its largest rule total; added over the case's entities.
    per_entity = h.groupby(["case_id", "entity_type", "entity_id", "rule_id"], sort=True)["amount_at_risk"].sum()
    amount = per_entity.groupby(level=[0, 1, 2]).max().groupby(level=0).sum()
    entities = h.groupby("case_id", sort=False).apply(lambda g: sorted(set(zip(g["entity_type"], g["entity_id"],
                                                                                 strict=True))),
                                                     include_groups=False)
    programs = h.groupby("case_id", sort=False)["program"].agg(lambda s: ";".join(sorted(s.unique())))
    ids = list(top.index)
    rules, weights, levels, programs, entities = rules[ids], weights[ids], levels[ids], programs[ids], entities[ids]
    en, zh = [], []
    for cid in ids:
        t = top.loc[cid]
        others_rules = [r for r in rules[cid] if r != t["rule_id"]]
        others = [e for e in entities[cid] if e != (t["entity_type"], t["entity_id"])]
        en.append(t["summary_en"] + _more_en(others_rules, others))
        zh.append(t["summary_zh"] + _more_zh(others_rules, others))
    return pd.DataFrame({
        "year": year, "case_id": ids, "entity_type": top["case_entity_type"].to_numpy(),
        "entity_id": top["case_entity_id"].to_numpy(), "program": top["case_program"].to_numpy(),
        "rule_ids": [";".join(rs) for rs in rules], "outlier_score": None, "outlier_flagged": False,
        "amount_at_risk": amount[ids].astype(float).to_numpy(),
        "summary": en, "summary_zh": zh,
        "level": [max(lv, key=LEVEL_ORDER.get) for lv in levels], "rule_weights": list(weights),
        "weights": [";".join(f"{r}={w:.3f}" for r, w in zip(rs, ws, strict=True)) for rs, ws in zip(rules, weights, strict=True)],
        "signals": [len(rs) for rs in rules], "programs": programs.to_numpy(),
    })


def _named(others: list[tuple]) -> tuple[int, list[str]]:
    """How many other entities, and the ids safe to name in a sentence (not people's IDs)."""
    shown = [e for t, e in others if t != "person"][:5]
    return len(others), shown


def _more_en(rules: list[str], others: list[tuple]) -> str:
    text = ""
    if rules:
        text += f" (+{len(rules)} more signal{'s' if len(rules) > 1 else ''}: {', '.join(rules)})"
    if others:
        n, shown = _named(others)
        nouns = sorted({ENTITY_TYPES[t].noun["en"] for t, _ in others if t in ENTITY_TYPES})
        text += f" One finding with {n} more {'/'.join(nouns)}{'s' if n > 1 else ''}"
        text += f": {', '.join(shown)}{', ...' if n > len(shown) else ''}." if shown else "."
    return text


def _more_zh(rules: list[str], others: list[tuple]) -> str:
    text = f"（另有{len(rules)}条线索：{', '.join(rules)}）" if rules else ""
    if others:
        n, shown = _named(others)
        text += f"同一问题另涉及{n}个对象" + (f"：{'、'.join(shown)}{'等' if n > len(shown) else ''}。" if shown else "。")
    return text


def _merge_outliers(cases: pd.DataFrame, members: pd.DataFrame, outliers: pd.DataFrame | None, year: int,
                    key: bytes, ran_rules: set[str] = frozenset()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Attach each case's highest outlier score among the entities its hits flag; add a case for
    every flagged entity no rule case names, unless every feature it stands out on is judged by
    a rule that ran and did not flag it (the rule holds the law's threshold: a farm 2.9 times its
    village's median below basis_outlier's ratio is not news). A score raises a case only where
    it was flagged."""
    if cases.empty:
        cases = pd.DataFrame(columns=[*CASES.column_names, "rule_weights", "outlier_flagged"])
    if outliers is None or outliers.empty:
        cases["outlier_score"] = pd.Series([None] * len(cases), dtype="float64")
        return cases, members
    o = outliers.copy()
    o["flagged"] = o["flagged"].astype(bool) if "flagged" in o else True
    o["ekey"] = [entity_key(t, e) for t, e in zip(o["entity_type"], o["entity_id"], strict=True)]
    named = members[members["role"] != "involved"]
    named_keys = {entity_key(t, e): c for c, t, e in zip(named["case_id"], named["entity_type"], named["entity_id"],
                                                        strict=True)}
    o = o[o["flagged"] | o["ekey"].isin(named_keys)]
    # One row per entity: its highest score; of equal scores the first programme.
    o = o.sort_values(["outlier_score", "ekey", "program", "explanation"], ascending=[False, True, True, True],
                      kind="stable").drop_duplicates("ekey")
    o["case_id"] = o["ekey"].map(named_keys)
    ruled = o[o["case_id"].notna()].sort_values(["case_id", "flagged", "outlier_score"], ascending=[True, False, False],
                                                 kind="stable").drop_duplicates("case_id").set_index("case_id")
    cases = cases.copy()
    if not cases.empty:
        cid = cases["case_id"]
        cases["outlier_score"] = cid.map(ruled["outlier_score"]).astype("float64")
        if "outlier_strength" in ruled:
            cases["outlier_strength"] = cid.map(ruled["outlier_strength"]).astype("float64")
        flagged = {c: bool(f) for c, f in ruled["flagged"].items()}
        cases["outlier_flagged"] = [flagged.get(c, False) for c in cid]
        said = {c: (en, zh) for c, en, zh, f in zip(ruled.index, ruled["explanation"], ruled["explanation_zh"],
                                                    ruled["flagged"], strict=True) if f and isinstance(en, str)}
        cases["summary"] = [s + " Also statistically unusual: " + said[c][0] if c in said else s
                            for c, s in zip(cid, cases["summary"], strict=True)]
        cases["summary_zh"] = [s + " 统计上亦异常：" + said[c][1] if c in said else s
                               for c, s in zip(cid, cases["summary_zh"], strict=True)]
    new = o[o["case_id"].isna() & o["flagged"]].copy()
    if "covered_by" in new:
        judged = [bool(c) and set(c.split(";")) <= set(ran_rules) for c in new["covered_by"].fillna("")]
        new = new[[not j for j in judged]]
    if new.empty:
        return cases, members
    new["case_id"] = [case_id(k, year, key) for k in new["ekey"]]
    # No rule says what is wrong, so no money is stated at risk (issue 22: an outlier's "amount"
    # is the money involved, not a loss).
    stat = pd.DataFrame({
        "year": year, "case_id": new["case_id"], "entity_type": new["entity_type"], "entity_id": new["entity_id"],
        "program": new["program"], "rule_ids": "", "outlier_score": new["outlier_score"], "outlier_flagged": True,
        "amount_at_risk": 0.0, "summary": new["explanation"], "summary_zh": new["explanation_zh"],
        "outlier_strength": new.get("outlier_strength", np.nan),
        "level": STATISTICAL, "rule_weights": [[] for _ in range(len(new))], "weights": "", "signals": 0,
        "programs": new["program"],
    })
    stat_members = pd.DataFrame({"case_id": new["case_id"], "entity_type": new["entity_type"],
                                 "entity_id": new["entity_id"], "role": "primary"})[MEMBER_COLUMNS]
    cases = pd.concat([cases, stat], ignore_index=True) if not cases.empty else stat
    return cases, pd.concat([members, stat_members], ignore_index=True)


def _with_members(cases: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    if cases.empty:
        return cases
    cases = cases.copy()
    listed = members.groupby("case_id", sort=False).apply(
        lambda g: ";".join(f"{t}:{e}" for t, e in zip(g["entity_type"], g["entity_id"], strict=True)),
        include_groups=False)
    counts = members.groupby("case_id", sort=False).size()
    cases["entities"] = cases["case_id"].map(listed).fillna("")
    cases["n_entities"] = cases["case_id"].map(counts).fillna(0).astype(int)
    return cases
