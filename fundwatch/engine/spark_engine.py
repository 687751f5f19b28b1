"""Apache Spark as an engine: the same SQL, printed in Spark's dialect, on a cluster or locally.

    from fundwatch.engine.spark_engine import SparkEngine
    engine = SparkEngine.create("local[2]")          # or SparkEngine(spark) with your session
    engine.query("SELECT count(*) AS n FROM dibao_payments")

pyspark is imported only here, when a SparkEngine is made (`pip install fundwatch[spark]`).
Tables are Spark temporary views of the session. Results come back to the driver through
Arrow and are typed as DuckDB types them, so everything downstream (hits, evidence, cases)
sees the same values whichever engine ran the SQL.

The engine sets two session options that the translation relies on: the session time zone
is UTC (DuckDB's timestamps have none) and ANSI mode is on (an impossible cast or a division
by zero fails the query, as in DuckDB, instead of becoming NULL).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from fundwatch.engine.base import Engine
from fundwatch.engine.dialect import transpile

SESSION_CONF = {"spark.sql.session.timeZone": "UTC", "spark.sql.ansi.enabled": "true"}
_SPARK_TYPES = {"BIGINT": "long", "DOUBLE": "double", "BOOLEAN": "boolean", "VARCHAR": "string"}
_JAVA_OOM = re.compile(r"java\.lang\.OutOfMemoryError[^\n]*")
# What py4j raises once the JVM has exited. In local mode a task thread that runs out of heap
# ends the JVM (Spark's uncaught-exception handler); the JVM's last messages say so.
_JVM_GONE = (ConnectionError, EOFError)
_STOPPED = "Spark stopped (its last messages, above, say why: java.lang.OutOfMemoryError means it ran out of memory)"


def local_defaults(master: str | None) -> dict[str, str]:
    """Settings for a local master: Spark's 200 shuffle partitions cost far more than they
    save on one machine (minutes for the sample county), so two per core; and half of the
    machine's memory for the one JVM that does all the work (Spark's default of 1 GB ran out
    of heap on the scale-10 world, a million rows, and then hung). A cluster keeps what
    spark-submit and spark-defaults.conf set.

    >>> local_defaults("local[4]")["spark.sql.shuffle.partitions"], local_defaults("yarn")
    ('8', {})
    """
    m = re.fullmatch(r"local(?:\[(\d+|\*)(?:,\s*\d+)?\])?", master or "")
    if not m:
        return {}
    threads = m.group(1)
    cores = 1 if threads is None else (os.cpu_count() or 1) if threads == "*" else int(threads)
    return {"spark.sql.shuffle.partitions": str(2 * cores), "spark.driver.memory": f"{local_memory_gb()}g"}


def local_memory_gb() -> int:
    """Half of the machine's memory in GB (at least 1): the local JVM's heap."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not Linux or macOS: Spark's own default
        return 1
    return max(1, total // 2**31)


def default_master() -> str | None:
    """The master when none is given: None (leave it to Spark) under spark-submit or when
    spark-defaults.conf names one; else local[*], the master PySpark picks by itself, named
    here so that a local run gets its local settings (this interpreter for the workers, a few
    shuffle partitions). Without it `fundwatch scan --engine spark` run by a nightly job from
    the venv's path started workers from `python3` on PATH, which could not import fundwatch."""
    if "PYSPARK_GATEWAY_PORT" in os.environ:  # spark-submit started this driver: its master holds
        return None
    home = os.environ.get("SPARK_HOME")
    conf_dir = os.environ.get("SPARK_CONF_DIR") or (os.path.join(home, "conf") if home else None)
    defaults = Path(conf_dir) / "spark-defaults.conf" if conf_dir else None
    if defaults and defaults.is_file() and re.search(r"^\s*spark\.master\s", defaults.read_text(errors="replace"), re.M):
        return None
    return "local[*]"


def spark_session(master: str | None = None, app_name: str = "fundwatch", conf: dict | None = None):
    """A SparkSession (the active one if any). `master` as for spark-submit; None = what spark-submit set.

    A local master runs the Python workers with this interpreter, so that they see the same
    packages (pandas, pyarrow, pyod, fundwatch) as the driver.
    """
    from pyspark.sql import SparkSession

    if master is None and SparkSession.getActiveSession() is None:
        master = default_master()
    builder = SparkSession.builder.appName(app_name).config("spark.ui.showConsoleProgress", "false")
    if master:
        builder = builder.master(master)
    if (master or "").startswith("local"):
        builder = builder.config("spark.pyspark.python", sys.executable)
        # PySpark starts its Python workers with PYSPARK_PYTHON, else `python3` from PATH, and
        # does not read the setting above for them: a nightly job that runs the venv's
        # fundwatch without activating the venv would get workers without pandas.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    for key, value in {**SESSION_CONF, **local_defaults(master), **(conf or {})}.items():
        builder = builder.config(key, str(value))
    return builder.getOrCreate()


class SparkEngine(Engine):
    dialect = "spark"

    def __init__(self, spark):
        self.spark = spark
        for key, value in SESSION_CONF.items():
            spark.conf.set(key, value)
        self._persisted: dict[str, object] = {}  # registered frames cached in the cluster, by view name
        self._duck = duckdb.connect(":memory:")  # only to type results exactly as DuckDB does
        conf = spark.sparkContext.getConf()  # read now: after an out-of-memory the JVM may be gone
        self.local = (conf.get("spark.master") or "").startswith("local")
        self._driver_memory = conf.get("spark.driver.memory") or "1g"

    @classmethod
    def create(cls, master: str | None = None, conf: dict | None = None) -> SparkEngine:
        return cls(spark_session(master, conf=conf))

    def _memory_trouble(self, exc: BaseException) -> str | None:
        why = _jvm_trouble(exc)
        if why is None and self._stopped():
            # A JVM on its way out answers in many ways (a job "cancelled because SparkContext
            # was shut down", a py4j class that "does not exist in the JVM"), whichever comes first.
            why = _STOPPED
        return None if why is None else f"{why}. {self._memory_advice()}"

    def _stopped(self) -> bool:
        try:
            return bool(self.spark.sparkContext._jsc.sc().isStopped())
        except Exception:  # no answer: the JVM is gone
            return True

    def _memory_advice(self) -> str:
        if self.local:
            return (f"This local Spark's one JVM has {self._driver_memory} of heap: raise it with "
                    "--spark-conf spark.driver.memory=<more>g (a command option: fundwatch scan --engine spark "
                    "--spark-conf spark.driver.memory=16g ...).")
        return ("Raise the memory of the JVM that ran out: spark-submit's --driver-memory (results come "
                "back to the driver) or --executor-memory.")

    def _translate(self, sql: str) -> str:
        return transpile(sql, "duckdb", self.dialect)

    def execute(self, sql: str) -> None:
        self.spark.sql(self._translate(sql))

    def query(self, sql: str) -> pd.DataFrame:
        return self._to_pandas(self.spark.sql(self._translate(sql)).toArrow())

    def _to_pandas(self, table: pa.Table) -> pd.DataFrame:
        return self._duck.from_arrow(table).df()

    def register(self, name: str, frame) -> None:
        from pyspark.sql import DataFrame as SparkDataFrame

        self._release(name)
        if isinstance(frame, SparkDataFrame):
            # The load's tables: a cached frame is released when its name is registered again.
            frame.createOrReplaceTempView(name)
            if frame.is_cached:
                self._persisted[name] = frame
            return
        # Through DuckDB's own pandas -> Arrow conversion: the view gets the column types a
        # DuckDB workspace would give the same frame.
        table = frame if isinstance(frame, pa.Table | pa.RecordBatchReader) else self._duck.from_df(frame).arrow()
        if isinstance(table, pa.RecordBatchReader):
            table = table.read_all()
        self.spark.createDataFrame(table).createOrReplaceTempView(name)

    def _write_table(self, name: str, sql: str) -> None:
        frame = self.spark.sql(self._translate(sql)).persist()
        frame.count()  # materialise now: later reads must not recompute the query
        self.register(name, frame)

    def _forget(self, name: str) -> None:
        # What register and _write_table made is a temporary view here, perhaps cached in the cluster.
        self._release(name)
        self.spark.catalog.dropTempView(name)

    def _release(self, name: str) -> None:
        old = self._persisted.pop(name, None)
        if old is not None:
            old.unpersist()

    def map_batches(self, sql, fn, schema, batch_rows) -> pd.DataFrame:
        frame = self.spark.sql(self._translate(sql))
        ddl = ", ".join(f"`{name}` {_SPARK_TYPES[t]}" for name, t in schema)

        def apply(batches):
            for batch in batches:
                yield fn(batch)

        previous = self.spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch", None)
        self.spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(int(batch_rows)))
        try:
            return self._to_pandas(frame.mapInPandas(apply, ddl).toArrow())
        finally:
            if previous is None:
                self.spark.conf.unset("spark.sql.execution.arrow.maxRecordsPerBatch")
            else:
                self.spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", previous)

    def __repr__(self) -> str:
        return f"SparkEngine(master={self.spark.sparkContext.master!r}, spark={self.spark.version})"


def _jvm_trouble(exc: BaseException) -> str | None:
    """What went wrong in the JVM, if `exc` itself says it ran out of memory or is gone; else None."""
    from py4j.protocol import Py4JNetworkError

    for e in _chain(exc):
        if isinstance(e, _JVM_GONE + (Py4JNetworkError,)):
            return _STOPPED
    try:
        text = str(exc)  # a Py4JJavaError's text holds the Java exception and its causes
    except Exception:  # asking a JVM that is gone for the text fails too
        return None
    m = _JAVA_OOM.search(text)
    return f"Spark ran out of memory ({m.group(0).strip()})" if m else None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__
