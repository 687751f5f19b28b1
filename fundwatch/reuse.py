"""A scan answered from a stored run: when nothing it reads changed since (fundwatch/load/changes.py),
the latest run of the year is given back as it was recorded, its case list, hits, history and
review states, instead of being computed again."""

from __future__ import annotations

import json

from fundwatch.cases import history
from fundwatch.rules.runner import RuleOutcome
from fundwatch.scan import HIT_STORE_COLUMNS, STORED_CASE_COLUMNS, ScanResult


def stored_result(ws, run_id: str) -> ScanResult:
    con = ws.con
    year, run_json = con.execute("SELECT year, run_json FROM fw_runs WHERE run_id = ?", [run_id]).fetchall()[0]
    run = json.loads(run_json)
    cols = ", ".join(STORED_CASE_COLUMNS)
    cases = con.execute(
        f"SELECT {cols} FROM fw_cases WHERE run_id = ? AND status <> 'resolved' ORDER BY rank", [run_id]).df()
    resolved = con.execute(
        "SELECT case_id FROM fw_cases WHERE run_id = ? AND status = 'resolved' ORDER BY case_id", [run_id]).df()
    hits = con.execute(
        f"SELECT {', '.join(HIT_STORE_COLUMNS)} FROM fw_hits WHERE run_id = ? ORDER BY rowid",
        [run_id]).df()
    outcomes = [RuleOutcome(rule_id, o["status"], o["hits"], o.get("missing") or [], o.get("message") or "",
                            o.get("seconds") or 0.0, o.get("share"), bool(o.get("mis_tuned")), o.get("population"))
                for rule_id, o in run.get("rules", {}).items()]
    run["reused"] = True  # this scan computed nothing: the run is the stored one
    result = ScanResult(run_id, int(year), cases, hits, outcomes, run, resolved)
    result.workspace = ws
    result.history = history.history_frame(con)
    return result
