"""`fundwatch load DIR`: find the contract's tables in a folder and load the changed ones.

Semantics (also in the README):
- a table is the set of its files (`<table>.csv|xlsx|parquet` and/or a folder `<table>/`);
- a table whose files have the same content hash as its loaded version is left as it is;
- a changed table replaces its previous version; all changed tables of one load are
  replaced in one transaction, so a failed load changes nothing;
- tables not present in DIR are left as they are;
- before anything is written, every file is read and checked; all problems (unreadable
  files, missing columns) are reported together.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pandas as pd

from fundwatch.contract.tables import TABLES
from fundwatch.errors import FundwatchError, LoadError
from fundwatch.load.headers import map_headers, read_mapping
from fundwatch.load.readers import FORMATS, drop_staging, read_file
from fundwatch.load.report import LoadReport, TableLoad
from fundwatch.load.stage import StagedFile, stage_file

SKIP_NAMES = {"ground_truth", "expected_quarantine", "readme"}


def discover(data_dir: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """Table name -> its files, and the names of entries that are not contract tables."""
    if not data_dir.is_dir():
        raise LoadError([f"{data_dir}: not a folder"])
    found: dict[str, list[Path]] = {}
    ignored: list[str] = []
    for entry in sorted(data_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        name = entry.stem.lower() if entry.is_file() else entry.name.lower()
        if name not in TABLES:
            if entry.is_file() and name not in SKIP_NAMES and entry.suffix.lower() in FORMATS:
                ignored.append(entry.name)
            continue
        if entry.is_file():
            if entry.suffix.lower() in FORMATS:
                found.setdefault(name, []).append(entry)
        else:
            parts = sorted(p for p in entry.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS)
            found.setdefault(name, []).extend(parts)
    return found, ignored


def content_hash(files: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(str(f.relative_to(root)).encode() + b"\0")
        with f.open("rb") as fh:
            while chunk := fh.read(8 << 20):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


def _current_hashes(con) -> dict[str, str]:
    return dict(con.execute("SELECT table_name, content_hash FROM fw_table_versions").fetchall())


def load_directory(ws, data_dir, *, mapping=None, force=False, progress=None) -> LoadReport:
    started = time.monotonic()
    data_dir = Path(data_dir)
    user_mapping = mapping if isinstance(mapping, dict) else read_mapping(mapping)
    found, ignored = discover(data_dir)
    load_id = datetime.now().strftime("L%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    report = LoadReport(load_id, str(data_dir), ignored=ignored)
    con = ws.con
    current = _current_hashes(con)
    stored = {r[0]: r[1:] for r in con.execute(
        "SELECT table_name, rows_loaded, rows_quarantined FROM fw_table_versions").fetchall()}

    # Files are hashed on other threads (hashlib lets go of the GIL). A table with a loaded
    # version is waited for, to leave it unread if unchanged; a new one is hashed while it is read.
    hashing = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="fundwatch-hash")
    compare = sorted(found, key=lambda name: name not in current)  # those to compare first
    digests = {name: hashing.submit(content_hash, found[name], data_dir) for name in compare}
    changed: dict[str, Future] = {}
    try:
        for name, files in found.items():
            if not force and name in current and current[name] == digests[name].result():
                loaded, quarantined = stored[name]
                report.tables[name] = TableLoad(name, "unchanged", [str(f) for f in files], rows_loaded=loaded,
                                                rows_quarantined=quarantined)
            else:
                changed[name] = digests[name]
        return _load_changed(ws, data_dir, found, changed, user_mapping, load_id, report, started, progress)
    finally:
        hashing.shutdown(wait=True, cancel_futures=True)


def _load_changed(ws, data_dir, found, changed, user_mapping, load_id, report, started, progress) -> LoadReport:
    """Read, check and type the changed tables, then replace them in one transaction."""
    con = ws.con

    from fundwatch.workspace import private_temp_folder

    tmpdir = private_temp_folder("load")  # transcoded copies: removed below, or by the next load if killed
    staged: dict[str, list[StagedFile]] = {}
    read: list[str] = []  # staging views to drop whatever happens
    problems: list[str] = []
    try:
        # Phase 1: read and check every file; write nothing.
        for ti, name in enumerate(sorted(changed)):
            spec = TABLES[name]
            for fi, path in enumerate(found[name]):
                if progress:
                    progress(f"reading {path}")
                staging = f"_fw_stage_{ti}_{fi}"
                read.append(staging)
                try:
                    sf = read_file(con, path, staging, tmpdir, _typer(con, path, spec, user_mapping))
                except LoadError as e:
                    problems.extend(e.problems)
                    continue
                staged.setdefault(name, []).append(sf)
                # The typed table holds all that is kept: any raw text goes now, not at the end.
                drop_staging(con, staging)
        if problems:
            raise LoadError(problems)
        digest = {name: future.result() for name, future in changed.items()}
        # Phase 2: replace every changed table in one transaction.
        con.execute("BEGIN TRANSACTION")
        try:
            for name in sorted(staged):
                report.tables[name] = _replace_table(
                    con, load_id, name, staged[name], digest[name], str(data_dir)
                )
            con.execute(
                "INSERT INTO fw_loads VALUES (?, ?, ?, now(), ?, ?, ?)",
                [
                    load_id,
                    str(data_dir),
                    datetime.now(),
                    len(staged),
                    report.rows_loaded,
                    report.rows_quarantined,
                ],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    except FundwatchError:
        raise
    finally:
        for staging in read:  # typed tables too, also one a failed read left behind
            drop_staging(con, staging)
            con.execute(f"DROP TABLE IF EXISTS {staging}_typed")
        shutil.rmtree(tmpdir, ignore_errors=True)
    report.add_warnings(ws.engine)
    report.seconds = time.monotonic() - started
    return report


def _typer(con, path: Path, spec, user_mapping):
    """What read_file calls with the file's raw rows: map the headers, then type the rows."""

    def typer(raw) -> StagedFile:
        headers = map_headers(path, raw.headers, spec, user_mapping)
        if headers.problems:
            raise LoadError(headers.problems)
        sf = stage_file(con, raw, spec, headers)
        sf.unknown = headers.unknown
        return sf

    return typer


def _replace_table(con, load_id, name, files: list[StagedFile], digest, source) -> TableLoad:
    spec = TABLES[name]
    cols = ", ".join(f'"{c}"' for c in spec.column_names)
    con.execute(f"DELETE FROM {name}")
    con.execute("DELETE FROM fw_quarantine WHERE table_name = ?", [name])
    tl = TableLoad(name, "loaded", [str(sf.raw.path) for sf in files])
    for sf in files:
        path = str(sf.raw.path)
        # Typed rows are in the order of the file.
        con.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {sf.typed} WHERE NOT __bad")
        con.execute(
            f"""INSERT INTO fw_quarantine
            SELECT ?, ?, ?, __line, __problems[1]."column", __problems[1].raw, __problems[1].reason,
                   to_json(__problems), __raw_row
            FROM {sf.typed} WHERE __bad ORDER BY __line""",
            [load_id, name, path],
        )
        if sf.raw.bad_shape:
            # Lines that are no row (wrong width, a quote left open, too long), kept whole.
            shapes = pd.DataFrame(sf.raw.bad_shape, columns=["line", "text", "reason"])  # noqa: F841
            con.execute(
                """INSERT INTO fw_quarantine SELECT ?, ?, ?, line, NULL, left(text, 1000), reason, NULL, text
                FROM shapes ORDER BY line""",
                [load_id, name, path],
            )
        quarantined = sf.bad + len(sf.raw.bad_shape)
        blank = sf.blank_rows + sf.raw.blank_lines
        con.execute(
            "INSERT INTO fw_load_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
            [
                load_id,
                name,
                path,
                digest,
                sf.raw.encoding,
                sf.rows_read,
                sf.good,
                quarantined,
                blank,
                sf.repeated_headers,
                ", ".join(sf.unknown),
            ],
        )
        tl.rows_read += sf.rows_read
        tl.rows_loaded += sf.good
        tl.rows_quarantined += quarantined
        tl.blank += blank
        tl.repeated_headers += sf.repeated_headers
        tl.unknown_headers.extend(h for h in sf.unknown if h not in tl.unknown_headers)
    tl.top_reasons = [
        (r, n)
        for r, n in con.execute(
            "SELECT reason, count(*) FROM fw_quarantine WHERE table_name = ? GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3",
            [name],
        ).fetchall()
    ]
    con.execute(
        """INSERT INTO fw_table_versions VALUES (?, ?, ?, ?, ?, ?, now())
        ON CONFLICT (table_name) DO UPDATE SET content_hash = excluded.content_hash, load_id = excluded.load_id,
            source = excluded.source, rows_loaded = excluded.rows_loaded,
            rows_quarantined = excluded.rows_quarantined, loaded_at = excluded.loaded_at""",
        [name, digest, load_id, source, tl.rows_loaded, tl.rows_quarantined],
    )
    return tl
