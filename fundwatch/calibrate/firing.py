"""Rules whose default looks wrong here: they fire on more than the mis-tuned share of their
population with the configuration in force (the scan's own test, fundwatch/rules/runner.py)."""

from __future__ import annotations

from dataclasses import dataclass

from fundwatch.rules.runner import run_rules


@dataclass
class Firing:
    rule_id: str
    hits: int
    population: int
    share: float
    entity_type: str
    param: str | None  # the parameter its measure is judged against, if the rule says
    share_after: float | None = None  # with the proposed values

    def format(self) -> str:
        text = (f"{self.rule_id} fires on {self.share:.0%} of its {self.entity_type} population "
                f"({self.hits} of {self.population})")
        text += f": check {self.param}" if self.param else ": check its parameters"
        if self.share_after is not None:
            text += f"; with the proposed values {self.share_after:.0%}"
        return text


def firing(engine, ruleset, year: int, present: set[str], config, rules=None):
    """(hits, outcomes, mis-tuned Firings) of running `rules` with `config`."""
    hits, outcomes = run_rules(engine, ruleset, year, present, config, rules=rules)
    found = []
    for o in outcomes:
        if o.mis_tuned:
            rule = ruleset[o.rule_id]
            found.append(Firing(o.rule_id, o.hits, o.population, o.share, rule.entity_type,
                                rule.measure.param if rule.measure else None))
    return hits, outcomes, found
