"""Compare benchmark runs of two commits: what got faster or slower beyond the machine's noise.

    python benchmarks/run.py --scale 100 --json base/1.json      # three or more times, on the base
    python benchmarks/run.py --scale 100 --json head/1.json      # as many times, on the change
    python benchmarks/compare.py --before base/*.json --after head/*.json

One run on a virtual machine moves by 10-20% from the next, so each side should hold several
runs. For every figure the comparison prints each side's range (fastest-slowest) and the change
of the medians, and calls a change only when the ranges do not overlap: the change's slowest run
faster than the base's fastest (or the reverse). CPU seconds, which move less than wall time,
are judged the same way. Runs of another scale, year, memory limit or number of cores are not
compared (the error names the file). On the same inputs the findings must not change either:
a speed-up that finds other entities is reported as such.

Exit status: 0; 1 with --fail-if-worse when a figure got worse; 2 when the runs cannot be compared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

STAGES = ("floor", "load", "rules", "outliers", "cases", "exports", "pandas")
# (label, path in the JSON, True when larger is better)
TOTALS = (
    ("end to end s", ("end_to_end_seconds",), False),
    ("end to end CPU s", ("end_to_end_cpu_seconds",), False),
    ("end to end / floor", ("end_to_end_over_floor",), False),
    ("scan s", ("scan_seconds",), False),
    ("peak MB, load to exports", ("pipeline_peak_mb",), False),
    ("three rules s", ("three_rules", "fundwatch_seconds"), False),
    ("pandas / fundwatch", ("three_rules", "pandas_over_fundwatch"), True),
)
SAME_SETUP = ("scale", "year", "memory_limit", ("machine", "cpus"))
FINDINGS = (("cases",), ("rule_hits",), ("three_rules", "fundwatch_hits"))


class NotComparable(Exception):
    pass


def _get(run: dict, path):
    path = (path,) if isinstance(path, str) else path
    value = run
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def read_runs(paths: list[Path]) -> list[dict]:
    runs = []
    for p in paths:
        try:
            runs.append({**json.loads(Path(p).read_text(encoding="utf-8")), "_file": str(p)})
        except (OSError, json.JSONDecodeError) as e:
            raise NotComparable(f"{p}: not a benchmark result ({e})") from None
    return runs


def check_setup(runs: list[dict]) -> None:
    """Raise NotComparable naming the first run whose setup differs from the first run's."""
    first = runs[0]
    for run in runs[1:]:
        for key in SAME_SETUP:
            if _get(run, key) != _get(first, key):
                name = key if isinstance(key, str) else ".".join(key)
                raise NotComparable(
                    f"{run['_file']}: {name} is {_get(run, key)!r}, but {_get(first, key)!r} in {first['_file']}; "
                    "only runs of the same setup can be compared"
                )


def verdict(before: list[float], after: list[float], larger_is_better: bool) -> str:
    """'better', 'worse' or 'same' (the ranges overlap: within the noise of the runs)."""
    if max(after) < min(before):
        return "worse" if larger_is_better else "better"
    if min(after) > max(before):
        return "better" if larger_is_better else "worse"
    return "same"


def _range(values: list[float]) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:,.2f}" if lo == hi else f"{lo:,.2f}-{hi:,.2f}"


def compare(before: list[dict], after: list[dict]) -> tuple[list[tuple], list[str]]:
    """(rows of (figure, before range, after range, change of the medians, verdict), notes)."""
    check_setup(before + after)
    figures = []
    for stage in STAGES:
        for field, unit in (("seconds", "s"), ("cpu_seconds", "CPU s"), ("peak_mb", "peak MB")):
            figures.append((f"{stage} {unit}", ("stages", stage, field), False))
    figures += list(TOTALS)
    rows = []
    for label, path, larger_is_better in figures:
        b = [v for v in (_get(r, path) for r in before) if v is not None]
        a = [v for v in (_get(r, path) for r in after) if v is not None]
        if not b or not a:
            continue
        change = statistics.median(a) / statistics.median(b) - 1 if statistics.median(b) else 0.0
        rows.append((label, _range(b), _range(a), f"{change:+.0%}", verdict(b, a, larger_is_better)))
    notes = []
    if len(before) < 3 or len(after) < 3:
        notes.append("fewer than three runs on a side: a verdict of one run against one is weak")
    if {r.get("input_rows") for r in before} != {r.get("input_rows") for r in after}:
        notes.append("the inputs differ (another number of input rows): findings not compared")
        return rows, notes
    for path in FINDINGS:
        found = {json.dumps(_get(r, path), sort_keys=True) for r in before + after}
        if len(found) > 1:
            notes.append(f"findings differ on the same inputs: {'.'.join(path)} is {' / '.join(sorted(found))}")
    return rows, notes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", nargs="+", type=Path, required=True, help="JSON results of the base")
    parser.add_argument("--after", nargs="+", type=Path, required=True, help="JSON results of the change")
    parser.add_argument("--fail-if-worse", action="store_true", help="exit 1 when a figure got worse")
    args = parser.parse_args(argv)
    try:
        rows, notes = compare(read_runs(args.before), read_runs(args.after))
    except NotComparable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'before':>19}  {'after':>19}  {'median':>7}  verdict")
    for label, b, a, change, v in rows:
        print(f"{label:<{width}}  {b:>19}  {a:>19}  {change:>7}  {v}")
    for note in notes:
        print(f"note: {note}")
    return 1 if args.fail_if_worse and any(r[4] == "worse" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
