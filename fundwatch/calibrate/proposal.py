"""One proposed value for one rule parameter, with the evidence behind it."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal


def toml_value(value) -> str:
    """`value` as TOML: money without needless decimals, strings quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral_value() else str(value.normalize())
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


@dataclass
class Proposal:
    rule_id: str
    param: str
    value: object  # of the parameter's type
    current: object  # the value in force (rule default or the base config)
    why: str  # one sentence
    evidence: list[str] = field(default_factory=list)  # lines: a small table or a histogram in words
    kind: str = "calibrate"  # calibrate (a param's calibrate block) | convention (a pattern among hits)

    @property
    def changed(self) -> bool:
        return self.value is not None and self.value != self.current

    @property
    def config_line(self) -> str:
        return f'[params."{self.rule_id}"] {self.param} = {toml_value(self.value)}'

    def format(self) -> str:
        head = f"{self.rule_id} {self.param}: "
        if self.value is None:
            head += f"no proposal ({self.why}); keeps {toml_value(self.current)}"
        elif not self.changed:
            head += f"{toml_value(self.value)}, as now ({self.why})"
        else:
            head += f"propose {toml_value(self.value)} instead of {toml_value(self.current)}: {self.why}"
        return "\n".join([head, *(f"    {line}" for line in self.evidence)])
