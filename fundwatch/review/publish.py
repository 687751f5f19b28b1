"""Import the runs a scan published into the workbench (DuckDB opened read-only, briefly).

The latest run of each year is imported once; a scan holding the workspace makes the import
wait for the next try (`WorkspaceLocked`), never the other way round.
"""

from __future__ import annotations

import json

import duckdb

from fundwatch.errors import FundwatchError

TOWNSHIP_DIGITS = 9  # a 12-digit area code: county (6), township (3), village (3)


class WorkspaceLocked(FundwatchError):
    """A scan is writing the workspace; try again later."""


def township_of(region_code) -> str | None:
    code = str(region_code or "").strip()
    return code[:TOWNSHIP_DIGITS] if len(code) >= TOWNSHIP_DIGITS and code.isdigit() else None


def published_cases(workspace: str) -> dict[str, list[dict]]:
    """run_id -> its cases (not the resolved ones), with their hits' evidence, for each year's latest run."""
    try:
        con = duckdb.connect(str(workspace), read_only=True)
    except duckdb.IOException as e:
        if "lock" in str(e).lower():
            raise WorkspaceLocked(f"{workspace} is being written by a scan; the import will be retried") from e
        raise FundwatchError(f"cannot open the workspace {workspace}: {e}") from e
    try:
        runs = [r[0] for r in con.execute(
            "SELECT arg_max(run_id, started_at) FROM fw_runs GROUP BY year ORDER BY year").fetchall()]
        out = {}
        for run_id in runs:
            cases = con.execute(
                """SELECT case_id, year, program, entity_type, entity_id, region_code, risk_score,
                          CAST(amount_at_risk AS DOUBLE) AS amount_at_risk, rule_ids, level, summary, summary_zh,
                          evidence_fingerprint FROM fw_cases WHERE run_id = ? AND status <> 'resolved'
                ORDER BY rank""", [run_id]).fetchall()
            cols = ["case_id", "year", "program", "entity_type", "entity_id", "region_code", "risk_score",
                    "amount_at_risk", "rule_ids", "level", "summary", "summary_zh", "evidence_fingerprint"]
            hits: dict[str, list] = {}
            for case_id, rule_id, evidence, summary in con.execute(
                    "SELECT case_id, rule_id, evidence, summary_en FROM fw_hits WHERE run_id = ? "
                    "AND case_id IS NOT NULL ORDER BY case_id, rule_id", [run_id]).fetchall():
                hits.setdefault(case_id, []).append({"rule_id": rule_id, "summary": summary,
                                                     "evidence": json.loads(evidence or "{}")})
            rows = []
            for values in cases:
                row = dict(zip(cols, values, strict=True))
                row["township"] = township_of(row["region_code"])
                row["evidence"] = json.dumps(hits.get(row["case_id"], []), ensure_ascii=False, default=str)
                rows.append(row)
            out[run_id] = rows
        return out
    finally:
        con.close()


def sync(store, workspace: str) -> dict[str, dict]:
    """Import every year's latest run not imported yet; run_id -> what the import did."""
    return {run_id: store.publish(run_id, rows) for run_id, rows in published_cases(workspace).items()}
