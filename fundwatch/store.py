"""The run store: what scans record in the workspace, and what the next scan reads back.

Runs, their cases, hits and the entities each case names (contract/outputs.py declares the
tables); analysts' reviews (cases/history.py writes them), or, where a review workbench database
is configured (fundwatch/review), the outcomes of the cases it closed. A run is published in one
transaction: a crash leaves the previous runs as they were.
"""

from __future__ import annotations

import json

import pandas as pd

from fundwatch.cases import history
from fundwatch.contract.outputs import (
    CASE_ENTITIES,
    CASES,
    COVERAGE,
    COVERAGE_RATES,
    HITS,
    OUTPUT_TABLES,
    ensure,
)


class RunStore:
    """Runs in a workspace's DuckDB connection."""

    def __init__(self, con, review_db: str | None = None):
        self.con = con
        self.review_db = review_db if review_db is not None else _review_db_of(con)
        self._read: dict[str, pd.DataFrame] = {}

    def ensure_schema(self) -> None:
        for table in OUTPUT_TABLES:
            ensure(self.con, table)

    # --- read by a scan ------------------------------------------------------------------
    def previous_cases(self, year: int) -> pd.DataFrame:
        """The active cases of the latest earlier run of the same year."""
        return self.con.execute(
            "SELECT case_id, evidence_fingerprint FROM fw_cases WHERE run_id = ? AND status <> 'resolved'",
            [self.latest_run(year)]).df()

    # A store serves one scan: the reviews are read once (the reuse key and the ranking see the same).
    def latest_reviews(self) -> pd.DataFrame:
        return self._reviews("latest_reviews")

    def rule_review_counts(self) -> pd.DataFrame:
        return self._reviews("rule_review_counts")

    def _reviews(self, what: str) -> pd.DataFrame:
        if what not in self._read:
            if self.review_db:
                from fundwatch.review import feedback

                self._read[what] = getattr(feedback, what)(self.review_db)
            else:
                self._read[what] = getattr(history, what)(self.con)
        return self._read[what].copy()

    def outreach_states(self) -> pd.DataFrame:
        """The latest outreach state of each coverage row (fundwatch/coverage/outreach.py)."""
        from fundwatch.coverage.outreach import latest_states

        return latest_states(self.con)

    def history(self) -> pd.DataFrame:
        return history.history_frame(self.con)

    def inputs(self, present: set[str]) -> dict[str, dict]:
        """The loaded version of each table in `present`: hash, load, source, rows, quarantined."""
        return {
            name: {"content_hash": h, "load_id": lid, "source": src, "rows": rows, "quarantined": q}
            for name, h, lid, src, rows, q in self.con.execute(
                "SELECT table_name, content_hash, load_id, source, rows_loaded, rows_quarantined FROM fw_table_versions"
            ).fetchall() if name in present
        }

    def stored_result(self, run_id: str):
        """A stored run given back as a ScanResult, as it was recorded (a scan that reuses it)."""
        from fundwatch.rules.runner import RuleOutcome
        from fundwatch.scan import ScanResult

        con = self.con
        year, run_json = con.execute("SELECT year, run_json FROM fw_runs WHERE run_id = ?", [run_id]).fetchall()[0]
        run = json.loads(run_json)

        def rows(table, where: str):
            cols = ", ".join(table.column_names)
            return con.execute(f"SELECT {cols} FROM {table.name} WHERE run_id = ? {where}", [run_id]).df()

        cases = rows(CASES, "AND status <> 'resolved' ORDER BY rank")
        resolved = con.execute("SELECT case_id FROM fw_cases WHERE run_id = ? AND status = 'resolved' "
                               "ORDER BY case_id", [run_id]).df()
        outcomes = [RuleOutcome(rule_id, o["status"], o["hits"], o.get("missing") or [], o.get("message") or "",
                                o.get("seconds") or 0.0, o.get("share"), bool(o.get("mis_tuned")), o.get("population"))
                    for rule_id, o in run.get("rules", {}).items()]
        run["reused"] = True  # this scan computed nothing: the run is the stored one
        result = ScanResult(run_id, int(year), cases, rows(HITS, "ORDER BY rowid"), outcomes, run, resolved,
                            members=rows(CASE_ENTITIES, ""), coverage=rows(COVERAGE, "ORDER BY rank"),
                            coverage_rates=rows(COVERAGE_RATES, "ORDER BY rule_id, township"))
        result.history = self.history()
        return result

    # --- read by `fundwatch runs` and `fundwatch cases` ---------------------------------------
    def runs(self, year: int | None = None, limit: int = 20) -> pd.DataFrame:
        """The recorded runs (of `year`, or all), newest first."""
        return self.con.execute(
            "SELECT run_id, year, started_at, finished_at, n_cases AS cases, rules_version FROM fw_runs "
            "WHERE ? IS NULL OR year = ? ORDER BY started_at DESC, run_id DESC LIMIT ?", [year, year, limit]).df()

    def latest_run(self, year: int | None = None, other_than: str | None = None) -> str | None:
        """The newest run (of `year`, or of any year; not `other_than`); None when nothing was recorded."""
        found = self.con.execute("SELECT run_id FROM fw_runs WHERE (? IS NULL OR year = ?) AND run_id IS DISTINCT "
                                 "FROM ? ORDER BY started_at DESC, run_id DESC LIMIT 1",
                                 [year, year, other_than]).fetchall()
        return found[0][0] if found else None

    def case_rows(self, run_id: str, status: str | None = None, program: str | None = None,
                  top: int = 20) -> pd.DataFrame:
        """A run's cases as the terminal lists them, best ranked first; status and program filter."""
        return self.con.execute(
            """SELECT rank, case_id, status, review_status AS review, program, entity_type, entity_id, risk_score,
                      amount_at_risk, rule_ids, summary FROM fw_cases
            WHERE run_id = ? AND (? IS NULL OR status = ?) AND (? IS NULL OR program = ?)
            ORDER BY rank NULLS LAST, case_id LIMIT ?""",
            [run_id, status, status, program, program, top]).df()

    def hit_evidence(self, run_id: str) -> dict[str, list]:
        """Per case of the run, its hits' evidence: what the values a summary quotes are (for masking)."""
        return dict(self.con.execute("SELECT case_id, list(evidence) FROM fw_hits WHERE run_id = ? GROUP BY case_id",
                                     [run_id]).fetchall())

    # --- written by a scan -----------------------------------------------------------------
    def record(self, result) -> None:
        """Publish `result` (a ScanResult) in one transaction."""
        con = self.con
        run = result.run
        frames = [(CASES, result.cases), (HITS, result.hits[result.hits["case_id"].notna()] if not result.hits.empty
                                          else result.hits), (CASE_ENTITIES, result.members),
                  (COVERAGE, result.coverage), (COVERAGE_RATES, result.coverage_rates)]
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("INSERT INTO fw_runs (run_id, year, started_at, finished_at, rules_version, fundwatch_version, "
                        "n_cases, run_json) VALUES (?, ?, ?, now(), ?, ?, ?, ?)",
                        [result.run_id, result.year, run["started_at"], run["rules_version"],
                         run["fundwatch_version"], len(result.cases), json.dumps(run, default=str)])
            for table, frame in frames:
                self._insert(table, frame, result.run_id)
            if not result.resolved.empty:
                self._carry_resolved(result)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def remember_key(self, run_id: str, key: str, read_at) -> None:
        """What the run's result depends on besides the data (fundwatch/load/changes.py: scan_key),
        and when it began reading the tables."""
        self.con.execute("INSERT INTO fw_run_keys (run_id, scan_key, read_at) VALUES (?, ?, ?)", [run_id, key, read_at])

    def _insert(self, table, frame: pd.DataFrame, run_id: str) -> None:
        if frame is None or frame.empty:
            return
        cols = table.column_names
        name = f"_fw_new_{table.name}"
        self.con.register(name, frame.reindex(columns=cols))
        try:
            self.con.execute(f"INSERT INTO {table.name} (run_id, {', '.join(cols)}) "
                             f"SELECT ?, {', '.join(cols)} FROM {name}", [run_id])
        finally:
            self.con.unregister(name)

    def _carry_resolved(self, result) -> None:
        """A resolved case keeps its last description, marked resolved in this run and unranked."""
        kept = ", ".join(c for c in CASES.column_names if c not in ("rank", "status"))
        self.con.register("_fw_resolved", result.resolved)
        try:
            self.con.execute(
                f"""INSERT INTO fw_cases (run_id, status, {kept}) SELECT ?, 'resolved', {kept} FROM fw_cases
                WHERE case_id IN (SELECT case_id FROM _fw_resolved) AND run_id = ?""",
                [result.run_id, self.latest_run(result.year, other_than=result.run_id)])
        finally:
            self.con.unregister("_fw_resolved")


def _review_db_of(con) -> str | None:
    """The workbench database configured for this workspace ($FUNDWATCH_REVIEW_DB, or beside the file)."""
    from fundwatch.review.db import configured_url

    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return configured_url(path[0] if path else None)
