"""Issue 19's figures: a full run and a night, against DuckDB's own typed load of the same files.

    python benchmarks/nightly.py --scale 100 --memory-limit 2GB --json bench_results/nightly-s100.json

The sample world is generated as CSV (or reused from --workdir), then:

  bare        DuckDB's own typed load of every input CSV into a database file (read_csv with its
              type detection, CREATE TABLE; nothing checked, nothing quarantined): the best of
              three, each into a fresh file.
  full        fundwatch on the complete folder in a fresh workspace: load, scan of the last year
              (rules, outliers, cases), exports. The payment and ledger tables (those with a
              `period`) are laid out as one part file per month, as a county's exports grow.
  night       the same folder without its last month, loaded and scanned in another fresh
              workspace (untimed: yesterday); then the last month's part files are added and the
              night is timed: load (only the new parts are read), scan of the year they touch,
              exports. Its case list is compared with the full run's, case by case.
  quiet       the next night, nothing changed: load, scan (the stored run comes back), exports.

Printed: full / bare, load / bare, the night's load / the full load, the night / the full run,
the quiet night's seconds, whether the night's case list equals the full run's, and each
stage's rows per second and peak memory (VmHWM, reset between stages). Every input file is
read once before the timings, so that each side reads from the operating system's cache.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import fundwatch  # noqa: E402
from benchmarks.run import _peak_mb, _reset_peak, warm_cache  # noqa: E402
from fundwatch.config import Config  # noqa: E402
from fundwatch.contract import TABLES  # noqa: E402
from fundwatch.report.outputs import write_outputs  # noqa: E402
from fundwatch.workspace import Workspace  # noqa: E402
from fundwatch_sample import generate_world  # noqa: E402

# Not the rank: ties of equal score and money are ordered by case id, and case ids are keyed by
# each workspace's own key (another workspace, other ids).
COMPARED = ["entity_type", "entity_id", "rule_ids", "risk_score", "amount_at_risk"]


def inputs(data: Path) -> list[Path]:
    return sorted(p for p in data.glob("*.csv") if p.stem in TABLES)


def bare_load(data: Path, work: Path) -> tuple[float, int]:
    """(seconds, rows) of DuckDB's typed load of every input CSV into a fresh database file."""
    db = work / "bare.duckdb"
    db.unlink(missing_ok=True)
    start = time.perf_counter()
    con = duckdb.connect(str(db))
    rows = 0
    for path in inputs(data):
        con.execute(f"CREATE TABLE {path.stem} AS SELECT * FROM read_csv('{path}')")
        rows += con.execute(f"SELECT count(*) FROM {path.stem}").fetchone()[0]
    con.close()
    seconds = time.perf_counter() - start
    db.unlink(missing_ok=True)
    return seconds, rows


def monthly_parts(data: Path, out: Path) -> tuple[list[Path], int]:
    """`out` holds `data`'s inputs with every table that has a `period` as one part file per month
    (`out/<table>/<YYYY-MM>.csv`), the others linked. Returns the last month's part files (moved
    aside into out/../last) and how many rows they hold."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    held = out.parent / "last"
    if held.exists():
        shutil.rmtree(held)
    held.mkdir()
    con = duckdb.connect()
    last_parts, last_rows = [], 0
    for path in inputs(data):
        if "period" not in TABLES[path.stem].column_names:
            os.symlink(path, out / path.name)
            continue
        con.execute(f"CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv('{path}', all_varchar=true)")
        months = [m for (m,) in con.execute(
            "SELECT DISTINCT substr(period, 1, 7) FROM t WHERE period IS NOT NULL ORDER BY 1").fetchall()]
        folder = out / path.stem
        folder.mkdir()
        for m in months:
            part = (held if m == months[-1] else folder) / f"{path.stem}--{m}.csv"
            con.execute(f"COPY (SELECT * FROM t WHERE substr(period, 1, 7) = '{m}') TO '{part}' (HEADER)")
        if con.execute("SELECT count(*) FROM t WHERE period IS NULL").fetchone()[0]:
            raise SystemExit(f"{path}: rows without a period; cannot split it by month")
        last_parts.append(held / f"{path.stem}--{months[-1]}.csv")
        last_rows += con.execute(f"SELECT count(*) FROM t WHERE substr(period, 1, 7) = '{months[-1]}'").fetchone()[0]
    con.close()
    return last_parts, last_rows


class Timer:
    """Wall and CPU seconds and the peak resident memory of one stage."""

    def __init__(self):
        self.results: dict[str, dict] = {}

    def run(self, name: str, fn):
        _reset_peak()
        t, cpu = time.perf_counter(), time.process_time()
        value = fn()
        self.results[name] = {"seconds": time.perf_counter() - t, "cpu_seconds": time.process_time() - cpu,
                              "peak_mb": _peak_mb()}
        return value


def pipeline(timer: Timer, prefix: str, ws: Workspace, data: Path, year: int, out: Path):
    """Load, scan and exports, each timed as `<prefix>_load` etc.; returns the scan's result."""
    timer.run(f"{prefix}_load", lambda: ws.load(data))
    result = timer.run(f"{prefix}_scan", lambda: ws.scan(year, config=Config()))
    timer.run(f"{prefix}_exports", lambda: write_outputs(result, out))
    return result


def total(timer: Timer, prefix: str) -> float:
    return sum(timer.results[f"{prefix}_{s}"]["seconds"] for s in ("load", "scan", "exports"))


def same_cases(a, b) -> tuple[bool, str]:
    x = a.cases[COMPARED].astype(str).sort_values(COMPARED).reset_index(drop=True)
    y = b.cases[COMPARED].astype(str).sort_values(COMPARED).reset_index(drop=True)
    if x.equals(y):
        return True, f"{len(x)} cases, identical"
    return False, f"{len(x)} cases in the full run, {len(y)} in the night's; they differ"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory limit, e.g. 2GB")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the world and workspaces here")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="fundwatch-nightly-"))
    work.mkdir(parents=True, exist_ok=True)
    data, parts = work / "data", work / "parts"
    if not (data / "dibao_payments.csv").exists():
        generate_world(data, scale=args.scale, seed=args.seed, fmt="csv")
    last_parts, last_rows = monthly_parts(data, parts)
    year = int(last_parts[0].stem[-7:-3])
    warm_cache(data)

    timer = Timer()
    bare_runs = [bare_load(data, work) for _ in range(3)]
    bare, rows = min(s for s, _ in bare_runs), bare_runs[0][1]
    for p in work.glob("ws-*.duckdb*"):
        p.unlink()

    # The full run needs the complete folder: the last month's parts are put in place for it.
    for p in last_parts:
        shutil.copy2(p, parts / p.name.split("--")[0] / p.name)
    with Workspace(work / "ws-full.duckdb", memory_limit=args.memory_limit) as ws:
        full = pipeline(timer, "full", ws, parts, year, work / "out-full")
    for p in last_parts:
        (parts / p.name.split("--")[0] / p.name).unlink()

    with Workspace(work / "ws-night.duckdb", memory_limit=args.memory_limit) as ws:
        ws.load(parts)  # yesterday: the folder without its last month
        ws.scan(year, config=Config())
        for p in last_parts:
            shutil.copy2(p, parts / p.name.split("--")[0] / p.name)
        night = pipeline(timer, "night", ws, parts, year, work / "out-night")
        pipeline(timer, "quiet", ws, parts, year, work / "out-quiet")
    agree, said = same_cases(full, night)

    figures = {
        "full_over_bare": total(timer, "full") / bare,
        "load_over_bare": timer.results["full_load"]["seconds"] / bare,
        "night_load_over_full_load": timer.results["night_load"]["seconds"] / timer.results["full_load"]["seconds"],
        "night_over_full": total(timer, "night") / total(timer, "full"),
        "quiet_night_seconds": total(timer, "quiet"),
        "night_equals_full": agree,
    }
    report = {
        "fundwatch_version": fundwatch.__version__,
        "commit": os.popen(f"git -C {ROOT} rev-parse --short HEAD 2>/dev/null").read().strip(),
        "machine": {"cpus": os.cpu_count(),
                    "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
        "scale": args.scale, "year": year, "memory_limit": args.memory_limit, "input_rows": rows,
        "last_month_rows": last_rows, "bare_seconds": bare, "bare_runs": [s for s, _ in bare_runs],
        "stages": timer.results, "figures": figures, "cases": said,
    }
    m = report["machine"]
    print(f"scale {args.scale}: {rows:,} input rows, the last month {last_rows:,} of them; "
          f"{m['cpus']} cores, {m['memory_gb']} GB; memory limit {args.memory_limit or 'none'}")
    print(f"{'stage':<14} {'seconds':>8} {'CPU s':>7} {'rows/s':>11} {'peak MB':>8}")
    print(f"{'bare load':<14} {bare:>8.2f} {'':>7} {round(rows / bare):>11,} {'':>8}")
    for name, v in timer.results.items():
        print(f"{name:<14} {v['seconds']:>8.2f} {v['cpu_seconds']:>7.1f} {round(rows / v['seconds']):>11,} "
              f"{v['peak_mb']:>8.0f}")
    print(f"full run {total(timer, 'full'):.2f} s = {figures['full_over_bare']:.2f}x the bare typed load "
          f"(target <= 2.5x); load alone {figures['load_over_bare']:.2f}x (target <= 1.5x)")
    print(f"night: load {figures['night_load_over_full_load']:.3f}x the full load (target <= 0.1x); "
          f"night {total(timer, 'night'):.2f} s = {figures['night_over_full']:.2f}x the full run (target <= 0.5x); "
          f"case list: {said}")
    print(f"quiet night (nothing changed): {figures['quiet_night_seconds']:.2f} s (target < 2 s)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
