"""A likely county convention among one rule's hits: many hits with the same small measure.

Eight households paid 30 yuan a month above the formula are not eight frauds but a classified
allowance nobody wrote into the config. Given one rule's hits and its `measure` (column, worse,
param), a convention is at least MIN_HITS hits, and MIN_SHARE of them, whose measure lies within a
narrow band; the proposal moves the rule's parameter just past that band. The scan calls this
after each run; `fundwatch calibrate` too.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from fundwatch.calibrate import evidence
from fundwatch.calibrate.proposal import Proposal, toml_value
from fundwatch.entities import ENTITY_TYPES
from fundwatch.rules.params import coerce

MIN_HITS = 5
MIN_SHARE = 0.3
BAND = 0.1  # a cluster spans at most this share of its smallest value (and at least 1 unit)


def measure_values(hits: pd.DataFrame, column: str) -> pd.Series:
    """The measure of each hit: a hit column (amount_at_risk) or a key of its evidence JSON."""
    if column in hits.columns:
        return pd.to_numeric(hits[column], errors="coerce")
    values = [json.loads(e).get(column) if isinstance(e, str) else None for e in hits["evidence"]]
    return pd.to_numeric(pd.Series(values, index=hits.index, dtype="object"), errors="coerce")


def tightest_cluster(values: list[float]) -> tuple[float, float, int]:
    """(low, high, count) of the band holding the most values, the band no wider than
    max(1, BAND × its low end)."""
    ordered = sorted(values)
    best = (ordered[0], ordered[0], 0)
    j = 0
    for i, low in enumerate(ordered):
        j = max(j, i)
        limit = low + max(1.0, BAND * abs(low))
        while j + 1 < len(ordered) and ordered[j + 1] <= limit:
            j += 1
        if j - i + 1 > best[2]:
            best = (low, ordered[j], j - i + 1)
    return best


def _round_past(value: float, up: bool) -> float:
    """A round number at or past `value`: whole units below 10, then 5s, 10s, 100s."""
    size = abs(value)
    step = 1 if size < 10 else 5 if size < 100 else 10 if size < 1000 else 100
    return (math.ceil if up else math.floor)(value / step) * step


def conventions(hits: pd.DataFrame, rule, current=None, min_hits: int = MIN_HITS,
                min_share: float = MIN_SHARE) -> list[Proposal]:
    """Likely county conventions among `rule`'s `hits` (columns rule_id, entity_id,
    amount_at_risk, evidence as JSON): a list of at most one Proposal, with its config line.

    `current` is the parameter's value in force (default: the rule's default)."""
    measure = rule.measure
    if measure is None or measure.param is None or hits.empty:
        return []
    mine = hits[hits["rule_id"] == rule.id] if "rule_id" in hits.columns else hits
    values = measure_values(mine, measure.column).dropna()
    if len(values) < min_hits:
        return []
    low, high, count = tightest_cluster(values.tolist())
    if count < min_hits or count / len(values) < min_share:
        return []
    param = rule.params[measure.param]
    if param.type not in ("int", "number", "money"):
        return []
    up = measure.worse == "higher"
    edge = high if up else low
    raw = edge if low == high else _round_past(edge, up)
    value = coerce(param.type, round(raw) if param.type == "int" else raw, measure.param)
    now = param.default if current is None else current
    if value == now:
        return []
    who = ENTITY_TYPES[rule.entity_type].many
    span = toml_value(low) if low == high else f"{toml_value(low)}-{toml_value(high)}"
    members = values[(values >= low) & (values <= high)].index
    entities = mine.loc[members, "entity_id"].nunique() if "entity_id" in mine.columns else count
    why = (f"likely county convention: {count} of {len(values)} hits ({entities} {who}) have "
           f"{measure.column} = {span}; set [params.\"{rule.id}\"] {measure.param} = {toml_value(value)}")
    lines = evidence.histogram(values, pd.Series(1, index=values.index), "", "hits")
    return [Proposal(rule.id, measure.param, value, now, why, lines, kind="convention")]


def conventions_of_run(hits: pd.DataFrame, rules, config, skip=frozenset()) -> list[Proposal]:
    """Conventions among a run's hits for every rule in `rules` that declares a measure,
    judged against the values `config` puts in force; `skip` holds (rule id, param) pairs
    already settled. For the scan: `conventions_of_run(result.hits, ruleset, config)`."""
    out = []
    for rule in rules:
        if rule.measure and rule.measure.param and (rule.id, rule.measure.param) not in skip:
            out += conventions(hits, rule, current=config.rule_params(rule)[rule.measure.param])
    return out
