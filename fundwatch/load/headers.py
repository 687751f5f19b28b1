"""Map the headers a file was written with to the contract's canonical columns.

Built-in aliases (fundwatch/contract/aliases.py) plus a user mapping file. The mapping
file is TOML or YAML:

    [subsidy_payments]        # per table ...
    "补贴对象身份证" = "person_id"
    ["*"]                     # ... or for every table that has the column
    "身份证件号" = "person_id"

An unknown header is reported, never guessed here: `fundwatch headers` proposes a mapping
(fundwatch/load/header_guess.py).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fundwatch.contract.aliases import COLUMN_ALIASES, TABLE_ALIASES, normalise_header
from fundwatch.contract.tables import TABLES, TableSpec
from fundwatch.errors import ConfigError
from fundwatch.safe_yaml import safe_yaml

UserMapping = dict[str, dict[str, str]]  # table or "*" -> header -> canonical column


def read_mapping(path: str | Path | None) -> UserMapping:
    if path is None:
        return {}
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else safe_yaml(text)
    except (OSError, tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeError) as e:
        raise ConfigError(f"{path}: cannot read the header mapping: {e}") from e
    if (
        not isinstance(data, dict)
        or not all(isinstance(k, str) and isinstance(v, dict) for k, v in data.items())
        or not all(isinstance(h, str) and isinstance(c, str) for v in data.values() for h, c in v.items())
    ):
        raise ConfigError(f'{path}: expected sections [table] (or ["*"]) of "header" = "column" lines')
    problems = []
    for section, entries in data.items():
        if section != "*" and section not in TABLES:
            problems.append(f"section [{section}] is not a table of the contract")
            continue
        for header, column in entries.items():
            targets = [TABLES[section]] if section != "*" else list(TABLES.values())
            if not any(column in t.column_names for t in targets):
                problems.append(f"[{section}] {header!r} = {column!r}: no such column")
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return {k: {str(h): str(c) for h, c in v.items()} for k, v in data.items()}


def alias_table(spec: TableSpec, user: UserMapping) -> dict[str, str]:
    """Normalised header -> canonical column, for one table."""
    names: dict[str, str] = {}
    for col in spec.columns:
        for alias in (
            col.name,
            *COLUMN_ALIASES.get(col.name, ()),
            *TABLE_ALIASES.get(spec.name, {}).get(col.name, ()),
        ):
            names.setdefault(normalise_header(alias), col.name)
    # A table's own aliases win over the generic ones (统一社会信用代码 in cooperatives).
    for col, aliases in TABLE_ALIASES.get(spec.name, {}).items():
        for alias in aliases:
            names[normalise_header(alias)] = col
    for section in ("*", spec.name):
        for header, column in user.get(section, {}).items():
            if column in spec.column_names:
                names[normalise_header(header)] = column
    return names


@dataclass
class HeaderMap:
    columns: dict[str, int] = field(default_factory=dict)  # canonical column -> position in file
    unknown: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def map_headers(path: Path, headers: list[str], spec: TableSpec, user: UserMapping) -> HeaderMap:
    names = alias_table(spec, user)
    result = HeaderMap()
    for pos, header in enumerate(headers):
        column = names.get(normalise_header(header))
        if column is None:
            if header.strip():
                result.unknown.append(header)
            continue
        if column in result.columns:
            first = headers[result.columns[column]]
            result.problems.append(
                f"{path}: headers {first!r} and {header!r} both mean column {column!r}; keep one or rename one"
            )
            continue
        result.columns[column] = pos
    missing = [c for c in spec.required if c not in result.columns]
    if missing:
        result.problems.append(
            f"{path}: missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"for table {spec.name}; found columns: {', '.join(repr(h) for h in headers)}"
            + (
                f"; if they are there under another name, run `fundwatch headers {_data_dir(path, spec)} "
                "--write mapping.toml`, check it, then load with --mapping mapping.toml"
                if result.unknown
                else ""
            )
        )
    return result


def _data_dir(path: Path, spec: TableSpec) -> Path:
    """The folder `fundwatch load` was given: the parent of `<table>.csv` or of a `<table>/` folder."""
    for parent in Path(path).parents:
        if parent.name.lower() == spec.name:
            return parent.parent
    return Path(path).parent
