"""How a scan result and a case show themselves in Jupyter (`_repr_html_`).

Everything is HTML-escaped (record values are data from outside) and person IDs and bank
accounts are masked unless `unmask=True`.
"""

from __future__ import annotations

import html
from collections import Counter

import pandas as pd

from fundwatch.notebook.mask import mask_entity, mask_summary, mask_value, masked

STATUS_ORDER = ("found", "clean", "skipped", "error")
TOP_COLUMNS = [
    "rank",
    "case_id",
    "program",
    "entity_type",
    "entity_id",
    "level",
    "risk_score",
    "amount_at_risk",
    "status",
    "summary",
]
HIT_COLUMNS = ["rule_id", "level", "entity_type", "entity_id", "amount_at_risk", "matched_on", "summary_en"]
STYLE = (
    "<style>.fw-card{font-family:sans-serif;font-size:13px}.fw-card h3{margin:.6em 0 .2em}"
    ".fw-card h4{margin:.8em 0 .2em}.fw-card .fw-note{color:#666}"
    ".fw-card table{border-collapse:collapse;margin:.2em 0}"
    ".fw-card td,.fw-card th{padding:2px 6px;border-bottom:1px solid #ddd;text-align:left}</style>"
)


def esc(value) -> str:
    """A value as HTML-escaped text (None as empty).

    >>> esc("<b>")
    '&lt;b&gt;'
    """
    return html.escape("" if value is None else str(value))


def frame_html(
    frame: pd.DataFrame, *, table: str | None = None, unmask: bool = False, max_rows: int = 50
) -> str:
    """A DataFrame as an escaped HTML table, IDs masked unless `unmask`.

    >>> HTML(frame_html(result.cases.head(), unmask=False))
    """
    shown = frame if unmask else masked(frame, table)
    note = ""
    if len(shown) > max_rows:
        note = f"<p class='fw-note'>first {max_rows} of {len(shown):,} rows</p>"
        shown = shown.head(max_rows)
    return shown.to_html(index=False, escape=True, na_rep="", float_format=lambda v: f"{v:,.2f}") + note


def rule_status_counts(result) -> dict[str, int]:
    """How many rules ended in each state: found, clean, skipped (could not run), error.

    >>> rule_status_counts(result)
    {'found': 21, 'clean': 7, 'skipped': 2, 'error': 0}
    """
    counts = Counter(o.status for o in result.outcomes)
    return {s: counts.get(s, 0) for s in STATUS_ORDER}


def scan_result_html(result, *, unmask: bool = False, top: int = 10) -> str:
    """A ScanResult as HTML: run, year, rule outcomes per state, and the top cases (masked).

    >>> from IPython.display import HTML
    >>> HTML(scan_result_html(result))
    """
    cases = result.cases
    counts = rule_status_counts(result)
    states = " · ".join(f"{n} {'could not run' if s == 'skipped' else s}" for s, n in counts.items())
    nothing = sum(o.nothing_to_check for o in result.outcomes)
    if nothing:  # clean, but on no records of the year
        states += f" ({nothing} of them ran on nothing)"
    amount = float(pd.to_numeric(cases["amount_at_risk"], errors="coerce").sum()) if len(cases) else 0.0
    by_status = Counter(cases["status"]) if "status" in cases else Counter()
    parts = [
        STYLE,
        "<div class='fw-card'>",
        f"<h3>Scan {esc(result.run_id)} — {esc(result.year)}</h3>",
        f"<p><b>{len(cases):,}</b> cases ({by_status.get('new', 0):,} new, "
        f"{by_status.get('recurring', 0):,} recurring, {len(result.resolved):,} resolved), "
        f"{len(result.hits):,} rule hits, {amount:,.2f} yuan at risk.</p>",
        f"<p>Rules: {esc(states)}.</p>",
    ]
    problems = [o for o in result.outcomes if o.needs_attention]
    if problems:
        parts.append(
            "<ul>" + "".join(f"<li>{esc(o.rule_id)}: {esc(o.describe())}</li>" for o in problems) + "</ul>"
        )
    if len(cases):
        cols = [c for c in TOP_COLUMNS if c in cases]
        parts.append(f"<h4>Top {min(top, len(cases))} cases</h4>")
        parts.append(frame_html(cases[cols].head(top), unmask=unmask))
    parts.append("</div>")
    return "".join(parts)


def _money(value) -> str:
    try:
        return f"{float(value):,.2f}"
    except (TypeError, ValueError):
        return esc(value)


def _evidence_html(evidence: dict, unmask: bool) -> str:
    items = [f"{esc(k)}: {esc(v if unmask else mask_value(k, v))}" for k, v in evidence.items()]
    return "; ".join(items)


def case_html(exp, *, unmask: bool = False) -> str:
    """A CaseExplanation as a card: summary, rule hits with evidence, then each registry table.

    >>> HTML(case_html(explain_case(ws, result, case_id)))
    """
    case = exp.case
    entity = case["entity_id"] if unmask else mask_entity(case["entity_type"], case["entity_id"])
    summary = case.get("summary", "")
    evidence = list(exp.hits["evidence"]) if len(exp.hits) and "evidence" in exp.hits else []
    summary = summary if unmask else mask_summary(summary, case["entity_type"], case["entity_id"], evidence)
    parts = [
        STYLE,
        "<div class='fw-card'>",
        f"<h3>Case {esc(case['case_id'])}: {esc(case['entity_type'])} {esc(entity)}</h3>",
        f"<p>rank {esc(case.get('rank'))} · programme {esc(case.get('program'))} · level "
        f"{esc(case.get('level'))} · risk score {float(case.get('risk_score') or 0):.1f} · "
        f"{float(case.get('amount_at_risk') or 0):,.2f} yuan at risk · {esc(case.get('status', ''))}</p>",
        f"<p>{esc(summary)}</p>",
        f"<h4>Rule hits ({len(exp.hits)})</h4>",
    ]
    if len(exp.hits):
        hits = exp.hits[[c for c in HIT_COLUMNS if c in exp.hits]].copy()
        hits = hits if unmask else masked(hits)
        hits["evidence"] = [_evidence_html(e, unmask) for e in exp.hits["evidence"]]
        # evidence is escaped above; the table must not escape it twice
        parts.append(
            hits.to_html(
                index=False,
                escape=False,
                na_rep="",
                formatters={
                    c: _money if c == "amount_at_risk" else esc for c in hits.columns if c != "evidence"
                },
            )
        )
    else:
        parts.append("<p class='fw-note'>no rule hits (a statistical case)</p>")
    if exp.involved:
        parts.append(
            "<p class='fw-note'>followed: "
            + ", ".join(f"{len(v)} {esc(k)}" for k, v in exp.involved.items())
            + "</p>"
        )
    for table, frame in exp.records.items():
        total = exp.totals.get(table, len(frame))
        cut = f", first {len(frame):,} shown" if total > len(frame) else ""
        parts.append(f"<h4>{esc(table)} ({total:,} rows{cut})</h4>")
        parts.append(frame_html(frame, table=table, unmask=unmask, max_rows=len(frame)))
    if not exp.records:
        parts.append("<p class='fw-note'>no registry rows found for the entities of this case</p>")
    parts.append("</div>")
    return "".join(parts)
