"""`fundwatch load DIR`: find the contract's tables in a folder and load what changed, part file by part file.

Semantics (also in the README):
- a table is the set of its part files (`<table>.csv|xlsx|parquet` and/or a folder `<table>/`);
- a part whose content hash (and typing: fundwatch's code, the mapping) is that of its loaded
  version is not read again; a new or changed part is read, typed and checked; a part no
  longer there has its rows, and its quarantined rows, leave the table. The result equals a
  full reload of the same folder, row for row (tests/test_incremental_load.py);
- everything one load changes is written in one transaction, so a failed load changes nothing;
- tables not present in DIR are left as they are;
- before anything is written, every part read is checked; all problems (unreadable files,
  missing columns) are reported together.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pandas as pd

from fundwatch.contract.tables import TABLES
from fundwatch.errors import FundwatchError, LoadError
from fundwatch.load.changes import encode_years, union, years_of
from fundwatch.load.headers import map_headers, read_mapping
from fundwatch.load.parts import (
    FILE_COLUMN,
    StoredPart,
    TablePlan,
    hash_file,
    plan_table,
    stored_parts,
    table_digest,
    typing_fingerprint,
)
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


def _unknown_origin(con, name: str) -> bool:
    """Whether `name` holds rows of no known part (written by an older fundwatch, or inserted
    by hand): such a table is replaced whole."""
    return bool(con.execute(f"SELECT count(*) FROM {name} WHERE {FILE_COLUMN} IS NULL").fetchall()[0][0])


def load_directory(con, engine, data_dir, *, temp_folder: Callable[[str], Path], mapping=None, force=False,
                   progress=None) -> LoadReport:
    """Load the contract tables of `data_dir` into the workspace behind `con`. `temp_folder(kind)`
    gives a private folder for transcoded copies (the workspace's, which cleans up after killed runs)."""
    started, started_at = time.monotonic(), datetime.now()
    data_dir = Path(data_dir)
    user_mapping = mapping if isinstance(mapping, dict) else read_mapping(mapping)
    found, ignored = discover(data_dir)
    load_id = datetime.now().strftime("L%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    report = LoadReport(load_id, str(data_dir), ignored=ignored)
    stored = stored_parts(con)
    files = {name: {str(p.relative_to(data_dir)): p for p in paths} for name, paths in found.items()}

    # Parts are hashed on other threads (hashlib lets go of the GIL). A table with loaded parts
    # waits for its hashes to leave its unchanged parts unread; a new one is hashed while it is read.
    hashing = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="fundwatch-hash")
    order = sorted(files, key=lambda name: name not in stored)  # those to compare first
    futures = {(name, rel): hashing.submit(hash_file, p) for name in order for rel, p in files[name].items()}
    try:
        plans: dict[str, TablePlan] = {}
        for name in order:
            typing = typing_fingerprint(name, user_mapping.get(name) if user_mapping else None)
            whole = force or name not in stored or _unknown_origin(con, name)
            hashes = {} if whole else {rel: futures[(name, rel)].result() for rel in files[name]}
            plans[name] = plan_table(name, files[name], hashes, typing, stored.get(name), whole)
        for name, plan in plans.items():
            if plan.unchanged:
                report.tables[name] = _table_load(name, "unchanged", plan, stored.get(name, {}))
        changed = {name: plan for name, plan in plans.items() if not plan.unchanged}
        return _load_changed(con, engine, data_dir, changed, futures, stored, user_mapping, load_id, report,
                             (started, started_at), progress, temp_folder)
    finally:
        hashing.shutdown(wait=True, cancel_futures=True)


def _table_load(name: str, status: str, plan: TablePlan, parts: dict[str, StoredPart]) -> TableLoad:
    """The report of a table from its parts as they are now (read in this load or kept): the
    same figures as a full reload of the folder gives."""
    tl = TableLoad(name, status, [str(p) for p in plan.files.values()])
    for rel in plan.files:
        p = parts[rel]
        tl.rows_read += p.rows_read
        tl.rows_loaded += p.rows_loaded
        tl.rows_quarantined += p.rows_quarantined
        tl.blank += p.blank
        tl.repeated_headers += p.repeated_headers
        tl.unknown_headers.extend(h for h in p.unknown_headers if h not in tl.unknown_headers)
    tl.files_read = len(plan.read)
    return tl


def _load_changed(con, engine, data_dir, changed, futures, stored, user_mapping, load_id, report, started, progress,
                  temp_folder) -> LoadReport:
    """Read, check and type the changed parts, then write every change in one transaction."""
    tmpdir = temp_folder("load")  # transcoded copies: removed below, or by the next load if killed
    staged: dict[str, dict[str, StagedFile]] = {}
    read: list[str] = []  # staging views to drop whatever happens
    problems: list[str] = []
    try:
        # Phase 1: read and check every changed part; write nothing.
        for ti, name in enumerate(sorted(changed)):
            plan = changed[name]
            for fi, rel in enumerate(plan.read):
                path = plan.files[rel]
                if progress:
                    progress(f"reading {path}")
                staging = f"_fw_stage_{ti}_{fi}"
                read.append(staging)
                try:
                    sf = read_file(con, path, staging, tmpdir, _typer(con, path, TABLES[name], user_mapping))
                except LoadError as e:
                    problems.extend(e.problems)
                    continue
                staged.setdefault(name, {})[rel] = sf
                # The typed table holds all that is kept: any raw text goes now, not at the end.
                drop_staging(con, staging)
        if problems:
            raise LoadError(problems)
        hashes = {key: future.result() for key, future in futures.items() if key[0] in changed}
        # Phase 2: write every change in one transaction.
        loaded_at = datetime.now()
        con.execute("BEGIN TRANSACTION")
        try:
            for name in sorted(changed):
                parts = _apply_plan(con, load_id, changed[name], staged.get(name, {}), stored.get(name, {}),
                                    {rel: hashes[(name, rel)] for rel in changed[name].files}, loaded_at)
                report.tables[name] = tl = _table_load(name, "loaded", changed[name], parts)
                _finish_table(con, load_id, tl, table_digest({rel: parts[rel].content_hash for rel in parts}),
                              str(data_dir), loaded_at)
            con.execute(
                "INSERT INTO fw_loads VALUES (?, ?, ?, ?, ?, ?, ?)",
                [load_id, str(data_dir), started[1], loaded_at, len(changed), report.rows_loaded,
                 report.rows_quarantined],
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
    report.add_warnings(engine)
    report.seconds = time.monotonic() - started[0]
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


_LOAD_FILES_COLUMNS = ("load_id, table_name, file, content_hash, encoding, rows_read, rows_loaded, rows_quarantined, "
                       "blank_rows, repeated_headers, unknown_headers, loaded_at, change, touched_years")


def _apply_plan(con, load_id, plan: TablePlan, staged: dict[str, StagedFile], old: dict[str, StoredPart],
                hashes: dict[str, str], loaded_at) -> dict[str, StoredPart]:
    """Drop the rows of the parts changed or removed, insert those of the parts read; the
    parts the table holds now, by relative path."""
    name = plan.name
    parts = {rel: p for rel, p in old.items() if rel in plan.files and rel not in plan.dropped}
    before: dict[str, set[int] | str] = {}  # years the old rows of a changed part touched
    replaced: set[int] | str = set()  # years the old rows of a table replaced whole covered
    if plan.whole and con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]:
        replaced = years_of(con, name, name)
        if not plan.read:  # no part to record them with: a row of their own
            _record_file(con, load_id, name, None, None, "", None, "replaced", replaced, loaded_at)
    if plan.whole:
        con.execute(f"DELETE FROM {name}")
        con.execute("DELETE FROM fw_quarantine WHERE table_name = ?", [name])
        con.execute("DELETE FROM fw_parts WHERE table_name = ?", [name])
    for rel in plan.dropped:
        if plan.whole or rel not in old:
            continue
        p = old[rel]
        touched = years_of(con, name, name, f"{FILE_COLUMN} = {p.file_id}")
        con.execute(f"DELETE FROM {name} WHERE {FILE_COLUMN} = ?", [p.file_id])
        con.execute("DELETE FROM fw_quarantine WHERE table_name = ? AND file = ?", [name, p.path])
        con.execute("DELETE FROM fw_parts WHERE table_name = ? AND file = ?", [name, rel])
        if rel not in plan.read:
            _record_file(con, load_id, name, p.path, p, p.content_hash, None, "removed", touched, loaded_at)
        else:
            before[rel] = touched
    for rel, p in parts.items():
        path = str(plan.files[rel])
        if p.path != path:  # the same part found under another folder path: the quarantine names it so
            con.execute("UPDATE fw_quarantine SET file = ? WHERE table_name = ? AND file = ?", [path, name, p.path])
            con.execute("UPDATE fw_parts SET path = ? WHERE table_name = ? AND file = ?", [path, name, rel])
            p.path = path
    next_id = con.execute("SELECT coalesce(max(file_id), 0) + 1 FROM fw_parts").fetchall()[0][0]
    cols = ", ".join(f'"{c}"' for c in TABLES[name].column_names)
    for rel in plan.read:
        sf = staged[rel]
        path = str(sf.raw.path)
        file_id, next_id = next_id, next_id + 1
        # Typed rows are in the order of the file.
        con.execute(f"INSERT INTO {name} ({cols}, {FILE_COLUMN}) SELECT {cols}, ? FROM {sf.typed} WHERE NOT __bad",
                    [file_id])
        _quarantine(con, load_id, name, path, sf)
        quarantined = sf.bad + len(sf.raw.bad_shape)
        part = StoredPart(file_id, hashes[rel], plan.typing, path, sf.rows_read, sf.good, quarantined,
                          sf.blank_rows + sf.raw.blank_lines, sf.repeated_headers, list(sf.unknown))
        con.execute(
            "INSERT INTO fw_parts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [name, rel, file_id, part.content_hash, plan.typing, path, part.rows_read, part.rows_loaded,
             part.rows_quarantined, part.blank, part.repeated_headers, ", ".join(part.unknown_headers), load_id,
             sf.raw.encoding],
        )
        touched = years_of(con, name, sf.typed, "NOT __bad")
        touched = union(union(touched, before.get(rel, set())), replaced)
        _record_file(con, load_id, name, path, part, part.content_hash, sf.raw.encoding,
                     "changed" if rel in old and not plan.whole else "added", touched, loaded_at)
        parts[rel] = part
    return parts


def _record_file(con, load_id, name, path, part: StoredPart | None, digest, encoding, change, touched, loaded_at):
    stats = ([part.rows_read, part.rows_loaded, part.rows_quarantined, part.blank, part.repeated_headers,
              ", ".join(part.unknown_headers)] if part is not None and change != "removed"
             else [0, 0, 0, 0, 0, ""])
    con.execute(
        f"INSERT INTO fw_load_files ({_LOAD_FILES_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [load_id, name, path, digest, encoding, *stats, loaded_at, change, encode_years(touched)],
    )


def _quarantine(con, load_id, name, path, sf: StagedFile) -> None:
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


def _finish_table(con, load_id, tl: TableLoad, digest: str, source: str, loaded_at) -> None:
    name = tl.table
    tl.top_reasons = [
        (r, n)
        for r, n in con.execute(
            "SELECT reason, count(*) FROM fw_quarantine WHERE table_name = ? GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3",
            [name],
        ).fetchall()
    ]
    con.execute(
        """INSERT INTO fw_table_versions VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (table_name) DO UPDATE SET content_hash = excluded.content_hash, load_id = excluded.load_id,
            source = excluded.source, rows_loaded = excluded.rows_loaded,
            rows_quarantined = excluded.rows_quarantined, loaded_at = excluded.loaded_at""",
        [name, digest, load_id, source, tl.rows_loaded, tl.rows_quarantined, loaded_at],
    )

