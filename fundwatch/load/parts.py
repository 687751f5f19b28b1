"""A table's part files as the workspace holds them (fw_parts), and what a load must do to each.

A table is the set of its part files (`<table>.csv` and/or the files of a folder `<table>/`),
each known by its path inside the data folder. Every loaded row carries the id of its part
(the hidden column `_fw_file`), so that a changed or removed part's rows can leave the table
without reading the other parts again. A part is read again when its content hash changes,
or when the code or mapping that types it does (`typing_fingerprint`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import fundwatch
from fundwatch.contract.tables import TABLES

FILE_COLUMN = "_fw_file"  # the part a row came from: not a contract column (rules cannot name it)

# The modules whose code decides what a file's rows become: a change to any of them retypes every part.
_TYPING_MODULES = ("load/stage.py", "load/values.py", "load/ids.py", "load/readers.py", "load/csv_lines.py",
                   "load/csv_rejects.py", "load/encoding.py", "load/headers.py", "contract/tables.py",
                   "contract/aliases.py")


def hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(8 << 20):
            h.update(chunk)
    return h.hexdigest()


def typing_fingerprint(table: str, mapping: dict | None) -> str:
    """What the typing of one part of `table` depends on besides its bytes."""
    h = hashlib.sha256(fundwatch.__version__.encode())
    root = Path(fundwatch.__file__).parent
    for rel in _TYPING_MODULES:
        p = root / rel
        if p.exists():
            h.update(p.read_bytes())
    h.update(repr(TABLES[table]).encode())
    h.update(json.dumps(mapping or {}, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def table_digest(hashes: dict[str, str]) -> str:
    """A table's content hash from its parts' (relative path -> hash)."""
    h = hashlib.sha256()
    for rel in sorted(hashes):
        h.update(rel.encode() + b"\0" + hashes[rel].encode() + b"\0")
    return h.hexdigest()


@dataclass
class StoredPart:
    file_id: int
    content_hash: str
    typing: str
    path: str  # the path as the quarantine names it
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    blank: int
    repeated_headers: int
    unknown_headers: list[str]


def stored_parts(con) -> dict[str, dict[str, StoredPart]]:
    """Table -> relative path -> what the workspace holds of that part."""
    out: dict[str, dict[str, StoredPart]] = {}
    for row in con.execute(
        """SELECT table_name, file, file_id, content_hash, typing, path, rows_read, rows_loaded, rows_quarantined,
                  blank_rows, repeated_headers, unknown_headers FROM fw_parts"""
    ).fetchall():
        unknown = [h for h in (row[11] or "").split(", ") if h]
        out.setdefault(row[0], {})[row[1]] = StoredPart(*row[2:11], unknown)
    return out


@dataclass
class TablePlan:
    """What a load does to one table: read `read` (relative paths), drop `dropped` (stored
    parts changed or removed), keep the rest; `whole`: replace the table whole (its rows'
    parts are not all known, or the load was forced)."""

    name: str
    files: dict[str, Path]  # relative path -> file, every part found
    read: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    whole: bool = False
    typing: str = ""  # typing_fingerprint of the parts read

    @property
    def unchanged(self) -> bool:
        return not self.read and not self.dropped and not self.whole


def plan_table(name: str, files: dict[str, Path], hashes: dict[str, str], typing: str,
               stored: dict[str, StoredPart] | None, whole: bool) -> TablePlan:
    stored = stored or {}
    plan = TablePlan(name, files, whole=whole, typing=typing)
    if whole:
        plan.read = list(files)
        plan.dropped = list(stored)
        return plan
    for rel in files:
        old = stored.get(rel)
        if old is None or old.content_hash != hashes[rel] or old.typing != typing:
            plan.read.append(rel)
            if old is not None:
                plan.dropped.append(rel)
    plan.dropped.extend(rel for rel in stored if rel not in files)
    return plan
