"""A scan: run the rules and the detector for a year, build the ranked case list, record the run.

`Scan` takes everything it works with explicitly: the engine the SQL runs on (the workspace's
DuckDB, or Spark), the run store (the workspace's runs and reviews), the config and the rules.
The CLI, the notebook API (Workspace.scan) and the Spark path all go through it.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from fundwatch.cases.build import build_cases
from fundwatch.cases.history import resolved_cases
from fundwatch.cases.regions import attach_regions
from fundwatch.cases.score import Scoring
from fundwatch.cases.weights import RuleFinding, rule_weights, weigh_hits
from fundwatch.config import Config, resolve_config
from fundwatch.coverage.build import build_coverage, split_coverage
from fundwatch.errors import FundwatchError
from fundwatch.rules import RuleSet, load_rules
from fundwatch.rules.runner import RuleOutcome, run_rules


@dataclass
class ScanResult:
    """What a scan found. `cases` and `hits` are pandas DataFrames, best case first.

    `members` lists every entity each case names; `rule_findings` the mis-tuned rules, each
    reported once, and `folded_hits` their hits that were not listed as cases; `conventions`
    the systematic patterns among hits that look like a county convention, each with the config
    line that would set it."""

    run_id: str
    year: int
    cases: pd.DataFrame
    hits: pd.DataFrame
    outcomes: list[RuleOutcome]
    run: dict = field(default_factory=dict)
    resolved: pd.DataFrame = field(default_factory=pd.DataFrame)  # case_ids of the previous run gone now
    load_report: object = None  # the LoadReport when the scan loaded a folder first
    history: pd.DataFrame | None = None  # cases and amount per year and programme, latest run of each year
    members: pd.DataFrame = field(default_factory=pd.DataFrame)
    rule_findings: list[RuleFinding] = field(default_factory=list)
    folded_hits: pd.DataFrame = field(default_factory=pd.DataFrame)
    conventions: list = field(default_factory=list)  # likely county conventions (calibrate.Proposal)
    # Who should be paid and is not (fundwatch/coverage): the coverage rules' hits, kept out of
    # the case list, and each township's coverage rate.
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)
    coverage_rates: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def outcome_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"rule_id": o.rule_id, "status": o.status, "hits": o.hits, "share": o.share,
                              "population": o.population, "mis_tuned": o.mis_tuned, "note": o.describe(),
                              "seconds": round(o.seconds, 3)}
                             for o in self.outcomes])

    def __repr__(self) -> str:
        return f"ScanResult(run={self.run_id!r}, year={self.year}, cases={len(self.cases)}, hits={len(self.hits)})"


def resolve_rules(rules) -> RuleSet:
    """A RuleSet, from a RuleSet, a rules folder, or None (the catalogue)."""
    return rules if isinstance(rules, RuleSet) else load_rules(rules)


def rules_version(ruleset: RuleSet) -> str:
    text = ";".join(f"{r.id}={r.version}" for r in sorted(ruleset, key=lambda r: r.id))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# DuckDB settings while a scan runs on the workspace's connection. Nothing in a scan depends
# on the order DuckDB returns unordered rows in (cases, hits and outlier scores are sorted),
# and not keeping it lets large CREATE TABLE AS and aggregates stream under the memory limit.
SCAN_SETTINGS = {"preserve_insertion_order": "false"}


@contextlib.contextmanager
def scan_settings(con):
    """SCAN_SETTINGS on `con` for the block, then the connection's own values again."""
    old = {k: con.execute("SELECT current_setting(?)", [k]).fetchall()[0][0] for k in SCAN_SETTINGS}
    try:
        for k, v in SCAN_SETTINGS.items():
            con.execute(f"SET {k} = {v}")
        yield
    finally:
        for k, v in old.items():
            con.execute(f"SET {k} = {str(v).lower() if isinstance(v, bool) else v}")


class Scan:
    """One scan of one year.

    >>> Scan(ws.engine, RunStore(ws.con), config, ruleset, present=set(ws.loaded_tables()),
    ...      inputs=store.inputs(present), case_key=ws.case_key).run(2023)

    `present`: the input tables to use; `inputs`: their descriptions for the run record
    (content hashes, rows); `workspace`: the path recorded in run.json."""

    def __init__(self, engine, store, config: Config, ruleset: RuleSet, *, present: set[str], inputs: dict,
                 case_key: bytes, workspace: str | None = None, engine_name: str = "duckdb"):
        self.engine, self.store, self.config, self.ruleset = engine, store, config, ruleset
        self.present, self.inputs, self.case_key = set(present), dict(inputs), case_key
        self.workspace, self.engine_name = workspace, engine_name

    def run(self, year: int, *, rule_ids=None, outliers: bool = True, progress=None) -> ScanResult:
        year = int(year)  # numpy integers from a DataFrame cannot be bound as query parameters
        if not self.present:  # every rule would be skipped and the empty case list read as a clean year
            raise FundwatchError(f"nothing to scan for {year}: no input table is loaded. Load a folder first "
                                 "(fundwatch load DIR, or scan --data DIR; ws.load(DIR) in Python).")
        from fundwatch.calibrate.county import county_code

        # The values in force for this year and this county's data (province > county > year layers).
        config = self.config.resolve(year=year, county=county_code(self.engine, self.present))
        config.validate_against(self.ruleset)
        scoring = Scoring.from_config(config.scoring, config.path or "config")
        started_at, t0, timings = datetime.now(), time.monotonic(), {}
        say = progress or (lambda _msg: None)

        say(f"running {len(self.ruleset)} rules for {year}")
        t = time.monotonic()
        raw_hits, outcomes = run_rules(self.engine, self.ruleset, year, self.present, config,
                                       rules=self.ruleset.select(rule_ids))
        timings["rules"] = time.monotonic() - t
        raw_hits, coverage_hits = split_coverage(raw_hits)  # outreach, not cases: listed apart

        outlier_frame, outlier_report = None, "turned off (--no-outliers)"
        if outliers:
            from fundwatch.detect import score_outliers

            say("scoring outliers")
            t = time.monotonic()
            outlier_frame, outlier_report = score_outliers(self.engine, year, self.present, config.outliers)
            timings["outliers"] = time.monotonic() - t

        say("building cases")
        t = time.monotonic()
        weights = rule_weights(self.ruleset, outcomes, self.store.rule_review_counts(), scoring,
                               config.mis_tuned_share)
        hits, findings = weigh_hits(raw_hits, self.ruleset, weights, outcomes, config.rule_params, scoring)
        previous = self.store.previous_cases(year)
        built = build_cases(hits, outlier_frame, year, scoring, key=self.case_key, ruleset=self.ruleset,
                            previous=previous, reviews=self.store.latest_reviews(),
                            ran_rules={o.rule_id for o in outcomes if o.status in ("found", "clean")})
        cases = attach_regions(self.engine, built.cases, self.present)
        resolved = resolved_cases(previous, cases)
        timings["cases"] = time.monotonic() - t
        t = time.monotonic()
        coverage = build_coverage(self.engine, self.ruleset, coverage_hits, outcomes, year, self.present, config,
                                  self.case_key, self.store.outreach_states())
        timings["coverage"] = time.monotonic() - t
        timings["total"] = time.monotonic() - t0

        listed = built.hits[built.hits["case_id"].notna()].reset_index(drop=True)
        folded = built.hits[built.hits["case_id"].isna()].reset_index(drop=True)
        run_id = started_at.strftime("R%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        from fundwatch.calibrate.conventions import conventions_of_run

        result = ScanResult(run_id, year, cases, listed, outcomes, resolved=resolved, members=built.members,
                            rule_findings=findings, folded_hits=folded,
                            conventions=conventions_of_run(raw_hits, self.ruleset, config),
                            coverage=coverage.rows, coverage_rates=coverage.rates)
        result.run = run_record(self, config, result, started_at, timings, weights,
                                outlier_report if outliers else None)
        result.run["coverage"] = coverage.report
        say("recording the run")
        self.store.record(result)
        result.history = self.store.history()  # the trend across years, for reports
        return result


def run_record(scan: Scan, config: Config, result: ScanResult, started_at: datetime, timings: dict, weights: dict,
               outlier_report) -> dict:
    """run.json: what was scanned, with what, what every rule did and what was found."""
    import fundwatch

    cases, ruleset = result.cases, scan.ruleset
    inputs = {k: v for k, v in scan.inputs.items() if k in scan.present}
    return {
        "run_id": result.run_id,
        "year": result.year,
        "started_at": started_at.isoformat(timespec="seconds"),
        "fundwatch_version": fundwatch.__version__,
        "rules_version": rules_version(ruleset),
        "rule_versions": {r.id: r.version for r in ruleset},
        "config": config.path,
        "county": config.county,
        "param_overrides": config.params,
        "region_names": dict(config.regions),  # [regions]: the report names townships by these
        "workspace": scan.workspace,
        "engine": scan.engine_name,
        "inputs": inputs,
        "row_counts": {"cases": len(cases), "rule_hits": len(result.hits), "folded_hits": len(result.folded_hits),
                       **{k: v["rows"] for k, v in inputs.items()},
                       "new": int((cases["status"] == "new").sum()),
                       "recurring": int((cases["status"] == "recurring").sum()), "resolved": len(result.resolved),
                       "coverage": len(result.coverage)},
        "rules": {o.rule_id: {"status": o.status, "hits": o.hits, "missing": o.missing, "message": o.message,
                              "share": o.share, "population": o.population, "mis_tuned": o.mis_tuned,
                              "weight": round(weights[o.rule_id].weight, 4) if o.rule_id in weights else None,
                              "seconds": round(o.seconds, 3)}
                  for o in result.outcomes},
        "skipped_rules": {o.rule_id: f"missing {', '.join(o.missing)}" for o in result.outcomes if o.status == "skipped"},
        "failed_rules": {o.rule_id: o.message for o in result.outcomes if o.status == "error"},
        "broken_rule_files": [str(e) for e in ruleset.errors],
        "mis_tuned_rules": [o.rule_id for o in result.outcomes if o.mis_tuned],
        "rule_findings": [f.as_dict() for f in result.rule_findings],
        "conventions": [{"rule_id": c.rule_id, "param": c.param, "value": c.value, "current": c.current,
                         "why": c.why, "config_line": c.config_line} for c in result.conventions],
        "outliers": outlier_report if outlier_report is not None else "turned off (--no-outliers)",
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
    }


def scan_workspace(ws, year: int, *, present: set[str] | None = None, config=None, rules=None, rule_ids=None,
                   outliers: bool = True, progress=None, rescan: bool = False) -> ScanResult:
    """Scan the workspace's own tables (all loaded ones unless `present`) on its DuckDB.

    The latest stored run of `year` is given back instead when no load since touched the year,
    no review was written since and the scan would run as it did (fundwatch/load/changes.py);
    `rescan=True` scans anyway."""
    from fundwatch.load.changes import reusable_run, scan_key
    from fundwatch.store import RunStore

    store = RunStore(ws.con)
    present = set(ws.loaded_tables()) if present is None else set(present)
    config, ruleset = resolve_config(config), resolve_rules(rules)
    reviews = (store.latest_reviews().to_csv(index=False) + store.rule_review_counts().to_csv(index=False)
               + store.outreach_states().to_csv(index=False))  # a new outreach state is written to the list
    key = scan_key(rules_version(ruleset), config, outliers, rule_ids, present, ws.case_key, reviews)
    history = frozenset(t for r in ruleset.rules.values() if not rule_ids or r.id in rule_ids for t in r.history)
    stored = None if rescan else reusable_run(ws.con, int(year), key, history)
    if stored is not None:
        if progress:
            progress(f"nothing {year} reads changed since run {stored}: reusing it (--rescan to scan again)")
        return store.stored_result(stored)
    read_at = datetime.now()  # the loads' clock (fundwatch/load/loader.py): later loads are unseen
    with scan_settings(ws.con):
        result = Scan(ws.engine, store, config, ruleset, present=present, inputs=store.inputs(present),
                      case_key=ws.case_key, workspace=str(Path(ws.path)) if ws.path != ":memory:" else ws.path
                      ).run(year, rule_ids=rule_ids, outliers=outliers, progress=progress)
    store.remember_key(result.run_id, key, read_at)
    return result
