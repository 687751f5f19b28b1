"""The risk score: 0-100, higher is worse. Explained in plain words in the README.

Each signal closes part of the distance that is left to 100 (a "noisy OR"), so two
independent signals score higher than either alone, and no number of weak signals
reaches 100:

    rules    R = 1 - prod(1 - weight) over the distinct rules that fired, each rule's
               weight in this county (cases/weights.py: precision x status x information)
    amount   A = log10(1 + amount) / log10(1 + amount_cap), capped at 1
    outlier  O = the detector's 0-1 score where it flagged the entity, else 0
    score    = 100 * (1 - (1 - R) * (1 - amount_weight * A) * (1 - outlier_weight * O))

A case an analyst cleared is multiplied by `cleared_factor` unless its evidence changed.
All weights are configurable under [scoring] in fundwatch.toml.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from fundwatch.errors import ConfigError

_MAPPINGS = ("level_weights", "status_weights")
_UNBOUNDED = ("amount_cap", "review_prior_strength", "stand_out_z", "stand_out_ratio")


@dataclass(frozen=True)
class Scoring:
    level_weights: dict = field(default_factory=lambda: {"low": 0.15, "medium": 0.3, "high": 0.5, "critical": 0.7})
    # A rule still being tested (status: test) has not earned a stable rule's trust.
    status_weights: dict = field(default_factory=lambda: {"stable": 1.0, "test": 0.8, "experimental": 0.5})
    amount_weight: float = 0.25
    amount_cap: float = 100_000.0
    # An outlier flag says an entity is unusual among its peers, not that a published criterion
    # is broken: it weighs as the weakest rule level (low), so a statistical-only case ranks with
    # the weakest rule evidence, not above every rule case of a county (issue 18).
    outlier_weight: float = 0.15
    cleared_factor: float = 0.3
    full_weight_rate: float = 0.01  # a hit this rare (or rarer) among the rule's population carries full weight
    review_prior_strength: float = 4.0  # reviews needed before they outweigh the level's prior
    stand_out_z: float = 3.5  # a mis-tuned rule's hit is listed only this far out (modified z-score)
    stand_out_ratio: float = 0.5  # ... and this much further than the typical hit

    @classmethod
    def from_config(cls, section: dict, where: str = "config") -> Scoring:
        known = {f.name for f in fields(cls)}
        unknown = set(section) - known
        if unknown:
            raise ConfigError(f"{where}: [scoring] has unknown key(s) {', '.join(sorted(unknown))}")
        base = cls()
        mappings = {}
        for name in _MAPPINGS:
            merged = dict(getattr(base, name))
            given = section.get(name, {})
            if not isinstance(given, dict) or set(given) - set(merged):
                raise ConfigError(f"{where}: [scoring] {name} must map {', '.join(merged)} to weights")
            merged.update(given)
            mappings[name] = merged
        values = {k: section.get(k, getattr(base, k)) for k in known - set(_MAPPINGS)}
        checked = [*values.items(), *(kv for m in mappings.values() for kv in m.items())]
        for k, v in checked:
            if isinstance(v, bool) or not isinstance(v, int | float) or v < 0 or (k not in _UNBOUNDED and v > 1):
                raise ConfigError(f"{where}: [scoring] {k} = {v!r} is out of range")
        if not 0 < values["full_weight_rate"] < 1:
            raise ConfigError(f"{where}: [scoring] full_weight_rate must be between 0 and 1")
        return cls(**mappings, **values)

    def rule_component(self, weights) -> float:
        return 1 - math.prod(1 - min(max(w, 0.0), 1.0) for w in weights)

    def amount_component(self, amount: float) -> float:
        if amount <= 0:
            return 0.0
        return min(1.0, math.log10(1 + amount) / math.log10(1 + self.amount_cap))

    def score(self, weights, amount: float, outlier: float | None) -> float:
        """`weights`: each distinct rule's weight in the case; `outlier`: the detector's score
        where it flagged the entity (None or 0 otherwise)."""
        r = self.rule_component(weights)
        a = self.amount_component(amount)
        o = outlier or 0.0
        return round(100 * (1 - (1 - r) * (1 - self.amount_weight * a) * (1 - self.outlier_weight * o)), 1)
