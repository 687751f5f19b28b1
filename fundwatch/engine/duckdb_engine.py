"""The default engine: one DuckDB connection (a workspace file or in memory)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pandas as pd

from fundwatch.engine.base import Engine


class DuckDBEngine(Engine):
    dialect = "duckdb"

    def __init__(self, con):
        self.con = con
        self._written: set[str] = set()  # tables _write_table made: dropped, not unregistered

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def query(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    @contextmanager
    def workers(self, n: int) -> Iterator[list[DuckDBEngine]]:
        # A cursor is a connection of its own to the same database: it sees the committed
        # tables (not this connection's temporary ones) and runs its query beside the others.
        others = [DuckDBEngine(self.con.cursor()) for _ in range(max(0, n - 1))]
        try:
            yield [self, *others]
        finally:
            for engine in others:
                engine.con.close()

    def interrupt(self) -> None:
        self.con.interrupt()  # harmless when no query runs

    def register(self, name: str, frame) -> None:
        self.con.register(name, frame)

    def _memory_trouble(self, exc: BaseException) -> str | None:
        return out_of_memory_message(exc) if isinstance(exc, duckdb.OutOfMemoryException) else None

    def _write_table(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
        self._written.add(name)

    def _forget(self, name: str) -> None:
        if name in self._written:
            self._written.discard(name)
            self.con.execute(f"DROP TABLE IF EXISTS {name}")
        else:
            self.con.unregister(name)

    def map_batches(self, sql, fn, schema, batch_rows) -> pd.DataFrame:
        # Streamed: one piece of about `batch_rows` rows (whole vectors of 2048) is in memory at a time.
        result = self.con.execute(sql)
        vectors = max(1, int(batch_rows) // 2048)
        parts = []
        while not (piece := result.fetch_df_chunk(vectors)).empty:
            parts.append(fn(piece))
        if not parts:
            return pd.DataFrame({name: pd.Series(dtype=_PANDAS[t]) for name, t in schema})
        return pd.concat(parts, ignore_index=True)


def out_of_memory_message(exc: duckdb.OutOfMemoryException) -> str:
    """What ran out, and the option that raises the limit."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return (f"DuckDB ran out of memory within its limit ({first}). Run again with a higher limit (a global "
            "option, before the command: fundwatch --memory-limit 4GB scan ...) or without one.")


_PANDAS = {"BIGINT": "int64", "DOUBLE": "float64", "BOOLEAN": "bool", "VARCHAR": "object"}
