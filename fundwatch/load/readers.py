"""Read one input file as rows of text columns with their source line numbers, for typing.

Every format gives the same rows: `c0..cN VARCHAR` plus the header row as written. Typing,
header mapping and validation are SQL, the same for all formats (fundwatch/load/stage.py).
An Excel or Parquet file is read into a staging table with `__line` first; a CSV is typed
as DuckDB's reader reads it (no table of raw text), and its quarantined rows are numbered
after, from what the reader rejected.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
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
MIN_LINE = 2 << 20  # DuckDB's default. Its read buffer (one per thread) grows with the line size
# allowed (16 times it, or the whole file): the limit follows the longest line, not the largest
# one possible, and the buffer is 4 times it, so that a file larger than the memory limit loads.
# Python's csv (header and line numbers) must read what DuckDB reads: its default field limit is 128 KB.
csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE))


@dataclass
class RawFile:
    path: Path
    staging: str  # name of the staging table of c0..cN and __line, and prefix of its helpers (drop_staging)
    headers: list[str]
    header_line: int
    encoding: str = ""
    blank_lines: int = 0
    # (line, raw text, reason) of lines that are no row: wrong width, broken quotes, too long
    bad_shape: list[tuple[int, str, str]] = field(default_factory=list)
    source: str | None = None  # what the typing reads, if not `staging`: a CSV is typed as it is read
    numbered: bool = True  # the source has __line; else its reader numbers the typed rows after


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


_GLOB = re.compile(r"[*?\[\]{}]")


def duckdb_path(path: Path, tmpdir: Path) -> Path:
    """A path DuckDB reads as exactly this one file: its readers expand `*`, `?`, `[..]` and
    `{..}` as globs, so a file whose path holds one is read through a plain-named link."""
    path = Path(path).absolute()
    if not _GLOB.search(str(path)):
        return path
    fd, name = tempfile.mkstemp(prefix="file.", suffix=path.suffix, dir=tmpdir)
    os.close(fd)
    os.unlink(name)
    os.symlink(path, name)
    return Path(name)


def read_file(con, path: Path, staging: str, tmpdir: Path, typer):
    """The file's rows typed by `typer(raw: RawFile) -> StagedFile` (the loader's header
    mapping and fundwatch/load/stage.py): a CSV is typed as DuckDB reads it, with no table of
    raw text in between; an Excel or Parquet file is read into a staging table first."""
    kind = FORMATS.get(path.suffix.lower())
    if kind == "csv":
        return _read_csv(con, path, staging, tmpdir, typer)
    if kind == "xlsx":
        return typer(_read_xlsx(con, path, staging))
    if kind == "parquet":
        return typer(_read_parquet(con, path, staging, tmpdir))
    raise LoadError([f"{path}: unsupported file type {path.suffix!r} (expected .csv, .xlsx or .parquet)"])


# --- CSV ------------------------------------------------------------------------------

DELIMITERS = (",", "\t", ";", "|")
_QUOTED = re.compile(r'"(?:[^"]|"")*"')


class _Lines:
    """A text file's lines (split as csv wants them) that counts the "\n" it has handed out,
    so that a record's physical line is known whatever its quoted fields hold."""

    def __init__(self, f, keep: bool = False):
        self._f = f
        self.newlines = 0  # "\n" characters before the next unread line
        self.last = ""
        self.kept: list[str] | None = [] if keep else None  # the lines handed out, if asked

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._f)
        self.newlines += line.count("\n")
        self.last = line
        if self.kept is not None:
            self.kept.append(line)
        return line

    @property
    def next_line(self) -> int:
        """The 1-based physical line the next record starts on."""
        return self.newlines + 1


def _header(text_path: Path) -> tuple[list[str], int, str]:
    """The header row, the physical line it ends on and the delimiter.

    The header is the first non-empty line; a quoted header cell may hold a line break,
    so the whole first record is read with csv."""
    with text_path.open("r", encoding="utf-8-sig", newline="") as f:
        lines = _Lines(f)
        for line in lines:
            if line.strip():
                # The delimiter is the one used most outside quoted headers ("a; b",c,d is comma-separated).
                bare = _QUOTED.sub("", line)
                counts = {d: bare.count(d) for d in DELIMITERS}
                delim = max(counts, key=counts.get)
                first = lines.newlines - line.count("\n")
                reader = csv.reader(itertools.chain([line], lines), delimiter=delim)
                headers = next(reader)
                end = lines.newlines if lines.last.endswith("\n") else lines.newlines + 1
                return [h.strip() for h in headers], max(end, first + 1), delim
    raise LoadError([f"{text_path}: the file is empty (no header row)"])


LONG_BLOCK = 256 << 10  # a line of 2 * LONG_BLOCK bytes or more holds a whole aligned block with no "\n"


def _line_count(path: Path) -> tuple[int, int] | None:
    """(physical lines, a bound on the longest line's bytes) by byte counts alone, several
    times faster than `_line_scan`; None if a line may be 2 * LONG_BLOCK bytes or more (then
    `_line_scan` measures it). Below that bound DuckDB's reader is sized alike. Empty lines
    are not looked for: the caller knows there are none when its rows and rejected lines
    account for every line (`_empty_lines`)."""
    newlines = size = 0
    last = b""
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):  # a multiple of LONG_BLOCK: blocks are aligned in the file
            for start in range(0, len(chunk) - LONG_BLOCK + 1, LONG_BLOCK):
                if chunk.find(b"\n", start, start + LONG_BLOCK) < 0:
                    return None
            newlines += chunk.count(b"\n")
            size += len(chunk)
            last = chunk[-1:]
    return newlines + (1 if size and last != b"\n" else 0), 2 * LONG_BLOCK - 2


def _line_scan(path: Path, header_line: int) -> tuple[int, list[int], int]:
    """(number of physical lines, empty lines after the header, bytes in the longest line), by
    scanning bytes in chunks with numpy (no per-line Python). An empty line holds nothing, or
    a lone CR; line lengths count a CR before the LF but not the LF."""
    newlines = 0  # "\n" before this chunk
    empty: list[int] = []
    last_nl = -1  # file offset of the last "\n" seen
    prev_byte = -1  # the byte before this chunk (a CR there can end an empty line)
    longest = base = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            data = np.frombuffer(chunk, dtype=np.uint8)
            nl = np.flatnonzero(data == 10)
            if len(nl):
                ends = nl + base
                lengths = np.diff(ends, prepend=last_nl) - 1  # bytes of each line this chunk ends
                longest = max(longest, int(lengths.max()))
                before = np.where(nl > 0, data[np.maximum(nl - 1, 0)], prev_byte)  # byte before each "\n"
                blank = (lengths == 0) | ((lengths == 1) & (before == 13))
                lines = np.flatnonzero(blank) + newlines + 1  # line j (1-based) ends at the j-th "\n"
                empty.extend(int(x) for x in lines[lines > header_line])
                newlines += len(nl)
                last_nl = int(ends[-1])
            base += len(chunk)
            prev_byte = int(data[-1])
    longest = max(longest, base - last_nl - 1)  # a last line with no "\n"
    lines = newlines + (1 if base and prev_byte != 10 else 0)
    return lines, empty, longest


def _physical_lines(path: Path, offsets: list[int]) -> dict[int, int]:
    """Byte offset -> 1-based physical line ("\n"-separated) it lies on, for a few offsets."""
    out: dict[int, int] = {}
    todo = sorted(set(offsets))
    if not todo:
        return out
    newlines, base, i = 0, 0, 0
    with path.open("rb") as f:
        while i < len(todo) and (chunk := f.read(CHUNK_BYTES)):
            while i < len(todo) and todo[i] <= base + len(chunk):
                out[todo[i]] = newlines + chunk.count(b"\n", 0, todo[i] - base) + 1
                i += 1
            newlines += chunk.count(b"\n")
            base += len(chunk)
    for off in todo[i:]:
        out[off] = newlines + 1
    return out


CHUNK_BYTES = 16 << 20
FEW_SEGMENTS = 8  # up to this many runs of rows between skipped lines, line numbers need no join

# DuckDB's reject error types, as quarantine reasons (fundwatch/load/values.py explains them).
_REJECT_REASONS = {"UNQUOTED VALUE": "bad_quotes", "LINE SIZE OVER MAXIMUM": "line_too_long"}


DUCKDB_CSV_LINE_CUT = 9_000  # DuckDB keeps at most 10,000 characters of a rejected record


def _record_text(fb, offset: int, delim: str) -> str:
    """The whole record that starts at byte `offset`, read again with csv (same quoting)."""
    fb.seek(offset)
    f = io.TextIOWrapper(fb, encoding="utf-8", errors="replace", newline="")
    try:
        lines = _Lines(f, keep=True)
        next(csv.reader(lines, delimiter=delim), None)
        return "".join(lines.kept or [])
    finally:
        f.detach()


def _rejected(con, staging: str, text_path: Path, delim: str):
    """DuckDB's rejected records as (physical start line, lines it spans, raw text, reason).

    DuckDB's own `line` counts records, not lines, once a quoted field has held a line
    break; the byte position of the record is exact, so the line is counted from it. Its
    copy of the record is cut at 10,000 characters: a longer one is read from the file."""
    rows = con.execute(
        f"""SELECT line_byte_position, list(DISTINCT error_type ORDER BY error_type), any_value(csv_line)
        FROM {staging}_rejects GROUP BY line_byte_position ORDER BY line_byte_position"""
    ).fetchall()
    starts = []
    with text_path.open("rb") as fb:
        for lbp, types, raw in rows:
            raw = raw or ""
            lead = len(raw) - len(raw.lstrip("\r\n"))  # the end of the line before, glued on by DuckDB
            offset = max(int(lbp) - 1, 0) + lead
            raw = raw[lead:] if len(raw) < DUCKDB_CSV_LINE_CUT else _record_text(fb, offset, delim)
            starts.append((offset, types, raw.rstrip("\r\n")))
    lines = _physical_lines(text_path, [off for off, _, _ in starts])
    out = []
    for off, types, raw in starts:
        reason = next((_REJECT_REASONS[t] for t in types if t in _REJECT_REASONS), "bad_row_shape")
        out.append((lines[off], raw.count("\n") + 1, raw, reason))
    return out


def _read_csv(con, path: Path, staging: str, tmpdir: Path, typer):
    try:
        encoding = detect_encoding(path, whole=False)
    except (OSError, LookupError) as e:
        raise LoadError([f"{path}: cannot read the file: {e}"]) from e
    staged = _read_csv_as(con, path, staging, tmpdir, encoding, typer, guessed=encoding == "utf-8")
    if staged is None:  # bytes past the part checked are not UTF-8: decide on the whole file
        try:
            encoding = detect_encoding(path)
        except (OSError, LookupError) as e:
            raise LoadError([f"{path}: cannot read the file: {e}"]) from e
        staged = _read_csv_as(con, path, staging, tmpdir, encoding, typer, guessed=False)
    return staged


@dataclass
class _CsvText:
    """A CSV as UTF-8 text DuckDB can read, with what the reading needs to know of its lines."""

    path: Path  # the UTF-8 copy (or the file itself)
    headers: list[str]
    header_line: int
    delim: str
    physical: int  # physical lines
    longest: int  # bytes in the longest line (a bound)
    empty: list[int] | None  # empty lines after the header; None: not looked for yet (`_empty_lines`)


def _read_csv_as(con, path: Path, staging: str, tmpdir: Path, encoding: str, typer, guessed: bool):
    """The file read in `encoding` and typed; None if that was `guessed` from the file's start
    and DuckDB found rows that are not UTF-8."""
    text = _csv_text(path, encoding, tmpdir, guessed)
    if text is None:
        return None
    typed = _type_csv(con, path, staging, text, encoding, typer, guessed)
    if typed is None:
        return None
    raw, staged, rejected = typed
    bad_shape, whitespace, consumed = _sort_rejected(rejected)
    n_rows = con.execute(f"SELECT count(*) FROM {staged.typed}").fetchall()[0][0]
    empty = _empty_lines(text, n_rows, consumed)
    skipped = sorted(set(empty) | consumed)
    # Only quarantined rows need their line: they are few, numbered here from their rowid.
    if text.header_line + n_rows + len(skipped) == text.physical:
        _number_by_offsets(con, staged.typed, staging, text.header_line, skipped)
        blank = len(set(empty) - consumed) + whitespace  # an empty line a broken quote swallowed counts once
    else:
        starts = {line for line, _, _, _ in rejected}
        blank = _number_by_records(con, path, staged.typed, staging, text, starts) + whitespace
    raw.blank_lines, raw.bad_shape = blank, bad_shape
    staged.rows_read += len(bad_shape)
    if staged.blank_rows + staged.repeated_headers:
        drop_skipped(con, staged.typed)  # counted, and the quarantined rows numbered: rowids may change now
    return staged


def _csv_text(path: Path, encoding: str, tmpdir: Path, guessed: bool) -> _CsvText | None:
    """The file as UTF-8, its header and its line counts; None if the `guessed` encoding fails."""
    try:
        text_path = duckdb_path(as_utf8(path, encoding, tmpdir), tmpdir)
        headers, header_line, delim = _header(text_path)
        counted = _line_count(text_path)
        empty: list[int] | None = None  # empty lines after the header: found below only if there can be some
        if counted is None:
            physical, empty, longest = _line_scan(text_path, header_line)
        else:
            physical, longest = counted
    except UnicodeError as e:
        if guessed:  # the header's first read went past the part checked
            return None
        raise LoadError([f"{path}: cannot read the file: {e}"]) from e
    except (OSError, LookupError, csv.Error) as e:
        raise LoadError([f"{path}: cannot read the file: {e}"]) from e
    return _CsvText(text_path, headers, header_line, delim, physical, longest, empty)


def _first_line_size(longest: int) -> int:
    """DuckDB's max_line_size for a file whose longest line has `longest` bytes."""
    line_size = MIN_LINE
    while line_size < min(2 * longest + 1024, MAX_LINE):
        line_size *= 2
    return line_size


def _type_csv(con, path: Path, staging: str, text: _CsvText, encoding: str, typer, guessed: bool):
    """(raw, staged, rejected records) of DuckDB's reader typed by `typer`, retried once with the
    largest line size if a record was too long; None if the `guessed` encoding found bad bytes."""
    cols = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(text.headers)))
    p = _sql_str(str(text.path))
    line_size = _first_line_size(text.longest)
    while True:
        # DuckDB's native reader, read by the typing itself; rows of the wrong width go to a
        # rejects table with their byte position. The typing keeps the reader's order, so a
        # typed row's rowid is its place among the rows read.
        source = f"""read_csv({p}, header=false, skip={text.header_line}, columns={{{cols}}},
            delim={_sql_str(text.delim)}, quote='"', escape='"', auto_detect=false, ignore_errors=true,
            store_rejects=true, rejects_table='{staging}_rejects', rejects_scan='{staging}_scans',
            max_line_size={line_size}, buffer_size={4 * line_size})"""
        raw = RawFile(path, staging, text.headers, text.header_line, encoding, source=source, numbered=False)
        try:
            staged = typer(raw)
            if _rejects(con, staging, "LINE SIZE OVER MAXIMUM") and line_size < MAX_LINE:
                # a record of many long lines: once more, as large as allowed
                con.execute(f"DROP TABLE IF EXISTS {staged.typed}")
                line_size = MAX_LINE
                continue
            if guessed and _rejects(con, staging, "INVALID ENCODING"):
                con.execute(f"DROP TABLE IF EXISTS {staged.typed}")
                return None
            return raw, staged, _rejected(con, staging, text.path, text.delim)
        except (duckdb.InvalidInputException, duckdb.ConversionException) as e:
            raise LoadError([f"{path}: cannot read as CSV: {e}"]) from e
        finally:
            for suffix in ("_rejects", "_scans"):
                con.execute(f"DROP TABLE IF EXISTS {staging}{suffix}")


def _rejects(con, staging: str, error_type: str) -> int:
    """How many records DuckDB's reader rejected with `error_type`."""
    return con.execute(
        f"SELECT count(*) FROM {staging}_rejects WHERE error_type = {_sql_str(error_type)}"
    ).fetchall()[0][0]


def _sort_rejected(rejected) -> tuple[list[tuple[int, str, str]], int, set[int]]:
    """(bad-shape rows as (line, text, reason), whitespace-only records, physical lines consumed)
    from the rejected records."""
    whitespace = 0
    bad_shape: list[tuple[int, str, str]] = []
    consumed: set[int] = set()  # physical lines of rejected records
    for line, span, text, reason in rejected:
        consumed.update(range(line, line + span))
        if not text.strip():
            whitespace += 1
        elif reason == "bad_quotes" and span > 1:
            # A quote left open swallows the lines after it: each of them was meant as a
            # row, so each is kept, and counted, as one (a blank one as a blank line).
            for j, part in enumerate(text.split("\n")):
                if part.strip():
                    bad_shape.append((line + j, part.rstrip("\r"), reason))
                else:
                    whitespace += 1
        else:
            bad_shape.append((line, text, reason))
    return bad_shape, whitespace, consumed


def _empty_lines(text: _CsvText, n_rows: int, consumed: set[int]) -> list[int]:
    """The empty lines after the header, scanned for only if the counts leave room for some."""
    if text.empty is not None:
        return text.empty
    # Each row, rejected line and empty line takes a line of its own at least: when rows
    # and rejected lines account for every line, none is empty.
    if text.header_line + n_rows + len(consumed) == text.physical:
        return []
    return _line_scan(text.path, text.header_line)[1]


def _number_by_offsets(con, typed: str, staging: str, header_line: int, skipped: list[int]) -> None:
    """Number the quarantined rows when every physical line is the header, a row, or skipped:
    the k-th row sits after the header and the skipped lines before it."""
    # Offsets change at each skipped line. Consecutive skipped lines start at the same row: the
    # last offset wins (a tie in the ASOF join below would pick either).
    offset, segments = header_line + 1, {0: header_line + 1}
    for line in skipped:
        segments[line - offset] = offset + 1
        offset += 1
    if len(segments) <= FEW_SEGMENTS:
        # Few skipped lines (none, in a clean file): the offset is a short CASE, no join.
        whens = " ".join(f"WHEN rowid >= {k} THEN {o}" for k, o in sorted(segments.items(), reverse=True))
        con.execute(f"UPDATE {typed} SET __line = rowid + CASE {whens} END WHERE __bad")
        return
    frame = pd.DataFrame(list(segments.items()), columns=["k_start", "line_offset"])  # noqa: F841
    con.execute(f"CREATE OR REPLACE TEMP TABLE {staging}_segments AS SELECT * FROM frame")
    con.execute(
        f"""UPDATE {typed} SET __line = m.line
        FROM (SELECT b.k, b.k + s.line_offset AS line
              FROM (SELECT rowid AS k FROM {typed} WHERE __bad) b
              ASOF JOIN {staging}_segments s ON b.k >= s.k_start) m
        WHERE {typed}.rowid = m.k"""
    )


def _number_by_records(con, path: Path, typed: str, staging: str, text: _CsvText, starts: set[int]) -> int:
    """Number the quarantined rows when a quoted field spans lines: Python's csv finds where each
    record starts. Returns the empty records (blank lines outside quoted fields)."""
    try:
        empty_records = _line_numbers_by_python(con, text.path, text.header_line, text.delim, staging, starts)
    except csv.Error as e:
        raise LoadError([f"{path}: cannot read as CSV: {e}"]) from e
    # Should the two readers ever disagree, a row keeps no line number, never is it lost.
    con.execute(f"UPDATE {typed} SET __line = d.line FROM {staging}_data_lines d WHERE {typed}.rowid = d.k AND __bad")
    return empty_records


def drop_skipped(con, typed: str) -> None:
    """Remove the skipped rows (blank, repeated header) from a typed table, once they are counted."""
    con.execute(f"DELETE FROM {typed} WHERE __skip IS NOT NULL")


def drop_staging(con, staging: str) -> None:
    """Remove a staging view and the tables behind it."""
    con.execute(f"DROP VIEW IF EXISTS {staging}")
    for suffix in ("", "_rows", "_segments", "_data_lines"):
        con.execute(f"DROP TABLE IF EXISTS {staging}{suffix}")


def _line_numbers_by_python(con, text_path, header_line, delim, staging, rejected: set[int]) -> int:
    """Slow path for files whose quoted fields span lines: let csv find where records start.

    Returns the number of empty lines outside quoted fields (a line break inside a quoted
    field is not a blank line)."""
    starts: list[int] = []
    empty = 0
    with text_path.open("r", encoding="utf-8-sig", newline="") as f:
        lines = _Lines(f)
        while lines.newlines < header_line:
            if next(lines, None) is None:
                break
        reader = csv.reader(lines, delimiter=delim)
        while True:
            line = lines.next_line
            rec = next(reader, None)
            if rec is None:
                break
            if not rec:
                empty += 1
            elif line not in rejected:
                starts.append(line)
    frame = pd.DataFrame({"line": starts, "k": range(len(starts))})  # noqa: F841 - replacement scan
    con.execute(f"CREATE OR REPLACE TEMP TABLE {staging}_data_lines AS SELECT * FROM frame")
    return empty


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
        if not wb.worksheets:
            raise LoadError([f"{path}: the workbook has no worksheet"])
        headers, header_line, rows, lines, blank = _xlsx_rows(wb.worksheets[0])
    except LoadError:
        raise
    except MemoryError:
        raise
    except Exception as e:  # a sheet whose XML is cut or broken fails only as it is read
        raise LoadError([f"{path}: cannot read the first sheet of the workbook: {type(e).__name__}: {e}"]) from e
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
        (ln, ",".join(c or "" for c in r), "bad_row_shape")
        for ln, r in zip(lines, rows, strict=True)
        if any(c is not None and c.strip() for c in r[width:])
    ]
    bad_lines = {ln for ln, _, _ in bad_shape}
    frame = pd.DataFrame(data)
    frame["__line"] = pd.array(lines, dtype="int64")
    frame = frame[~frame["__line"].isin(bad_lines)]  # noqa: F841 - replacement scan
    con.execute(f"CREATE OR REPLACE TEMP TABLE {staging}_rows AS SELECT * FROM frame")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {staging} AS SELECT * FROM {staging}_rows")
    return RawFile(path, staging, headers, header_line, "xlsx", blank, bad_shape)


def _xlsx_rows(ws):
    """(headers or None, header row, data rows as text, their row numbers, blank rows)."""
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
    return headers, header_line, rows, lines, blank


# --- Parquet --------------------------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _read_parquet(con, path: Path, staging: str, tmpdir: Path) -> RawFile:
    import pyarrow
    import pyarrow.parquet as pq

    p = _sql_str(str(duckdb_path(path, tmpdir)))
    try:
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({p})").fetchall()]
        # DuckDB renames a repeated column (a, a_1); the file's own names show the repeat,
        # which header mapping reports as it does for CSV.
        written = pq.read_schema(path).names
    except (duckdb.Error, pyarrow.ArrowException, OSError) as e:
        raise LoadError([f"{path}: cannot read as Parquet: {e}"]) from e
    headers = [str(n) for n in written] if len(written) == len(names) else names
    # Column names come from the file: quoted as identifiers, never pasted.
    cols = ", ".join(f"CAST({_q(n)} AS VARCHAR) AS c{i}" for i, n in enumerate(names))
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {staging}_rows AS
            SELECT {cols}{', ' if cols else ''}__fw_row + 1 AS __line
            FROM (SELECT *, file_row_number AS __fw_row FROM read_parquet({p}, file_row_number=true))"""
        )
    except (duckdb.InvalidInputException, duckdb.ConversionException, duckdb.IOException) as e:
        raise LoadError([f"{path}: cannot read as Parquet: {e}"]) from e
    con.execute(f"CREATE OR REPLACE TEMP VIEW {staging} AS SELECT * FROM {staging}_rows")
    return RawFile(path, staging, headers, 0, "parquet")
