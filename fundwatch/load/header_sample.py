"""The first rows of every table file in a folder, read as the loader reads them.

`fundwatch headers` judges a header by a sample of its values. The sample comes from the
loader's own discovery and readers (encoding detection, the delimiter, an Excel title row,
Parquet, folders of part files), so what is judged is exactly what `fundwatch load` sees.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from fundwatch.contract.tables import TABLES
from fundwatch.errors import LoadError
from fundwatch.load.headers import HeaderMap, UserMapping, map_headers
from fundwatch.load.loader import discover
from fundwatch.load.readers import drop_staging, read_file

SAMPLE_ROWS = 500


@dataclass
class FileSample:
    table: str
    path: Path
    headers: list[str]
    rows: pd.DataFrame  # one text column per header position (c0..cN), the first rows of the file
    placed: HeaderMap  # what the load makes of the headers with the built-in and user aliases
    problems: list[str] = field(default_factory=list)  # the file could not be read

    def values(self, pos: int) -> list[str]:
        """The non-empty values of the header at `pos`, trimmed."""
        col = self.rows.get(f"c{pos}")
        if col is None:
            return []
        return [v.strip() for v in col.dropna().astype(str) if v.strip()]


class _Sampled(Exception):  # noqa: N818 - not an error: how the sample leaves the reader
    def __init__(self, headers: list[str], rows: pd.DataFrame):
        self.headers, self.rows = headers, rows


def _sampler(con, n: int):
    """A `typer` for readers.read_file that takes the first `n` rows and stops the read."""

    def typer(raw):
        source = raw.source or raw.staging
        cols = ", ".join(f"c{i}" for i in range(len(raw.headers))) or "NULL AS c0"
        rows = con.execute(f"SELECT {cols} FROM {source} LIMIT {int(n)}").df()
        raise _Sampled(list(raw.headers), rows)

    return typer


def sample_file(con, path: Path, table: str, user: UserMapping, tmpdir: Path, n: int = SAMPLE_ROWS) -> FileSample:
    staging = "_fw_headers_sample"
    try:
        read_file(con, path, staging, tmpdir, _sampler(con, n))
    except _Sampled as s:
        placed = map_headers(path, s.headers, TABLES[table], user)
        return FileSample(table, path, s.headers, s.rows, placed)
    except LoadError as e:
        return FileSample(table, path, [], pd.DataFrame(), HeaderMap(), problems=list(e.problems))
    finally:
        drop_staging(con, staging)
    raise AssertionError("the reader returned without handing over its rows")  # pragma: no cover


def sample_directory(data_dir: str | Path, user: UserMapping | None = None, n: int = SAMPLE_ROWS) -> list[FileSample]:
    """A sample of every contract table file in `data_dir`, in the loader's order."""
    from fundwatch.workspace import private_temp_folder

    found, _ignored = discover(Path(data_dir))
    tmpdir = private_temp_folder("headers")  # transcoded copies of non-UTF-8 files: personal data
    con = duckdb.connect()
    try:
        return [sample_file(con, path, table, user or {}, tmpdir, n) for table in found for path in found[table]]
    finally:
        con.close()
        shutil.rmtree(tmpdir, ignore_errors=True)
