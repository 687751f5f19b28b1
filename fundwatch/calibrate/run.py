"""Calibrate one county: proposals from the rules' calibrate blocks, the rules that fire too
often, and the conventions their hits show, all on the data loaded in a workspace."""

from __future__ import annotations

from dataclasses import dataclass, field

from fundwatch.calibrate.conventions import conventions_of_run
from fundwatch.calibrate.county import county_code
from fundwatch.calibrate.firing import Firing, firing
from fundwatch.calibrate.proposal import Proposal
from fundwatch.calibrate.proposals import propose_rule
from fundwatch.config import Config


@dataclass
class Calibration:
    data: str
    year: int
    county: str | None
    proposals: list[Proposal] = field(default_factory=list)
    firing: list[Firing] = field(default_factory=list)

    @property
    def changed(self) -> list[Proposal]:
        return [p for p in self.proposals if p.changed]

    def values(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for p in self.changed:
            out.setdefault(p.rule_id, {})[p.param] = p.value
        return out

    def format(self) -> str:
        lines = [f"calibration of {self.data} for {self.year}" + (f" (county {self.county})" if self.county else "")]
        lines += ["", "Proposals:" if self.proposals else "No rule parameter could be measured in this data."]
        lines += [p.format() for p in self.proposals]
        lines += ["", "Rules whose values look wrong here:" if self.firing
                  else "No rule fires on more than the mis-tuned share of its population."]
        lines += [f"  {f.format()}" for f in self.firing]
        return "\n".join(lines)


def calibrate(ws, year: int, *, config: Config | None = None, ruleset=None, present: set[str] | None = None,
              county: str | None = None, data: str = "the workspace") -> Calibration:
    """Propose the county's values for `year` from the tables loaded in `ws`.

    >>> cal = calibrate(ws, 2023);  print(cal.format());  write_toml(cal, "fundwatch.toml")
    """
    from fundwatch.rules import load_rules

    ruleset = ruleset if ruleset is not None else load_rules()
    present = set(present if present is not None else ws.loaded_tables())
    county = county or county_code(ws.engine, present)
    config = (config or Config()).resolve(year=year, county=county)
    config.validate_against(ruleset)
    rules = [r for r in ruleset if set(r.inputs) <= present]
    result = Calibration(data, year, county)
    for rule in rules:
        result.proposals += propose_rule(ws.engine, rule, year, config.rule_params(rule))
    _, _, result.firing = firing(ws.engine, ruleset, year, present, config, rules=rules)
    merged = {k: dict(v) for k, v in config.params.items()}
    for rule_id, values in result.values().items():
        merged.setdefault(rule_id, {}).update(values)
    proposed = Config("(proposed)", merged, config.mis_tuned_share)
    again = [r for r in rules if r.measure is not None or r.id in {f.rule_id for f in result.firing}]
    hits, outcomes, _ = firing(ws.engine, ruleset, year, present, proposed, rules=again)
    shares = {o.rule_id: o.share for o in outcomes}
    for f in result.firing:
        f.share_after = shares.get(f.rule_id)
    taken = {(p.rule_id, p.param) for p in result.changed}
    result.proposals += conventions_of_run(hits, again, proposed, skip=taken)
    return result
