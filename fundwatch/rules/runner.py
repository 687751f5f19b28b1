"""Run rules against an engine: each rule is one query returning its suspects.

Every rule ends in one of four states, reported by name: found N, clean (ran and found
nothing), skipped (an input table is missing: never shown as clean) or error.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from fundwatch.engine.side_by_side import side_by_side
from fundwatch.report import i18n
from fundwatch.rules.engines import support
from fundwatch.rules.populations import population
from fundwatch.rules.render import render, scan_values
from fundwatch.rules.summary import render_summary

HIT_COLUMNS = ["rule_id", "rule_version", "program", "entity_type", "entity_id", "year", "level",
               "amount_at_risk", "matched_on", "evidence", "summary_en", "summary_zh"]


@dataclass
class RuleOutcome:
    rule_id: str
    status: str  # found | clean | skipped | error
    hits: int = 0
    missing: list[str] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0
    share: float | None = None  # hits / entities the rule could have flagged
    mis_tuned: bool = False
    population: int | None = None  # entities with records in the year that it could have flagged (None: unknown)

    @property
    def nothing_to_check(self) -> bool:
        return ran_on_nothing(self.status, self.population)

    @property
    def needs_attention(self) -> bool:
        """Listed after a scan: it could not run, failed, ran on nothing or is probably mis-tuned."""
        return self.status in ("skipped", "error") or self.mis_tuned or self.nothing_to_check

    @property
    def state(self) -> str:
        """The status, with a clean run on nothing told apart (counted apart in summaries)."""
        return "ran on nothing" if self.nothing_to_check else self.status

    def describe(self) -> str:
        if self.status == "found":
            text = f"found {self.hits}"
            if self.mis_tuned:
                text += f" — {self.share:.0%} of its entities: probably mis-tuned"
            return text
        if self.nothing_to_check:
            return i18n.text("ran_on_nothing", "en")
        if self.status == "clean":
            return "ran, found nothing"
        if self.status == "skipped":
            return f"could not run: missing {', '.join(self.missing)}"
        return f"error: {self.message}"


def ran_on_nothing(status: str | None, population: int | None) -> bool:
    """Ran and found nothing because none of its entities has records in the year: not a
    clean result (a year outside the data, a table loaded without that year). Takes a
    RuleOutcome's fields or a run record's (run.json `rules`)."""
    return status == "clean" and population == 0


def _jsonable(v):
    if v is None or v is pd.NaT or (not hasattr(v, "__len__") and pd.isna(v)):
        return None
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, dt.datetime | dt.date | pd.Timestamp):
        return v.isoformat()[:10] if not isinstance(v, dt.datetime) or v.time() == dt.time() else v.isoformat()
    if hasattr(v, "tolist"):
        return v.tolist()
    return v


def hits_frame(rule, result: pd.DataFrame) -> pd.DataFrame:
    """The rule's raw result as hit rows: fixed columns plus its evidence as JSON, in entity order."""
    if result.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    records = result.to_dict("records")
    evidence_cols = [c for c in result.columns if c not in ("entity_id", "year", "amount_at_risk")]
    out = pd.DataFrame({
        "rule_id": rule.id,
        "rule_version": rule.version,
        "program": rule.program,
        "entity_type": rule.entity_type,
        "entity_id": result["entity_id"].astype(str),
        "year": result["year"].astype(int),
        "level": rule.level,
        "amount_at_risk": pd.to_numeric(result["amount_at_risk"], errors="coerce").fillna(0).round(2),
        "matched_on": rule.matched_on,
        "evidence": [json.dumps({c: _jsonable(r[c]) for c in evidence_cols}, ensure_ascii=False) for r in records],
        "summary_en": [render_summary(rule.summary["en"], r) for r in records],
        "summary_zh": [render_summary(rule.summary["zh"], r) for r in records],
    })
    # In entity order: a query's rows come in no set order, and rule_hits.csv should not change
    # between two runs on the same data.
    return out[HIT_COLUMNS].sort_values(["entity_id", "year", "evidence"], kind="stable", ignore_index=True)


CONFIDENCE_Z = 1.96  # 95%: how sure a share must be before a rule is called mis-tuned


def wilson_lower(hits: int, population: int, z: float = CONFIDENCE_Z) -> float:
    """The lower end of the Wilson score interval of hits / population: the share a rule fires on
    at the least, allowing for chance. One hit among four agencies is 25%, but its lower end
    (4.6%) is not a tuning problem; 300 hits among 1,000 is (27%)."""
    if population <= 0:
        return 0.0
    p = hits / population
    z2 = z * z
    centre = p + z2 / (2 * population)
    margin = z * ((p * (1 - p) + z2 / (4 * population)) / population) ** 0.5
    return max(0.0, (centre - margin) / (1 + z2 / population))


def is_mis_tuned(hits: int, population: int | None, share_limit: float) -> bool:
    """Called out when the share it fires on is above `share_limit` with 95% confidence."""
    return bool(population) and wilson_lower(hits, population) > share_limit


def run_rule(engine, rule, tree, year: int, params: dict, present: set[str] | None = None) -> pd.DataFrame:
    """The rule's result on `engine`: its query (DuckDB SQL, which the engine translates)."""
    values = dict(params)
    values.update(scan_values(year))
    absent = {t for t in rule.optional_inputs if present is not None and t not in present}
    return engine.query(render(tree, values, "duckdb", absent))


CONCURRENT_QUERIES = 2  # rules run side by side: a short rule alone leaves cores idle


def _rule_job(rule, tree, year: int, params: dict, present: set[str]):
    def job(engine):
        started = time.monotonic()
        try:
            hits = hits_frame(rule, run_rule(engine, rule, tree, year, params, present))
        except Exception as e:  # one broken rule must not stop the others; the outcome says why
            if engine.out_of_memory(e):
                raise  # not the rule's fault: side_by_side runs it again alone
            return None, f"{type(e).__name__}: {e}", time.monotonic() - started
        return hits, "", time.monotonic() - started

    return job


def run_rules(engine, ruleset, year: int, present: set[str], config, rules=None, mis_tuned_share=None):
    """Run `rules` (default: all) for `year`; returns (hits DataFrame, list of RuleOutcome)."""
    share_limit = mis_tuned_share if mis_tuned_share is not None else config.mis_tuned_share
    selected = list(rules if rules is not None else ruleset)
    outcomes: list[RuleOutcome | None] = [None] * len(selected)
    runnable: list[int] = []
    for i, rule in enumerate(selected):
        missing = [t for t in rule.inputs if t not in present]
        if missing:
            outcomes[i] = RuleOutcome(rule.id, "skipped", missing=missing)
            continue
        state, why = support(rule, ruleset.trees[rule.id], engine.dialect)
        if state == "no":
            outcomes[i] = RuleOutcome(rule.id, "skipped", message=why, missing=[f"support on {engine.dialect} ({why})"])
            continue
        runnable.append(i)
    # One population query per programme and entity type, not per rule; all of them beside the rules.
    keys = list(dict.fromkeys((selected[i].program, selected[i].entity_type) for i in runnable))
    jobs = [_rule_job(selected[i], ruleset.trees[selected[i].id], year, config.rule_params(selected[i]), present)
            for i in runnable]
    jobs += [functools.partial(_population_job, key, year, present) for key in keys]
    labels = [selected[i].id for i in runnable] + [f"population of {p}/{t}" for p, t in keys]
    done = side_by_side(engine, jobs, CONCURRENT_QUERIES, name="fundwatch-rules", labels=labels)
    populations = dict(zip(keys, done[len(runnable):], strict=True))
    frames = []
    for i, (hits, error, seconds) in zip(runnable, done[: len(runnable)], strict=True):
        rule = selected[i]
        if hits is None:
            outcomes[i] = RuleOutcome(rule.id, "error", message=error, seconds=seconds)
            continue
        n = hits["entity_id"].nunique()
        pop = populations[(rule.program, rule.entity_type)]
        if pop == 0 and n:
            # No record of the year in the programme's ledger: what a registry's open spans say of
            # it ("still registered, still employed") is extrapolation, not a finding.
            hits, n = hits.iloc[0:0], 0
            message = "no ledger record of the year: registry spans alone were not judged"
        else:
            message = ""
        outcome = RuleOutcome(rule.id, "found" if n else "clean", hits=n, seconds=seconds, message=message)
        outcome.population = pop
        if pop:
            outcome.share = n / pop
            outcome.mis_tuned = is_mis_tuned(n, pop, share_limit)
        outcomes[i] = outcome
        frames.append(hits)
    frames = [f for f in frames if not f.empty]
    hits = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=HIT_COLUMNS)
    return hits, outcomes


def _population_job(key, year: int, present: set[str], engine) -> int | None:
    return population(engine, key[0], key[1], year, present)
