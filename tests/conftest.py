import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from stdnum.cn import ric, uscc

from fundwatch.workspace import Workspace
from tests.shared import built_once, private_copy

os.environ.setdefault("MPLBACKEND", "Agg")


def make_id(n: int, birth: str = "19800101", county: str = "110105") -> str:
    """A valid 18-character resident ID (distinct for distinct n < 1000)."""
    body = f"{county}{birth}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def one_then_two_at_a_time(monkeypatch, module, constant: str, run) -> dict:
    """{n: run()} with `module.constant` (how many jobs run side by side) set to 1, then 2."""
    out = {}
    for n in (1, 2):
        monkeypatch.setattr(module, constant, n)
        out[n] = run()
    return out


def make_code(n: int) -> str:
    """A valid unified social credit code."""
    body = f"93330122{n:09d}"
    return body + uscc.calc_check_digit(body)


SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture(scope="session")
def readme_scan(tmp_path_factory):
    """(the finished process, its folder): the README's first command as a user runs it, the
    installed `fundwatch` script in a fresh folder (workspace ./fundwatch.duckdb, outputs in
    out/) on a 100-column terminal. One scan of the sample for the whole test run (every
    worker gets a copy of its folder) for every test that reads what it printed and wrote
    (tests/test_sample_data.py, test_new_user.py, test_mask_by_column.py); none of them may
    change the folder."""

    def run_the_readme_command(shared: Path) -> None:
        script = Path(sys.executable).parent / "fundwatch"
        exe = str(script) if script.exists() else shutil.which("fundwatch")
        args = [exe, "scan", "--year", "2023", "--data", str(SAMPLE), "--out", "out/"]
        (shared / "folder").mkdir()
        proc = subprocess.run(args, cwd=shared / "folder", capture_output=True, text=True,
                              env={**os.environ, "COLUMNS": "100"}, timeout=600)
        (shared / "process.json").write_text(json.dumps(
            {"args": args, "returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}))

    shared = built_once(tmp_path_factory, "readme_scan", run_the_readme_command)
    proc = subprocess.CompletedProcess(**json.loads((shared / "process.json").read_text()))
    return proc, private_copy(tmp_path_factory, "readme_scan", shared / "folder")


@pytest.fixture(scope="session")
def sample_loaded():
    """(workspace, load report): the sample loaded once into an in-memory workspace, for the
    tests that only read its tables or add scans of their own. A test that needs a fresh scan
    says rescan=True (an unchanged scan gives back the stored run); one that changes the
    tables or the store's reviews needs a workspace of its own."""
    w = Workspace()
    report = w.load(SAMPLE)
    yield w, report
    w.close()


@pytest.fixture
def ws():
    w = Workspace()
    yield w
    w.close()


# --- Spark: one local session for the whole run (one per pytest-xdist worker) -------------
# One shuffle partition, no UI, a small driver; adaptive execution and whole-stage code
# generation off, because on test-sized data their planning costs more than they save.
SPARK_TEST_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.driver.memory": "1g",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
}


def pytest_configure(config):
    # pyspark 4 warns on every pandas conversion that pandas 3 is not yet "fully supported";
    # what fundwatch uses of it is tested here.
    config.addinivalue_line("filterwarnings", "ignore:PySpark does not yet fully support pandas:FutureWarning")


@pytest.fixture(scope="session")
def spark():
    """The shared local SparkSession. pyspark and Java are required: Spark tests never skip."""
    from fundwatch.engine.spark_engine import spark_session

    session = spark_session("local[2]", app_name="fundwatch-tests", conf=SPARK_TEST_CONF)
    session.sparkContext.setLogLevel("OFF")  # failures reach the tests as exceptions; the log only repeats them
    yield session
    session.stop()


@pytest.fixture
def spark_engine(spark):
    """A SparkEngine with its own temporary views (a new session on the shared SparkContext)."""
    from fundwatch.engine.spark_engine import SparkEngine

    return SparkEngine(spark.newSession())


ENGINE_NAMES = [pytest.param("duckdb", id="duckdb"), pytest.param("spark", id="spark", marks=pytest.mark.spark)]


@pytest.fixture(params=ENGINE_NAMES)
def engine(request):
    """Each engine in turn (as Splink's tests/decorator.py does): the same test runs on both."""
    if request.param == "duckdb":
        import duckdb

        from fundwatch.engine import DuckDBEngine

        con = duckdb.connect(":memory:")
        yield DuckDBEngine(con)
        con.close()
    else:
        yield request.getfixturevalue("spark_engine")
