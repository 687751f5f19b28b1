"""The default engine: one DuckDB connection (a workspace file or in memory)."""

from __future__ import annotations

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

    def register(self, name: str, frame: pd.DataFrame) -> None:
        self.con.register(name, frame)

    def write_table(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")

    def table_exists(self, name: str) -> bool:
        return bool(
            self.con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
            ).fetchall()[0][0]
        )

    def columns(self, name: str) -> list[str]:
        return [r[0] for r in self.con.execute(f"DESCRIBE {name}").fetchall()]
