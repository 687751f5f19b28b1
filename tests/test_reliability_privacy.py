"""Issue 9, personal data: files readable by their owner only, logs without full IDs or
accounts, exports masked unless --unmask (and run.json saying which).

These tests create files from the Python API under a permissive umask, as a notebook
would, so they do not rely on the CLI setting one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from fundwatch.workspace import Workspace
from tests.conftest import make_id
from tests.test_history import write_world

ROOT = Path(__file__).resolve().parent.parent
PERSON = make_id(1)  # on the public payroll, in household H1 (test_history.write_world)
ACCOUNT = "6222021234567890123"
FULL_ID = re.compile(r"(?<![0-9A-Za-z.])\d{17}[0-9Xx](?![0-9A-Za-z.])")
FULL_ACCOUNT = re.compile(r"(?<![0-9A-Za-z*.])\d{13,19}(?![0-9A-Za-z.])")


@pytest.fixture
def open_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def private_tree(root: Path) -> list[str]:
    """Paths under `root` that group or others can read, write or enter."""
    bad = []
    for p in [root, *root.rglob("*")] if root.is_dir() else [root]:
        if mode(p) & 0o077:
            bad.append(f"{p} {oct(mode(p))}")
    return bad


# The memory limit of the spill tests. At 64 MB the sort in spill_while ran out of memory in CI
# runs, in memory and in a workspace file (the loaded tables' pages share the budget); it still
# sorts ~350 MB, so it must spill.
SPILL_LIMIT = "128MB"


def test_workspace_its_wal_and_spill_folder_are_owner_only_from_the_api(tmp_path, open_umask):
    path = tmp_path / "ws" / "audit.duckdb"
    data = tmp_path / "data"
    write_world(data)
    ws = Workspace(path, memory_limit=SPILL_LIMIT)
    try:
        ws.load(data)
        wal = Path(str(path) + ".wal")
        assert wal.exists()  # written, not yet checkpointed
        spill = Path(ws.con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
        assert spill.parent == path.parent  # next to the workspace, not in the current folder
        seen = spill_while(ws.con, spill)
        assert len(seen) > 1 and not [f"{p} {oct(m)}" for p, m in seen.items() if m & 0o077], seen
        assert mode(path) == 0o600 and mode(wal) == 0o600
    finally:
        ws.close()
    assert private_tree(path) == []


def test_in_memory_workspace_spills_to_a_private_folder_not_the_current_one(tmp_path, open_umask, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with Workspace(memory_limit=SPILL_LIMIT) as ws:
        spill = Path(ws.con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
        assert spill.is_absolute() and tmp_path not in spill.parents
        seen = spill_while(ws.con, spill)
        assert len(seen) > 1 and not [p for p, m in seen.items() if m & 0o077], seen
    assert not spill.exists()  # removed with the workspace
    assert not (tmp_path / ".tmp").exists()


def test_outputs_from_the_api_are_owner_only(tmp_path, open_umask):
    data = tmp_path / "data"
    write_world(data)
    from fundwatch.report.outputs import write_outputs

    with Workspace(tmp_path / "ws.duckdb") as ws:
        result = ws.scan(2023, data=data, outliers=False)
    paths = write_outputs(result, tmp_path / "out")
    for p in paths.values():
        assert mode(p) == 0o600, p


def spill_while(con, folder: Path) -> dict[str, int]:
    """Run a sort far larger than DuckDB's memory limit; the spill files seen meanwhile, with modes."""
    seen: dict[str, int] = {}
    done = threading.Event()

    def watch():
        while not done.is_set():
            with contextlib.suppress(FileNotFoundError):
                seen[str(folder)] = mode(folder)
            for p in folder.rglob("*"):
                with contextlib.suppress(FileNotFoundError):
                    seen[str(p)] = mode(p)
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        con.execute("SELECT count(*), max(s) FROM (SELECT i, md5(i::VARCHAR) || md5((i + 1)::VARCHAR) AS s "
                    "FROM range(4000000) t(i) ORDER BY s)").fetchall()
    finally:
        done.set()
        watcher.join()
    return seen


def run_cli(tmp_path, *args, env=None):
    return subprocess.run([sys.executable, "-m", "fundwatch.cli", "--workspace", str(tmp_path / "ws.duckdb"), *args],
                          cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300)


def leaks(text: str) -> list[str]:
    return FULL_ID.findall(text) + FULL_ACCOUNT.findall(text)


def broken_rules(root: Path) -> Path:
    """A rules folder whose one rule fails at run time with an ID in DuckDB's message."""
    rules = root / "rules" / "dibao"
    rules.mkdir(parents=True)
    text = (ROOT / "rules" / "dibao" / "public_staff.yaml").read_text(encoding="utf-8")
    text = text.replace("id: dibao.public_staff", "id: dibao.leaky")
    text = text.replace("WHERE year(p.period) = :year", "WHERE year(p.period) = :year AND CAST(m.person_id AS INTEGER) > 0")
    (rules / "leaky.yaml").write_text(text, encoding="utf-8")
    (rules / "public_staff.yaml").write_text(
        (ROOT / "rules" / "dibao" / "public_staff.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return root / "rules"


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_logs_never_hold_a_full_id_or_account(tmp_path, fmt):
    data = tmp_path / "data"
    write_world(data)
    payments = pd.read_csv(data / "dibao_payments.csv", dtype=str)
    payments["bank_account"] = ACCOUNT
    payments.to_csv(data / "dibao_payments.csv", index=False)
    rules = broken_rules(tmp_path)
    # An unknown header that is an ID, a file without its header row (the error lists the
    # "columns" it found: IDs), and a rule whose error quotes an ID.
    (data / "deaths.csv").write_text(f"person_id,death_date,{PERSON}\n{PERSON},2023-01-01,x\n", encoding="utf-8")
    done = run_cli(tmp_path, "--log-format", fmt, "scan", "--year", "2023", "--data", str(data), "--rules",
                   str(rules), "--out", str(tmp_path / "out"), "--allow-rule-errors")
    assert done.returncode == 0, done.stderr  # the failed rule is reported, the rest of the list written
    if fmt == "json":  # one JSON record per line, nothing else: also the failed rule, the unknown header
        _json_lines(done.stderr)
    assert "leaky" in done.stderr and PERSON[:6] + "********" in done.stderr
    assert leaks(done.stderr) == [] and leaks(done.stdout) == []
    for name in ("run.json", "cases.csv", "rule_hits.csv", "report.html"):
        text = (tmp_path / "out" / name).read_text(encoding="utf-8-sig")
        assert leaks(text) == [], f"{name} of a masked export holds a full ID"
    assert "leaky" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    from openpyxl import load_workbook

    cells = " ".join(str(c.value) for ws in load_workbook(tmp_path / "out" / "cases.xlsx").worksheets
                     for row in ws.iter_rows() for c in row)
    assert "Could not convert" in cells and leaks(cells) == []

    (data / "vehicles.csv").write_text(f"{PERSON},{ACCOUNT},2023-01-01\n", encoding="utf-8")  # no header row
    done = run_cli(tmp_path, "--log-format", fmt, "load", str(data))
    assert done.returncode == 2 and "vehicles.csv" in done.stderr
    assert leaks(done.stderr) == [] and leaks(done.stdout) == []
    if fmt == "json":  # the error that stops a load too
        _json_lines(done.stderr)


def _json_lines(stderr: str) -> None:
    for line in stderr.splitlines():
        json.loads(line)  # one JSON record per line, nothing else


@pytest.mark.slow
def test_unmasked_exports_say_so_and_masked_ones_hold_no_full_id(tmp_path):
    data = tmp_path / "data"
    write_world(data)
    payments = pd.read_csv(data / "dibao_payments.csv", dtype=str)
    payments["bank_account"] = ACCOUNT
    payments.to_csv(data / "dibao_payments.csv", index=False)
    done = run_cli(tmp_path, "scan", "--year", "2023", "--data", str(data), "--out", str(tmp_path / "masked"))
    assert done.returncode == 0, done.stderr
    done = run_cli(tmp_path, "scan", "--year", "2023", "--out", str(tmp_path / "open"), "--unmask")
    assert done.returncode == 0, done.stderr
    for name in ("cases.csv", "rule_hits.csv", "report.html", "run.json"):
        text = (tmp_path / "masked" / name).read_text(encoding="utf-8-sig")
        assert PERSON not in text and leaks(text) == [], name
    from openpyxl import load_workbook

    cells = " ".join(str(c.value) for ws in load_workbook(tmp_path / "masked" / "cases.xlsx").worksheets
                     for row in ws.iter_rows() for c in row)
    assert PERSON not in cells and leaks(cells) == []
    assert PERSON in (tmp_path / "open" / "rule_hits.csv").read_text(encoding="utf-8-sig")
    assert json.loads((tmp_path / "masked" / "run.json").read_text())["outputs"]["ids_unmasked"] is False
    assert json.loads((tmp_path / "open" / "run.json").read_text())["outputs"]["ids_unmasked"] is True
    # The case list printed on the terminal is masked even with --unmask (files only).
    assert PERSON not in done.stdout and leaks(done.stdout) == []
