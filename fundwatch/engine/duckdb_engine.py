"""The default engine: one DuckDB connection (a workspace file or in memory)."""

from __future__ import annotations

import duckdb
import pandas as pd

from fundwatch.engine.base import Engine


class DuckDBEngine(Engine):
    dialect = "duckdb"

    def __init__(self, con):
        self.con = con

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def query(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def workers(self, n: int) -> list[DuckDBEngine]:
        # A cursor is a connection of its own to the same database: it sees the committed
        # tables (not this connection's temporary ones) and runs its query beside the others.
        return [self] + [DuckDBEngine(self.con.cursor()) for _ in range(max(0, n - 1))]

    def close_workers(self, engines: list[DuckDBEngine]) -> None:
        for engine in engines:
            if engine is not self:
                engine.con.close()

    def interrupt(self) -> None:
        self.con.interrupt()  # harmless when no query runs

    def register(self, name: str, frame) -> None:
        self.con.register(name, frame)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)

    def out_of_memory(self, exc: BaseException) -> bool:
        return isinstance(exc, duckdb.OutOfMemoryException)

    def write_table(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")

    def drop_table(self, name: str) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def table_exists(self, name: str) -> bool:
        return bool(
            self.con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
            ).fetchall()[0][0]
        )

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


_PANDAS = {"BIGINT": "int64", "DOUBLE": "float64", "BOOLEAN": "bool", "VARCHAR": "object"}
