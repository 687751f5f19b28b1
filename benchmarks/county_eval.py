"""Issue 18's evaluation: fundwatch on two synthetic counties, with defaults and after `calibrate`.

    python benchmarks/county_eval.py [--scale 1] [--seed 1] [--years 2023] [--calibrated] [--json FILE]

County B (tests/county_b, its own conventions, loaded with its mapping.toml) is generated into a
work folder; the sample world is sample_data/ (scale 1, seed 7) or, at another scale,
`fundwatch sample --out DIR --scale S --seed 7`. Each county and year is scanned into a fresh
workspace with `fundwatch scan`, and fundwatch/cases/evaluate.py computes the figures from the
run tables. With --calibrated, `fundwatch calibrate --data DIR --year Y --write fundwatch.toml`
proposes the county's settings and the scan is repeated with `--config`; if this fundwatch has
no `calibrate` command that half is reported missing and skipped.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fundwatch.cases.evaluate import evaluate, read_truth  # noqa: E402
from tests.county_b import generate as generate_county_b  # noqa: E402

SHOWN = ["county", "setting", "year", "cases", "findings", "recall", "precision_at_k", "findings_top_k",
         "lookalikes", "lookalikes_named", "lookalikes_flagged", "cases_per_anomaly", "outliers_top5",
         "outliers_named", "seconds"]


def fundwatch_command() -> list[str]:
    exe = Path(sys.executable).with_name("fundwatch")
    return [str(exe)] if exe.exists() else [shutil.which("fundwatch") or "fundwatch"]


def run(args: list[str], log: Path) -> int:
    with log.open("a", encoding="utf-8") as out:
        out.write("$ fundwatch " + " ".join(args) + "\n")
        out.flush()
        return subprocess.run(fundwatch_command() + args, stdout=out, stderr=subprocess.STDOUT).returncode


def calibrate_help() -> str | None:
    """`fundwatch calibrate --help`, or None where this fundwatch has no such command."""
    done = subprocess.run(fundwatch_command() + ["calibrate", "--help"], capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def counties(work: Path, scale: float, seed: int, log: Path) -> dict[str, tuple[Path, Path | None]]:
    """name -> (data folder, mapping file or None)."""
    b = generate_county_b(work / "county_b", scale=scale, seed=seed)
    if scale == 1 and (ROOT / "sample_data" / "ground_truth.csv").exists():
        sample = ROOT / "sample_data"
    else:
        sample = work / "sample"
        if run(["sample", "--out", str(sample), "--scale", str(scale), "--seed", "7", "--no-messy"], log):
            raise SystemExit(f"fundwatch sample failed: see {log}")
    return {"county_b": (b, b / "mapping.toml"), "sample": (sample, None)}


def scan_and_evaluate(name: str, setting: str, data: Path, mapping: Path | None, year: int, work: Path,
                      log: Path, config: Path | None = None) -> dict:
    import time

    ws = work / f"{name}-{setting}-{year}.duckdb"
    args = ["--workspace", str(ws), "scan", "--year", str(year), "--data", str(data),
            "--out", str(work / f"{name}-{setting}-{year}")]
    if mapping is not None:
        args += ["--mapping", str(mapping)]
    if config is not None:
        args += ["--config", str(config)]
    start = time.perf_counter()
    if run(args, log):
        raise SystemExit(f"fundwatch scan failed for {name} {year}: see {log}")
    seconds = round(time.perf_counter() - start, 1)
    con = duckdb.connect(str(ws), read_only=True)
    try:
        result = evaluate(con, read_truth(data / "ground_truth.csv"), year=year)
    finally:
        con.close()
    row = result.overall.iloc[0].to_dict()
    return {"county": name, "setting": setting, **row, "seconds": seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1, help="county B's seed (the sample world is always seed 7)")
    parser.add_argument("--years", type=int, nargs="+", default=[2023])
    parser.add_argument("--calibrated", action="store_true", help="also scan with the settings `calibrate` proposes")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--work", type=Path, help="keep the generated data and workspaces here")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="county_eval-"))
    work.mkdir(parents=True, exist_ok=True)
    log = work / "fundwatch.log"
    rows, notes = [], []
    help_text = calibrate_help() if args.calibrated else None
    calibrate = help_text is not None
    if args.calibrated and not calibrate:
        notes.append("`fundwatch calibrate` is missing in this fundwatch: the calibrated half is skipped")
    for name, (data, mapping) in counties(work, args.scale, args.seed, log).items():
        for year in args.years:
            rows.append(scan_and_evaluate(name, "defaults", data, mapping, year, work, log))
            if calibrate:
                toml = work / f"{name}-{year}-fundwatch.toml"
                cal = ["calibrate", "--data", str(data), "--year", str(year), "--write", str(toml)]
                if mapping is not None and "--mapping" in help_text:
                    cal += ["--mapping", str(mapping)]
                province = data / "province.toml"  # what the province's law says, set by the analyst
                if province.exists():
                    cal += ["--config", str(province)]
                if run(cal, log):
                    notes.append(f"calibrate failed for {name} {year}: see {log}")
                    continue
                rows.append(scan_and_evaluate(name, "calibrated", data, mapping, year, work, log, config=toml))
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table[[c for c in SHOWN if c in table.columns]].to_string(index=False))
    for note in notes:
        print(note)
    print(f"data, workspaces and the fundwatch log: {work}")
    if args.json:
        args.json.write_text(json.dumps({"figures": rows, "notes": notes}, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
