"""A county's configuration: rule parameter overrides and scan settings (fundwatch.toml), layered.

    extends = ["profile:any_car", "../province.toml"]   # read first; this file wins over them

    [scan]
    mis_tuned_share = 0.05          # a rule firing on more than this share of its entities is called out

    [params."dibao.vehicle"]
    price_threshold = 150000

    [county."411522".params."dibao.over_standard"]      # only where the data's region code starts 411522
    rural_standard = 620

    [year.2024.params."dibao.over_standard"]            # only when scanning 2024
    urban_standard = 800

    [county."411522".year.2024.params."dibao.over_standard"]
    rural_standard = 650

    [outliers]
    contamination = 0.02

    [regions]                       # the county's area names, for the report (by code otherwise)
    "522631101" = "德凤街道"

Precedence, lowest first; the nearest (most specific) value wins, as in dbt's project > folder > model:

  1. the rule's default (rules/**.yaml, with its `source`);
  2. profiles (`extends = ["profile:<name>"]`: rules/profiles/<name>.toml), in the order met;
  3. the other extended files, in the order listed (a file's own `extends` come before it),
     paths relative to the file that names them;
  4. this file;
  and within each file: its [params] < its [county."<prefix>"] sections (a longer prefix wins)
  < its [year.<Y>] section < its [county."<prefix>".year.<Y>] sections.

So a county's own fundwatch.toml wins over the province file it extends, even over the province's
section for that county. `Config.resolve(year=, county=)` gives the flat values for one scan;
`Config.explain(rule)` says where each value comes from. [scan], [outliers], [scoring] and
[regions] are layered by file only (a later file's key wins).
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from fundwatch.errors import ConfigError
from fundwatch.rules.params import coerce

DEFAULT_FILE = "fundwatch.toml"
SECTIONS = {"scan", "params", "outliers", "scoring", "regions"}
TOP_KEYS = SECTIONS | {"extends", "county", "year"}
PROFILE_PREFIX = "profile:"
_COUNTY = re.compile(r"\d{2,12}")
_YEAR = re.compile(r"(19|20)\d\d")


@dataclass(frozen=True)
class Layer:
    """One table of rule parameters in one file: its base [params], a county's or a year's."""

    file: str
    section: str  # where in the file: 'params', 'county."411522".params', 'year.2024.params'
    params: dict  # rule id -> param -> raw value
    rank: int = 0  # the file's place in the precedence (higher wins)
    county: str | None = None  # a region-code prefix
    year: int | None = None

    def applies(self, year: int | None, county: str | None) -> bool:
        return ((self.year is None or self.year == year)
                and (self.county is None or (county is not None and str(county).startswith(self.county))))

    @property
    def precedence(self) -> tuple:
        return self.rank, self.year is not None, self.county is not None, len(self.county or "")

    def where(self, rule_id: str, name: str | None = None) -> str:
        key = f'{self.section}."{rule_id}"'
        return f"{self.file}: {key}.{name}" if name else f"{self.file}: [{key}]"


@dataclass(frozen=True)
class Setting:
    """One parameter's value for a rule, where it comes from and what it overrides."""

    rule_id: str
    param: str
    value: object
    source: str
    overrides: tuple[tuple[str, object], ...] = ()  # (source, value) of the layers below it, nearest first

    def format(self) -> str:
        line = f"  {self.param} = {_show(self.value)}    {self.source}"
        for src, value in self.overrides:
            line += f"\n      (over {_show(value)} from {src})"
        return line


def _show(value) -> str:
    return str(value) if not isinstance(value, str) else repr(value)


@dataclass
class Config:
    path: str | None = None
    params: dict[str, dict] = field(default_factory=dict)  # rule id -> param -> raw value (resolved)
    mis_tuned_share: float = 0.05  # the default, said once: load_config starts from it
    outliers: dict = field(default_factory=dict)
    scoring: dict = field(default_factory=dict)
    layers: list[Layer] = field(default_factory=list)  # every layer of every file, lowest first
    year: int | None = None  # what `params` was resolved for
    county: str | None = None
    files: list[str] = field(default_factory=list)  # the files read, lowest first
    regions: dict[str, str] = field(default_factory=dict)  # region code -> its name ([regions])

    # --- values ----------------------------------------------------------------------
    def resolve(self, year: int | None = None, county: str | None = None) -> Config:
        """This configuration's flat values for scanning `year` on data of region `county`."""
        if not self.layers:
            return replace(self, params={k: dict(v) for k, v in self.params.items()}, year=year, county=county)
        params: dict[str, dict] = {}
        for layer in self._applicable(year, county):
            for rule_id, values in layer.params.items():
                params.setdefault(rule_id, {}).update(values)
        return replace(self, params=params, year=year, county=None if county is None else str(county))

    def _applicable(self, year, county) -> list[Layer]:
        return sorted((la for la in self.layers if la.applies(year, county)), key=lambda la: la.precedence)

    def _source(self, rule_id: str, name: str) -> str:
        for layer in reversed(self._applicable(self.year, self.county)):
            if name in layer.params.get(rule_id, {}):
                return layer.where(rule_id, name)
        return f"{self.path or 'config'}: params.{rule_id}.{name}"

    def rule_params(self, rule) -> dict:
        """The rule's parameter values: defaults, overridden by this config (validated)."""
        values = {name: p.default for name, p in rule.params.items()}
        for name, raw in self.params.get(rule.id, {}).items():
            where = self._source(rule.id, name)
            if name not in rule.params:
                raise ConfigError(f"{where}: rule {rule.id} has no parameter {name!r} "
                                  f"(it has: {', '.join(rule.params) or 'none'})")
            try:
                values[name] = coerce(rule.params[name].type, raw, where)
            except ValueError as e:
                raise ConfigError(str(e)) from None
        return values

    def validate_against(self, ruleset) -> None:
        """Every layer, whether it applies to this scan or not, names known rules and parameters
        with values of their type; the error names the file and key."""
        if not self.layers:
            for rule_id in self.params:
                if rule_id not in ruleset.rules:
                    raise ConfigError(f"{self.path}: [params.\"{rule_id}\"] names no known rule")
                self.rule_params(ruleset.rules[rule_id])
            return
        for layer in self.layers:
            for rule_id, values in layer.params.items():
                if rule_id not in ruleset.rules:
                    raise ConfigError(f"{layer.where(rule_id)} names no known rule")
                rule = ruleset.rules[rule_id]
                for name, raw in values.items():
                    if name not in rule.params:
                        raise ConfigError(f"{layer.where(rule_id, name)}: rule {rule_id} has no parameter {name!r} "
                                          f"(it has: {', '.join(rule.params) or 'none'})")
                    try:
                        coerce(rule.params[name].type, raw, layer.where(rule_id, name))
                    except ValueError as e:
                        raise ConfigError(str(e)) from None

    # --- where each value comes from ---------------------------------------------------
    def explain(self, rule, ruleset=None) -> list[Setting]:
        """Every parameter of `rule` (a Rule or a rule id) with its value and source, for the
        year and county this configuration was resolved for."""
        if isinstance(rule, str):
            if ruleset is None:
                from fundwatch.rules import load_rules

                ruleset = load_rules()
            if rule not in ruleset.rules:
                raise ConfigError(f"unknown rule {rule!r} (see `fundwatch rules list`)")
            rule = ruleset.rules[rule]
        values = self.rule_params(rule)
        out = []
        for name, p in rule.params.items():
            chain = [(la.where(rule.id, name), la.params[rule.id][name])
                     for la in reversed(self._applicable(self.year, self.county)) if name in la.params.get(rule.id, {})]
            default = (f"rule default (source: {p.source or 'not stated'})", p.default)
            if not self.layers and name in self.params.get(rule.id, {}):
                chain = [(f"{self.path or 'config'}: params.{rule.id}.{name}", self.params[rule.id][name])]
            chain.append(default)
            out.append(Setting(rule.id, name, values[name], chain[0][0], tuple(chain[1:]) if len(chain) > 1 else ()))
        return out


# --- reading files -----------------------------------------------------------------------
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


def _read_toml(path: Path) -> dict:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: cannot read the configuration: {e}") from e
    bad = _non_finite(data)
    if bad:
        raise ConfigError(f"{path}: {bad} is nan or inf; give a number")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}; expected "
                          f"{', '.join(sorted(TOP_KEYS))}")
    return data


def _check_params(path: Path, section: str, params) -> dict:
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        raise ConfigError(f"{path}: [{section}] must hold one table per rule id, e.g. [{section}.\"dibao.vehicle\"]")
    for rule_id, values in params.items():
        for name, value in values.items():
            if isinstance(value, dict):
                raise ConfigError(f"{path}: {section}.\"{rule_id}\".{name}: a parameter takes a value, not a table "
                                  f"(values for one year go under [year.{name if _YEAR.fullmatch(name) else 2024}"
                                  f".params.\"{rule_id}\"])")
    return params


def _scoped(path: Path, prefix: str, table, allowed: set[str] | None = None) -> dict:
    """`table` if it is a TOML table holding only `allowed` keys (None: any key)."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {prefix} must be a table")
    unknown = set(table) - allowed if allowed is not None else set()
    if unknown:
        raise ConfigError(f"{path}: {prefix}.{sorted(unknown)[0]}: unknown key; expected {', '.join(sorted(allowed))}")
    return table


def _file_layers(path: Path, data: dict, rank: int) -> list[Layer]:
    layers = [Layer(str(path), "params", _check_params(path, "params", data.get("params", {})), rank)]

    def years(prefix: str, table, county):
        for key, inner in _scoped(path, prefix, table).items():
            if not _YEAR.fullmatch(key):
                raise ConfigError(f"{path}: {prefix}.{key}: a year key must be a year, e.g. {prefix}.2024")
            inner = _scoped(path, f"{prefix}.{key}", inner, {"params"})
            section = f"{prefix}.{key}.params"
            layers.append(Layer(str(path), section, _check_params(path, section, inner.get("params", {})), rank,
                                county, int(key)))

    for code, inner in _scoped(path, "county", data.get("county", {})).items():
        if not _COUNTY.fullmatch(code):
            raise ConfigError(f"{path}: county.\"{code}\": a county key must be a region-code prefix of 2-12 digits")
        prefix = f'county."{code}"'
        inner = _scoped(path, prefix, inner, {"params", "year"})
        section = f"{prefix}.params"
        layers.append(Layer(str(path), section, _check_params(path, section, inner.get("params", {})), rank, code))
        years(f"{prefix}.year", inner.get("year", {}), code)
    years("year", data.get("year", {}), None)
    return layers


def _extends(path: Path, data: dict) -> list:
    items = data.get("extends", [])
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        raise ConfigError(f"{path}: extends must be a list of files or \"profile:<name>\", got {items!r}")
    return items


def _target(path: Path, item: str, profiles_dir: Path) -> tuple[Path, bool]:
    if item.startswith(PROFILE_PREFIX):
        name = item[len(PROFILE_PREFIX):].strip()
        target = profiles_dir / f"{name}.toml"
        if not re.fullmatch(r"[\w.-]+", name) or not target.is_file():
            known = sorted(p.stem for p in profiles_dir.glob("*.toml")) if profiles_dir.is_dir() else []
            raise ConfigError(f"{path}: extends: profile {name!r} not found in {profiles_dir} "
                              f"(profiles there: {', '.join(known) or 'none'})")
        return target, True
    target = Path(os.path.normpath(path.parent / item))  # province.toml, not county/../province.toml
    if not target.is_file():
        raise ConfigError(f"{path}: extends: {item!r}: no such file {target}")
    return target, False


def _read_tree(path: Path, profiles_dir: Path, stack: tuple[Path, ...], seen: dict, order: list) -> None:
    """Depth-first: the files `path` extends, then `path`; each file once."""
    data = _read_toml(path)
    for item in _extends(path, data):
        target, is_profile = _target(path, item, profiles_dir)
        key = target.resolve()
        if key in stack:
            chain = " -> ".join(str(p) for p in (*stack, key))
            raise ConfigError(f"{path}: extends: {item!r} makes a cycle: {chain}")
        if key not in seen:
            _read_tree(target, profiles_dir, (*stack, key), seen, order)
        if is_profile:
            seen[key] = (seen[key][0], True)
    seen[path.resolve()] = (data, seen.get(path.resolve(), (None, False))[1])
    order.append((path, path.resolve()))


def _scan_share(path, scan) -> float:
    share = scan["mis_tuned_share"]
    if not isinstance(share, int | float) or isinstance(share, bool) or not 0 < share <= 1:
        raise ConfigError(f"{path}: scan.mis_tuned_share must be a number in (0, 1], got {share!r}")
    return float(share)


def _region_names(path, table) -> dict[str, str]:
    """[regions]: region code (2-12 digits) -> a non-empty name."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [regions] must be a table of region code = \"name\"")
    for code, name in table.items():
        if not _COUNTY.fullmatch(code):
            raise ConfigError(f"{path}: regions.\"{code}\": a region code is 2-12 digits, e.g. \"522631101\"")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{path}: regions.\"{code}\": the name must be text, got {name!r}")
    return {code: name.strip() for code, name in table.items()}


def resolve_config(config) -> Config:
    """A Config, from a Config, a fundwatch.toml path, or None (./fundwatch.toml if present)."""
    return config if isinstance(config, Config) else load_config(config)


def load_config(path: str | Path | None = None, rules_dir: str | Path | None = None) -> Config:
    """Read `path` (and the files it extends), or ./fundwatch.toml if it exists, else the defaults.

    Profiles are looked up in `rules_dir`/profiles (default: the rules folder in use)."""
    if path is None:
        if not Path(DEFAULT_FILE).exists():
            return Config()
        path = DEFAULT_FILE
    path = Path(path)
    if rules_dir is None:
        from fundwatch.rules.catalogue import default_rules_dir

        rules_dir = default_rules_dir()
    seen: dict = {}
    order: list = []
    _read_tree(path, Path(rules_dir) / "profiles", (path.resolve(),), seen, order)
    # Profiles first (the law's defaults), then the other files, the named file last.
    ordered = [p for p, k in order if seen[k][1]] + [p for p, k in order if not seen[k][1]]
    layers: list[Layer] = []
    scan: dict = {}
    outliers: dict = {}
    scoring: dict = {}
    regions: dict[str, str] = {}
    share = Config.mis_tuned_share
    for rank, file in enumerate(ordered):
        data = seen[file.resolve()][0]
        layers += _file_layers(file, data, rank)
        for section, merged in (("scan", scan), ("outliers", outliers), ("scoring", scoring)):
            table = data.get(section, {})
            if not isinstance(table, dict):
                raise ConfigError(f"{file}: [{section}] must be a table")
            merged.update(table)
        if "mis_tuned_share" in data.get("scan", {}):
            share = _scan_share(file, data["scan"])
        regions.update(_region_names(file, data.get("regions", {})))
    config = Config(str(path), {}, share, outliers, scoring, layers, files=[str(p) for p in ordered],
                    regions=regions)
    return config.resolve()
