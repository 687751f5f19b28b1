"""Where SQL runs. DuckDB by default; Spark (fundwatch.engine.spark_engine) is imported only
when asked for, so `import fundwatch` and every DuckDB path work without pyspark."""

from fundwatch.engine.base import Engine
from fundwatch.engine.duckdb_engine import DuckDBEngine

ENGINES = ("duckdb", "spark")

__all__ = ["ENGINES", "Engine", "DuckDBEngine", "SparkEngine"]


def __getattr__(name):
    if name == "SparkEngine":  # imports pyspark
        from fundwatch.engine.spark_engine import SparkEngine

        return SparkEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
