"""A rule parameter's `calibrate:` block: how `fundwatch calibrate` proposes the county's value.

    params:
      urban_standard:
        type: money
        default: 800
        calibrate:
          says: the modal monthly payment of one-person urban households with no declared income
          query: |            # returns `value` and `n` (how many observations have that value)
            SELECT paid AS value, count(*) AS n FROM ... WHERE year(period) = :year GROUP BY paid
          propose: mode       # mode | quantile | max | largest_common
          min_count: 5        # fewer observations: no proposal
          min_share: 0.3      # the proposal must rest on this share of the observations
          band: [0, 200]      # only values in this range are candidates
          q: 0.9              # for quantile
          plus: 1             # added to the proposal
          round: 10           # rounded up to a multiple (quantile, max; the bin of largest_common)
          repeat: 3           # largest_common: the largest value at least this many share
          clamp: [3, 6]       # kept within
          only: higher        # propose only a value above the current one (higher | lower)
          unit: yuan a month
          counts: household-months
          evidence: |         # optional: a small table shown with the proposal
            SELECT ...
          shows: what that table shows, in words

The SQL is rendered as rule SQL is (fundwatch/rules/render.py): placeholders are the rule's
parameters (with the values proposed so far for this county) and :year, bound as literals.
`check_calibration(rule)` runs when the rule file loads (fundwatch/rules/catalogue.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify import qualify

from fundwatch.errors import RuleError
from fundwatch.rules.render import SCAN_PARAMS, bind, contract_schema, output_columns, parse, scan_values

PROPOSE = ("mode", "quantile", "max", "largest_common")
KEYS = {"says", "query", "propose", "min_count", "min_share", "band", "q", "plus", "round", "clamp", "only",
        "repeat", "unit", "counts", "evidence", "shows"}


@dataclass(frozen=True)
class CalibrateSpec:
    rule_id: str
    param: str
    says: str
    query: exp.Expression
    propose: str = "mode"
    min_count: int = 5
    min_share: float = 0.0
    band: tuple[float, float] | None = None
    q: float = 0.5
    plus: float = 0.0
    round: float | None = None
    clamp: tuple[float, float] | None = None
    only: str | None = None
    unit: str = ""
    counts: str = "observations"
    evidence: exp.Expression | None = None
    shows: str = ""
    repeat: int = 3


def _need(ok: bool, rule, where: str, message: str) -> None:
    if not ok:
        raise RuleError(rule.path, where, message)


def _number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _pair(raw, rule, where: str) -> tuple[float, float] | None:
    if raw is None:
        return None
    _need(isinstance(raw, list) and len(raw) == 2 and all(_number(v) for v in raw) and raw[0] <= raw[1],
          rule, where, "must be [low, high], two numbers with low <= high")
    return float(raw[0]), float(raw[1])


def _check_sql(rule, sql, where: str, needs: tuple[str, ...]) -> exp.Expression:
    _need(isinstance(sql, str) and sql.strip() != "", rule, where, "must be SQL text")
    tree = parse(sql, rule.path)
    tables = {t.name for t in tree.find_all(exp.Table)} - {c.alias_or_name for c in tree.find_all(exp.CTE)}
    undeclared = tables - set(rule.inputs) - set(rule.optional_inputs)
    _need(not undeclared, rule, where, f"reads {', '.join(sorted(undeclared))}, not in the rule's inputs")
    unknown = {p.name for p in tree.find_all(exp.Placeholder)} - set(rule.params) - set(SCAN_PARAMS)
    _need(not unknown, rule, where, f"uses undeclared parameter(s) :{', :'.join(sorted(unknown))}")
    values = {name: p.default for name, p in rule.params.items()} | scan_values(2000)
    try:
        qualify(bind(tree, values), schema=contract_schema(), dialect="duckdb", validate_qualify_columns=True)
    except OptimizeError as e:
        raise RuleError(rule.path, where, f"refers to something the data contract does not have: {e}") from None
    missing = [c for c in needs if c not in output_columns(tree)]
    _need(not missing, rule, where, f"must return column(s) {', '.join(missing)}")
    return tree


def parse_spec(rule, name: str, raw: dict) -> CalibrateSpec:
    where = f"params.{name}.calibrate"
    _need(isinstance(raw, dict) and set(raw) <= KEYS, rule, where,
          f"must be a mapping of {', '.join(sorted(KEYS))}")
    _need(isinstance(raw.get("says"), str) and raw["says"].strip() != "", rule, where + ".says",
          "must say in words what the query measures")
    propose = raw.get("propose", "mode")
    _need(propose in PROPOSE, rule, where + ".propose", f"must be one of {', '.join(PROPOSE)}")
    for key in ("min_share", "q"):
        _need(key not in raw or (_number(raw[key]) and 0 <= raw[key] <= 1), rule, f"{where}.{key}",
              "must be a number in [0, 1]")
    _need(isinstance(raw.get("min_count", 5), int) and raw.get("min_count", 5) >= 1, rule, where + ".min_count",
          "must be a whole number >= 1")
    _need(_number(raw.get("plus", 0)), rule, where + ".plus", "must be a number")
    _need(raw.get("round") is None or (_number(raw["round"]) and raw["round"] > 0), rule, where + ".round",
          "must be a number > 0")
    _need(isinstance(raw.get("repeat", 3), int) and raw.get("repeat", 3) >= 1, rule, where + ".repeat",
          "must be a whole number >= 1")
    _need(propose != "largest_common" or raw.get("round") is not None, rule, where + ".round",
          "is needed by largest_common: it is the width of the bins values share")
    _need(raw.get("only") in (None, "higher", "lower"), rule, where + ".only", "must be higher or lower")
    _need(rule.params[name].type in ("int", "number", "money"), rule, where,
          f"can only propose numbers, and {name} is a {rule.params[name].type}")
    for key in ("unit", "counts", "shows"):
        _need(isinstance(raw.get(key, ""), str), rule, f"{where}.{key}", "must be text")
    evidence = raw.get("evidence")
    return CalibrateSpec(
        rule.id, name, raw["says"].strip(), _check_sql(rule, raw.get("query"), where + ".query", ("value", "n")),
        propose, raw.get("min_count", 5), float(raw.get("min_share", 0.0)), _pair(raw.get("band"), rule, where + ".band"),
        float(raw.get("q", 0.5)), float(raw.get("plus", 0)), raw.get("round"), _pair(raw.get("clamp"), rule, where + ".clamp"),
        raw.get("only"), raw.get("unit", ""), raw.get("counts", "observations"),
        _check_sql(rule, evidence, where + ".evidence", ()) if evidence is not None else None,
        raw.get("shows", "").strip(), raw.get("repeat", 3),
    )


def specs(rule) -> list[CalibrateSpec]:
    """The rule's calibrate blocks, in the order its parameters are declared."""
    return [parse_spec(rule, name, p.calibrate) for name, p in rule.params.items() if p.calibrate is not None]


def check_calibration(rule) -> None:
    """Raise RuleError (file and field) if a `calibrate:` block of the rule is broken."""
    specs(rule)
