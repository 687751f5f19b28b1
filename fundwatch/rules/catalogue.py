"""Find, read and validate every rule file. A broken file is reported, the others still run."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fundwatch.errors import RuleError
from fundwatch.rules.model import Rule, parse_rule
from fundwatch.rules.render import check_against_contract, output_columns, parse
from fundwatch.rules.shared import SHARED, Shared, expand, parse_shared, read_shared, shared_path
from fundwatch.rules.summary import check_template
from fundwatch.safe_yaml import safe_yaml


def default_rules_dir() -> Path:
    """$FUNDWATCH_RULES, else the rules/ of a source checkout, else the copy installed with the package."""
    env = os.environ.get("FUNDWATCH_RULES")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parent.parent.parent / "rules"
    if (checkout / "dibao").is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "fundwatch" / "rules"


@dataclass
class RuleSet:
    rules: dict[str, Rule] = field(default_factory=dict)
    errors: list[RuleError] = field(default_factory=list)
    trees: dict[str, object] = field(default_factory=dict)  # rule id -> parsed SQL

    def __iter__(self):
        return iter(self.rules.values())

    def __len__(self) -> int:
        return len(self.rules)

    def __getitem__(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def select(self, ids=None, programs=None) -> list[Rule]:
        return [r for r in self.rules.values()
                if (not ids or r.id in ids) and (not programs or r.program in programs)]


def read_rule_file(path: Path) -> tuple[Rule, object]:
    shared = shared_path(path)
    return _read_rule_text(path, path.read_text(encoding="utf-8"), shared,
                           shared.read_text(encoding="utf-8") if shared.is_file() else "")


@functools.lru_cache(maxsize=512)
def _read_rule_text(path: Path, text: str, shared: Path, shared_text: str) -> tuple[Rule, object]:
    # Parsing and checking SQL against the contract takes ~50 ms a rule: do it once per
    # file content (and shared.yaml's) in a process (notebooks and tests load the catalogue many times).
    return parse_rule_text(text, path, parse_shared(shared, shared_text))


def parse_rule_text(text: str, path: Path, shared: Shared | None = None) -> tuple[Rule, object]:
    """(rule, parsed SQL) for the text of a rule file at `path`, with every load-time check;
    `shared`: what shared.yaml says (default: the one beside the rule's folder, see shared_path).

    A broken rule raises RuleError naming the path and field.
    """
    try:
        # Plain data only: no tags, no Python objects, no aliases, bounded nesting.
        data = safe_yaml(text)
    except yaml.YAMLError as e:
        raise RuleError(path, "(yaml)", f"not valid YAML: {e}") from None
    shared = shared if shared is not None else read_shared(shared_path(path))
    rule = parse_rule(data, path, "", shared.params)
    parsed = parse(rule.query, path)
    tree = expand(parsed, shared.macros, path)
    # A rule that uses shared.yaml changes when it does: its version (run records, reuse) says so.
    uses_shared = tree is not parsed or any(p == SHARED for p in (data.get("params") or {}).values())
    rule = dataclasses.replace(rule, version=hashlib.sha256(
        (text + ("\n" + shared.text if uses_shared else "")).encode()).hexdigest()[:12])
    check_against_contract(tree, rule)
    for lang, template in rule.summary.items():
        problems = check_template(template, output_columns(tree))
        if problems:
            raise RuleError(path, f"summary.{lang}", "; ".join(problems))
    check_finding_columns(rule, output_columns(tree))
    if rule.eligible:
        from fundwatch.coverage.eligible import check_eligible

        check_eligible(rule, tree)
    from fundwatch.calibrate.spec import check_calibration  # here: spec.py imports fundwatch.rules

    check_calibration(rule)  # the `calibrate:` blocks of its params
    return rule, tree


def check_finding_columns(rule: Rule, columns: list[str]) -> None:
    """`finding`, `merge_on`, `involves` and `measure` name columns the query returns."""
    if "*" in columns:
        return
    named = [("finding", c) for c in rule.finding]
    named += [(f"merge_on.{k}", c) for k, c in rule.merge_on.items()]
    named += [(f"involves.{k}", c) for k, c in rule.involves.items()]
    named += [("measure.column", rule.measure.column)] if rule.measure else []
    for fld, column in named:
        if column not in columns:
            raise RuleError(rule.path, fld, f"names {column!r}, which the query does not return "
                                            f"(it returns: {', '.join(columns)})")


def load_rules(directory: str | Path | None = None) -> RuleSet:
    directory = Path(directory) if directory else default_rules_dir()
    result = RuleSet()
    if not directory.is_dir():
        result.errors.append(RuleError(directory, "(folder)", "rules folder not found"))
        return result
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*/*.yaml")) + sorted(directory.glob("*/*.yml")):
        try:
            rule, tree = read_rule_file(path)
        except RuleError as e:
            result.errors.append(e)
            continue
        if rule.id in seen:
            result.errors.append(RuleError(path, "id", f"duplicate id {rule.id!r}, also in {seen[rule.id]}"))
            continue
        seen[rule.id] = path
        result.rules[rule.id] = rule
        result.trees[rule.id] = tree
    return result
