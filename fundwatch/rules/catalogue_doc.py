"""docs/rule-catalogue.md, generated from the rule files (`fundwatch rules catalogue`).

A rule's facts (title, entity, level, defaults, look-alikes) are said once, in its YAML file; the
prose that is about every rule (how dates are read, the sample world's ground truth) is said once,
in the template docs/rule-catalogue.template.md, whose `{{name}}` lines are filled in here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from fundwatch.entities import ENTITY_NAMES
from fundwatch.errors import FundwatchError
from fundwatch.rules.catalogue import RuleSet, load_rules
from fundwatch.rules.model import PROGRAMS, Param, Rule

PLACEHOLDERS = ("entity_types", "rule_tables", "rule_details")


def default_template() -> Path:
    """The template of a source checkout (docs/ is not installed with the package)."""
    return Path(__file__).resolve().parent.parent.parent / "docs" / "rule-catalogue.template.md"


def catalogue_markdown(rules_dir: str | Path | None = None, template: str | Path | None = None) -> str:
    """The catalogue document for the rules of `rules_dir` (default: the catalogue's folder)."""
    template = Path(template) if template else default_template()
    if not template.is_file():
        raise FundwatchError(f"{template}: catalogue template not found (pass --template FILE)")
    ruleset = load_rules(rules_dir)
    if ruleset.errors:  # a catalogue silently without a broken rule would mislead
        raise FundwatchError("cannot write the catalogue, broken rule file(s):\n"
                             + "\n".join(f"  - {e}" for e in ruleset.errors))
    return fill(template.read_text(encoding="utf-8"), template, {
        "entity_types": ", ".join(ENTITY_NAMES),
        "rule_tables": rule_tables(ruleset),
        "rule_details": "\n\n".join(rule_section(r) for r in _in_order(ruleset)),
    })


def fill(text: str, template: Path, values: dict[str, str]) -> str:
    """`text` with each `{{name}}` replaced; every placeholder must appear exactly once."""
    for name in PLACEHOLDERS:
        count = text.count("{{" + name + "}}")
        if count != 1:
            raise FundwatchError(f"{template}: must hold {{{{{name}}}}} once, found {count} times")
        text = text.replace("{{" + name + "}}", values[name])
    if "{{" in text:
        line = text[: text.index("{{")].count("\n") + 1
        raise FundwatchError(f"{template}: line {line}: unknown placeholder (known: {', '.join(PLACEHOLDERS)})")
    return text.rstrip("\n") + "\n"


def _in_order(ruleset: RuleSet) -> list[Rule]:
    """Programme by programme in the model's order, each in its folder's file order."""
    return sorted(ruleset, key=lambda r: (PROGRAMS.index(r.program), r.path.name))


def rule_tables(ruleset: RuleSet) -> str:
    """One table per programme; tests/test_sample_world.py reads its id, entity and look-alike cells."""
    parts = []
    for program in PROGRAMS:
        rules = [r for r in _in_order(ruleset) if r.program == program]
        if not rules:
            continue
        parts += [f"### {program}", "",
                  "| id | entity | flags | legitimate look-alike it must NOT flag | level | status |",
                  "| --- | --- | --- | --- | --- | --- |"]
        parts += [_row(r.id, r.entity_type, r.title["en"], "; ".join(r.lookalikes), r.level, r.status)
                  for r in rules]
        parts.append("")
    return "\n".join(parts).rstrip("\n")


def rule_section(rule: Rule) -> str:
    lines = [f"### {rule.id}", "", f"**{rule.title['en']}** · {rule.title['zh']}", "",
             f"entity {rule.entity_type} · level {rule.level} · status {rule.status} · matched on "
             f"{rule.matched_on} · inputs {', '.join(rule.inputs)}"
             + (f" (optional: {', '.join(rule.optional_inputs)})" if rule.optional_inputs else ""),
             "", _flat(rule.description), "", f"**Basis.** {_flat(rule.basis)}", "",
             "**Legitimate look-alikes, and how the rule avoids them:**", ""]
    lines += [f"- {_flat(fp)}" for fp in rule.falsepositives]
    lines.append("")
    if not rule.params:
        lines.append("No parameters.")
        return "\n".join(lines)
    lines += ["| parameter | type | default | meaning | source |", "| --- | --- | --- | --- | --- |"]
    lines += [_row(p.name, p.type, f"`{format_default(p)}`", p.description, p.source) for p in rule.params.values()]
    return "\n".join(lines)


def format_default(param: Param) -> str:
    """A default as a county would write it in its config."""
    v = param.default
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal):
        return str(int(v)) if v == v.to_integral_value() else f"{v:.2f}"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, list):
        return ", ".join(v) if v else "(none)"
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v) if v != "" else "(empty)"


def _flat(text: str) -> str:
    """One line: YAML's folded and literal blocks alike."""
    return " ".join(text.split())


def _row(*cells: str) -> str:
    return "| " + " | ".join(_flat(c).replace("|", "\\|") for c in cells) + " |"
