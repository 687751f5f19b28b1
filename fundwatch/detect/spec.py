"""What a feature set declares: its features, its peer groups and the tables it reads.

A feature set is one entity type of one programme (dibao households, subsidy beneficiaries,
...). Its module writes the SQL of the raw per-entity values; fundwatch/detect/peers.py adds
the peer-relative part (peer median, robust scale, robust z-score) in portable SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

DIRECTIONS = ("high", "low", "both")
UNITS = ("count", "yuan", "share", "ratio", "days", "m3", "kwh", "mu", "people")


@dataclass(frozen=True)
class PeerLevel:
    """A peer group: entities with equal `keys`. Levels go from the narrowest to everyone."""

    name: str
    keys: tuple[str, ...]
    en: str  # "size-{1} households in township {0}": {i} is the i-th key's value
    zh: str


@dataclass(frozen=True)
class Feature:
    """One detector input: the entity's value compared with its peers' median.

    The detector sees the robust z-score (value - peer median) / robust scale, where the scale
    is 1.4826 x the peers' median absolute deviation but at least `scale` (so that peers who
    all have the same value do not make every difference infinite). With `log`, values are
    compared on ln(1 + value), so "6 times the median" counts the same whatever the
    township's typical amount; `scale` is then in log units (0.1 = about 10%).
    Only deviations in `direction` count as abnormal ("both": either way).
    `levels` names the peer levels to use (default: all of the feature set's, narrowest
    first); a feature that only makes sense programme-wide uses the last level alone.
    """

    name: str
    en: str
    zh: str
    unit: str
    direction: str = "high"
    scale: float = 1.0
    log: bool = False
    levels: tuple[str, ...] | None = None
    description: str = ""
    source: str = ""  # the contract columns it is computed from
    # Rules that judge the same thing with the law's threshold: an entity they ran on and did not
    # flag is not listed for this feature alone (a large farm below basis_outlier's ratio).
    covered_by: tuple[str, ...] = ()

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ValueError(f"{self.name}: direction must be one of {DIRECTIONS}")
        if self.unit not in UNITS:
            raise ValueError(f"{self.name}: unit must be one of {UNITS}")
        if not self.scale > 0:
            raise ValueError(f"{self.name}: scale must be positive")


@dataclass(frozen=True)
class FeatureSet:
    program: str
    entity_type: str
    noun_en: str  # "Household"
    noun_zh: str  # "低保户"
    requires: tuple[str, ...]  # every one of these tables must be present
    optional: tuple[str, ...]  # read as empty when absent
    features: tuple[Feature, ...]
    levels: tuple[PeerLevel, ...]  # every level any feature uses, for describing peer groups
    sql: Callable  # sql(year, settings) -> the query, one row per entity (see peers.output_columns)
    any_of: tuple[str, ...] = ()  # at least one of these must be present
    at_risk: str = ""  # what amount_at_risk measures, for docs/features.md

    @property
    def key(self) -> str:
        return f"{self.program}/{self.entity_type}"

    @property
    def tables(self) -> tuple[str, ...]:
        return self.requires + self.any_of + self.optional

    def level(self, name: str) -> PeerLevel:
        for lv in self.levels:
            if lv.name == name:
                return lv
        raise KeyError(f"{self.key} has no peer level {name!r}")

    def missing(self, present: set[str]) -> list[str]:
        """Why the feature set cannot run on these tables (empty = it can)."""
        why = [t for t in self.requires if t not in present]
        if self.any_of and not any(t in present for t in self.any_of):
            why.append(" or ".join(self.any_of))
        return why
