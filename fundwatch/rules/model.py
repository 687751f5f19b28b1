"""The rule file format, and its validation. See README "Writing a rule"."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fundwatch.contract.tables import TABLES
from fundwatch.entities import ENTITY_NAMES
from fundwatch.errors import RuleError
from fundwatch.rules.params import PARAM_TYPES, coerce
from fundwatch.rules.shared import SHARED

STATUSES = ("experimental", "test", "stable")
LEVELS = ("low", "medium", "high", "critical")
PROGRAMS = ("dibao", "subsidy", "housing", "cooperative", "cross", "coverage")  # coverage: 应享未享
ENTITY_TYPES = ENTITY_NAMES  # the registry: fundwatch/entities.py
REQUIRED_OUTPUT = ("entity_id", "year", "amount_at_risk")

FIELDS = {
    "id", "title", "status", "program", "entity_type", "level", "description", "basis", "falsepositives",
    "inputs", "params", "matched_on", "query", "summary", "tests", "author", "date", "modified",
    "references", "tags", "optional_inputs", "history", "finding", "merge_on", "involves", "measure",
    "lookalikes", "eligible",
}
REQUIRED = ("id", "title", "status", "program", "entity_type", "level", "description", "basis",
            "falsepositives", "inputs", "matched_on", "query", "summary", "tests")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: object
    description: str = ""
    source: str = ""  # where the default comes from: the law, a province's rule, or "placeholder"
    calibrate: dict | None = None  # how `fundwatch calibrate` proposes a county's value (fundwatch/calibrate)


@dataclass(frozen=True)
class Measure:
    """What a hit measures (days late, yuan above the standard): how far it stands from legitimate.

    Ranking compares each hit with the county's own distribution of it (fundwatch/cases/score.py)."""

    column: str  # an output column of the query
    worse: str = "higher"  # higher | lower: which way is further from legitimate
    param: str | None = None  # the parameter the measure is judged against (for convention reports)


@dataclass(frozen=True)
class RuleTest:
    name: str
    data: dict[str, list[dict]]
    expect: tuple[str, ...]
    expect_not: tuple[str, ...]
    year: int
    params: dict = field(default_factory=dict)
    expect_amounts: dict = field(default_factory=dict)  # entity -> amount_at_risk it must report


@dataclass(frozen=True)
class Rule:
    id: str
    title: dict[str, str]
    status: str
    program: str
    entity_type: str
    level: str
    description: str
    basis: str
    falsepositives: tuple[str, ...]
    inputs: tuple[str, ...]
    params: dict[str, Param]
    matched_on: str
    query: str
    summary: dict[str, str]
    tests: tuple[RuleTest, ...]
    path: Path
    version: str  # hash of the file's text: the rule's version in run records
    # engine -> {"query": its own SQL in its dialect, or None; "note": why}. No query = does not run there.
    optional_inputs: tuple[str, ...] = ()  # read if loaded, else seen as empty
    # Input tables read beyond the scanned year (a baseline from every year the data holds): a
    # change to them can move any year's result (fundwatch/load/changes.py).
    history: tuple[str, ...] = ()
    # What one finding is (fundwatch/cases/merge.py): output columns that tell one entity's findings
    # apart (a late batch: programme and pay date), kinds of evidence whose shared value makes hits of
    # any rule one finding (`{bank_account: account}`), and the other entities a hit names
    # (`{person: recipients}`: a column of ids, a list or ';'-separated).
    finding: tuple[str, ...] = ()
    merge_on: dict[str, str] = field(default_factory=dict)
    involves: dict[str, str] = field(default_factory=dict)
    measure: Measure | None = None
    # Short names of the legitimate look-alikes the sample world plants next to the rule's anomalies
    # (each must not fire; tests/test_sample_world.py), shown in docs/rule-catalogue.md.
    lookalikes: tuple[str, ...] = ()
    # A coverage rule's eligible population (fundwatch/coverage/eligible.py): one SELECT returning
    # entity_id and region_code of everyone who meets the programme's criteria in the year, paid or
    # not; it may read the query's CTEs. The denominator of the township coverage rates.
    eligible: str | None = None

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title["en"]


def _need(cond: bool, path, fld: str, msg: str) -> None:
    if not cond:
        raise RuleError(path, fld, msg)


def _text(d: dict, path, fld: str) -> str:
    v = d.get(fld)
    _need(isinstance(v, str) and v.strip() != "", path, fld, "must be non-empty text")
    return v.strip()


def _bilingual(d: dict, path, fld: str) -> dict[str, str]:
    v = d.get(fld)
    _need(isinstance(v, dict) and all(isinstance(v.get(k), str) and v[k].strip() for k in ("en", "zh")),
          path, fld, "must have non-empty `en` and `zh` texts")
    return {k: v[k].strip() for k in ("en", "zh")}


def _params(d: dict, path, shared: dict) -> dict[str, Param]:
    raw = d.get("params") or {}
    _need(isinstance(raw, dict), path, "params", "must be a mapping of name -> {type, default, description}")
    out = {}
    for name, p in raw.items():
        where = f"params.{name}"
        if p == SHARED:  # declared once, in the rules folder's shared.yaml
            _need(name in shared, path, where, f"is not a parameter of shared.yaml (it has: {', '.join(shared) or 'none'})")
            p = shared[name]
        _need(isinstance(name, str) and name.isidentifier() and name.islower(), path, where, "name must be lower_snake_case")
        _need(name not in ("year", "year_start", "year_end"), path, where, "is reserved (set by the scan)")
        _need(isinstance(p, dict) and set(p) <= {"type", "default", "description", "source", "calibrate"}, path,
              where, "must have only type, default, description, source and calibrate")
        _need(p.get("type") in PARAM_TYPES, path, where + ".type", f"must be one of {', '.join(PARAM_TYPES)}")
        _need("default" in p, path, where + ".default", "is required")
        try:
            default = coerce(p["type"], p["default"], where + ".default")
        except ValueError as e:
            raise RuleError(path, where + ".default", str(e)) from None
        calibrate = p.get("calibrate")
        _need(calibrate is None or isinstance(calibrate, dict), path, where + ".calibrate", "must be a mapping")
        out[name] = Param(name, p["type"], default, str(p.get("description", "")), str(p.get("source", "")).strip(),
                          calibrate)
    return out


def _tests(d: dict, path, inputs: tuple[str, ...]) -> tuple[RuleTest, ...]:
    raw = d.get("tests")
    _need(isinstance(raw, list) and raw, path, "tests", "at least one embedded test is required")
    out = []
    for i, t in enumerate(raw):
        where = f"tests[{i}]"
        _need(isinstance(t, dict), path, where, "must be a mapping")
        unknown = set(t) - {"name", "data", "expect", "expect_not", "year", "params", "expect_amounts"}
        _need(not unknown, path, where, f"unknown field(s) {', '.join(sorted(unknown))}")
        data = t.get("data")
        _need(isinstance(data, dict) and data, path, where + ".data", "must map table names to lists of rows")
        for table, rows in data.items():
            _need(table in TABLES, path, f"{where}.data.{table}", "is not a table of the data contract")
            _need(isinstance(rows, list) and all(isinstance(r, dict) for r in rows), path,
                  f"{where}.data.{table}", "must be a list of rows (mappings)")
            for r in rows:
                bad = set(r) - set(TABLES[table].column_names)
                _need(not bad, path, f"{where}.data.{table}", f"unknown column(s) {', '.join(sorted(bad))}")
        expect = t.get("expect", [])
        expect_not = t.get("expect_not", [])
        _need(isinstance(expect, list) and isinstance(expect_not, list), path, where, "expect/expect_not must be lists")
        _need(bool(expect) or bool(expect_not), path, where, "must name entities to expect or to not expect")
        _need(isinstance(t.get("year"), int), path, where + ".year", "must be the scan year (an integer)")
        _need(isinstance(t.get("name"), str), path, where + ".name", "is required")
        amounts = t.get("expect_amounts") or {}
        _need(isinstance(amounts, dict) and all(isinstance(v, int | float) for v in amounts.values()), path,
              where + ".expect_amounts", "must map entity ids to amounts")
        out.append(RuleTest(t["name"], data, tuple(map(str, expect)), tuple(map(str, expect_not)), t["year"],
                            dict(t.get("params") or {}), {str(k): float(v) for k, v in amounts.items()}))
    names = [t.name for t in out]
    _need(len(set(names)) == len(names), path, "tests", "test names must be unique")
    # A rule ships with a near miss: some test must name an entity that must NOT fire.
    _need(any(t.expect_not for t in out), path, "tests", "needs at least one near-miss (expect_not) case")
    _need(any(t.expect for t in out), path, "tests", "needs at least one positive (expect) case")
    return tuple(out)


def parse_rule(d: dict, path: Path, version: str, shared: dict | None = None) -> Rule:
    """The rule of a file's data; `shared`: the parameters of shared.yaml a rule may name."""
    _need(isinstance(d, dict), path, "(file)", "must be a YAML mapping")
    unknown = set(d) - FIELDS
    _need(not unknown, path, ", ".join(sorted(unknown)), "unknown field")
    for f in REQUIRED:
        _need(f in d, path, f, "is required")
    rid = _text(d, path, "id")
    program = _text(d, path, "program")
    _need(program in PROGRAMS, path, "program", f"must be one of {', '.join(PROGRAMS)}")
    _need(rid == f"{program}.{path.stem}", path, "id", f"must be '{program}.{path.stem}' (program.file name)")
    _need(path.parent.name == program, path, "program", f"file must be in rules/{program}/")
    status = _text(d, path, "status")
    _need(status in STATUSES, path, "status", f"must be one of {', '.join(STATUSES)}")
    level = _text(d, path, "level")
    _need(level in LEVELS, path, "level", f"must be one of {', '.join(LEVELS)}")
    entity_type = _text(d, path, "entity_type")
    _need(entity_type in ENTITY_TYPES, path, "entity_type", f"must be one of {', '.join(ENTITY_TYPES)}")
    inputs = d.get("inputs")
    _need(isinstance(inputs, list) and inputs and all(i in TABLES for i in inputs), path, "inputs",
          "must list tables of the data contract")
    fps = d.get("falsepositives")
    _need(isinstance(fps, list) and fps and all(isinstance(x, str) for x in fps), path, "falsepositives",
          "must list the legitimate look-alikes and how the rule avoids them")
    optional = d.get("optional_inputs") or []
    _need(isinstance(optional, list) and all(i in TABLES and i not in inputs for i in optional), path,
          "optional_inputs", "must list contract tables that are not already in `inputs`")
    history = d.get("history") or []
    _need(isinstance(history, list) and all(i in (*inputs, *optional) for i in history), path, "history",
          "must list tables of `inputs` or `optional_inputs` the rule reads beyond the scanned year")
    lookalikes = d.get("lookalikes") or []
    _need(isinstance(lookalikes, list) and all(isinstance(x, str) and x.strip() and "\n" not in x.strip()
                                                for x in lookalikes), path, "lookalikes",
          "must list short one-line names of legitimate look-alikes the rule must not flag")
    params = _params(d, path, shared or {})
    finding, merge_on, involves, measure = _finding(d, path, params)
    eligible = d.get("eligible")
    _need(eligible is None or (isinstance(eligible, str) and eligible.strip()), path, "eligible",
          "must be one SELECT returning entity_id and region_code of the eligible population")
    _need(eligible is None or program == "coverage", path, "eligible", "only `program: coverage` rules declare it")
    return Rule(
        id=rid, title=_bilingual(d, path, "title"), status=status, program=program, entity_type=entity_type,
        level=level, description=_text(d, path, "description"), basis=_text(d, path, "basis"),
        falsepositives=tuple(fps), inputs=tuple(inputs), params=params,
        matched_on=_text(d, path, "matched_on"), query=_text(d, path, "query"),
        summary=_bilingual(d, path, "summary"), tests=_tests(d, path, tuple(inputs)), path=path, version=version,
        optional_inputs=tuple(optional), finding=finding, merge_on=merge_on, involves=involves,
        measure=measure, history=tuple(history), lookalikes=tuple(x.strip() for x in lookalikes),
        eligible=eligible.strip() if eligible else None,
    )


def _names(v) -> bool:
    return isinstance(v, str) and v.isidentifier() and v.islower()


def _finding(d: dict, path, params: dict) -> tuple[tuple[str, ...], dict, dict, Measure | None]:
    """`finding`, `merge_on`, `involves` and `measure`; their columns are checked against the query's
    output columns by the catalogue (fundwatch/rules/catalogue.py: check_finding_columns)."""
    finding = d.get("finding") or []
    _need(isinstance(finding, list) and all(_names(c) for c in finding), path, "finding",
          "must list output columns (lower_snake_case) that tell one entity's findings apart")
    merge_on = d.get("merge_on") or {}
    _need(isinstance(merge_on, dict) and all(_names(k) and _names(v) for k, v in merge_on.items()), path,
          "merge_on", "must map a kind of evidence (e.g. bank_account) to the output column holding it")
    involves = d.get("involves") or {}
    _need(isinstance(involves, dict) and all(k in ENTITY_TYPES and _names(v) for k, v in involves.items()), path,
          "involves", f"must map an entity type ({', '.join(ENTITY_TYPES)}) to the output column listing them")
    raw = d.get("measure")
    measure = None
    if raw is not None:
        _need(isinstance(raw, dict) and set(raw) <= {"column", "worse", "param"} and _names(raw.get("column")),
              path, "measure", "must be {column: <output column>, worse: higher|lower, param: <parameter>}")
        worse = raw.get("worse", "higher")
        _need(worse in ("higher", "lower"), path, "measure.worse", "must be higher or lower")
        param = raw.get("param")
        _need(param is None or param in params, path, "measure.param", "must name a parameter of the rule")
        measure = Measure(raw["column"], worse, param)
    return tuple(finding), dict(merge_on), dict(involves), measure
