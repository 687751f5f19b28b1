"""The `[outliers]` section of a county's configuration, validated in one pass.

    [outliers]
    detector = "iforest"        # iforest | ecod | hbos | copod | ensemble
    contamination = 0.02        # share of each programme's entities flagged
    n_estimators = 200          # isolation forest: trees
    max_samples = 1.0           # isolation forest: rows per tree (a share of the fit set, a number, or "auto")
    random_state = 42           # same data + same seed = same scores
    min_peer_group = 5          # smaller peer groups fall back to a wider one
    fit_sample = 20000          # the detector is fitted on at most this many entities per programme
    batch_size = 200000         # entities scored per batch (bounds memory)
    protected_programmes = []   # subsidy programme codes whose eligibility or rate rests on a protected trait
    protected_programme_words = ["残疾", "高龄", ...]  # the same, recognised by words in program_name

Every problem is collected before one ConfigError names them all.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from fundwatch.errors import ConfigError

DETECTORS = ("iforest", "ecod", "hbos", "copod", "ensemble")

# Programmes whose eligibility or rate depends on disability, age or ethnicity: their payments
# are left out of every statistical feature (a rule may still check them). Matched as
# substrings of subsidy_payments.program_name.
TRAIT_PROGRAMME_WORDS = ("残疾", "残障", "高龄", "老年", "老龄", "养老", "百岁", "长寿", "民族", "孤儿")


@dataclass(frozen=True)
class Settings:
    detector: str = "iforest"
    contamination: float = 0.02
    n_estimators: int = 200
    # Every tree sees the whole fit set (at most ~fit_sample rows): with 256 rows a tree rarely
    # holds the one entity in a thousand whose value is off, and cannot split on that feature.
    max_samples: int | float | str = 1.0
    random_state: int = 42
    min_peer_group: int = 5
    fit_sample: int = 20_000
    batch_size: int = 200_000
    protected_programmes: tuple[str, ...] = ()
    protected_programme_words: tuple[str, ...] = TRAIT_PROGRAMME_WORDS
    enabled: bool = True

    @property
    def min_entities(self) -> int:
        """Fewest scorable entities a programme needs before a detector is fitted on it."""
        return max(self.min_peer_group, 10)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _check(key: str, v) -> str | None:
    """None if `v` is a valid value of `key`, else what is wrong with it."""
    if key == "detector":
        return None if v in DETECTORS else f"must be one of {', '.join(DETECTORS)}"
    if key == "contamination":
        return None if _is_number(v) and 0 < v <= 0.5 else "must be a number in (0, 0.5]"
    if key in ("n_estimators", "fit_sample", "batch_size"):
        low = {"n_estimators": 1, "fit_sample": 100, "batch_size": 1000}[key]
        return None if _is_int(v) and v >= low else f"must be a whole number >= {low}"
    if key == "max_samples":
        ok = v == "auto" or (_is_int(v) and v >= 2) or (isinstance(v, float) and 0 < v <= 1)
        return None if ok else 'must be a whole number >= 2, a share in (0, 1] or "auto"'
    if key == "random_state":
        return None if _is_int(v) and 0 <= v < 2**32 else "must be a whole number in [0, 2^32)"
    if key == "min_peer_group":
        # 1 would let a one-entity group be its own peer.
        return None if _is_int(v) and v >= 2 else "must be a whole number >= 2"
    if key in ("protected_programmes", "protected_programme_words"):
        ok = isinstance(v, list | tuple) and all(isinstance(x, str) and x.strip() for x in v)
        return None if ok else "must be a list of non-empty strings"
    if key == "enabled":
        return None if isinstance(v, bool) else "must be true or false"
    return None


def parse_settings(raw: dict | Settings | None, where: str = "[outliers]") -> Settings:
    """Validate the `[outliers]` table; raise one ConfigError naming every bad key."""
    if raw is None:
        return Settings()
    if isinstance(raw, Settings):
        return raw
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table of settings, got {type(raw).__name__}")
    known = [f.name for f in fields(Settings)]
    problems = []
    for key, value in raw.items():
        if key not in known:
            problems.append(f"{where}: unknown setting {key!r} (known: {', '.join(known)})")
            continue
        why = _check(key, value)
        if why:
            problems.append(f"{where}: {key} {why}, got {value!r}")
    if problems:
        raise ConfigError("\n".join(problems))
    values = dict(raw)
    for key in ("protected_programmes", "protected_programme_words"):
        if key in values:
            values[key] = tuple(x.strip() for x in values[key])
    return Settings(**values)
