"""The workbench's own database: where it is, how to open it, its tables.

SQLite in WAL mode (readers never wait for the writer; a scan never waits for the web app,
which reads the DuckDB workspace only to import a published run), or PostgreSQL for a shared
county server (pg.py). The location is a URL, `sqlite:///path/review.sqlite3` or
`postgresql://user:password@host:port/db`, from $FUNDWATCH_REVIEW_DB or next to the workspace.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

from fundwatch.errors import ConfigError

ENV = "FUNDWATCH_REVIEW_DB"
SCHEMA_VERSION = 2  # 2: wb_evidence

TABLES = """
CREATE TABLE IF NOT EXISTS wb_meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS wb_cases (
    case_id TEXT PRIMARY KEY,
    year INTEGER, run_id TEXT, first_run_id TEXT,
    program TEXT, entity_type TEXT, entity_id TEXT, region_code TEXT, township TEXT,
    risk_score REAL, amount_at_risk REAL, rule_ids TEXT, level TEXT,
    summary TEXT, summary_zh TEXT, evidence TEXT, evidence_fingerprint TEXT, new_evidence INTEGER DEFAULT 0,
    state TEXT NOT NULL, assignee TEXT, verifier TEXT, reviewer TEXT,
    assigned_at TEXT, due_at TEXT, escalated INTEGER DEFAULT 0,
    suspended_until TEXT, suspended_from TEXT,
    proposed_outcome TEXT, outcome TEXT, recovered REAL, measures TEXT, reason TEXT,
    closed_at TEXT, closed_by TEXT, suppressed_until TEXT,
    reopen_requested_by TEXT, cycle INTEGER DEFAULT 1, updated_at TEXT
);
CREATE INDEX IF NOT EXISTS wb_cases_queue ON wb_cases (township, state);
CREATE TABLE IF NOT EXISTS wb_audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, case_id TEXT, detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS wb_audit_case ON wb_audit (case_id, seq);
CREATE TABLE IF NOT EXISTS wb_evidence (
    case_id TEXT NOT NULL, sha256 TEXT NOT NULL, name TEXT NOT NULL, mime TEXT NOT NULL, size INTEGER NOT NULL,
    uploaded_by TEXT NOT NULL, uploaded_at TEXT NOT NULL, PRIMARY KEY (case_id, sha256)
);
"""  # the same tables on PostgreSQL (pg.py), with REAL as DOUBLE PRECISION
SCHEMA = TABLES + """
CREATE TRIGGER IF NOT EXISTS wb_audit_no_update BEFORE UPDATE ON wb_audit
BEGIN SELECT RAISE(ABORT, 'wb_audit is append-only: entries cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS wb_audit_no_delete BEFORE DELETE ON wb_audit
BEGIN SELECT RAISE(ABORT, 'wb_audit is append-only: entries cannot be deleted'); END;
"""


def default_url(workspace: str | os.PathLike) -> str:
    """The review database beside a workspace file: fundwatch.duckdb → fundwatch.review.sqlite3."""
    p = Path(workspace)
    return f"sqlite:///{p.with_name(p.stem + '.review.sqlite3').resolve()}"


def configured_url(workspace: str | os.PathLike | None) -> str | None:
    """The review database in use: $FUNDWATCH_REVIEW_DB, else the one beside the workspace if it
    exists (`fundwatch serve` creates it), else None (reviews stay in the workspace's fw_reviews)."""
    if os.environ.get(ENV):
        return os.environ[ENV]
    if workspace:
        url = default_url(workspace)
        if Path(sqlite_path(url)).exists():
            return url
    return None


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def sqlite_path(url: str) -> str:
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///"):]
    raise ConfigError(f"review database {shown(url)!r}: expected a URL such as sqlite:///var/lib/fundwatch/review.sqlite3 "
                      "or postgresql://USER:PASSWORD@HOST:PORT/DATABASE")


def shown(url: str) -> str:
    """The URL as logs may show it: without the password."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def connect(url: str):
    """A connection in autocommit mode (writers open BEGIN IMMEDIATE themselves), schema ensured:
    sqlite3 in WAL mode, or PostgreSQL through pg.py's adapter (the same calls)."""
    if is_postgres(url):
        from fundwatch.review import pg

        try:
            return pg.connect(url)
        except ImportError:
            raise ConfigError(f"{ENV}={shown(url)}: PostgreSQL needs psycopg (pip install 'fundwatch[web]')") from None
    path = sqlite_path(url)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA busy_timeout=30000")
    con.execute("PRAGMA foreign_keys=ON")
    have = con.execute("SELECT name FROM sqlite_master WHERE name = 'wb_evidence'").fetchone()
    if not have:  # a new database, or one of version 1 (every statement is IF NOT EXISTS)
        con.executescript(SCHEMA)
        con.execute("INSERT OR REPLACE INTO wb_meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    return con
