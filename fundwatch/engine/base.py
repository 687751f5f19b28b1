"""The engine interface: small enough to read in one sitting.

Rules, populations, regions, outlier features and the Spark load talk to an engine only
through these methods. The convention, for every caller: **SQL is sent in DuckDB's dialect**
(the one the rules are written in). An engine whose `dialect` differs prints it in its own
with sqlglot (fundwatch/engine/dialect.py, the one place where dialects differ); callers
never translate, and SQL that would not translate faithfully is refused there (NotPortable).

A table that lives for one step is a `with` block (`registered`, `materialised`), so that
nothing is left behind when the step fails; running jobs beside each other is `workers`.
An engine implements the abstract methods; the others are the same for every engine.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pandas as pd

from fundwatch.errors import OutOfMemory

# Column types of map_batches results, named as in DuckDB.
BATCH_TYPES = ("BIGINT", "DOUBLE", "BOOLEAN", "VARCHAR")


class Engine(ABC):
    dialect: str = "duckdb"

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing of interest."""

    @abstractmethod
    def query(self, sql: str) -> pd.DataFrame:
        """Run a query and return its result as a pandas DataFrame, typed as DuckDB's `.df()`
        types it (DECIMAL -> float64, DATE -> datetime64, integers with NULLs -> Int64)."""

    @abstractmethod
    def register(self, name: str, frame) -> None:
        """Make `frame` queryable as `name` (replacing what was there) until the engine is
        closed: a pandas DataFrame, a pyarrow Table, or a frame of the engine's own (a Spark
        DataFrame on Spark: how the Spark load hands over its tables)."""

    @contextmanager
    def registered(self, name: str, frame) -> Iterator[str]:
        """`frame` queryable as `name` inside a `with` block only: the engine does not keep
        the frame (and its memory) once the query that needed it has run."""
        self.register(name, frame)
        try:
            yield name
        finally:
            self._forget(name)

    @contextmanager
    def materialised(self, name: str, sql: str) -> Iterator[str]:
        """The result of `sql` written as table `name` (replacing it) inside a `with` block
        only: later queries read it instead of computing `sql` again; gone after the block."""
        self._write_table(name, sql)
        try:
            yield name
        finally:
            self._forget(name)

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

    @contextmanager
    def workers(self, n: int) -> Iterator[list[Engine]]:
        """Up to `n` engines that may run queries at the same time, on the same data, one per
        thread (this engine first), for a `with` block. One by default: an engine that
        parallelises each query on its own (Spark) gains nothing from more."""
        yield [self]

    def interrupt(self) -> None:
        """Stop the query this engine is running, from another thread (Ctrl-C, or a job beside
        it failed); the query raises in its own thread and the engine stays usable. Nothing by
        default: with one worker, the jobs run in the thread that is interrupted."""
        return None

    def out_of_memory(self, exc: BaseException) -> bool:
        """Whether `exc` says a query ran out of the engine's memory (then running it alone may do)."""
        return self._memory_trouble(exc) is not None

    @contextmanager
    def memory_errors(self, then: str = "") -> Iterator[None]:
        """Inside the block, the engine running out of memory becomes an OutOfMemory error
        (the CLI's exit 4) that says which setting to raise, instead of the engine's own
        error; `then` is added to its message (what did not happen because of it)."""
        try:
            yield
        except OutOfMemory:
            raise
        except Exception as e:
            why = self._memory_trouble(e)
            if why is None:
                raise
            raise OutOfMemory(why + then) from e

    # --- for the engines only ---------------------------------------------------------------
    def _memory_trouble(self, exc: BaseException) -> str | None:
        """What ran out and which setting to raise, if `exc` says the engine ran out of memory."""
        return None

    @abstractmethod
    def _write_table(self, name: str, sql: str) -> None:
        """Materialise the result of `sql` as table `name`, replacing it."""

    @abstractmethod
    def _forget(self, name: str) -> None:
        """Drop what `register` or `_write_table` made as `name` (nothing if it is not there)."""
