"""The engine interface: small enough to read in one sitting.

Rules, populations, regions and outlier features talk to an engine only through these
methods. The convention, for every caller: **SQL is sent in DuckDB's dialect** (the one
the rules are written in). An engine whose `dialect` differs prints it in its own with
sqlglot (fundwatch/engine/dialect.py, the one place where dialects differ); callers never
translate, and SQL that would not translate faithfully is refused there (NotPortable).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pandas as pd

# Column types of map_batches results, named as in DuckDB.
BATCH_TYPES = ("BIGINT", "DOUBLE", "BOOLEAN", "VARCHAR")


class Engine(ABC):
    dialect: str = "duckdb"

    def translate(self, sql: str) -> str:
        """`sql`, written in DuckDB's dialect, printed in this engine's dialect."""
        if self.dialect == "duckdb":
            return sql
        from fundwatch.engine.dialect import transpile

        return transpile(sql, "duckdb", self.dialect)

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing of interest."""

    @abstractmethod
    def query(self, sql: str) -> pd.DataFrame:
        """Run a query and return its result as a pandas DataFrame, typed as DuckDB's `.df()`
        types it (DECIMAL -> float64, DATE -> datetime64, integers with NULLs -> Int64)."""

    @abstractmethod
    def register(self, name: str, frame) -> None:
        """Make a pandas DataFrame (or pyarrow Table) queryable as a temporary table `name`."""

    def out_of_memory(self, exc: BaseException) -> bool:
        """Whether `exc` says a query ran out of the engine's memory (then running it alone may do)."""
        return False

    @abstractmethod
    def unregister(self, name: str) -> None:
        """Forget what `register` made queryable as `name` (nothing if it is not there)."""

    @contextmanager
    def registered(self, name: str, frame) -> Iterator[str]:
        """`frame` queryable as `name` inside a `with` block only: the engine does not keep
        the frame (and its memory) once the query that needed it has run."""
        self.register(name, frame)
        try:
            yield name
        finally:
            self.unregister(name)

    @abstractmethod
    def write_table(self, name: str, sql: str) -> None:
        """Materialise the result of `sql` as table `name`, replacing it."""

    @abstractmethod
    def drop_table(self, name: str) -> None:
        """Drop what `write_table` made as `name` (nothing if it is not there)."""

    @abstractmethod
    def table_exists(self, name: str) -> bool: ...

    @abstractmethod
    def map_batches(
        self, sql: str, fn: Callable[[pd.DataFrame], pd.DataFrame], schema: list[tuple[str, str]], batch_rows: int
    ) -> pd.DataFrame:
        """`fn` applied to the rows of `sql` in pieces of at most `batch_rows`, results concatenated.

        `fn` must treat every row on its own (a row's result may not depend on the others in
        its piece): DuckDB streams the pieces through this process, Spark runs them in parallel
        on its executors (mapInPandas). `schema` names and types `fn`'s output columns
        (types from BATCH_TYPES). Row order is not kept: sort the result.
        """

    def workers(self, n: int) -> list[Engine]:
        """Up to `n` engines that may run queries at the same time, on the same data, one per
        thread (this engine first). One by default: an engine that parallelises each query
        on its own (Spark) gains nothing from more. Close the others with `close_workers`."""
        return [self]

    def close_workers(self, engines: list[Engine]) -> None:
        """Release the engines `workers` gave, except this one."""
        del engines  # nothing to release: by default `workers` gives this engine only

    def interrupt(self) -> None:
        """Stop the query this engine is running, from another thread (Ctrl-C, or a job beside
        it failed); the query raises in its own thread and the engine stays usable. Nothing by
        default: with one worker, the jobs run in the thread that is interrupted."""
        return None
