"""Read one input file into a staging table of text columns with its source line numbers.

Every format ends the same way: a temporary DuckDB table `c0..cN VARCHAR, __line BIGINT`
plus the header row as written. Typing, header mapping and validation happen later, in
SQL, the same for all formats (fundwatch/load/stage.py).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fundwatch.errors import LoadError
from fundwatch.load.encoding import as_utf8, detect_encoding

FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".parquet": "parquet",
}
MAX_LINE = 64 << 20  # a single field may be large (issue: huge fields); DuckDB's default is 2 MB


@dataclass
class RawFile:
    path: Path
    staging: str  # name of the temporary view of c0..cN and __line (drop with drop_staging)
    headers: list[str]
    header_line: int
    encoding: str = ""
    blank_lines: int = 0
    bad_shape: list[tuple[int, str]] = field(
        default_factory=list
    )  # (line, raw text) of rows with wrong width


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def read_file(con, path: Path, staging: str, tmpdir: Path) -> RawFile:
    kind = FORMATS.get(path.suffix.lower())
    if kind == "csv":
        return _read_csv(con, path, staging, tmpdir)
    if kind == "xlsx":
        return _read_xlsx(con, path, staging)
    if kind == "parquet":
        return _read_parquet(con, path, staging)
    raise LoadError([f"{path}: unsupported file type {path.suffix!r} (expected .csv, .xlsx or .parquet)"])


# --- CSV ------------------------------------------------------------------------------


def _header(text_path: Path) -> tuple[list[str], int, str]:
    """The header row, its 1-based line and the delimiter, from the first non-empty line."""
    with text_path.open("r", encoding="utf-8-sig", newline="") as f:
        for lineno, line in enumerate(f, start=1):
            if line.strip():
                counts = {d: line.count(d) for d in (",", "\t", ";", "|")}
                delim = max(counts, key=counts.get)
                headers = next(csv.reader([line], delimiter=delim))
                return [h.strip() for h in headers], lineno, delim
    raise LoadError([f"{text_path}: the file is empty (no header row)"])


def _line_scan(path: Path, header_line: int) -> tuple[int, list[int]]:
    """(number of physical lines, empty lines after the header), by scanning bytes in chunks."""
    newlines = 0
    empty: list[int] = []
    tail = b""
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            data = tail + chunk
            offset_lines = newlines - tail.count(b"\n")
            for pattern in (b"\n\n", b"\n\r\n"):
                start = 0
                while (pos := data.find(pattern, start)) != -1:
                    line = offset_lines + data.count(b"\n", 0, pos) + 2  # the line after this newline
                    if line > header_line and line not in empty:
                        empty.append(line)
                    start = pos + 1
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
            tail = data[-2:]
    lines = newlines + (1 if last and last != b"\n" else 0)
    # A pattern straddling a chunk boundary can be seen twice; the list is small.
    return lines, sorted(set(e for e in empty if e <= newlines))


CHUNK_BYTES = 16 << 20


def _read_csv(con, path: Path, staging: str, tmpdir: Path) -> RawFile:
    try:
        encoding = detect_encoding(path)
        text_path = as_utf8(path, encoding, tmpdir)
        headers, header_line, delim = _header(text_path)
        physical, empty = _line_scan(text_path, header_line)
    except (OSError, UnicodeError) as e:
        raise LoadError([f"{path}: cannot read the file: {e}"]) from e
    cols = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(headers)))
    p = _sql_str(str(text_path))
    # DuckDB's native reader; rows of the wrong width go to a rejects table with their
    # physical line. Insertion order is preserved, so a row's rowid is its order in the file.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {staging}_rows AS SELECT * FROM read_csv({p},
        header=false, skip={header_line}, columns={{{cols}}}, delim={_sql_str(delim)}, quote='"', escape='"',
        auto_detect=false, ignore_errors=true, store_rejects=true, rejects_table='{staging}_rejects',
        rejects_scan='{staging}_scans', max_line_size={MAX_LINE})"""
    )
    rejects = con.execute(
        f"SELECT line, any_value(csv_line) FROM {staging}_rejects GROUP BY line ORDER BY line"
    ).fetchall()
    for suffix in ("_rejects", "_scans"):
        con.execute(f"DROP TABLE IF EXISTS {staging}{suffix}")
    whitespace = [int(line) for line, raw in rejects if not (raw or "").strip()]
    bad_shape = [(int(line), (raw or "").strip("\n")) for line, raw in rejects if (raw or "").strip()]
    skipped = sorted(set(empty) | {int(line) for line, _ in rejects})
    n_rows = con.execute(f"SELECT count(*) FROM {staging}_rows").fetchall()[0][0]
    col_list = ", ".join(f"c{i}" for i in range(len(headers)))
    if header_line + n_rows + len(skipped) == physical:
        # Every physical line is the header, a row, or skipped: the k-th row sits after the
        # header and the skipped lines before it. Offsets change at each skipped line.
        offset, segments = header_line + 1, [(0, header_line + 1)]
        for line in skipped:
            segments.append((line - offset, offset + 1))
            offset += 1
        frame = pd.DataFrame(segments, columns=["k_start", "line_offset"])  # noqa: F841 - replacement scan
        con.execute(f"CREATE OR REPLACE TEMP TABLE {staging}_segments AS SELECT * FROM frame")
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW {staging} AS
            SELECT {col_list}, r.k + s.line_offset AS __line
            FROM (SELECT rowid AS k, * FROM {staging}_rows) r
            ASOF JOIN {staging}_segments s ON r.k >= s.k_start"""
        )
    else:
        # A quoted field spans lines: let Python's csv find where each record starts.
        _line_numbers_by_python(con, text_path, header_line, delim, staging, set(skipped))
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW {staging} AS
            SELECT {', '.join(f'r.c{i}' for i in range(len(headers)))}, d.line AS __line
            FROM (SELECT rowid AS k, * FROM {staging}_rows) r JOIN {staging}_data_lines d USING (k)"""
        )
    return RawFile(path, staging, headers, header_line, encoding, len(empty) + len(whitespace), bad_shape)


def drop_staging(con, staging: str) -> None:
    """Remove a staging view and the tables behind it."""
    con.execute(f"DROP VIEW IF EXISTS {staging}")
    for suffix in ("", "_rows", "_segments", "_data_lines"):
        con.execute(f"DROP TABLE IF EXISTS {staging}{suffix}")


def _line_numbers_by_python(con, text_path, header_line, delim, staging, skipped: set[int]) -> None:
    """Slow path for files whose quoted fields span lines: let csv find where records start."""
    starts: list[int] = []
    with text_path.open("r", encoding="utf-8-sig", newline="") as f:
        for _ in range(header_line):
            f.readline()
        reader = csv.reader(f, delimiter=delim)
        line = header_line + 1
        for rec in reader:
            if rec and line not in skipped:
                starts.append(line)
            line = header_line + 1 + reader.line_num
    frame = pd.DataFrame({"line": starts, "k": range(len(starts))})  # noqa: F841 - replacement scan
    con.execute(f"CREATE OR REPLACE TEMP TABLE {staging}_data_lines AS SELECT * FROM frame")


# --- XLSX -----------------------------------------------------------------------------


def _cell_text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        # An ID Excel stored as a number has lost digits: keep the scientific form so
        # the validator reports it instead of guessing the digits.
        if abs(v) >= 1e15:
            return f"{v:.5E}"
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


def _read_xlsx(con, path: Path, staging: str) -> RawFile:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except Exception as e:  # openpyxl raises many types for a corrupt file
        raise LoadError([f"{path}: cannot open as an Excel workbook: {e}"]) from e
    try:
        ws = wb.worksheets[0]
        headers: list[str] | None = None
        header_line = 0
        rows: list[list[str | None]] = []
        lines: list[int] = []
        blank = 0
        for rowno, row in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in row]
            empty = not any(c is not None and c.strip() for c in cells)
            if headers is None:
                filled = sum(1 for c in cells if c is not None and c.strip())
                # The header is the first non-empty row; a lone cell above it is a sheet
                # title (usually merged across the columns), not a header.
                if filled >= 2:
                    headers = [(c or "").strip() for c in cells]
                    header_line = rowno
                elif filled == 1:
                    blank += 1
                continue
            if empty:
                blank += 1
                continue
            rows.append(cells)
            lines.append(rowno)
    finally:
        wb.close()
    if headers is None:
        raise LoadError([f"{path}: the first sheet is empty (no header row)"])
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    data = {
        f"c{i}": pd.array([r[i] if i < len(r) else None for r in rows], dtype="string") for i in range(width)
    }
    # Cells beyond the header's width are data with no column: a shape error, as in CSV.
    bad_shape = [
        (ln, ",".join(c or "" for c in r))
        for ln, r in zip(lines, rows, strict=True)
        if any(c is not None and c.strip() for c in r[width:])
    ]
    bad_lines = {ln for ln, _ in bad_shape}
    frame = pd.DataFrame(data)
    frame["__line"] = pd.array(lines, dtype="int64")
    frame = frame[~frame["__line"].isin(bad_lines)]  # noqa: F841 - replacement scan
    con.execute(f"CREATE OR REPLACE TEMP TABLE {staging}_rows AS SELECT * FROM frame")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {staging} AS SELECT * FROM {staging}_rows")
    return RawFile(path, staging, headers, header_line, "xlsx", blank, bad_shape)


# --- Parquet --------------------------------------------------------------------------


def _read_parquet(con, path: Path, staging: str) -> RawFile:
    p = _sql_str(str(path))
    try:
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({p})").fetchall()]
    except Exception as e:  # duckdb.Error subclasses; the message says what is wrong
        raise LoadError([f"{path}: cannot read as Parquet: {e}"]) from e
    cols = ", ".join(f'CAST("{n}" AS VARCHAR) AS c{i}' for i, n in enumerate(names))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {staging}_rows AS
        SELECT {cols}, file_row_number + 1 AS __line FROM read_parquet({p}, file_row_number=true)"""
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW {staging} AS SELECT * FROM {staging}_rows")
    return RawFile(path, staging, names, 0, "parquet")
