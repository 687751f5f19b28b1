"""The engine interface: small enough to read in one sitting.

Rules, features and case building talk to an engine only through these methods. SQL is
written once in DuckDB's dialect; an engine whose `dialect` differs gets it translated
by sqlglot (fundwatch/engine/dialect.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import pandas as pd


class Engine(ABC):
    dialect: str = "duckdb"

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing of interest."""

    @abstractmethod
    def query(self, sql: str) -> pd.DataFrame:
        """Run a query and return its result as a pandas DataFrame."""

    @abstractmethod
    def register(self, name: str, frame: pd.DataFrame) -> None:
        """Make a DataFrame queryable as a (temporary) table called `name`."""

    @abstractmethod
    def write_table(self, name: str, sql: str) -> None:
        """Materialise the result of `sql` as table `name`, replacing it."""

    @abstractmethod
    def table_exists(self, name: str) -> bool: ...

    @abstractmethod
    def columns(self, name: str) -> list[str]: ...

    def row_count(self, name: str) -> int:
        return int(self.query(f"SELECT count(*) AS n FROM {name}")["n"].iloc[0])
