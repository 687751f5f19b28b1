"""Run a rule's `calibrate:` blocks on a county's data: one Proposal per block.

A rule's blocks run in the order its parameters are declared, each with the values proposed
before it bound (the classified-allowance tolerance is measured against the standards the data
showed, not the defaults).
"""

from __future__ import annotations

import math

import pandas as pd

from fundwatch.calibrate import evidence
from fundwatch.calibrate.proposal import Proposal
from fundwatch.calibrate.spec import CalibrateSpec, specs
from fundwatch.rules.params import coerce
from fundwatch.rules.render import render, scan_values


def _quantile(frame: pd.DataFrame, q: float) -> float:
    """The weighted q-quantile of `value` (each value counted `n` times)."""
    ordered = frame.sort_values("value")
    cumulative = ordered["n"].cumsum()
    return float(ordered["value"][cumulative >= q * ordered["n"].sum()].iloc[0])


def _shape(spec: CalibrateSpec, raw: float) -> float:
    value = raw + spec.plus
    if spec.round:
        value = math.ceil(value / spec.round - 1e-9) * spec.round
    if spec.clamp:
        value = min(max(value, spec.clamp[0]), spec.clamp[1])
    return round(value, 9)  # 0.35, not 0.35000000000000003 from the rounding step


def pick(spec: CalibrateSpec, frame: pd.DataFrame) -> tuple[float | None, str]:
    """(proposed raw value or None, why) from the query's `value`/`n` rows."""
    frame = frame.assign(value=pd.to_numeric(frame["value"], errors="coerce"),
                         n=pd.to_numeric(frame["n"], errors="coerce")).dropna(subset=["value", "n"])
    total = frame["n"].sum()
    if spec.band:
        frame = frame[(frame["value"] >= spec.band[0]) & (frame["value"] <= spec.band[1])]
    kept = frame["n"].sum()
    if kept < spec.min_count:
        where = f" in [{spec.band[0]:g}, {spec.band[1]:g}]" if spec.band else ""
        return None, f"{int(kept)} {spec.counts}{where} to go on, fewer than {spec.min_count}"
    if spec.propose == "mode":
        best = frame.sort_values(["n", "value"], ascending=[False, True]).iloc[0]
        basis, raw = best["n"], float(best["value"])
        said = f"{_words(raw, spec.unit)} for {int(basis)} of {int(total)} {spec.counts}"
    elif spec.propose == "largest_common":
        # The top of a county's regular structure (e.g. its highest allowance share): values a few
        # observations share, so that a lone extreme (often the very anomaly) does not set it.
        bins = frame.assign(value=(frame["value"] / spec.round - 1e-9).apply(math.ceil) * spec.round)
        counts = bins.groupby("value")["n"].sum()
        common = counts[counts >= spec.repeat]
        if common.empty:
            return None, f"no value shared by {spec.repeat} or more {spec.counts}"
        raw, basis = float(common.index.max()), kept
        said = (f"the largest value at least {spec.repeat} of {int(kept)} {spec.counts} share is "
                f"{_words(raw, spec.unit)} ({int(common.iloc[-1])} of them)")
    elif spec.propose == "quantile":
        basis, raw = kept, _quantile(frame, spec.q)
        said = f"{spec.q:.0%} of {int(kept)} {spec.counts} are at most {_words(raw, spec.unit)}"
    else:
        basis, raw = kept, float(frame["value"].max())
        said = f"the largest of {int(kept)} {spec.counts} is {_words(raw, spec.unit)}"
    if total and basis / total < spec.min_share:
        return None, f"no clear pattern: {said} ({basis / total:.0%}, under {spec.min_share:.0%})"
    return _shape(spec, raw), f"{spec.says}: {said}"


def _words(v: float, unit: str) -> str:
    text = str(int(v)) if float(v).is_integer() else f"{v:g}"
    return f"{text} {unit}".strip()


def propose_rule(engine, rule, year: int, current: dict) -> list[Proposal]:
    """Proposals from the rule's calibrate blocks; `current` is the rule's values in force."""
    values = dict(current) | scan_values(year)
    out = []
    for spec in specs(rule):
        ptype = rule.params[spec.param].type
        frame = engine.query(render(spec.query, values))
        raw, why = pick(spec, frame)
        value = None if raw is None else coerce(ptype, round(raw) if ptype == "int" else raw, spec.param)
        if value is not None and spec.only and not (value > current[spec.param] if spec.only == "higher"
                                                     else value < current[spec.param]):
            why = f"{why}; {spec.param} only moves {spec.only}, and {current[spec.param]} stays"
            value = current[spec.param]
        lines = evidence.histogram(frame["value"], frame["n"], spec.unit, spec.counts,
                                   commonest=spec.propose == "mode") if not frame.empty else []
        if value is not None:
            values[spec.param] = value  # the next blocks are measured against it
        if spec.evidence is not None:
            lines += ([f"{spec.shows}:"] if spec.shows else []) + evidence.table(engine.query(render(spec.evidence, values)))
        out.append(Proposal(rule.id, spec.param, value, current[spec.param], why, lines))
    return out
