"""Issue 9, large input: a CSV larger than the memory limit given to fundwatch loads, DuckDB
spilling to disk (in the workspace's own owner-only folder), and the rows still balance.

FUNDWATCH_LARGE_MB sets the file size (default 200 MB against a 100 MB limit; the load needs about
100 MB whatever the file size: the typing query holds that much).
"""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from fundwatch.workspace import Workspace
from tests.conftest import make_id

SIZE_MB = int(os.environ.get("FUNDWATCH_LARGE_MB", "200"))
MEMORY_LIMIT = os.environ.get("FUNDWATCH_LARGE_LIMIT", "100MB")
HEADER = "payment_id,program_code,program_name,person_id,name,region_code,period,amount,pay_date,bank_account\n"


def write_large_csv(path: Path, size_mb: int) -> dict:
    """A subsidy_payments CSV of about `size_mb` MB; the counts of what was written."""
    ids = [make_id(n, birth=f"19{60 + n % 30}0{1 + n % 9}1{n % 9}") for n in range(1000)]
    counts = {"rows": 0, "bad": 0, "blank": 0, "headers": 0}
    target = size_mb << 20
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(HEADER)
        written, i = len(HEADER), 0
        while written < target:
            lines = []
            for _ in range(50_000):
                i += 1
                if i % 100_003 == 0:
                    lines.append("\n")
                    counts["blank"] += 1
                    continue
                if i % 250_007 == 0:
                    lines.append(HEADER)
                    counts["headers"] += 1
                    counts["rows"] += 1
                    continue
                pid = ids[i % 1000] if i % 10_007 else "1.10105E+17"  # Excel-mangled: quarantined
                counts["bad"] += i % 10_007 == 0
                lines.append(f"P{i},FARM{i % 7},耕地地力保护补贴,{pid},张三{i % 100},110105001{i % 1000:03d},"
                             f"2023-{1 + i % 12:02d},\"{1000 + i % 900:,}.50\",2023-{1 + i % 12:02d}-15,6222{i:015d}\n")
                counts["rows"] += 1
            text = "".join(lines)
            f.write(text)
            written += len(text.encode("utf-8"))
    return counts


def watch_folder(folder: Path, stop: threading.Event, seen: dict) -> None:
    """Record the most bytes found in `folder` and the modes of its files, until `stop`."""
    while not stop.is_set():
        total = 0
        for p in folder.rglob("*"):
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            total += st.st_size if p.is_file() else 0
            seen.setdefault("modes", {})[p.name] = stat.S_IMODE(st.st_mode)
        seen["peak"] = max(seen.get("peak", 0), total)
        time.sleep(0.02)


@pytest.mark.slow
def test_csv_larger_than_the_memory_limit_loads_spilling_and_balances(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    counts = write_large_csv(data / "subsidy_payments.csv", SIZE_MB)
    size = (data / "subsidy_payments.csv").stat().st_size
    ws = Workspace(tmp_path / "ws.duckdb", memory_limit=MEMORY_LIMIT)
    try:
        limit = ws.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        spill = Path(ws.con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
        assert spill == Path(str(tmp_path / "ws.duckdb") + ".tmp")
        seen: dict = {}
        stop = threading.Event()
        watcher = threading.Thread(target=watch_folder, args=(spill, stop, seen))
        watcher.start()
        try:
            report = ws.load(data)
        finally:
            stop.set()
            watcher.join()
        t = report.tables["subsidy_payments"]
        assert t.rows_read == t.rows_loaded + t.rows_quarantined + t.repeated_headers
        assert (t.rows_read, t.rows_quarantined, t.repeated_headers, t.blank) == (
            counts["rows"], counts["bad"], counts["headers"], counts["blank"])
        assert ws.con.execute("SELECT count(*) FROM subsidy_payments").fetchone()[0] == t.rows_loaded
        assert ws.con.execute("SELECT count(*) FROM fw_quarantine").fetchone()[0] == counts["bad"]
        print(f"\n{size / 2**20:.0f} MB CSV, {t.rows_read:,} rows, memory limit {limit}, "
              f"peak spill {seen.get('peak', 0) / 2**20:.0f} MB")
        assert size > 2 * _bytes(limit)
        assert seen.get("peak", 0) > 0, "DuckDB never spilled"
        assert not [n for n, m in seen.get("modes", {}).items() if m & 0o077], seen["modes"]
    finally:
        ws.close()


def _bytes(setting: str) -> float:
    number, unit = setting.split()
    return float(number) * {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "KB": 1e3, "MB": 1e6, "GB": 1e9}[unit]
