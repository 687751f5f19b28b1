"""cases.xlsx: the case list as a workbook for analysts who live in Excel.

Sheets: Summary (the run, totals per program and level, rule outcomes, years), one sheet
per program with its cases best first, and Rule hits (the evidence of every hit). Every
table has a styled, frozen header row and an autofilter; money has thousands separators,
the risk score a colour scale. IDs are masked unless `unmask`, text that Excel would run
as a formula is neutralised, and the file appears whole or not at all.

Written with XlsxWriter in constant_memory mode: rows are streamed to disk as they are
written, so a large case list does not need the whole workbook in memory.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from fundwatch.report import i18n, tables
from fundwatch.report.coverage_tables import COVERAGE_CSV, coverage_table, rates_table
from fundwatch.report.files import atomic_path, neutralise
from fundwatch.report.mask import masked_run

MAX_CELL_TEXT = 32_767  # Excel's limit for one cell
# Control characters XML 1.0 cannot hold (tab, newline and carriage return can).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
MONEY = "#,##0.00"
DATETIME = "yyyy-mm-dd h:mm:ss"
NUMBER_FORMATS = {
    "amount_at_risk": MONEY,
    "risk_score": "0.0",
    "outlier_score": "0.00",
    "share": "0.0##%",  # a rule with 2 hits among thousands is not "0.0%"
    "cases": "#,##0",
    "hits": "#,##0",
    "amount_owed": MONEY,
    "coverage_rate": "0.0%",
    "eligible": "#,##0",
    "paid": "#,##0",
    "missed": "#,##0",
}
WRAPPED = {"summary": 80, "evidence": 60, "note": 70}  # column -> fixed width; text wraps

# Cell styles as XlsxWriter format properties.
HEADER = {"bold": True, "font_color": "#FFFFFF", "pattern": 1, "bg_color": "#1F4E78", "text_wrap": True,
          "valign": "vcenter"}
TITLE_FONT = {"bold": True, "size": 14, "font_color": "#1F4E78"}
SECTION_FONT = {"bold": True, "size": 12, "font_color": "#1F4E78"}
BOLD = {"bold": True}
WARN_FONT = {"bold": True, "font_color": "#C00000"}
TOP = {"valign": "top"}
WRAP_TOP = {"text_wrap": True, "valign": "top"}
LEFT = {"align": "left"}
# Excel's own green-yellow-red scale, fixed at 0/50/100 so colours mean the same in every file.
SCORE_SCALE = {
    "type": "3_color_scale",
    "min_type": "num",
    "min_value": 0,
    "min_color": "#63BE7B",
    "mid_type": "num",
    "mid_value": 50,
    "mid_color": "#FFEB84",
    "max_type": "num",
    "max_value": 100,
    "max_color": "#F8696B",
}
SUMMARY_WIDTHS = [36, 24, 24, 18, 14, 70]
QUOTE = "'"  # a sheet name may not start or end with one
EXCEL_ROWS = 1_048_576  # rows a sheet can hold: a longer table is cut, with a note, here and on Summary
# Text is written as text: never read as a formula, a URL or a number.
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": True,
}


def write_xlsx(
    result, path, *, lang: str = "en", unmask: bool = False, history: pd.DataFrame | None = None
) -> Path:
    """Write the scan's case list to `path` as an .xlsx workbook and return the path.

    `history` (year, program, cases, amount_at_risk) adds a table of earlier years to the
    Summary sheet. IDs are masked unless `unmask`.
    """
    i18n.check_lang(lang)
    trend = tables.history_frame(history, result.year, result.cases) if history is not None else None
    result = masked_run(result, unmask)
    cases, hits = tables.export_tables(result, lang, unmask)
    return write_workbook(result, path, lang=lang, unmask=unmask, trend=trend, cases=cases, hits=hits)


def write_workbook(
    result, path, *, lang: str, unmask: bool, trend: pd.DataFrame | None, cases: pd.DataFrame, hits: pd.DataFrame,
    coverage: pd.DataFrame | None = None, rates: pd.DataFrame | None = None,
) -> Path:
    """write_xlsx after its masking: `result` with its run masked (masked_run), `cases` and
    `hits` from tables.export_tables, `trend` from tables.history_frame (or None); `coverage`
    and `rates` from report/coverage_tables.py (computed here when not given).

    write_outputs calls this with the tables it masked once for all of its files."""
    i18n.check_lang(lang)
    path = Path(path)
    hits = _by_case_rank(hits, cases)
    coverage = coverage if coverage is not None else coverage_table(result, lang, unmask)
    rates = rates if rates is not None else rates_table(result)

    summary_name = i18n.text("summary_sheet", lang)
    used = {summary_name.casefold(), i18n.text("hits_sheet", lang).casefold()}
    sheets = [(_sheet_name(i18n.program(p, lang), used), cases[cases["program"] == p], "cases.csv")
              for p in tables.programs_present(cases)]
    sheets.append((i18n.text("hits_sheet", lang), hits, "rule_hits.csv"))
    # Who should be paid and is not: outreach, apart from the cases (where a coverage rule ran).
    if (result.run or {}).get("coverage"):
        sheets.append((_sheet_name(i18n.text("coverage_sheet", lang), used), coverage, "coverage.csv"))
        sheets.append((_sheet_name(i18n.text("coverage_rates_sheet", lang), used), rates, "coverage_rates.csv"))
    notes = {name: i18n.text("sheet_capped", lang, sheet=name, n=EXCEL_ROWS - 2, total=len(frame), file=file)
             for name, frame, file in sheets if len(frame) > EXCEL_ROWS - 1}
    with atomic_path(path) as tmp:
        # On an error the workbook is not closed (nothing is written to `tmp`, which is removed);
        # its temporary row files go with it.
        wb = xlsxwriter.Workbook(str(tmp), WORKBOOK_OPTIONS)
        wb.set_properties(
            {"author": "fundwatch", "title": f"{i18n.text('workbook_title', lang)} {result.year} ({result.run_id})"}
        )
        book = _Book(wb)
        _summary_sheet(book, wb.add_worksheet(summary_name), result, cases, trend, lang, unmask, list(notes.values()),
                       coverage)
        for name, frame, _ in sheets:
            _table_sheet(book, wb.add_worksheet(name), frame, lang, notes.get(name))
        wb.close()
    return path


def _by_case_rank(hits: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """Hits in the order of their cases, worst case first."""
    if hits.empty:
        return hits
    rank = hits["case_id"].map(dict(zip(cases["case_id"], cases["rank"], strict=True)))
    order = np.lexsort((hits["rule_id"].astype(str).to_numpy(), rank.fillna(math.inf).to_numpy(dtype=float)))
    return hits.iloc[order]


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _sheet_name(name: str, used: set[str]) -> str:
    """A valid, unused sheet name: max 31 characters (UTF-16 units, as Excel counts), none of
    []:*?/\\, no quote at either end, unique ignoring case (as Excel compares them).

    `used` holds the case-folded names taken so far."""
    base = re.sub(r"[\[\]:*?/\\]", "_", str(name))
    while _utf16_len(base) > 31:
        base = base[:-1]
    base = base.strip(QUOTE) or "sheet"
    candidate, n = base, 1
    while candidate.casefold() in used:
        n += 1
        candidate = f"{base[:28].rstrip(QUOTE)}_{n}"
    used.add(candidate.casefold())
    return candidate


# ---------------------------------------------------------------- cells


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Text safe for a cell: no XML-illegal control characters, within Excel's length, neutralised."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        if isinstance(s.dtype, pd.StringDtype):
            is_text = s.notna()  # every value of a string column is text or missing
        else:
            is_text = s.map(lambda v: isinstance(v, str)).astype(bool)
        if not is_text.any():
            continue
        text = s[is_text]
        # Rewritten only where needed (rarely): one search over the column instead of a regex
        # replace per cell.
        if ILLEGAL_CHARACTERS_RE.search("\n".join(text.tolist())):
            text = text.str.replace(ILLEGAL_CHARACTERS_RE, "", regex=True)
        if text.str.len().max() > MAX_CELL_TEXT:
            text = text.str.slice(0, MAX_CELL_TEXT)
        out[col] = s.astype(object)
        # Only text is neutralised: a negative number stays a number.
        out.loc[is_text, col] = neutralise(text.to_frame(col))[col]
    return out


def _value(v):
    """A value as a plain Python type, None for missing."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float | np.floating) and math.isnan(v):
        return None
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v


class _Book:
    """The workbook's formats (XlsxWriter needs one Format object per distinct style) and
    the typed writes of cells."""

    def __init__(self, wb):
        self.wb = wb
        self._formats: dict = {}

    def fmt(self, *styles: dict | None, number_format: str | None = None):
        props = {}
        for style in styles:
            props.update(style or {})
        if number_format is not None:
            props["num_format"] = number_format
        if not props:
            return None
        key = tuple(sorted(props.items()))
        if key not in self._formats:
            self._formats[key] = self.wb.add_format(props)
        return self._formats[key]

    def write(self, ws, row: int, col: int, value, fmt=None, *, style: tuple = ()) -> None:
        """One cell, by the type of its value; `style` (dicts) builds a date's format."""
        value = _value(value)
        if value is None or value == "":  # an empty text is an empty cell
            if fmt is not None:
                ws.write_blank(row, col, None, fmt)
        elif isinstance(value, str):
            ws.write_string(row, col, value, fmt)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value, fmt)
        elif isinstance(value, int | float):
            ws.write_number(row, col, value, fmt)
        elif isinstance(value, dt.datetime | dt.date | dt.time):
            if isinstance(value, dt.datetime) and value.tzinfo is not None:
                value = value.replace(tzinfo=None)
            ws.write_datetime(row, col, value, self.fmt(*style, number_format=DATETIME) if fmt is None
                              or not fmt.num_format else fmt)
        else:
            ws.write_string(row, col, str(value), fmt)

    def row(self, ws, row: int, cells) -> int:
        """(value, fmt) cells from column A; returns the next row."""
        for col, (value, fmt) in enumerate(cells):
            self.write(ws, row, col, value, fmt)
        return row + 1

    def rows(self, ws, row: int, frame: pd.DataFrame) -> int:
        """The frame's rows from `row`: number formats per column, wrapped long text,
        top-aligned. Returns the next row."""
        styles = [(WRAP_TOP if c in WRAPPED else TOP,) for c in frame.columns]
        formats = [self.fmt(*s, number_format=NUMBER_FORMATS.get(c)) for s, c in zip(styles, frame.columns,
                                                                                      strict=True)]
        cells = list(zip(range(len(formats)), formats, styles, strict=True))
        clean = _clean(frame)
        columns = [clean.iloc[:, i].tolist() for i in range(clean.shape[1])]  # Python scalars
        write, write_string, write_number, write_blank = self.write, ws.write_string, ws.write_number, ws.write_blank
        for values in zip(*columns, strict=True):
            for (col, fmt, style), value in zip(cells, values, strict=True):
                # The common types inline (the same as `write` does with them), the rest through `write`.
                kind = type(value)
                if kind is str and value:
                    write_string(row, col, value, fmt)
                elif kind is float and value == value or kind is int:
                    write_number(row, col, value, fmt)
                elif kind is float:  # NaN: missing
                    write_blank(row, col, None, fmt)
                else:
                    write(ws, row, col, value, fmt, style=style)
            row += 1
        return row

    def header(self, ws, row: int, labels) -> int:
        fmt = self.fmt(HEADER)
        for col, label in enumerate(labels):
            ws.write_string(row, col, str(label), fmt)
        return row + 1


def _display_width(value) -> int:
    text = f"{value:,.2f}" if isinstance(value, float) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _column_width(name: str, header: str, values: pd.Series) -> float:
    if name in WRAPPED:
        return WRAPPED[name]
    sample = [v for v in values.head(500) if _value(v) is not None]
    widest = max([min(_display_width(header), 24), *(_display_width(v) for v in sample)])
    return float(min(max(widest + 2, 8), 50))


def _set_width(ws, col: int, width: float) -> None:
    """A column `width` characters wide, stored as that width: XlsxWriter stores pixels / 7
    (7 px: the digit width of the default font) where its set_column would add 5 px of padding."""
    ws.set_column_pixels(col, col, round(width * 7))


# ---------------------------------------------------------------- sheets


def _table_sheet(book: _Book, ws, frame: pd.DataFrame, lang: str, capped_note: str | None = None) -> None:
    """One table: styled frozen header, autofilter, widths, number formats, risk colour scale.

    With `capped_note`, the table is cut to what a sheet holds and the note is its last row."""
    if capped_note is not None:
        frame = frame.head(EXCEL_ROWS - 2)
    columns = list(frame.columns)
    headers = [i18n.column(c, lang) for c in columns]
    for i, (c, h) in enumerate(zip(columns, headers, strict=True)):
        _set_width(ws, i, _column_width(c, h, frame[c]))
    ws.freeze_panes(1, 0)
    row = book.header(ws, 0, headers)
    row = book.rows(ws, row, frame)
    if capped_note is not None:
        book.write(ws, row, 0, capped_note, book.fmt(WARN_FONT))
    last_row = len(frame)  # 0-based: the table is rows 0 (header) to len(frame)
    ws.autofilter(0, 0, last_row, len(columns) - 1)
    if "risk_score" in columns and len(frame):
        col = columns.index("risk_score")
        ws.conditional_format(1, col, last_row, col, SCORE_SCALE)


def _summary_sheet(
    book: _Book, ws, result, cases: pd.DataFrame, trend: pd.DataFrame | None, lang: str, unmask: bool, notes=(),
    coverage: pd.DataFrame | None = None,
) -> None:
    t = i18n.text
    for i, width in enumerate(SUMMARY_WIDTHS):
        _set_width(ws, i, width)
    run = result.run or {}
    amounts = pd.to_numeric(cases["amount_at_risk"], errors="coerce").fillna(0)
    coverage = coverage if coverage is not None else pd.DataFrame(columns=COVERAGE_CSV)

    row = book.row(ws, 0, [(f"{t('workbook_title', lang)} {result.year}", book.fmt(TITLE_FONT))])
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
    if run.get("coverage"):
        owed = float(pd.to_numeric(coverage["amount_owed"], errors="coerce").fillna(0).sum())
        about += [(t("coverage_missed", lang), len(coverage), None), (t("coverage_owed", lang), owed, None)]
    block = _clean(pd.DataFrame([(k, v) for k, v, _ in about], columns=["key", "value"]))
    for (key, value), (_, raw, font) in zip(block.itertuples(index=False, name=None), about, strict=True):
        fmt = MONEY if isinstance(raw, float) else None
        row = book.row(ws, row, [(key, book.fmt(BOLD)), (value, book.fmt(font, LEFT, number_format=fmt))])

    for note in notes:  # a table too long for its sheet
        row = book.row(ws, row, [(note, book.fmt(WARN_FONT))])

    row = _block(book, ws, row, t("by_program", lang), tables.program_totals(cases, lang), lang, total=True)
    row = _block(book, ws, row, t("by_level", lang), tables.level_totals(cases, lang), lang, total=True)

    row += 1
    row = book.row(ws, row, [(t("rule_outcomes", lang), book.fmt(SECTION_FONT))])
    counts = tables.outcome_counts(run)
    if not run.get("rules"):
        row = book.row(ws, row, [(t("no_rules", lang), None)])
    else:
        for code in ("found", "clean", "skipped", "error"):
            row = book.row(ws, row, [(i18n.status(code, lang), book.fmt(BOLD)), (counts[code], None)])
        for flag in ("mis_tuned", "ran_on_nothing"):
            row = book.row(ws, row, [(i18n.column(flag, lang), book.fmt(BOLD)), (counts[flag], None)])
        row = _block(book, ws, row, None, tables.outcome_table(run, lang), lang)
    broken = run.get("broken_rule_files") or []
    if broken:
        row = _block(book, ws, row, t("broken_rules", lang), pd.DataFrame({"error": broken}), lang)
    if trend is not None:
        trend = trend.assign(program=[i18n.program(p, lang) for p in trend["program"]])
        row = _block(book, ws, row, t("history", lang), trend, lang)


def _block(book: _Book, ws, row: int, title: str | None, frame: pd.DataFrame, lang: str,
           total: bool = False) -> int:
    """A small table on the Summary sheet, after a blank row and its title; optionally a total
    row. Returns the next row."""
    row += 1
    if title:
        row = book.row(ws, row, [(title, book.fmt(SECTION_FONT))])
    row = book.header(ws, row, [i18n.column(c, lang) for c in frame.columns])
    row = book.rows(ws, row, frame)
    if total:
        sums = [frame[c].sum() if c in ("cases", "amount_at_risk") else None for c in frame.columns]
        sums[0] = i18n.text("total", lang)
        row = book.row(
            ws, row,
            [(v, book.fmt(BOLD, number_format=NUMBER_FORMATS.get(c))) for v, c in zip(sums, frame.columns, strict=True)],
        )
    return row
