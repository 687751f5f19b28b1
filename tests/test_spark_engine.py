"""The engine interface behaves the same on DuckDB and Spark (the `engine` fixture runs each
test on both), and fundwatch needs pyspark only when Spark is asked for."""

import os
import subprocess
import sys
import textwrap

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from fundwatch.errors import OutOfMemory

TYPED = """SELECT * FROM (VALUES
    (1, 'a', CAST('2023-01-31' AS DATE), CAST(10.05 AS DECIMAL(18, 2)), CAST(7 AS BIGINT)),
    (2, 'b', NULL, NULL, NULL)) t(i, s, d, m, n)"""


def test_query_types_results_as_duckdb_does(engine):
    frame = engine.query(f"SELECT i, s, d, m, n FROM ({TYPED}) x ORDER BY i")
    assert list(frame.columns) == ["i", "s", "d", "m", "n"]
    assert frame["d"].dtype.kind == "M" and frame["d"].iloc[0] == pd.Timestamp("2023-01-31")
    assert frame["m"].dtype == "float64" and frame["m"].iloc[0] == 10.05  # DECIMAL -> float64
    assert str(frame["n"].dtype) == "Int64" and pd.isna(frame["n"].iloc[1])  # integers with NULLs stay integers
    assert frame["s"].tolist() == ["a", "b"]


def _exists(engine, name: str) -> bool:
    """Whether the engine's catalog has `name` (asked of the engine itself, not through fundwatch)."""
    if engine.dialect == "spark":
        return bool(engine.spark.catalog.tableExists(name))
    return bool(engine.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                                   [name]).fetchall()[0][0])


def test_register_replaces_and_materialised_lives_for_its_block(engine):
    engine.register("fw_t_people", pd.DataFrame({"person_id": ["P1", "P2", "P3"], "amount": [1.5, 2.0, None]}))
    engine.register("fw_t_arrow", pa.table({"k": pa.array([1, 2], pa.int64())}))
    assert engine.query("SELECT sum(k) AS s FROM fw_t_arrow")["s"].iloc[0] == 3
    engine.register("fw_t_arrow", pa.table({"k": pa.array([5], pa.int64())}))  # replaced
    assert engine.query("SELECT sum(k) AS s FROM fw_t_arrow")["s"].iloc[0] == 5
    sql = "SELECT person_id, amount * 2 AS twice FROM fw_t_people WHERE amount IS NOT NULL"
    with engine.materialised("fw_t_sum", sql) as name:
        assert name == "fw_t_sum" and _exists(engine, "fw_t_sum")
        written = engine.query("SELECT * FROM fw_t_sum ORDER BY person_id")
        assert list(written.columns) == ["person_id", "twice"] and written["twice"].tolist() == [3.0, 4.0]
        with engine.materialised("fw_t_sum", "SELECT 1 AS one"):  # replaced
            assert list(engine.query("SELECT * FROM fw_t_sum").columns) == ["one"]
    assert not _exists(engine, "fw_t_sum")
    with pytest.raises(KeyError), engine.materialised("fw_t_sum", "SELECT 1 AS one"):
        raise KeyError("a failing step")
    assert not _exists(engine, "fw_t_sum")


def test_a_frame_registered_for_a_block_is_forgotten_after_it(engine):
    with engine.registered("fw_t_block", pd.DataFrame({"k": [1, 2]})) as name:
        assert engine.query(f"SELECT sum(k) AS s FROM {name}")["s"].iloc[0] == 3
    assert not _exists(engine, "fw_t_block")
    try:
        with engine.registered("fw_t_block", pd.DataFrame({"k": [1]})):
            raise KeyError("a failing query")
    except KeyError:
        pass
    assert not _exists(engine, "fw_t_block")


def test_workers_are_engines_on_the_same_data_for_a_block(engine):
    with engine.materialised("fw_t_shared", "SELECT 7 AS k"), engine.workers(2) as engines:
        assert engines[0] is engine and len(engines) == (1 if engine.dialect == "spark" else 2)
        assert [int(e.query("SELECT k FROM fw_t_shared")["k"].iloc[0]) for e in engines] == [7] * len(engines)
    if engine.dialect == "duckdb":  # the other worker's connection is closed after the block
        with pytest.raises(duckdb.ConnectionException):
            engines[1].query("SELECT 1")


def test_duckdb_out_of_memory_becomes_an_error_that_says_what_to_raise():
    from fundwatch.engine import DuckDBEngine

    con = duckdb.connect(":memory:", config={"memory_limit": "20MB", "threads": "1"})
    engine = DuckDBEngine(con)
    big = "SELECT list(repeat('x', 200) || i::VARCHAR) FROM range(2000000) t(i)"
    oom = r"DuckDB ran out of memory within its limit .*--memory-limit.* Nothing written\.$"
    with pytest.raises(OutOfMemory, match=oom), engine.memory_errors(" Nothing written."):
        engine.query(big)
    with pytest.raises(duckdb.CatalogException), engine.memory_errors():  # any other error passes through
        engine.query("SELECT * FROM no_such_table")
    assert engine.out_of_memory(duckdb.OutOfMemoryException("x")) and not engine.out_of_memory(KeyError("x"))
    con.close()


def test_spark_registers_its_own_frames_and_releases_a_cached_one_when_replaced(spark_engine):
    cached = spark_engine.spark.range(0, 10).selectExpr("CAST(id AS BIGINT) AS i").persist()
    spark_engine.register("fw_t_own", cached)
    assert cached.is_cached and spark_engine.query("SELECT sum(i) AS s FROM fw_t_own")["s"].iloc[0] == 45
    spark_engine.register("fw_t_own", pd.DataFrame({"i": [1]}))
    assert not cached.is_cached  # released with the view that held it
    assert spark_engine.query("SELECT sum(i) AS s FROM fw_t_own")["s"].iloc[0] == 1


def tagger():
    # Made inside a function: Spark ships it to its Python workers by value (a test module
    # is not importable there; fundwatch's own functions are).
    def tag_rows(batch: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"i": batch["i"].to_numpy(dtype=np.int64), "twice": batch["i"].to_numpy() * 2.0,
                             "pid": [str(os.getpid())] * len(batch)})

    return tag_rows


def test_map_batches_applies_a_function_to_every_row_in_pieces(engine):
    engine.register("fw_t_range", pd.DataFrame({"i": np.arange(5000, dtype=np.int64)}))
    out = engine.map_batches("SELECT i FROM fw_t_range", tagger(), [("i", "BIGINT"), ("twice", "DOUBLE"),
                                                                      ("pid", "VARCHAR")], 1000)
    out = out.sort_values("i", ignore_index=True)
    assert out["i"].tolist() == list(range(5000))
    assert (out["twice"] == out["i"] * 2.0).all()
    if engine.dialect == "spark":  # applied on the executors (Python workers), not in this process
        assert str(os.getpid()) not in set(out["pid"])


def test_map_batches_of_nothing_has_the_schema(engine):
    out = engine.map_batches("SELECT 1 AS i WHERE 1 = 0", tagger(), [("i", "BIGINT"), ("twice", "DOUBLE"),
                                                                       ("pid", "VARCHAR")], 1000)
    assert out.empty and list(out.columns) == ["i", "twice", "pid"]


def test_spark_scores_are_computed_in_several_python_tasks(spark_engine):
    """The detector is applied in parallel: a frame of several partitions is scored by one
    mapInPandas task per partition, each seeing only its rows."""
    frame = spark_engine.spark.range(0, 4000, numPartitions=4).selectExpr("CAST(id AS BIGINT) AS i")
    frame.createOrReplaceTempView("fw_t_parts")

    def sizes(batch):
        return pd.DataFrame({"i": batch["i"].to_numpy(dtype=np.int64), "twice": np.full(len(batch), len(batch), float),
                             "pid": [str(os.getpid())] * len(batch)})

    out = spark_engine.map_batches("SELECT i FROM fw_t_parts", sizes, [("i", "BIGINT"), ("twice", "DOUBLE"),
                                                                        ("pid", "VARCHAR")], 10_000)
    assert len(out) == 4000 and set(out["twice"]) == {1000.0}  # four pieces of 1000 rows, not one of 4000


NO_PYSPARK = textwrap.dedent(
    """
    import sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name == "pyspark" or name.startswith("pyspark.") or name == "py4j" or name.startswith("py4j."):
                raise ImportError(f"blocked: {name}")

    sys.meta_path.insert(0, Block())
    import fundwatch
    from fundwatch.engine import DuckDBEngine  # noqa: F401
    from fundwatch.rules import load_rules
    from fundwatch.rules.engines import support_table
    from fundwatch.rules.testing import run_rule_tests

    ws = fundwatch.Workspace()
    ws.load(sys.argv[1])
    result = ws.scan(2023, outliers=True)
    assert len(result.cases) > 0
    assert all(r.passed for r in run_rule_tests(load_rules(), ["dibao.public_staff"]))
    assert set(support_table(load_rules())["dibao.public_staff"]) == {"duckdb", "spark"}
    assert not any(m == "pyspark" or m.startswith("pyspark.") for m in sys.modules)
    from fundwatch.cli import main
    code = main(["--workspace", ":memory:", "scan", "--year", "2023", "--engine", "spark", "--data", sys.argv[1],
                 "--out", sys.argv[2]])
    print("EXIT", code)
    """
)


def test_fundwatch_and_every_duckdb_path_work_without_pyspark(tmp_path):
    from pathlib import Path

    data = tmp_path / "data"
    data.mkdir()
    sample = Path(__file__).resolve().parent.parent / "sample_data"
    for name in ("dibao_households", "dibao_members", "dibao_payments", "civil_servants"):
        (data / f"{name}.csv").write_bytes((sample / f"{name}.csv").read_bytes())
    proc = subprocess.run([sys.executable, "-c", NO_PYSPARK, str(data), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # Asking for Spark without pyspark is a clear error (exit 2), not a traceback.
    assert "EXIT 2" in proc.stdout
    assert "pip install 'fundwatch[spark]'" in proc.stderr



def test_a_local_master_gets_two_shuffle_partitions_per_core_half_the_memory_and_a_cluster_its_own():
    import os

    from fundwatch.engine.spark_engine import local_defaults

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    heap = {"spark.driver.memory": f"{max(1, memory // 2**31)}g"}  # half the machine
    assert local_defaults("local") == {"spark.sql.shuffle.partitions": "2", **heap}
    assert local_defaults("local[4]") == {"spark.sql.shuffle.partitions": "8", **heap}
    assert local_defaults("local[3, 2]") == {"spark.sql.shuffle.partitions": "6", **heap}
    assert local_defaults("local[*]") == {"spark.sql.shuffle.partitions": str(2 * os.cpu_count()), **heap}
    for cluster in ("yarn", "spark://host:7077", "k8s://https://api:443", None, "local-cluster[2,1,1024]"):
        assert local_defaults(cluster) == {}


def test_no_master_given_is_local_unless_spark_submit_or_its_defaults_name_one(tmp_path, monkeypatch):
    from fundwatch.engine.spark_engine import default_master

    for name in ("PYSPARK_GATEWAY_PORT", "SPARK_CONF_DIR", "SPARK_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf").mkdir()  # a folder of the working directory is not Spark's configuration
    (tmp_path / "conf" / "spark-defaults.conf").write_text("spark.master yarn\n")
    assert default_master() == "local[*]"
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path / "conf"))
    assert default_master() is None
    monkeypatch.delenv("SPARK_CONF_DIR")
    monkeypatch.setenv("PYSPARK_GATEWAY_PORT", "41234")  # spark-submit started the driver
    assert default_master() is None


WITHOUT_VENV_ON_PATH = textwrap.dedent(
    """
    import sys
    import numpy as np, pandas as pd
    from fundwatch.engine.spark_engine import SparkEngine, spark_session

    master = sys.argv[1] if len(sys.argv) > 1 else None  # None: as `fundwatch scan --engine spark` does
    engine = SparkEngine(spark_session(master, conf={"spark.ui.enabled": "false"}))
    engine.spark.sparkContext.setLogLevel("OFF")
    engine.spark.range(0, 10).selectExpr("CAST(id AS BIGINT) AS i").createOrReplaceTempView("t")
    out = engine.map_batches("SELECT i FROM t", lambda b: pd.DataFrame({"i": b["i"].to_numpy(dtype=np.int64)}),
                             [("i", "BIGINT")], 100)
    print(sorted(out["i"].tolist()))
    """
)


@pytest.mark.parametrize("master", [["local[1]"], []], ids=["local[1]", "no master given"])
def test_a_local_spark_runs_its_python_workers_with_this_interpreter(tmp_path, master):
    """As a nightly job runs it: the venv's interpreter called by its path, the venv not on
    PATH. The workers must still be this interpreter (with pandas), not `python3` from PATH;
    also with no master given (`fundwatch scan --engine spark` without --spark-master), where
    PySpark runs locally by itself."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    env["PATH"] = "/usr/bin:/bin"
    proc = subprocess.run([sys.executable, "-c", WITHOUT_VENV_ON_PATH, *master], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == str(list(range(10)))


OUT_OF_HEAP = textwrap.dedent(
    """
    from fundwatch.engine.spark_engine import SparkEngine
    from fundwatch.errors import OutOfMemory

    conf = {"spark.ui.enabled": "false", "spark.driver.memory": "512m"}
    engine = SparkEngine.create("local[1]", conf=conf)
    engine.spark.sparkContext.setLogLevel("OFF")
    jvm = engine.spark._jvm
    try:  # any other error passes through as it is
        with engine.memory_errors():
            engine.spark.sql("SELECT no_such_column FROM range(1)").collect()
    except OutOfMemory:
        print("plain OUT OF MEMORY")
    except Exception as e:
        print("plain", type(e).__name__, engine.out_of_memory(e))
    steps = {
        # the driver asked for more heap than it has: the JVM lives on
        "driver": lambda: jvm.java.lang.reflect.Array.newInstance(jvm.java.lang.Long.TYPE, 1_000_000_000),
        # a task ran out of heap: in local mode that ends the JVM, which answers what it is
        # asked meanwhile in several ways (a job cancelled as the context stops, a py4j error)
        "task": lambda: engine.spark.range(0, 20_000_000, 1, 1).selectExpr("id", "repeat('x', 100) AS s").toArrow(),
    }
    steps["stopped"] = lambda: (engine.spark.sparkContext.stop(), engine.spark.range(3).collect())
    for name in ("driver", "stopped", "task"):
        if name == "task":  # a new context (the JVM lives on)
            engine = SparkEngine.create("local[1]", conf=conf)
        try:
            with engine.memory_errors(" Nothing written."):
                steps[name]()
            print(name, "no error")
        except OutOfMemory as e:
            print(name, "OUT OF MEMORY", engine.out_of_memory(e.__cause__), e)
        if name == "driver":
            print("still usable", engine.query("SELECT 41 + 1 AS x")["x"].iloc[0])
    """
)


def test_spark_out_of_heap_is_an_error_that_says_what_to_raise():
    """A real local JVM with 512 MB of heap, run out of it twice: as an answer to the driver
    (the JVM lives on) and in a task (the JVM exits); and a context stopped under a query. Each
    becomes OutOfMemory (the CLI's exit 4) naming the heap and the option that raises it, and
    counts as out of memory for side_by_side; any other Spark error passes through."""
    proc = subprocess.run([sys.executable, "-c", OUT_OF_HEAP], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = {line.split(" ", 1)[0]: line for line in proc.stdout.splitlines()}
    advice = "has 512m of heap: raise it with --spark-conf spark.driver.memory=<more>g"
    assert lines["plain"] == "plain AnalysisException False"
    assert lines["driver"].startswith("driver OUT OF MEMORY True Spark ran out of memory (java.lang.OutOfMemoryError")
    assert advice in lines["driver"] and lines["driver"].endswith(" Nothing written.")
    assert lines["still"] == "still usable 42"
    # Spark stopped under the query (here by hand; after a task out of heap, by the JVM's own exit)
    assert lines["stopped"].startswith("stopped OUT OF MEMORY True Spark stopped (its last messages, above, say why")
    assert lines["task"].startswith("task OUT OF MEMORY True Spark stopped (its last messages, above, say why")
    assert advice in lines["task"]


def test_spark_conf_options_must_be_key_value(capsys):
    from fundwatch.cli import main

    code = main(["--workspace", ":memory:", "scan", "--year", "2023", "--engine", "spark", "--data", "sample_data",
                 "--spark-conf", "spark.driver.memory"])
    assert code == 2
    assert "'spark.driver.memory': expected KEY=VALUE, e.g. spark.driver.memory=16g" in capsys.readouterr().err
