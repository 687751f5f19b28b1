"""report.html: one self-contained page about a scan, for reading and printing.

Charts are embedded PNGs (data: URIs); there is no script, no external stylesheet, font
or image, and a Content-Security-Policy that forbids them, so the page works offline and
nothing in it runs. Every value from the data is escaped; IDs are masked unless `unmask`.
"""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path

import pandas as pd

from fundwatch.cases.build import LEVEL_ORDER
from fundwatch.coverage.rates import township_totals
from fundwatch.report import charts, fonts, i18n, tables
from fundwatch.report.coverage_tables import coverage_table, rates_table
from fundwatch.report.files import atomic_path
from fundwatch.report.mask import masked_run

TOWNSHIPS_SHOWN = 20
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
body { font-family: FONT_STACK; color: #1d2733; margin: 0; background: #f4f6f8;
       line-height: 1.45; font-size: 15px; }
main { max-width: 1180px; margin: 0 auto; padding: 0 24px 48px; }
header { background: #1f4e78; color: #fff; padding: 20px 24px; }
header .inner { max-width: 1180px; margin: 0 auto; }
header h1 { margin: 0 0 6px; font-size: 24px; }
header .meta { margin: 0; opacity: .9; }
header .meta span { margin-right: 18px; white-space: nowrap; }
.ids { margin: 10px 0 0; font-size: 14px; }
.ids.unmasked { background: #c00000; padding: 6px 10px; border-radius: 4px; font-weight: bold; display: inline-block; }
section, nav { background: #fff; border-radius: 6px; padding: 4px 22px 18px; margin-top: 20px;
               box-shadow: 0 1px 2px rgba(0,0,0,.08); }
h2 { color: #1f4e78; border-bottom: 2px solid #e3e8ee; padding-bottom: 6px; font-size: 19px; }
nav ol { columns: 2; margin: 0; }
nav a, a { color: #1f4e78; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 14px; }
.card { flex: 1 1 auto; min-width: 120px; box-sizing: border-box; border: 1px solid #e3e8ee; border-radius: 6px; padding: 10px 14px; }
.card .value { font-size: 22px; font-weight: bold; white-space: nowrap; }
.card .label { color: #5b6b7c; font-size: 13px; }
.card.warn .value { color: #c00000; }
.pair { display: flex; flex-wrap: wrap; gap: 24px; }
.pair > div { flex: 1 1 380px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th { background: #1f4e78; color: #fff; text-align: left; padding: 6px 8px; font-weight: 600; }
td { border-bottom: 1px solid #e3e8ee; padding: 6px 8px; vertical-align: top; }
tr.total td { font-weight: bold; border-top: 2px solid #1f4e78; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.score { text-align: right; }
span.score { display: inline-block; min-width: 42px; text-align: center; font-weight: bold; border-radius: 3px;
             padding: 1px 6px; }
td.case code { white-space: nowrap; word-break: normal; }
td.prog { white-space: nowrap; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; word-break: break-all; }
.muted { color: #5b6b7c; font-size: 13px; }
figure { margin: 8px 0; }
figure img { max-width: 100%; height: auto; }
.note { color: #5b6b7c; font-style: italic; }
ul.hits { margin: 6px 0 0; padding-left: 18px; }
ul.hits li { margin-bottom: 4px; }
.lvl { display: inline-block; border-radius: 3px; padding: 0 6px; font-size: 12px; font-weight: bold; color: #fff;
       background: #8c8c8c; }
.lvl-critical { background: #b2182b; } .lvl-high { background: #e6550d; }
.lvl-medium { background: #fdae6b; color: #1d2733; } .lvl-low { background: #9ecae1; color: #1d2733; }
details { margin-top: 2px; } summary { cursor: pointer; color: #1f4e78; font-size: 13px; }
table.kv { width: auto; margin: 4px 0; } table.kv td { padding: 2px 8px; font-size: 13px; border: none; }
table.kv td:first-child { color: #5b6b7c; }
table.cases td:first-child { font-weight: bold; }
@media print { body { background: #fff; } section, nav { box-shadow: none; page-break-inside: avoid; }
               table.cases tr { page-break-inside: avoid; } details { display: none; } }
""".replace("FONT_STACK", fonts.CSS_FONT_STACK)


def write_html(
    result,
    path,
    *,
    lang: str = "en",
    unmask: bool = False,
    history: pd.DataFrame | None = None,
    top: int = 50,
) -> Path:
    """Write the scan's report to `path` as one self-contained HTML file and return the path.

    `history` (year, program, cases, amount_at_risk) draws the trend across years; `top` is
    how many of the best-ranked cases are listed with their evidence.
    """
    return _write(path, lambda: render_html(result, lang=lang, unmask=unmask, history=history, top=top))


def _write(path, render) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(render(), encoding="utf-8")
    return path


def render_html(
    result, *, lang: str = "en", unmask: bool = False, history: pd.DataFrame | None = None, top: int = 50
) -> str:
    """The report as an HTML string (what write_html writes)."""
    i18n.check_lang(lang)
    if top < 0:
        raise ValueError(f"top must be 0 or more, not {top}")
    trend = tables.history_frame(history, result.year, result.cases) if history is not None else None
    result = masked_run(result, unmask)
    cases, hits = tables.export_tables(result, lang, unmask)
    return _page(result, lang=lang, unmask=unmask, trend=trend, top=top, cases=cases, hits=hits)


def write_page(
    result, path, *, lang: str, unmask: bool, trend: pd.DataFrame | None, cases: pd.DataFrame, hits: pd.DataFrame,
    top: int = 50, coverage: pd.DataFrame | None = None, rates: pd.DataFrame | None = None,
) -> Path:
    """write_html after its masking (see _page); write_outputs calls this with the tables it
    masked once for all of its files."""
    return _write(path, lambda: _page(result, lang=lang, unmask=unmask, trend=trend, top=top, cases=cases,
                                      hits=hits, coverage=coverage, rates=rates))


def _page(
    result, *, lang: str, unmask: bool, trend: pd.DataFrame | None, top: int, cases: pd.DataFrame, hits: pd.DataFrame,
    coverage: pd.DataFrame | None = None, rates: pd.DataFrame | None = None,
) -> str:
    """render_html after its masking: `result` with its run masked (masked_run), `cases` and
    `hits` from tables.export_tables, `trend` from tables.history_frame (or None); `coverage` and
    `rates` from report/coverage_tables.py (computed here when not given)."""
    i18n.check_lang(lang)
    if top < 0:
        raise ValueError(f"top must be 0 or more, not {top}")
    t = i18n.text
    run = result.run or {}
    coverage = coverage if coverage is not None else coverage_table(result, lang, unmask)
    rates = rates if rates is not None else rates_table(result)

    sections = [
        ("overview", t("overview", lang), _overview(cases, run, lang)),
        ("programs", t("chart_program", lang), _program_section(cases, lang)),
        ("townships", t("chart_township", lang), _township_section(result.cases, lang, run.get("region_names"))),
        ("rules", t("chart_rules", lang), _rules_section(result.hits, run, lang)),
        ("scores", t("chart_scores", lang), _score_section(cases, lang)),
        ("trend", t("chart_trend", lang), _trend_section(trend, lang)),
        ("cases", t("top_cases", lang), _cases_section(cases, hits, top, lang)),
    ]
    if run.get("coverage"):  # a coverage rule ran: who should be paid and is not
        sections.append(("coverage", t("coverage_title", lang),
                         coverage_section(coverage, rates, top, lang, run.get("region_names"))))
    title = f"{t('title', lang)} {result.year}"
    meta = [
        (t("run_id", lang), result.run_id),
        (t("year", lang), result.year),
        (t("date", lang), run.get("started_at", "")),
        (t("version", lang), run.get("fundwatch_version", "")),
        (t("rules_version", lang), run.get("rules_version", "")),
    ]
    meta_html = "".join(f"<span>{_e(k)}: <b>{_e(v)}</b></span>" for k, v in meta if v not in ("", None))
    ids = (
        f'<p class="ids unmasked">{_e(t("ids_unmasked", lang))}</p>'
        if unmask
        else f'<p class="ids">{_e(t("ids_masked", lang))}</p>'
    )
    if lang == "zh" and fonts.cjk_font() is None:  # the charts were drawn here: why they are in English, the fix
        ids += f'<p class="ids">{_e(t("no_cjk_font", lang, hint=fonts.INSTALL_HINT))}</p>'
    toc = "".join(f'<li><a href="#{anchor}">{_e(name)}</a></li>' for anchor, name, _ in sections)
    body = "".join(
        f'<section id="{anchor}"><h2>{_e(name)}</h2>{content}</section>' for anchor, name, content in sections
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} · {_e(result.run_id)}</title><style>{CSS}</style></head><body>"
        f'<header><div class="inner"><h1>{_e(title)}</h1><p class="meta">{meta_html}</p>{ids}</div></header>'
        f"<main><nav><h2>{_e(t('contents', lang))}</h2><ol>{toc}</ol></nav>{body}</main></body></html>\n"
    )


# ---------------------------------------------------------------- pieces


def _e(value) -> str:
    """A value as escaped HTML text; missing values are empty."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if isinstance(value, list | dict):  # evidence values can be JSON arrays and objects
        value = json.dumps(value, ensure_ascii=False)
    return escape(str(value), quote=True)


def _money(value) -> str:
    """Yuan with thousands separators and 2 decimals; empty where unknown."""
    value = pd.to_numeric(value, errors="coerce")
    return "" if pd.isna(value) else f"{float(value):,.2f}"


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{_e(alt)}"></figure>'


def _note(text: str) -> str:
    return f'<p class="note">{_e(text)}</p>'


def _table(frame: pd.DataFrame, lang: str, *, numeric=(), money=(), total: bool = False) -> str:
    head = "".join(
        f'<th class="{"num" if c in numeric or c in money else ""}">{_e(i18n.column(c, lang))}</th>'
        for c in frame.columns
    )
    rows = []
    for record in frame.to_dict("records"):
        cells = []
        for c, v in record.items():
            if c in money:
                cells.append(f'<td class="num">{_money(v)}</td>')
            elif c in numeric:
                cells.append(f'<td class="num">{_e(v)}</td>')
            else:
                cells.append(f"<td>{_e(v)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    if total and not frame.empty:
        cells = [f"<td>{_e(i18n.text('total', lang))}</td>"]
        for c in list(frame.columns)[1:]:
            if c in money:
                cells.append(f'<td class="num">{_money(frame[c].sum())}</td>')
            elif c in numeric:
                cells.append(f'<td class="num">{_e(frame[c].sum())}</td>')
            else:
                cells.append("<td></td>")
        rows.append(f'<tr class="total">{"".join(cells)}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _card(value, label: str, warn: bool = False) -> str:
    return (
        f'<div class="card{" warn" if warn else ""}"><div class="value">{_e(value)}</div>'
        f'<div class="label">{_e(label)}</div></div>'
    )


def _overview(cases: pd.DataFrame, run: dict, lang: str) -> str:
    t = i18n.text
    counts = tables.outcome_counts(run)
    amount = pd.to_numeric(cases["amount_at_risk"], errors="coerce").fillna(0).sum()
    cards = [_card(f"{len(cases):,}", t("total_cases", lang)), _card(_money(amount), t("total_amount", lang))]
    cards += [
        _card(counts[s], f"{t('rules_label', lang)}: {i18n.status(s, lang)}", warn=s == "error" and counts[s])
        for s in ("found", "clean", "skipped", "error")
    ]
    for flag in ("mis_tuned", "ran_on_nothing"):
        cards.append(_card(counts[flag], i18n.column(flag, lang), warn=bool(counts[flag])))
    blocks = "".join(
        f"<div><h3>{_e(t(key, lang))}</h3>"
        f"{_table(frame, lang, numeric=('cases',), money=('amount_at_risk',), total=True)}</div>"
        for key, frame in (
            ("by_program", tables.program_totals(cases, lang)),
            ("by_level", tables.level_totals(cases, lang)),
        )
    )
    return f'<div class="cards">{"".join(cards)}</div><div class="pair">{blocks}</div>'


def _program_section(cases: pd.DataFrame, lang: str) -> str:
    if cases.empty:
        return _note(i18n.text("no_chart_data", lang))
    return _img(charts.program_chart(tables.program_totals(cases), lang), i18n.text("chart_program", lang))


def _township_section(raw_cases: pd.DataFrame, lang: str, names: dict | None = None) -> str:
    if raw_cases.empty:
        return _note(i18n.text("no_chart_data", lang))
    totals = tables.township_totals(raw_cases)
    if totals is None:
        return _note(i18n.text("no_township", lang))
    out = _img(charts.township_chart(totals, lang, TOWNSHIPS_SHOWN, names), i18n.text("chart_township", lang))
    if len(totals) > TOWNSHIPS_SHOWN:
        out += _note(i18n.text("other_townships", lang, n=len(totals) - TOWNSHIPS_SHOWN))
    uncounted = len(raw_cases) - int(totals["cases"].sum())
    if uncounted:
        out += _note(i18n.text("no_township_code", lang, n=uncounted, total=len(raw_cases)))
    return out


def _rules_section(raw_hits: pd.DataFrame, run: dict, lang: str) -> str:
    counts = tables.rule_hit_counts(raw_hits)
    out = (
        _note(i18n.text("no_hits", lang))
        if counts.empty
        else _img(charts.rule_chart(counts, lang), i18n.text("chart_rules", lang))
    )
    outcomes = tables.outcome_table(run, lang)
    if outcomes.empty:
        return out + _note(i18n.text("no_rules", lang))
    outcomes["share"] = [tables.share_text(s) for s in outcomes["share"]]
    return (
        out
        + f"<h3>{_e(i18n.text('rule_outcomes', lang))}</h3>"
        + _table(outcomes, lang, numeric=("hits", "share"))
    )


def _score_section(cases: pd.DataFrame, lang: str) -> str:
    if cases.empty:
        return _note(i18n.text("no_chart_data", lang))
    return _img(charts.score_chart(cases["risk_score"], lang), i18n.text("chart_scores", lang))


def _trend_section(trend: pd.DataFrame | None, lang: str) -> str:
    if trend is None or trend.empty:
        return _note(i18n.text("no_history", lang))
    years = sorted(trend["year"].unique())
    if len(years) < 2:
        return _note(i18n.text("one_year", lang, year=years[0]))
    return _img(charts.trend_chart(trend, lang), i18n.text("chart_trend", lang))


def _evidence(text) -> str:
    """A hit's evidence JSON as a small key/value table (raw text if it is not a JSON object)."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        data = None
    if not isinstance(data, dict):
        return f"<code>{_e(text)}</code>"
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in data.items())
    return f'<table class="kv">{rows}</table>'


def _level_badge(level, lang: str) -> str:
    known = level if level in LEVEL_ORDER else "other"
    return f'<span class="lvl lvl-{known}">{_e(i18n.level(level, lang))}</span>'


def _hit_item(hit: dict, lang: str, case_summary: str = "") -> str:
    # The case's summary opens with its top hit's sentence: not said twice.
    said = isinstance(hit["summary"], str) and isinstance(case_summary, str) and case_summary.startswith(hit["summary"])
    text = "" if said else f" — {_e(hit['summary'])}"
    return (
        f"<li><code>{_e(hit['rule_id'])}</code> {_level_badge(hit['level'], lang)} "
        f"<b>{_money(hit['amount_at_risk'])}</b>{text}"
        f"<details><summary>{_e(i18n.text('details', lang))}</summary>{_evidence(hit['evidence'])}</details></li>"
    )


def _score_style(score) -> str:
    """A green (0) to red (100) background for the risk score."""
    try:
        s = min(max(float(score), 0.0), 100.0)
    except (TypeError, ValueError):
        return ""
    return f' style="background:hsl({120 - 1.2 * s:.0f},70%,85%)"'


def _case_state(case: dict, lang: str) -> str:
    """New or recurring, and the analysts' review, under the program (empty where unknown)."""
    states = [i18n.case_state(case.get(c), lang) for c in ("status", "review_status")]
    text = " · ".join(s for s in states if s)
    return f'<br><span class="muted">{_e(text)}</span>' if text else ""


def _cases_section(cases: pd.DataFrame, hits: pd.DataFrame, top: int, lang: str) -> str:
    if cases.empty:
        return _note(i18n.text("no_cases", lang))
    shown = cases.head(top)
    by_case: dict[str, list[dict]] = {}
    if not hits.empty:
        wanted = hits[hits["case_id"].isin(set(shown["case_id"]))]
        order = wanted["level"].map(LEVEL_ORDER).fillna(0)
        wanted = wanted.assign(_order=order).sort_values(["_order", "amount_at_risk"], ascending=False)
        for hit in wanted.to_dict("records"):
            by_case.setdefault(hit["case_id"], []).append(hit)
    cols = ["rank", "case_id", "program", "risk_score", "amount_at_risk", "summary"]
    head = "".join(
        f'<th class="{"num" if c in ("rank", "risk_score", "amount_at_risk") else ""}">'
        f"{_e(i18n.column(c, lang))}</th>"
        for c in cols
    )
    rows = []
    for case in shown.to_dict("records"):
        items = "".join(_hit_item(h, lang, case["summary"]) for h in by_case.get(case["case_id"], []))
        evidence = f'<ul class="hits">{items}</ul>' if items else ""
        rows.append(
            f'<tr><td class="num">{_e(case["rank"])}</td>'
            f'<td class="case"><code>{_e(case["case_id"])}</code><br><span class="muted">{_e(case["entity_type"])}'
            f"</span><br><code>{_e(case['entity_id'])}</code></td>"
            f'<td class="prog">{_e(i18n.program(case["program"], lang))}{_case_state(case, lang)}</td>'
            f'<td class="score"><span class="score"{_score_style(case["risk_score"])}>{_e(case["risk_score"])}'
            "</span></td>"
            f'<td class="num">{_money(case["amount_at_risk"])}</td>'
            f"<td>{_level_badge(case['level'], lang)} {_e(case['summary'])}{evidence}</td></tr>"
        )
    note = _note(i18n.text("top_note", lang, n=len(shown), total=len(cases)))
    return f'{note}<table class="cases"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


# ---------------------------------------------------------------- who should be paid and is not


def coverage_section(coverage: pd.DataFrame, rates: pd.DataFrame, top: int, lang: str, names: dict | None = None) -> str:
    """Cards, the township coverage chart and table (lowest coverage first), coverage per
    programme, and the first `top` missed beneficiaries with their evidence."""
    t = i18n.text
    out = _note(t("coverage_intro", lang))
    owed = pd.to_numeric(coverage["amount_owed"], errors="coerce").fillna(0).sum() if not coverage.empty else 0
    totals = township_totals(rates)
    cards = [_card(f"{len(coverage):,}", t("coverage_missed", lang)), _card(_money(owed), t("coverage_owed", lang))]
    if not totals.empty:
        eligible, paid = int(totals["eligible"].sum()), int(totals["paid"].sum())
        cards += [_card(f"{eligible:,}", t("coverage_eligible", lang)),
                  _card(f"{paid / eligible:.1%}" if eligible else "", t("coverage_rate_all", lang))]
    out += f'<div class="cards">{"".join(cards)}</div>'
    if totals.empty:
        out += _note(t("no_coverage_rates", lang))
    else:
        out += _img(charts.coverage_chart(totals, lang, TOWNSHIPS_SHOWN, names), t("coverage_chart", lang))
        shown = totals.assign(township=[charts.township_label(c, names) if c else t("unknown_township", lang)
                                        for c in totals["township"]],
                              coverage_rate=[f"{r:.1%}" for r in totals["coverage_rate"]])
        counts = ("eligible", "paid", "missed", "coverage_rate", "months_missed")
        out += f"<h3>{_e(t('coverage_by_township', lang))}</h3>"
        out += _table(shown, lang, numeric=counts, money=("amount_owed",))
        by_rule = rates.groupby("rule_id", sort=True)[["eligible", "paid", "missed"]].sum().reset_index()
        by_rule["coverage_rate"] = [f"{p / e:.1%}" if e else "" for p, e in zip(by_rule["paid"], by_rule["eligible"],
                                                                                 strict=True)]
        out += f"<h3>{_e(t('coverage_by_rule', lang))}</h3>" + _table(by_rule, lang, numeric=counts)
    if coverage.empty:
        return out + _note(t("no_coverage", lang))
    shown = coverage.head(top)
    cols = ["rank", "outreach_id", "township", "months_missed", "amount_owed", "summary"]
    head = "".join(f'<th class="{"num" if c in ("rank", "months_missed", "amount_owed") else ""}">'
                   f"{_e(i18n.column(c, lang))}</th>" for c in cols)
    rows = []
    for row in shown.to_dict("records"):
        state = i18n.outreach_state(row.get("outreach_status"), lang)
        rows.append(
            f'<tr><td class="num">{_e(row["rank"])}</td>'
            f'<td class="case"><code>{_e(row["outreach_id"])}</code><br><code>{_e(row["entity_id"])}</code>'
            f'{f"<br><span class=muted>{_e(state)}</span>" if state else ""}</td>'
            f"<td>{_e(row['township'])}</td><td class=\"num\">{_e(row['months_missed'])}</td>"
            f'<td class="num">{_money(row["amount_owed"])}</td>'
            f"<td><b>{_e(row['title'])}</b> {_e(row['summary'])}"
            f"<details><summary>{_e(t('details', lang))}</summary>{_evidence(row['evidence'])}</details></td></tr>"
        )
    note = _note(t("coverage_top", lang, n=len(shown), total=len(coverage)))
    return f'{out}{note}<table class="cases"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
