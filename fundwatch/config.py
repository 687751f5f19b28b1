"""A county's configuration: rule parameter overrides and scan settings (fundwatch.toml).

    [scan]
    mis_tuned_share = 0.05          # a rule firing on more than this share of its entities is called out

    [params."dibao.vehicle"]
    price_threshold = 150000

    [outliers]
    contamination = 0.02
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from fundwatch.errors import ConfigError
from fundwatch.rules.params import coerce

DEFAULT_FILE = "fundwatch.toml"
SECTIONS = {"scan", "params", "outliers", "scoring"}


@dataclass
class Config:
    path: str | None = None
    params: dict[str, dict] = field(default_factory=dict)  # rule id -> param -> raw value
    mis_tuned_share: float = 0.05
    outliers: dict = field(default_factory=dict)
    scoring: dict = field(default_factory=dict)

    def rule_params(self, rule) -> dict:
        """The rule's parameter values: defaults, overridden by this config (validated)."""
        values = {name: p.default for name, p in rule.params.items()}
        for name, raw in self.params.get(rule.id, {}).items():
            where = f"{self.path or 'config'}: params.{rule.id}.{name}"
            if name not in rule.params:
                raise ConfigError(f"{where}: rule {rule.id} has no parameter {name!r} "
                                  f"(it has: {', '.join(rule.params) or 'none'})")
            try:
                values[name] = coerce(rule.params[name].type, raw, where)
            except ValueError as e:
                raise ConfigError(str(e)) from None
        return values

    def validate_against(self, ruleset) -> None:
        for rule_id in self.params:
            if rule_id not in ruleset.rules:
                raise ConfigError(f"{self.path}: [params.\"{rule_id}\"] names no known rule")
            self.rule_params(ruleset.rules[rule_id])


def _non_finite(data, where: str = "") -> str | None:
    """The key of the first nan or inf in the TOML (TOML has them; no setting means them)."""
    if isinstance(data, float) and not math.isfinite(data):
        return where
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for k, v in items:
        found = _non_finite(v, f"{where}.{k}" if where else str(k))
        if found:
            return found
    return None


def load_config(path: str | Path | None = None) -> Config:
    """Read `path`, or ./fundwatch.toml if it exists, else the defaults."""
    if path is None:
        if not Path(DEFAULT_FILE).exists():
            return Config()
        path = DEFAULT_FILE
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: cannot read the configuration: {e}") from e
    bad = _non_finite(data)
    if bad:
        raise ConfigError(f"{path}: {bad} is nan or inf; give a number")
    unknown = set(data) - SECTIONS
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}; expected {', '.join(sorted(SECTIONS))}")
    scan = data.get("scan", {})
    share = scan.get("mis_tuned_share", 0.05)
    if not isinstance(share, int | float) or not 0 < share <= 1:
        raise ConfigError(f"{path}: scan.mis_tuned_share must be a number in (0, 1], got {share!r}")
    params = data.get("params", {})
    if not all(isinstance(v, dict) for v in params.values()):
        raise ConfigError(f"{path}: [params] must hold one table per rule id, e.g. [params.\"dibao.vehicle\"]")
    return Config(str(path), params, float(share), data.get("outliers", {}), data.get("scoring", {}))
