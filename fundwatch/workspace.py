"""The workspace: one DuckDB file holding the contract's tables, load history, quarantine,
runs and reviews. `Workspace` is also the entry point of the Python API.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
import weakref
from pathlib import Path

import duckdb

from fundwatch.contract.tables import TABLES
from fundwatch.engine.duckdb_engine import DuckDBEngine
from fundwatch.errors import WorkspaceBusy
from fundwatch.load.ids import install_reference_tables
from fundwatch.load.loader import load_directory
from fundwatch.load.parts import FILE_COLUMN
from fundwatch.store import RunStore

DEFAULT_PATH = "fundwatch.duckdb"
SCHEMA_VERSION = "1"
CASE_KEY_ENV = "FUNDWATCH_CASE_KEY"

META_DDL = [
    "CREATE TABLE IF NOT EXISTS fw_meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS fw_loads (
        load_id VARCHAR, source VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP,
        tables_changed INTEGER, rows_loaded BIGINT, rows_quarantined BIGINT)""",
    """CREATE TABLE IF NOT EXISTS fw_load_files (
        load_id VARCHAR, table_name VARCHAR, file VARCHAR, content_hash VARCHAR, encoding VARCHAR,
        rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, blank_rows BIGINT,
        repeated_headers BIGINT, unknown_headers VARCHAR, loaded_at TIMESTAMP)""",
    # what each file of a load did (added, changed, removed, replaced) and the years it touched
    # (fundwatch/load/changes.py); added to a workspace made before them
    "ALTER TABLE fw_load_files ADD COLUMN IF NOT EXISTS change VARCHAR",
    "ALTER TABLE fw_load_files ADD COLUMN IF NOT EXISTS touched_years VARCHAR",
    # the part files each contract table holds now; a row's part is its _fw_file (fundwatch/load/parts.py)
    """CREATE TABLE IF NOT EXISTS fw_parts (
        table_name VARCHAR, file VARCHAR, file_id INTEGER, content_hash VARCHAR, typing VARCHAR, path VARCHAR,
        rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, blank_rows BIGINT, repeated_headers BIGINT,
        unknown_headers VARCHAR, load_id VARCHAR, encoding VARCHAR, PRIMARY KEY (table_name, file))""",
    # what each run's result depends on besides the data, for reusing it (fundwatch/load/changes.py)
    "CREATE TABLE IF NOT EXISTS fw_run_keys (run_id VARCHAR PRIMARY KEY, scan_key VARCHAR)",
    # when the run began reading its tables, to the microsecond and on the loads' clock: a load
    # after it is what the run did not see (started_at in fw_runs is to the second)
    "ALTER TABLE fw_run_keys ADD COLUMN IF NOT EXISTS read_at TIMESTAMP",
    """CREATE TABLE IF NOT EXISTS fw_table_versions (
        table_name VARCHAR PRIMARY KEY, content_hash VARCHAR, load_id VARCHAR, source VARCHAR,
        rows_loaded BIGINT, rows_quarantined BIGINT, loaded_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS fw_quarantine (
        load_id VARCHAR, table_name VARCHAR, file VARCHAR, line BIGINT, column_name VARCHAR,
        raw_value VARCHAR, reason VARCHAR, problems VARCHAR, raw_row VARCHAR)""",
    # runs, their cases, hits and reviews: declared in fundwatch/contract/outputs.py (RunStore)
]


def resolve_path(path: str | os.PathLike | None) -> str:
    """The workspace path: the argument, else $FUNDWATCH_WORKSPACE, else ./fundwatch.duckdb."""
    if path is None:
        path = os.environ.get("FUNDWATCH_WORKSPACE") or DEFAULT_PATH
    return str(path)


def private_umask() -> None:
    """Create files readable by their owner only from now on (umask 077 added to the process's).

    DuckDB creates the write-ahead log and its spill files whenever it needs them, with the
    process umask: a workspace holds personal data, so do they. The CLI sets this at start;
    the Python API when a Workspace is opened (files the process creates later are owner-only
    too: the safe side for a process that holds personal data).
    """
    current = os.umask(0o077)
    os.umask(current | 0o077)


def private_temp_folder(kind: str) -> Path:
    """A fresh owner-only folder in the system's temp folder, named with this process's id;
    the folders of `kind` left by killed processes (they hold personal data) are removed."""
    base = Path(tempfile.gettempdir())
    for old in base.glob(f"fundwatch-{kind}-*-*"):
        pid = old.name.split("-")[2]
        if pid.isdigit() and int(pid) != os.getpid() and old.is_dir() and old.stat().st_uid == os.getuid():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                shutil.rmtree(old, ignore_errors=True)
            except PermissionError:
                pass
    return Path(tempfile.mkdtemp(prefix=f"fundwatch-{kind}-{os.getpid()}-", dir=base))


def _spill_folder(path: str) -> tuple[Path, bool]:
    """(DuckDB's temp_directory, whether to remove it on close): `<workspace>.tmp` next to
    the file, or a fresh private folder for an in-memory workspace (never ./.tmp)."""
    if path == ":memory:":
        return private_temp_folder("spill"), True
    folder = Path(path + ".tmp").absolute()  # DuckDB creates it when it first spills (umask 077: 0700)
    if folder.is_dir() and folder.stat().st_uid == os.getuid():
        os.chmod(folder, 0o700)  # one left by an earlier version, created with an open umask
    return folder, False


def _connect(path: str, wait_seconds: float, memory_limit: str | None,
             temp_directory: Path | None = None) -> duckdb.DuckDBPyConnection:
    config = {"memory_limit": memory_limit} if memory_limit else {}
    if temp_directory is not None:
        config["temp_directory"] = str(temp_directory)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(path, config=config)
        except duckdb.IOException as e:
            # DuckDB refuses a second writer with a lock error: wait for the other run.
            if "lock" not in str(e).lower():
                raise
            if time.monotonic() >= deadline:
                raise WorkspaceBusy(
                    f"workspace {path} is in use by another fundwatch process; "
                    f"waited {wait_seconds:.0f}s (raise --wait to wait longer)"
                ) from e
            time.sleep(0.5)


class Workspace:
    """A fundwatch workspace.

    >>> ws = Workspace()                      # in memory
    >>> ws = Workspace("audit.duckdb")        # a file, created on first use

    It holds personal data: the file, DuckDB's write-ahead log and its spill files (in
    `audit.duckdb.tmp/`, or a private temporary folder for an in-memory workspace) are
    created readable by their owner only, and so is every file the process creates after
    (the umask gains 077).
    """

    def __init__(
        self,
        path: str | os.PathLike | None = ":memory:",
        *,
        wait_seconds: float = 0,
        memory_limit: str | None = None,
    ):
        self.path = resolve_path(path)
        private_umask()  # the file, its WAL and spill files hold person IDs: owner only
        new_file = self.path != ":memory:" and not Path(self.path).exists()
        if new_file:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._spill, self._remove_spill = _spill_folder(self.path)
        if self._remove_spill:  # also when the workspace is never closed (a notebook, a test)
            weakref.finalize(self, shutil.rmtree, self._spill, ignore_errors=True)
        try:
            self.con = _connect(self.path, wait_seconds, memory_limit, self._spill)
        except BaseException:
            self._drop_spill()
            raise
        if new_file:
            # Person IDs live here: readable by the owner only.
            os.chmod(self.path, 0o600)
        self.engine = DuckDBEngine(self.con)
        self._ensure_schema()

    def _ensure_schema(self) -> None:
        con = self.con
        for ddl in META_DDL:
            con.execute(ddl)
        for spec in TABLES.values():
            con.execute(spec.ddl())
            con.execute(f"ALTER TABLE {spec.name} ADD COLUMN IF NOT EXISTS {FILE_COLUMN} INTEGER")
        RunStore(con).ensure_schema()
        install_reference_tables(con)
        con.execute(
            "INSERT INTO fw_meta VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [SCHEMA_VERSION],
        )
        # The secret behind case ids (cases/build.py): made once, kept with the workspace.
        con.execute("INSERT INTO fw_meta VALUES ('case_key', ?) ON CONFLICT (key) DO NOTHING", [secrets.token_hex(32)])

    @property
    def case_key(self) -> bytes:
        """The key of this workspace's case ids. FUNDWATCH_CASE_KEY, when set, is used instead,
        so that workspaces (a cluster's and an office's, say) give a case the same id."""
        shared = os.environ.get(CASE_KEY_ENV)
        if shared:
            return shared.encode()
        return self.con.execute("SELECT value FROM fw_meta WHERE key = 'case_key'").fetchall()[0][0].encode()

    # --- tables -----------------------------------------------------------------------
    def loaded_tables(self) -> list[str]:
        """Contract tables that hold data from some load."""
        return [
            r[0] for r in self.con.execute("SELECT table_name FROM fw_table_versions ORDER BY 1").fetchall()
        ]

    def sql(self, query: str, params=None):
        """Query the workspace directly; returns a DuckDB relation (call `.df()` for pandas)."""
        return self.con.sql(query, params=params) if params is not None else self.con.sql(query)

    def load(self, data_dir, *, mapping=None, force: bool = False, progress=None):
        """Load every contract table found in `data_dir`; returns a LoadReport.

        >>> report = ws.load("sample_data")
        >>> report.tables["dibao_payments"].rows_loaded
        """
        return load_directory(self.con, self.engine, data_dir, temp_folder=private_temp_folder, mapping=mapping,
                              force=force, progress=progress)

    def scan(self, year: int, *, data=None, mapping=None, config=None, rules=None, rule_ids=None, outliers=True,
             progress=None, on_load=None, rescan: bool = False):
        """Run the rules for `year`; returns a ScanResult with `.cases` and `.hits` DataFrames.

        >>> result = ws.scan(year=2023)
        >>> result.cases.head()

        `data` loads that folder first and scans exactly its tables; `config` is a Config or a
        fundwatch.toml path (default ./fundwatch.toml if present); `rules` a RuleSet or a rules folder;
        `outliers=False` skips the statistical detector; `on_load(report)` is called with the
        LoadReport of `data` as soon as it is loaded, before the scan. The latest stored run of
        `year` is given back instead of scanning again when no load since touched the year and
        the scan would run as it did (fundwatch/load/changes.py); `rescan=True` scans anyway.
        """
        from fundwatch.scan import scan_workspace
        from fundwatch.years import check_year

        check_year(year)  # before the load: a year no date can hold is refused before anything runs
        report = self.load(data, mapping=mapping, progress=progress) if data is not None else None
        if report is not None and on_load is not None:
            on_load(report)
        result = scan_workspace(self, year, present=set(report.tables) if report else None, config=config,
                                rules=rules, rule_ids=rule_ids, outliers=outliers, progress=progress, rescan=rescan)
        result.load_report = report
        return result

    @property
    def rules(self):
        """The rule book: list, test, try a rule written in the notebook, save it (shown as
        HTML in Jupyter once fundwatch.notebook is imported).

        >>> ws.rules.list();  ws.rules.test(["dibao.vehicle"]);  ws.rules.try_rule(text, 2023)
        """
        from fundwatch.rules.book import RuleBook

        return RuleBook(self)

    def explain(self, case_id: str, *, unmask: bool = False):
        """A case from the latest run recorded here, with all its evidence.

        >>> ws.explain("C2023-1a2b3c4d5e6f")
        """
        from fundwatch.notebook.explain import explain_case

        return explain_case(self, None, case_id, unmask=unmask)

    def close(self) -> None:
        self.con.close()
        self._drop_spill()

    def _drop_spill(self) -> None:
        if self._remove_spill:
            shutil.rmtree(self._spill, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({self.path!r}, tables={len(self.loaded_tables())})"
