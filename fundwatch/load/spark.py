"""Read a data folder into Spark: its Parquet and CSV files as temporary views typed by the contract.

    from fundwatch.load.spark import load_into_spark
    loaded = load_into_spark(engine, "hdfs:///audit/county-2023", mapping="mapping.toml")
    print(loaded.report.format())
    scan(..., engine=engine, present=loaded.present, inputs=loaded.inputs)

Spark reads the files, in parallel. Each partition is then typed and judged by the loader's
own SQL (fundwatch/load/stage.py, values.py and ids.py, the ID checks against python-stdnum's
county table included), run by an in-process DuckDB on the executor: the same code as
`fundwatch load`, so a value means the same thing on both engines and no second copy of the
parsing rules can drift. The result:

- a temporary view `<table>` of the good rows, with the contract's columns and types;
- a view `fw_quarantine` of every unusable row, as in a workspace: file, line, column, raw
  value, reason code (fundwatch/load/values.py), every problem and the raw row;
- a LoadReport: rows read, loaded and quarantined, blank lines, repeated headers and the
  top reasons, per table. For every file, rows read = loaded + quarantined + repeated headers.

Tables are found by the same function as `fundwatch load` finds them with
(fundwatch.load.loader.discover, given the folder through Spark's file system):
`<table>.csv|.parquet` or a folder `<table>/` of such files; headers go through the same aliases and `--mapping` file
(fundwatch/load/headers.py). The folder may be any path Spark can list (local, hdfs://, s3a://).

Not supported on Spark, each an error naming the file: XLSX (load it with `fundwatch load`,
or save it as CSV or Parquet), CSV not in UTF-8 (GBK/GB18030 exports: `iconv -f GB18030 -t
UTF-8` first) and quoted fields holding line breaks (each line is one record here: such a
record is quarantined as bad_quotes, line by line).
"""

from __future__ import annotations

import csv
import hashlib
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from fundwatch.contract.tables import TABLES
from fundwatch.errors import LoadError
from fundwatch.load.headers import HeaderMap, map_headers, read_mapping
from fundwatch.load.loader import discover
from fundwatch.load.readers import DELIMITERS, FORMATS
from fundwatch.load.report import LoadReport, TableLoad

HEAD_LINES = 1000  # lines read on the driver for the header and the encoding check
HEAD_BYTES = 1 << 20  # at most this much of them
_LINE_END = re.compile(r"\r\n|\r|\n")
QUARANTINE = "fw_quarantine"
_SPARK_TYPES = {"VARCHAR": "string", "DATE": "date", "DECIMAL(18,2)": "decimal(18,2)", "DOUBLE": "double",
                "BIGINT": "bigint", "INTEGER": "int"}
_Q_COLUMNS = ["q_column", "q_raw", "q_reason", "q_problems", "q_raw_row"]


# --- on the executors ------------------------------------------------------------------

_WORKER: dict = {}


def _worker_connection():
    """One DuckDB per Python worker, with the county table the ID check reads."""
    if "con" not in _WORKER:
        import duckdb

        from fundwatch.load.ids import install_reference_tables

        con = duckdb.connect(":memory:")
        install_reference_tables(con)
        _WORKER["con"] = con
    return _WORKER["con"]


def _split_lines(table: pa.Table, width: int, delim: str):
    """Text lines -> (rows of `width` fields, lines that are no row, number of blank lines)."""
    cols: list[list] = [[] for _ in range(width)]
    lines, other, blank = [], [], 0
    for text, line in zip(table.column("value").to_pylist(), table.column("__line").to_pylist(), strict=True):
        if not text.strip():
            blank += 1
            continue
        try:
            fields = next(csv.reader([text], delimiter=delim, strict=True))
        except csv.Error:
            other.append((line, text, "bad_quotes"))
            continue
        if len(fields) != width:
            other.append((line, text, "bad_row_shape"))
            continue
        for i, f in enumerate(fields):
            cols[i].append(f if f != "" else None)  # an empty field is NULL, as DuckDB's CSV reader has it
        lines.append(line)
    rows = pa.table({**{f"c{i}": pa.array(c, pa.string()) for i, c in enumerate(cols)},
                     "__line": pa.array(lines, pa.int64())})
    return rows, other, blank


def _stage_batches(batches, *, path: str, table: str, headers: list[str], columns: dict[str, int], delim: str | None):
    """mapInArrow body: raw lines (CSV) or raw columns (Parquet) -> typed rows, quarantine rows and counts."""
    from fundwatch.load.readers import RawFile
    from fundwatch.load.stage import stage_file

    con = _worker_connection()
    spec = TABLES[table]
    names = ", ".join(f'"{c}"' for c in spec.column_names)
    for batch in batches:
        data = pa.Table.from_batches([batch])
        other, blank, undecoded = [], 0, 0
        if delim is not None:  # CSV lines
            undecoded = sum(1 for t in data.column("value").to_pylist() if "\ufffd" in t)
            data, other, blank = _split_lines(data, len(headers), delim)
        con.register("_fw_batch", data)
        cast = ", ".join(f"CAST(c{i} AS VARCHAR) AS c{i}" for i in range(len(headers)))
        con.execute(f"CREATE OR REPLACE TEMP TABLE _fw_stage AS SELECT {cast}{', ' if cast else ''}__line FROM _fw_batch")
        con.unregister("_fw_batch")
        staged = stage_file(con, RawFile(Path(path), "_fw_stage", headers, 0), spec, HeaderMap(columns=dict(columns)))
        out = con.sql(
            f"""SELECT CASE WHEN __bad THEN 'bad' ELSE 'good' END AS __kind, __line, CAST(NULL AS BIGINT) AS __n,
                   {names},
                   CASE WHEN __bad THEN __problems[1]."column" END AS q_column,
                   CASE WHEN __bad THEN __problems[1].raw END AS q_raw,
                   CASE WHEN __bad THEN __problems[1].reason END AS q_reason,
                   CASE WHEN __bad THEN CAST(to_json(__problems) AS VARCHAR) END AS q_problems,
                   CAST(__raw_row AS VARCHAR) AS q_raw_row
            FROM {staged.typed}"""
        ).arrow()
        out = out.read_all() if isinstance(out, pa.RecordBatchReader) else out
        con.execute(f"DROP TABLE IF EXISTS {staged.typed}")
        con.execute("DROP TABLE IF EXISTS _fw_stage")
        yield from out.to_batches()
        counts = [("blank", blank + staged.blank_rows), ("header", staged.repeated_headers),
                  ("read", staged.rows_read + len(other)), ("undecoded", undecoded)]
        extra = [{"__kind": k, "__n": n} for k, n in counts if n]
        extra += [{"__kind": "bad", "__line": line, "q_raw": text[:1000], "q_reason": reason, "q_raw_row": text}
                  for line, text, reason in other]
        if extra:
            yield pa.Table.from_pylist(extra, schema=out.schema).to_batches()[0]


# --- on the driver ---------------------------------------------------------------------


def _output_schema(table: str) -> str:
    cols = [f"`{c.name}` {_SPARK_TYPES[c.sql_type]}" for c in TABLES[table].columns]
    q = [f"`{c}` string" for c in _Q_COLUMNS]
    return ", ".join(["`__kind` string", "`__line` bigint", "`__n` bigint", *cols, *q])


class _HadoopPath:
    """A file or folder Spark can list, with what discover() asks of a pathlib.Path."""

    def __init__(self, fs, status):
        self._fs, self._status = fs, status
        self.uri = status.getPath().toString()
        self.name = status.getPath().getName()
        self.stem, dot, ext = self.name.rpartition(".") if "." in self.name else (self.name, "", "")
        self.suffix = dot + ext
        self.size, self.mtime = int(status.getLen()), int(status.getModificationTime())

    def is_dir(self) -> bool:
        return bool(self._status.isDirectory())

    def is_file(self) -> bool:
        return bool(self._status.isFile())

    def iterdir(self):
        return [_HadoopPath(self._fs, st) for st in self._fs.listStatus(self._status.getPath())]

    def rglob(self, pattern: str):
        for child in self.iterdir():
            yield child
            if child.is_dir():
                yield from child.rglob(pattern)

    def __lt__(self, other) -> bool:
        return self.uri < other.uri

    def __str__(self) -> str:
        return self.uri


def _files(spark, root: str):
    """(table -> [_HadoopPath], ignored names) for a folder Spark can list, as discover() finds them."""
    base = spark._jvm.org.apache.hadoop.fs.Path(root)
    fs = base.getFileSystem(spark._jsc.hadoopConfiguration())
    if not fs.exists(base):
        raise LoadError([f"{root}: not a folder"])
    return discover(_HadoopPath(fs, fs.getFileStatus(base)))


@dataclass
class SparkLoad:
    """What load_into_spark made queryable: the tables (temporary views of the engine's
    session), each one's input description for the run record, and the load report."""

    report: LoadReport
    inputs: dict[str, dict] = field(default_factory=dict)  # table -> content_hash, load_id, source, rows, quarantined

    @property
    def present(self) -> set[str]:
        return set(self.inputs)


def _numbered(frame):
    """`frame` with __line: its 1-based row number in the file (partitions are in file order)."""
    from pyspark.sql import functions as F

    if frame._jdf.rdd().getNumPartitions() == 1:  # a small file: the id is the row number
        return frame.withColumn("__line", F.monotonically_increasing_id() + 1)
    frame = frame.withColumn("__id", F.monotonically_increasing_id()).withColumn("__part", F.spark_partition_id())
    sizes = sorted(frame.groupBy("__part").count().collect())
    offsets, total = [], 0
    for row in sizes:
        offsets.append((row["__part"], total))
        total += row["count"]
    spark = frame.sparkSession
    starts = spark.createDataFrame(offsets or [(0, 0)], "__part int, __start bigint")
    local = F.col("__id") - F.shiftleft(F.col("__part").cast("bigint"), 33)
    return (frame.join(F.broadcast(starts), "__part")
            .withColumn("__line", F.col("__start") + local + 1)
            .drop("__id", "__part", "__start"))


def _csv_head(spark, uri: str) -> tuple[list[str], int, str]:
    """(headers, header line, delimiter) of a UTF-8 CSV file; LoadError if it is not one."""
    jvm = spark._jvm
    p = jvm.org.apache.hadoop.fs.Path(uri)
    stream = p.getFileSystem(spark._jsc.hadoopConfiguration()).open(p)
    try:
        head = bytes(stream.readNBytes(HEAD_BYTES))
    finally:
        stream.close()
    if len(head) < HEAD_BYTES:
        head += b"\n"  # the whole file: its last line is complete
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError([f"{uri}: UTF-16 text; Spark reads CSV in UTF-8 only: save it as UTF-8"])
    # The first lines, split as Spark's text reader splits them (LF, CR LF or CR); the last
    # one may be cut short.
    lines = _LINE_END.split(head.decode("utf-8", errors="replace"))[:-1][:HEAD_LINES]
    if any("\ufffd" in t for t in lines):
        raise LoadError([f"{uri}: not UTF-8 (a GBK/GB18030 export?); on Spark convert it first "
                         "(iconv -f GB18030 -t UTF-8), or load it with `fundwatch load`"])
    for i, text in enumerate(lines):
        text = text.lstrip("\ufeff") if i == 0 else text
        if text.strip():
            delim = max(DELIMITERS, key=text.count)
            try:
                headers = next(csv.reader([text], delimiter=delim))
            except csv.Error as e:
                raise LoadError([f"{uri}: cannot read the header line: {e}"]) from e
            return [h.strip() for h in headers], i + 1, delim
    raise LoadError([f"{uri}: the file is empty (no header row)"])


def _read(engine, uri: str, table: str, user) -> tuple[object, HeaderMap]:
    """A Spark DataFrame of `uri` staged and judged (see _output_schema), and its header map."""
    spark = engine.spark
    kind = FORMATS.get("." + uri.rsplit(".", 1)[-1].lower())
    if kind == "xlsx":
        raise LoadError([f"{uri}: XLSX is not read on Spark; save it as CSV or Parquet, or use `fundwatch load`"])
    if kind == "csv":
        headers, header_line, delim = _csv_head(spark, uri)
        frame = _numbered(spark.read.text(uri))
        frame = frame.where(frame["__line"] > header_line)
    else:
        try:
            frame = spark.read.parquet(uri)
        except Exception as e:  # AnalysisException and friends: a file Spark cannot read as Parquet
            raise LoadError([f"{uri}: cannot read as Parquet: {str(e).splitlines()[0]}"]) from e
        headers, delim = list(frame.columns), None
        frame = _numbered(frame.toDF(*[f"c{i}" for i in range(len(headers))]))
    mapped = map_headers(Path(uri), headers, TABLES[table], user)
    if mapped.problems:
        raise LoadError(mapped.problems)
    fn = _stage_function(uri, table, headers, mapped.columns, delim)
    return frame.mapInArrow(fn, _output_schema(table)), mapped


def _stage_function(uri, table, headers, columns, delim):
    def stage(batches):
        yield from _stage_batches(batches, path=uri, table=table, headers=headers, columns=columns, delim=delim)

    return stage


def load_into_spark(engine, data_dir: str, *, mapping=None, progress=None) -> SparkLoad:
    """Register every contract table found in `data_dir` as a Spark view of `engine`; returns
    what was loaded (SparkLoad: the tables, their input descriptions and the LoadReport).

    Every file is read and checked before any view is replaced; all problems (unreadable
    files, missing columns, XLSX, non-UTF-8 CSV) are raised together as one LoadError.
    """
    from pyspark.sql import functions as F

    started = time.monotonic()
    spark = engine.spark
    user = mapping if isinstance(mapping, dict) else read_mapping(mapping)
    found, ignored = _files(spark, str(data_dir))
    load_id = datetime.now().strftime("S%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    report = LoadReport(load_id, str(data_dir), ignored=ignored)
    loaded = SparkLoad(report)
    staged, problems = {}, []
    for name in sorted(found):
        for uri in (f.uri for f in found[name]):
            if progress:
                progress(f"reading {uri}")
            try:
                frame, mapped = _read(engine, uri, name, user)
            except LoadError as e:
                problems.extend(e.problems)
                continue
            staged.setdefault(name, []).append((uri, frame.withColumn("__file", F.lit(uri)), mapped))
    if problems:
        raise LoadError(problems)

    quarantine = []
    for name, parts in staged.items():
        frame = parts[0][1]
        for _, other, _ in parts[1:]:
            frame = frame.unionByName(other)
        frame = frame.persist()
        # One pass for every count of the report: per file and kind of row, and per reason.
        grouped = frame.groupBy("__file", "__kind", "q_reason").agg(
            F.count(F.lit(1)).alias("rows"), F.coalesce(F.sum("__n"), F.lit(0)).alias("n")).collect()
        counts, reasons = {}, {}
        for r in grouped:
            rows, n = counts.get((r["__file"], r["__kind"]), (0, 0))
            counts[(r["__file"], r["__kind"])] = (rows + r["rows"], n + r["n"])
            if r["__kind"] == "bad":
                reasons[r["q_reason"]] = reasons.get(r["q_reason"], 0) + r["rows"]
        undecoded = [uri for uri, _, _ in parts if counts.get((uri, "undecoded"), (0, 0))[1]]
        if undecoded:
            frame.unpersist()
            raise LoadError([f"{u}: not UTF-8 further down the file (a GBK/GB18030 export?); convert it first "
                             "(iconv -f GB18030 -t UTF-8)" for u in undecoded])
        tl = TableLoad(name, "loaded", [uri for uri, _, _ in parts])
        for uri, _, mapped in parts:
            good = counts.get((uri, "good"), (0, 0))[0]
            bad = counts.get((uri, "bad"), (0, 0))[0]
            tl.rows_read += counts.get((uri, "read"), (0, 0))[1]
            tl.rows_loaded += good
            tl.rows_quarantined += bad
            tl.blank += counts.get((uri, "blank"), (0, 0))[1]
            tl.repeated_headers += counts.get((uri, "header"), (0, 0))[1]
            tl.unknown_headers.extend(h for h in mapped.unknown if h not in tl.unknown_headers)
        bad_rows = frame.where(F.col("__kind") == "bad")
        tl.top_reasons = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        # The cached rows stay registered (privately) beside the table that reads them, so that
        # the next load of the table releases them (Engine.register).
        engine.register(f"_fw_staged_{name}", frame)
        engine.register(name, frame.where(F.col("__kind") == "good").select(*TABLES[name].column_names))
        quarantine.append(bad_rows.select(
            F.lit(load_id).alias("load_id"), F.lit(name).alias("table_name"), F.col("__file").alias("file"),
            F.col("__line").alias("line"), F.col("q_column").alias("column_name"),
            F.col("q_raw").alias("raw_value"), F.col("q_reason").alias("reason"),
            F.col("q_problems").alias("problems"), F.col("q_raw_row").alias("raw_row")))
        digest = hashlib.sha256(repr(sorted((f.uri, f.size, f.mtime) for f in found[name])).encode()).hexdigest()
        loaded.inputs[name] = {"content_hash": f"listing:{digest}", "load_id": load_id, "source": str(data_dir),
                               "rows": tl.rows_loaded, "quarantined": tl.rows_quarantined}
        report.tables[name] = tl
    if quarantine:
        q = quarantine[0]
        for other in quarantine[1:]:
            q = q.unionByName(other)
        engine.register(QUARANTINE, q)
    report.add_warnings(engine)
    report.seconds = time.monotonic() - started
    return loaded
