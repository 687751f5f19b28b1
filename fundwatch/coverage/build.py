"""The coverage list of a scan: the coverage rules' hits, one row per entity and programme,
ranked by months missed and then money owed, placed in their townships and rated."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field

import pandas as pd

from fundwatch.cases.regions import attach_regions
from fundwatch.contract.outputs import COVERAGE, COVERAGE_RATES
from fundwatch.coverage import COVERAGE_PROGRAM
from fundwatch.coverage.eligible import eligible_population
from fundwatch.coverage.outreach import attach_states
from fundwatch.coverage.rates import coverage_rates, township_of


@dataclass
class CoverageList:
    rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COVERAGE.column_names))
    rates: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COVERAGE_RATES.column_names))
    # per coverage rule: eligible (None: not declared), listed, outside_eligible, error
    report: dict = field(default_factory=dict)


def split_coverage(hits: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the hits for the case list, the coverage rules' hits)."""
    if hits.empty:
        return hits, hits.iloc[0:0]
    is_coverage = hits["program"] == COVERAGE_PROGRAM
    return hits[~is_coverage].reset_index(drop=True), hits[is_coverage].reset_index(drop=True)


def outreach_id(year: int, rule_id: str, entity_type: str, entity_id: str, secret: bytes) -> str:
    """`O<year>-` and 12 hex digits of an HMAC under the workspace's secret (keyed for the reason
    case ids are: a masked export must not lead back to the person)."""
    key = f"fundwatch-outreach:{year}:{rule_id}:{entity_type}:{entity_id}"
    return f"O{year}-{hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:12]}"


def _months(evidence: str) -> int:
    try:
        value = json.loads(evidence).get("months_missed")
    except (TypeError, ValueError, AttributeError):
        return 0
    return int(value) if isinstance(value, int | float) and value == value else 0


def _regions(engine, entities: pd.DataFrame, present: set[str]) -> pd.Series:
    """The area code of entities the eligible population did not place: the entity registry's."""
    todo = entities[entities["region_code"].isna()]
    if todo.empty:
        return entities["region_code"]
    found = attach_regions(engine, todo[["entity_type", "entity_id"]].drop_duplicates(), present)
    mapping = {(t, i): r for t, i, r in found[["entity_type", "entity_id", "region_code"]].itertuples(index=False)}
    filled = [mapping.get((t, i)) for t, i in todo[["entity_type", "entity_id"]].itertuples(index=False)]
    out = entities["region_code"].copy()
    out.loc[todo.index] = filled
    return out


def build_coverage(engine, ruleset, hits: pd.DataFrame, outcomes, year: int, present: set[str], config,
                   secret: bytes, states: pd.DataFrame) -> CoverageList:
    """The coverage list and rates of a scan from its coverage hits; the coverage rules' outcomes
    get their eligible population as their population (a rule with none eligible ran on nothing)."""
    ran = {o.rule_id: o for o in outcomes if o.status in ("found", "clean")}
    rules = [r for r in ruleset if r.program == COVERAGE_PROGRAM and r.id in ran]
    eligible, errors = eligible_population(engine, ruleset, rules, year, present, config)
    eligible = eligible.assign(region_code=_regions(engine, eligible, present)) if not eligible.empty else eligible
    eligible = eligible.assign(township=township_of(eligible["region_code"]))

    rows = _rows(engine, ruleset, hits, eligible, year, present, secret)
    rows = attach_states(rows, states)
    rates, outside = coverage_rates(rows, eligible[eligible["rule_id"].isin(
        [r.id for r in rules if r.eligible and r.id not in errors])], year)

    report = {}
    for rule in rules:
        n_eligible = int((eligible["rule_id"] == rule.id).sum()) + outside.get(rule.id, 0) if (
            rule.eligible and rule.id not in errors) else None
        listed = int((rows["rule_id"] == rule.id).sum())
        report[rule.id] = {"eligible": n_eligible, "listed": listed, "outside_eligible": outside.get(rule.id, 0),
                           "error": errors.get(rule.id, "")}
        if n_eligible is not None:
            outcome = ran[rule.id]
            outcome.population = n_eligible
            outcome.share = listed / n_eligible if n_eligible else None
    return CoverageList(rows, rates, report)


def _rows(engine, ruleset, hits: pd.DataFrame, eligible: pd.DataFrame, year: int, present: set[str],
          secret: bytes) -> pd.DataFrame:
    if hits.empty:
        return pd.DataFrame(columns=COVERAGE.column_names)
    rows = hits[["rule_id", "rule_version", "entity_type", "entity_id", "year", "evidence", "summary_en",
                 "summary_zh"]].rename(columns={"summary_en": "summary"}).copy()
    rows["amount_owed"] = pd.to_numeric(hits["amount_at_risk"], errors="coerce").fillna(0.0).round(2)
    rows["months_missed"] = [_months(e) for e in hits["evidence"]]
    rows["title"] = [ruleset[r].title_in("en") if r in ruleset.rules else r for r in rows["rule_id"]]
    rows["title_zh"] = [ruleset[r].title_in("zh") if r in ruleset.rules else r for r in rows["rule_id"]]
    rows["outreach_id"] = [outreach_id(int(y), r, t, i, secret) for y, r, t, i in
                           rows[["year", "rule_id", "entity_type", "entity_id"]].itertuples(index=False)]
    # The eligible population's area code, so that the list and the rates place a person alike.
    placed = {(r, i): g for r, i, g in eligible[["rule_id", "entity_id", "region_code"]].itertuples(index=False)}
    rows["region_code"] = pd.Series([placed.get((r, i)) for r, i in rows[["rule_id", "entity_id"]].itertuples(
        index=False)], index=rows.index, dtype=object)
    rows["region_code"] = _regions(engine, rows, present)
    rows["township"] = township_of(rows["region_code"])
    rows = rows.sort_values(["months_missed", "amount_owed", "outreach_id"], ascending=[False, False, True],
                            kind="stable", ignore_index=True)
    rows["rank"] = range(1, len(rows) + 1)
    rows["outreach_status"], rows["outreach_note"] = "", ""
    return rows[COVERAGE.column_names]
