"""Where SQL runs. DuckDB by default; other engines (Spark) are imported only when asked for."""

from fundwatch.engine.base import Engine
from fundwatch.engine.duckdb_engine import DuckDBEngine

__all__ = ["Engine", "DuckDBEngine"]
