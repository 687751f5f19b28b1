"""cases.xlsx: the case list as a workbook for analysts who live in Excel.

Sheets: Summary (the run, totals per program and level, rule outcomes, years), one sheet
per program with its cases best first, and Rule hits (the evidence of every hit). Every
table has a styled, frozen header row and an autofilter; money has thousands separators,
the risk score a colour scale. IDs are masked unless `unmask`, text that Excel would run
as a formula is neutralised, and the file appears whole or not at all.

Rows are streamed (openpyxl write-only mode), so a large case list does not need the
whole workbook in memory.
"""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from fundwatch.report import charts, i18n
from fundwatch.report.files import atomic_path, neutralise
from fundwatch.report.mask import masked_run

MAX_CELL_TEXT = 32_767  # Excel's limit for one cell
MONEY = "#,##0.00"
NUMBER_FORMATS = {
    "amount_at_risk": MONEY,
    "risk_score": "0.0",
    "outlier_score": "0.00",
    "share": "0.0%",
    "cases": "#,##0",
    "hits": "#,##0",
}
WRAPPED = {"summary": 80, "evidence": 60, "note": 70}  # column -> fixed width; text wraps

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="center")
TITLE_FONT = Font(bold=True, size=14, color="1F4E78")
SECTION_FONT = Font(bold=True, size=12, color="1F4E78")
BOLD = Font(bold=True)
WARN_FONT = Font(bold=True, color="C00000")
TOP = Alignment(vertical="top")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
# Excel's own green-yellow-red scale, fixed at 0/50/100 so colours mean the same in every file.
SCORE_SCALE = {
    "start_type": "num",
    "start_value": 0,
    "start_color": "63BE7B",
    "mid_type": "num",
    "mid_value": 50,
    "mid_color": "FFEB84",
    "end_type": "num",
    "end_value": 100,
    "end_color": "F8696B",
}
SUMMARY_WIDTHS = [36, 24, 24, 18, 14, 70]
EXCEL_ROWS = 1_048_576  # rows a sheet can hold: a longer table is cut, with a note, here and on Summary


def write_xlsx(
    result, path, *, lang: str = "en", unmask: bool = False, history: pd.DataFrame | None = None
) -> Path:
    """Write the scan's case list to `path` as an .xlsx workbook and return the path.

    `history` (year, program, cases, amount_at_risk) adds a table of earlier years to the
    Summary sheet. IDs are masked unless `unmask`.
    """
    i18n.check_lang(lang)
    path = Path(path)
    trend = charts.history_frame(history, result.year, result.cases) if history is not None else None
    result = masked_run(result, unmask)
    cases, hits = charts.export_tables(result, lang, unmask)
    hits = _by_case_rank(hits, cases)

    wb = Workbook(write_only=True)
    wb.properties.creator = "fundwatch"
    wb.properties.title = f"{i18n.text('workbook_title', lang)} {result.year} ({result.run_id})"
    summary = wb.create_sheet(i18n.text("summary_sheet", lang))
    used = {i18n.text("summary_sheet", lang), i18n.text("hits_sheet", lang)}
    tables = [(_sheet_name(i18n.program(p, lang), used), cases[cases["program"] == p], "cases.csv")
              for p in charts.programs_present(cases)]
    tables.append((i18n.text("hits_sheet", lang), hits, "rule_hits.csv"))
    notes = {name: i18n.text("sheet_capped", lang, sheet=name, n=EXCEL_ROWS - 2, total=len(frame), file=file)
             for name, frame, file in tables if len(frame) > EXCEL_ROWS - 1}
    _summary_sheet(summary, result, cases, trend, lang, unmask, list(notes.values()))
    for name, frame, _ in tables:
        _table_sheet(wb.create_sheet(name), frame, lang, notes.get(name))
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def _by_case_rank(hits: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """Hits in the order of their cases, worst case first."""
    if hits.empty:
        return hits
    rank = hits["case_id"].map(dict(zip(cases["case_id"], cases["rank"], strict=True)))
    order = np.lexsort((hits["rule_id"].astype(str).to_numpy(), rank.fillna(math.inf).to_numpy(dtype=float)))
    return hits.iloc[order]


def _sheet_name(name: str, used: set[str]) -> str:
    """A valid, unused sheet name (max 31 characters, none of []:*?/\\)."""
    base = re.sub(r"[\[\]:*?/\\]", "_", str(name)).strip("'")[:31] or "sheet"
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base[:28]}_{n}"
    used.add(candidate)
    return candidate


# ---------------------------------------------------------------- cells


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Text safe for a cell: no XML-illegal control characters, within Excel's length, neutralised."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        is_text = s.map(lambda v: isinstance(v, str)).astype(bool)
        if not is_text.any():
            continue
        text = s[is_text].str.replace(ILLEGAL_CHARACTERS_RE, "", regex=True).str.slice(0, MAX_CELL_TEXT)
        out[col] = s.astype(object)
        # Only text is neutralised: a negative number stays a number.
        out.loc[is_text, col] = neutralise(text.to_frame(col))[col]
    return out


def _value(v):
    """A value openpyxl writes as itself: plain Python types, None for missing."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float | np.floating) and math.isnan(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v


def _cell(ws, value, *, font=None, fill=None, alignment=None, number_format=None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=_value(value))
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if alignment is not None:
        cell.alignment = alignment
    if number_format is not None:
        cell.number_format = number_format
    return cell


def _display_width(value) -> int:
    text = f"{value:,.2f}" if isinstance(value, float) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _column_width(name: str, header: str, values: pd.Series) -> float:
    if name in WRAPPED:
        return WRAPPED[name]
    sample = [v for v in values.head(500) if _value(v) is not None]
    widest = max([min(_display_width(header), 24), *(_display_width(v) for v in sample)])
    return float(min(max(widest + 2, 8), 50))


def _header_row(ws, labels) -> list:
    return [_cell(ws, label, font=HEADER_FONT, fill=HEADER_FILL, alignment=HEADER_ALIGN) for label in labels]


def _rows(ws, frame: pd.DataFrame):
    """The frame's rows as styled cells: number formats per column, wrapped long text, top-aligned.

    Each column's style is set once, on a template cell, and its style ids copied to the
    column's cells: setting a style object per cell costs openpyxl a lookup of the object."""
    styles = [
        _cell(ws, None, number_format=NUMBER_FORMATS.get(c), alignment=WRAP_TOP if c in WRAPPED else TOP)._style
        for c in frame.columns
    ]
    for values in _clean(frame).itertuples(index=False, name=None):
        yield [Cell(ws, row=1, column=1, value=_value(v), style_array=style) for v, style in zip(values, styles, strict=True)]


# ---------------------------------------------------------------- sheets


def _table_sheet(ws, frame: pd.DataFrame, lang: str, capped_note: str | None = None) -> None:
    """One table: styled frozen header, autofilter, widths, number formats, risk colour scale.

    With `capped_note`, the table is cut to what a sheet holds and the note is its last row."""
    if capped_note is not None:
        frame = frame.head(EXCEL_ROWS - 2)
    columns = list(frame.columns)
    headers = [i18n.column(c, lang) for c in columns]
    for i, (c, h) in enumerate(zip(columns, headers, strict=True), start=1):
        ws.column_dimensions[get_column_letter(i)].width = _column_width(c, h, frame[c])
    ws.freeze_panes = "A2"
    ws.append(_header_row(ws, headers))
    for row in _rows(ws, frame):
        ws.append(row)
    last_row = len(frame) + 1
    if capped_note is not None:
        ws.append([_cell(ws, capped_note, font=WARN_FONT)])
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last_row}"
    if "risk_score" in columns and len(frame):
        col = get_column_letter(columns.index("risk_score") + 1)
        ws.conditional_formatting.add(f"{col}2:{col}{last_row}", ColorScaleRule(**SCORE_SCALE))


def _summary_sheet(
    ws, result, cases: pd.DataFrame, trend: pd.DataFrame | None, lang: str, unmask: bool, notes=()
) -> None:
    t = i18n.text
    for i, width in enumerate(SUMMARY_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    run = result.run or {}
    amounts = pd.to_numeric(cases["amount_at_risk"], errors="coerce").fillna(0)

    ws.append([_cell(ws, f"{t('workbook_title', lang)} {result.year}", font=TITLE_FONT)])
    about = [
        (t("run_id", lang), result.run_id, None),
        (t("year", lang), result.year, None),
        (t("date", lang), run.get("started_at", ""), None),
        (t("version", lang), run.get("fundwatch_version", ""), None),
        (t("rules_version", lang), run.get("rules_version", ""), None),
        (t("ids", lang), t("ids_unmasked" if unmask else "ids_masked", lang), WARN_FONT if unmask else None),
        (t("total_cases", lang), len(cases), None),
        (t("total_amount", lang), float(amounts.sum()), None),
    ]
    block = _clean(pd.DataFrame([(k, v) for k, v, _ in about], columns=["key", "value"]))
    for (key, value), (_, raw, font) in zip(block.itertuples(index=False, name=None), about, strict=True):
        fmt = MONEY if isinstance(raw, float) else None
        ws.append(
            [
                _cell(ws, key, font=BOLD),
                _cell(ws, value, font=font, number_format=fmt, alignment=Alignment(horizontal="left")),
            ]
        )

    for note in notes:  # a table too long for its sheet
        ws.append([_cell(ws, note, font=WARN_FONT)])

    _block(ws, t("by_program", lang), charts.program_totals(cases, lang), lang, total=True)
    _block(ws, t("by_level", lang), charts.level_totals(cases, lang), lang, total=True)

    ws.append([])
    ws.append([_cell(ws, t("rule_outcomes", lang), font=SECTION_FONT)])
    counts = charts.outcome_counts(run)
    if not run.get("rules"):
        ws.append([_cell(ws, t("no_rules", lang))])
    else:
        for code in ("found", "clean", "skipped", "error"):
            ws.append([_cell(ws, i18n.status(code, lang), font=BOLD), _cell(ws, counts[code])])
        ws.append([_cell(ws, i18n.column("mis_tuned", lang), font=BOLD), _cell(ws, counts["mis_tuned"])])
        _block(ws, None, charts.outcome_table(run, lang), lang)
    broken = run.get("broken_rule_files") or []
    if broken:
        _block(ws, t("broken_rules", lang), pd.DataFrame({"error": broken}), lang)
    if trend is not None:
        trend = trend.assign(program=[i18n.program(p, lang) for p in trend["program"]])
        _block(ws, t("history", lang), trend, lang)


def _block(ws, title: str | None, frame: pd.DataFrame, lang: str, total: bool = False) -> None:
    """A small table on the Summary sheet, after a blank row and its title; optionally a total row."""
    ws.append([])
    if title:
        ws.append([_cell(ws, title, font=SECTION_FONT)])
    ws.append(_header_row(ws, [i18n.column(c, lang) for c in frame.columns]))
    for row in _rows(ws, frame):
        ws.append(row)
    if total:
        sums = [frame[c].sum() if c in ("cases", "amount_at_risk") else None for c in frame.columns]
        sums[0] = i18n.text("total", lang)
        ws.append(
            [
                _cell(ws, v, font=BOLD, number_format=NUMBER_FORMATS.get(c))
                for v, c in zip(sums, frame.columns, strict=True)
            ]
        )
