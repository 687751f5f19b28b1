"""A scan: load (optionally), run the rules, build the ranked case list, record the run."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from fundwatch.cases import history
from fundwatch.cases.build import build_cases
from fundwatch.cases.regions import attach_regions
from fundwatch.cases.score import Scoring
from fundwatch.config import Config, load_config
from fundwatch.errors import FundwatchError
from fundwatch.rules import RuleSet, load_rules
from fundwatch.rules.runner import RuleOutcome, run_rules


@dataclass
class ScanResult:
    """What a scan found. `cases` and `hits` are pandas DataFrames, best case first."""

    run_id: str
    year: int
    cases: pd.DataFrame
    hits: pd.DataFrame
    outcomes: list[RuleOutcome]
    run: dict = field(default_factory=dict)
    resolved: pd.DataFrame = field(default_factory=pd.DataFrame)  # case_ids of the previous run gone now
    load_report: object = None  # the LoadReport when the scan loaded a folder first
    workspace: object = field(default=None, repr=False, compare=False)  # set by scan(); explain() reads through it
    history: pd.DataFrame | None = None  # cases and amount per year and programme, latest run of each year

    def explain(self, case_id: str, *, unmask: bool = False, max_rows: int = 500):
        """All the evidence behind one case, from every registry it touched (a CaseExplanation).

        >>> result.explain(result.cases.case_id[0])
        """
        from fundwatch.errors import FundwatchError
        from fundwatch.notebook.explain import explain_case

        if self.workspace is None:
            raise FundwatchError("this result has no workspace; use fundwatch.notebook.explain_case(ws, result, case_id)")
        return explain_case(self.workspace, self, case_id, unmask=unmask, max_rows=max_rows)

    def plot_overview(self):
        """Cases and amount at risk per programme, cases per level, scores (a 2x2 Figure).

        >>> result.plot_overview()
        """
        from fundwatch.notebook.plots import plot_overview

        return plot_overview(self)

    def plot_scores(self, bins: int = 20):
        """Risk score distribution by programme.

        >>> result.plot_scores()
        """
        from fundwatch.notebook.plots import plot_scores

        return plot_scores(self, bins)

    def plot_rules(self):
        """Entities flagged per rule; could-not-run and errors labelled.

        >>> result.plot_rules()
        """
        from fundwatch.notebook.plots import plot_rules

        return plot_rules(self)

    def plot_townships(self, top: int = 20):
        """Cases and amount per township (first 9 digits of region_code).

        >>> result.plot_townships()
        """
        from fundwatch.notebook.plots import plot_townships

        return plot_townships(self, top)

    def _repr_html_(self) -> str:
        from fundwatch.notebook.display import scan_result_html

        return scan_result_html(self)

    @property
    def outcome_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"rule_id": o.rule_id, "status": o.status, "hits": o.hits, "share": o.share,
                              "population": o.population, "mis_tuned": o.mis_tuned, "note": o.describe(), "seconds": round(o.seconds, 3)}
                             for o in self.outcomes])

    def __repr__(self) -> str:
        return f"ScanResult(run={self.run_id!r}, year={self.year}, cases={len(self.cases)}, hits={len(self.hits)})"


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


def scan(ws, year: int, *, present: set[str] | None = None, config: Config | None = None,
         ruleset: RuleSet | None = None, rule_ids=None, outliers: bool = True, progress=None,
         engine=None, inputs: dict[str, dict] | None = None) -> ScanResult:
    """Run every rule whose inputs are present for `year` and build the case list.

    `present` is the set of input tables to use (default: every table loaded in the workspace).
    `engine` (default: the workspace's DuckDB) is where the rules, populations, regions and
    outlier features run, e.g. a SparkEngine holding the tables (fundwatch/load/spark.py);
    case building, history and the run record stay here, in the workspace. With another
    engine, `present` and `inputs` (table -> its description for the run record) are what
    its loader returned (SparkLoad.present, SparkLoad.inputs).
    """
    with scan_settings(ws.con):
        return _scan(ws, year, present=present, config=config, ruleset=ruleset, rule_ids=rule_ids,
                     outliers=outliers, progress=progress, engine=engine, inputs=inputs)


def _scan(ws, year: int, *, present: set[str] | None = None, config: Config | None = None,
          ruleset: RuleSet | None = None, rule_ids=None, outliers: bool = True, progress=None,
          engine=None, inputs: dict[str, dict] | None = None) -> ScanResult:
    import fundwatch

    year = int(year)  # numpy integers from a DataFrame cannot be bound as query parameters
    started_at = datetime.now()
    t0 = time.monotonic()
    config = config or load_config()
    ruleset = ruleset or load_rules()
    config.validate_against(ruleset)
    scoring = Scoring.from_config(config.scoring, config.path or "config")
    engine = engine if engine is not None else ws.engine
    if present is None:
        present = ws.loaded_tables() if engine is ws.engine else set(inputs or {})
    present = set(present)
    if not present:  # every rule would be skipped and the empty case list read as a clean year
        raise FundwatchError(f"nothing to scan for {year}: no input table is loaded. Load a folder first "
                             "(fundwatch load DIR, or scan --data DIR; ws.load(DIR) in Python).")
    run_id = started_at.strftime("R%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    timings = {}

    if progress:
        progress(f"running {len(ruleset)} rules for {year}")
    t = time.monotonic()
    rules = ruleset.select(rule_ids)
    hits, outcomes = run_rules(engine, ruleset, year, present, config, rules=rules)
    timings["rules"] = time.monotonic() - t

    outlier_frame, outlier_report = None, []
    if outliers:
        from fundwatch.detect import score_outliers

        if progress:
            progress("scoring outliers")
        t = time.monotonic()
        outlier_frame, outlier_report = score_outliers(engine, year, present, config.outliers)
        timings["outliers"] = time.monotonic() - t

    if progress:
        progress("building cases")
    t = time.monotonic()
    cases, hits = build_cases(hits, outlier_frame, year, scoring, key=ws.case_key)
    cases = attach_regions(engine, cases, present)
    cases, resolved = history.annotate(cases, hits, history.previous_cases(ws.con, year),
                                       history.latest_reviews(ws.con), scoring.cleared_factor)
    timings["cases"] = time.monotonic() - t
    timings["total"] = time.monotonic() - t0

    inputs = {k: v for k, v in (inputs or {}).items() if k in present} if engine is not ws.engine else {
        name: {"content_hash": h, "load_id": lid, "source": src, "rows": rows, "quarantined": q}
        for name, h, lid, src, rows, q in ws.con.execute(
            "SELECT table_name, content_hash, load_id, source, rows_loaded, rows_quarantined FROM fw_table_versions"
        ).fetchall() if name in present
    }
    run = {
        "run_id": run_id,
        "year": year,
        "started_at": started_at.isoformat(timespec="seconds"),
        "fundwatch_version": fundwatch.__version__,
        "rules_version": rules_version(ruleset),
        "rule_versions": {r.id: r.version for r in ruleset},
        "config": config.path,
        "param_overrides": config.params,
        "workspace": ws.path,
        "engine": repr(engine) if engine is not ws.engine else "duckdb",
        "inputs": inputs,
        "row_counts": {"cases": len(cases), "rule_hits": len(hits), **{k: v["rows"] for k, v in inputs.items()}},
        "rules": {o.rule_id: {"status": o.status, "hits": o.hits, "missing": o.missing, "message": o.message,
                              "share": o.share, "population": o.population, "mis_tuned": o.mis_tuned,
                              "seconds": round(o.seconds, 3)}
                  for o in outcomes},
        "skipped_rules": {o.rule_id: f"missing {', '.join(o.missing)}" for o in outcomes if o.status == "skipped"},
        "failed_rules": {o.rule_id: o.message for o in outcomes if o.status == "error"},
        "broken_rule_files": [str(e) for e in ruleset.errors],
        "mis_tuned_rules": [o.rule_id for o in outcomes if o.mis_tuned],
        "outliers": outlier_report if outliers else "turned off (--no-outliers)",
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
    }
    run["row_counts"].update({"new": int((cases["status"] == "new").sum()),
                              "recurring": int((cases["status"] == "recurring").sum()), "resolved": len(resolved)})
    result = ScanResult(run_id, year, cases, hits, outcomes, run, resolved)
    result.workspace = ws
    if progress:
        progress("recording the run")
    record_run(ws, result)
    result.history = history.history_frame(ws.con)  # the trend across years, for reports
    return result



STORED_CASE_COLUMNS = ["rank", "year", "case_id", "entity_type", "entity_id", "program", "risk_score", "rule_ids",
                       "outlier_score", "amount_at_risk", "summary", "level", "signals", "programs", "summary_zh",
                       "region_code", "evidence_fingerprint", "review_status", "review_note", "status"]
HIT_STORE_COLUMNS = ["case_id", "rule_id", "rule_version", "program", "entity_type", "entity_id", "year", "level",
                     "amount_at_risk", "matched_on", "evidence", "summary_en", "summary_zh"]


def record_run(ws, result: ScanResult) -> None:
    """Publish the run in one transaction: a crash leaves the previous runs as they were."""
    con = ws.con
    cases = result.cases.copy()  # noqa: F841 - read by DuckDB below
    hits = result.hits[HIT_STORE_COLUMNS].copy() if not result.hits.empty else None  # noqa: F841
    cols = ", ".join(STORED_CASE_COLUMNS)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("INSERT INTO fw_runs VALUES (?, ?, ?, now(), ?, ?, ?, ?)",
                    [result.run_id, result.year, result.run["started_at"], result.run["rules_version"],
                     result.run["fundwatch_version"], len(result.cases), json.dumps(result.run, default=str)])
        if not result.cases.empty:
            con.execute(f"INSERT INTO fw_cases (run_id, {cols}) SELECT ?, {cols} FROM cases", [result.run_id])
        if not result.resolved.empty:
            resolved = result.resolved  # noqa: F841 - read by DuckDB below
            # A resolved case keeps its last description, marked resolved in this run and unranked.
            kept = ", ".join(c for c in STORED_CASE_COLUMNS if c not in ("rank", "status"))
            con.execute(
                f"""INSERT INTO fw_cases (run_id, status, {kept}) SELECT ?, 'resolved', {kept} FROM fw_cases
                WHERE case_id IN (SELECT case_id FROM resolved)
                  AND run_id = (SELECT run_id FROM fw_runs WHERE year = ? AND run_id <> ?
                                ORDER BY started_at DESC, run_id DESC LIMIT 1)""",
                [result.run_id, result.year, result.run_id])
        if hits is not None:
            con.execute(f"INSERT INTO fw_hits SELECT ?, {', '.join(HIT_STORE_COLUMNS)} FROM hits", [result.run_id])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
