"""The risk score: 0-100, higher is worse. Explained in plain words in the README.

Each signal closes part of the distance that is left to 100 (a "noisy OR"), so two
independent signals score higher than either alone, and no number of weak signals
reaches 100:

    rules    R = 1 - prod(1 - level_weight) over the distinct rules that fired
    amount   A = log10(1 + amount) / log10(1 + amount_cap), capped at 1
    outlier  O = the detector's 0-1 score (0 where it did not run)
    score    = 100 * (1 - (1 - R) * (1 - amount_weight * A) * (1 - outlier_weight * O))

A case an analyst cleared is multiplied by `cleared_factor` unless its evidence changed.
All weights are configurable under [scoring] in fundwatch.toml.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from fundwatch.errors import ConfigError


@dataclass(frozen=True)
class Scoring:
    level_weights: dict = field(default_factory=lambda: {"low": 0.15, "medium": 0.3, "high": 0.5, "critical": 0.7})
    amount_weight: float = 0.25
    amount_cap: float = 100_000.0
    outlier_weight: float = 0.5
    cleared_factor: float = 0.3

    @classmethod
    def from_config(cls, section: dict, where: str = "config") -> Scoring:
        known = {f.name for f in fields(cls)}
        unknown = set(section) - known
        if unknown:
            raise ConfigError(f"{where}: [scoring] has unknown key(s) {', '.join(sorted(unknown))}")
        base = cls()
        weights = dict(base.level_weights)
        weights.update(section.get("level_weights", {}))
        values = {k: section.get(k, getattr(base, k)) for k in known - {"level_weights"}}
        for k, v in [*values.items(), *weights.items()]:
            if not isinstance(v, int | float) or v < 0 or (k != "amount_cap" and v > 1):
                raise ConfigError(f"{where}: [scoring] {k} = {v!r} is out of range")
        return cls(level_weights=weights, **values)

    def rule_component(self, levels) -> float:
        return 1 - math.prod(1 - self.level_weights[lv] for lv in levels)

    def amount_component(self, amount: float) -> float:
        if amount <= 0:
            return 0.0
        return min(1.0, math.log10(1 + amount) / math.log10(1 + self.amount_cap))

    def score(self, levels, amount: float, outlier: float | None) -> float:
        r = self.rule_component(levels)
        a = self.amount_component(amount)
        o = outlier or 0.0
        return round(100 * (1 - (1 - r) * (1 - self.amount_weight * a) * (1 - self.outlier_weight * o)), 1)
