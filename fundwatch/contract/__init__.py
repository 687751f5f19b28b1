"""The data contract: every input table, its columns and how their values are written."""

from fundwatch.contract.tables import TABLES, ColumnSpec, TableSpec, table

__all__ = ["TABLES", "ColumnSpec", "TableSpec", "table"]
