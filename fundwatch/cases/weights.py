"""How much each rule hit is worth in this county: the rule's precision, its status, and how
much information the hit carries given how often the rule fires here.

As in record linkage (Splink's match weights, log(m/u)), a signal that fires for a third of
everyone carries almost no information, whatever its level says. A hit's information is
measured by how rare a hit at least as bad as it is among the rule's population:

    u      = base_rate × tail_share      base_rate = (hits + 0.5) / (population + 1); tail_share =
                                          the share of the rule's hits whose measure is at least
                                          as bad as this one's (1 without a measure)
    info   = min(1, ln(1/u) / ln(1/full_weight_rate))   a rate of 1 in 100 or rarer: full weight
    weight = precision × status_weight × info

`precision` starts at the level's weight (low 0.15 … critical 0.7) and moves towards what
reviews recorded: (confirmed + k × prior) / (confirmed + refuted + k).

A rule is called mis-tuned when its share of the population is above `mis_tuned_share` with 95%
confidence (the Wilson interval's lower end: rules/runner.py). When that lower end is above
twice the share, most of its hits cannot be real abuses (at most half of them could be, if
abuse were as common as the share allows): such a rule lists only the hits whose measure stands
out from the rest (a modified z-score above `stand_out_z`, and at least `stand_out_ratio` further
than the typical hit: 53 days where most are 35) and folds the others into one
rule-level finding (`RuleFinding`) instead of flooding the list. Folding needs a population of
at least 1 / mis_tuned_share entities (20 at 5%: below that, the share allows less than one
abuse and says nothing): a rule with 2 hits among 11 agencies is called out, never folded.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from fundwatch.cases.score import Scoring
from fundwatch.rules.runner import wilson_lower

FOLD_FACTOR = 2.0  # fold when the rule fires on more than twice the mis-tuned share, with 95% confidence


@dataclass
class RuleWeight:
    rule_id: str
    level: str
    status: str
    prior: float  # the level's weight
    precision: float  # prior moved towards reviewed outcomes
    confirmed: int
    refuted: int
    status_weight: float
    base_rate: float | None  # None: population unknown
    mis_tuned: bool
    fold: bool  # list only the hits that stand out

    @property
    def weight(self) -> float:
        """The weight of a hit with no measure (or the rule's typical hit)."""
        return self.precision * self.status_weight


@dataclass
class RuleFinding:
    """A mis-tuned rule's hits that do not stand out, reported once instead of case by case."""

    rule_id: str
    hits: int
    population: int
    share: float
    listed: int  # hits that stand out and are listed as cases
    folded: int
    measure: str | None
    median: float | None
    p90: float | None
    param: str | None
    param_value: object
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def evidence_value(evidence: str, column: str):
    try:
        v = json.loads(evidence).get(column)
    except (TypeError, ValueError, AttributeError):
        return None
    return v


def _numbers(values) -> np.ndarray:
    return pd.to_numeric(pd.Series(list(values), dtype="object"), errors="coerce").to_numpy(dtype=float)


def tail_shares(x: np.ndarray, worse: str) -> np.ndarray:
    """For each value, the share of values at least as bad (ties counted); NaN -> 1."""
    n = len(x)
    out = np.ones(n)
    ok = ~np.isnan(x)
    if not ok.any():
        return out
    v = x[ok] if worse == "higher" else -x[ok]
    order = np.sort(v)
    # values >= each v: n_ok - (index of the first value >= v)
    at_least = len(v) - np.searchsorted(order, v, side="left")
    out[ok] = at_least / n
    return out


def modified_z(x: np.ndarray, worse: str) -> np.ndarray:
    """Iglewicz-Hoaglin modified z-scores in the direction that is worse (NaN -> 0).

    0.6745 (x - median) / MAD; where the MAD is 0 (most values equal), the mean absolute
    deviation scaled by 1.2533 instead; all values equal: 0."""
    z = np.zeros(len(x))
    ok = ~np.isnan(x)
    if ok.sum() < 3:
        return z
    v = x[ok] if worse == "higher" else -x[ok]
    med = np.median(v)
    mad = np.median(np.abs(v - med))
    if mad > 0:
        z[ok] = 0.6745 * (v - med) / mad
    else:
        mean_ad = np.mean(np.abs(v - med))
        z[ok] = (v - med) / (1.2533 * mean_ad) if mean_ad > 0 else 0.0
    return z


def standing_out(x: np.ndarray, worse: str, scoring: Scoring) -> np.ndarray:
    """Far from the bulk of the rule's hits both statistically (modified z) and materially (a
    ratio to the typical value): on a tight cluster, a hit 4 days beyond 35 is not news."""
    z = modified_z(x, worse) > scoring.stand_out_z
    ok = ~np.isnan(x)
    if not ok.any():
        return z
    med = float(np.median(x[ok]))
    if med > 0:
        far = x >= med * (1 + scoring.stand_out_ratio) if worse == "higher" else x <= med * (1 - scoring.stand_out_ratio)
        z &= np.nan_to_num(far, nan=False).astype(bool)
    return z


def folds(hits: int, population: int | None, mis_tuned_share: float) -> bool:
    """Whether a rule lists only the hits that stand out (see the module's docstring)."""
    return (bool(population) and population * mis_tuned_share >= 1
            and wilson_lower(hits, population) > FOLD_FACTOR * mis_tuned_share)


def rule_weights(ruleset, outcomes, reviews: pd.DataFrame | None, scoring: Scoring,
                 mis_tuned_share: float = 0.05) -> dict[str, RuleWeight]:
    """One RuleWeight per rule that ran. `reviews`: rule_id, confirmed, refuted (may be empty)."""
    counts = {}
    if reviews is not None and not reviews.empty:
        counts = {r.rule_id: (int(r.confirmed), int(r.refuted)) for r in reviews.itertuples()}
    out = {}
    for o in outcomes:
        if o.rule_id not in ruleset.rules or o.status not in ("found", "clean"):
            continue
        rule = ruleset[o.rule_id]
        prior = scoring.level_weights[rule.level]
        confirmed, refuted = counts.get(rule.id, (0, 0))
        k = scoring.review_prior_strength
        precision = (confirmed + k * prior) / (confirmed + refuted + k) if confirmed + refuted + k > 0 else prior
        base = (o.hits + 0.5) / (o.population + 1) if o.population else None
        fold = folds(o.hits, o.population, mis_tuned_share)
        out[rule.id] = RuleWeight(rule.id, rule.level, rule.status, prior, precision, confirmed, refuted,
                                  scoring.status_weights.get(rule.status, 1.0), base, bool(o.mis_tuned), fold)
    return out


def information(u: np.ndarray, full_rate: float) -> np.ndarray:
    u = np.clip(u, 1e-12, 1.0)
    return np.clip(np.log(1 / u) / math.log(1 / full_rate), 0.0, 1.0)


def weigh_hits(hits: pd.DataFrame, ruleset, weights: dict[str, RuleWeight], outcomes, config_params,
               scoring: Scoring) -> tuple[pd.DataFrame, list[RuleFinding]]:
    """`hits` with `weight` and `folded` (a mis-tuned rule's hit that does not stand out), and
    the rule-level findings of the mis-tuned rules. `config_params(rule)` gives a rule's values."""
    hits = hits.copy()
    hits["weight"] = 0.0
    hits["folded"] = False
    findings = []
    if hits.empty:
        return hits, findings
    by_outcome = {o.rule_id: o for o in outcomes}
    for rule_id, idx in hits.groupby("rule_id", sort=True).groups.items():
        w = weights.get(rule_id)
        rule = ruleset.rules.get(rule_id)
        if w is None or rule is None:
            continue
        rows = hits.loc[idx]
        n = len(rows)
        measure = rule.measure
        x = _numbers(evidence_value(e, measure.column) for e in rows["evidence"]) if measure else np.full(n, np.nan)
        q = tail_shares(x, measure.worse) if measure else np.ones(n)
        info = information(w.base_rate * q, scoring.full_weight_rate) if w.base_rate is not None else np.ones(n)
        hits.loc[idx, "weight"] = np.round(w.weight * info, 4)
        if w.fold:
            stands_out = standing_out(x, measure.worse, scoring) if measure else np.zeros(n, dtype=bool)
            hits.loc[idx, "folded"] = ~stands_out
            findings.append(_finding(rule, by_outcome[rule_id], x, int(stands_out.sum()), config_params(rule)))
    return hits, findings


def _finding(rule, outcome, x: np.ndarray, listed: int, params: dict) -> RuleFinding:
    ok = x[~np.isnan(x)]
    measure = rule.measure
    param = measure.param if measure else (next(iter(rule.params), None))
    value = params.get(param) if param else None
    share = outcome.share or 0.0
    check = f": check {param} (now {value})" if param else ": check its parameters and the county's conventions"
    message = (f"fires on {share:.0%} of its population here ({outcome.hits} of {outcome.population}){check}; "
               f"{listed} hit(s) stand out and are listed, {len(x) - listed} folded into this finding")
    return RuleFinding(rule.id, outcome.hits, outcome.population, round(share, 4), listed, len(x) - listed,
                       measure.column if measure else None,
                       float(np.median(ok)) if len(ok) else None,
                       float(np.percentile(ok, 90)) if len(ok) else None, param,
                       float(value) if isinstance(value, int | float) or hasattr(value, "as_integer_ratio") else value,
                       message)
