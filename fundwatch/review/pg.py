"""The review database on a shared PostgreSQL server, behind the few sqlite3 calls the store makes.

The store's SQL is written once, with `?` parameters and sqlite3's connection API; this adapter
turns `?` into psycopg's `%s`, gives rows that are read by position and by name as sqlite3.Row
is, and makes `BEGIN IMMEDIATE` (one writer at a time, so the audit chain's next seq is ours)
a transaction holding an advisory lock. The tables are the SQLite ones with PostgreSQL types,
and the audit table's triggers refuse UPDATE and DELETE the same way.
"""

from __future__ import annotations

import re

WRITER_LOCK = 21_2026  # pg_advisory_xact_lock key: the workbench's single writer

TRIGGERS = """
CREATE OR REPLACE FUNCTION wb_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'wb_audit is append-only: entries cannot be %', lower(TG_OP) || 'd';
END $$;
DROP TRIGGER IF EXISTS wb_audit_no_update ON wb_audit;
CREATE TRIGGER wb_audit_no_update BEFORE UPDATE OR DELETE ON wb_audit
    FOR EACH ROW EXECUTE FUNCTION wb_audit_append_only();
DROP TRIGGER IF EXISTS wb_audit_no_truncate ON wb_audit;
CREATE TRIGGER wb_audit_no_truncate BEFORE TRUNCATE ON wb_audit
    FOR EACH STATEMENT EXECUTE FUNCTION wb_audit_append_only();
"""


def schema() -> str:
    from fundwatch.review.db import TABLES

    return TABLES.replace(" REAL", " DOUBLE PRECISION") + TRIGGERS


class Row(tuple):
    """A row read by position (`row[0]`, unpacking) and by column name (`row["state"]`, `dict(row)`)."""

    def __new__(cls, names, values):
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names.index(key))
        return tuple.__getitem__(self, key)

    def keys(self):
        return list(self._names)


def _row_factory(cursor):
    names = [c.name for c in cursor.description or ()]
    return lambda values: Row(names, values)


def _params(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


class PgConnection:
    """psycopg in autocommit mode (the store opens its transactions itself), with sqlite3's calls."""

    def __init__(self, url: str):
        import psycopg

        self.raw = psycopg.connect(url, autocommit=True, row_factory=_row_factory)

    def execute(self, sql: str, params=()):
        if sql.strip().upper() == "BEGIN IMMEDIATE":
            self.raw.execute("BEGIN")
            return self.raw.execute("SELECT pg_advisory_xact_lock(%s)", [WRITER_LOCK])
        return self.raw.execute(_params(sql), list(params))

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        self.raw.close()


def connect(url: str) -> PgConnection:
    """A connection with the schema ensured (created by the first one, under the writer lock)."""
    con = PgConnection(url)
    have = con.execute("SELECT to_regclass('wb_evidence') IS NOT NULL AND to_regclass('wb_meta') IS NOT NULL"
                       ).fetchone()[0]
    if not have:
        con.execute("BEGIN IMMEDIATE")
        con.raw.execute(schema())
        con.execute("INSERT INTO wb_meta VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE "
                    "SET value = excluded.value", [str(_schema_version())])
        con.execute("COMMIT")
    return con


def _schema_version() -> int:
    from fundwatch.review.db import SCHEMA_VERSION

    return SCHEMA_VERSION


def django_database(url: str) -> dict:
    """Django's DATABASES entry for the same PostgreSQL database (its tables sit beside wb_*)."""
    from urllib.parse import unquote, urlsplit

    u = urlsplit(url)
    if not re.fullmatch(r"/[^/]+", u.path or ""):
        raise ValueError(f"{url.split('@')[-1]}: expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE")
    return {"ENGINE": "django.db.backends.postgresql", "NAME": unquote(u.path[1:]), "USER": unquote(u.username or ""),
            "PASSWORD": unquote(u.password or ""), "HOST": u.hostname or "", "PORT": str(u.port or ""),
            "CONN_MAX_AGE": 300, "CONN_HEALTH_CHECKS": True}
