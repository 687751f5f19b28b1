"""The README's figures of the bundled sample, computed rather than typed.

    python benchmarks/readme_figures.py            # print the blocks
    python benchmarks/readme_figures.py --write    # rewrite them in README.md
    python benchmarks/readme_figures.py --check    # exit 1 when README.md disagrees

Each block sits between markers, <!-- generated:NAME ... --> and <!-- /generated:NAME -->:

    evaluate     what `fundwatch evaluate` prints for the sample's 2023, scanned with the
                 rules alone and with the outlier detector
    config-show  what `fundwatch config show` prints for the README's province and county files

tests/test_readme_claims.py recomputes it and fails when the README says otherwise; run
this after a change to the rules, the detector or sample_data/ (their figures move).
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SAMPLE = ROOT / "sample_data"
YEAR = 2023
COMMAND = "python benchmarks/readme_figures.py --write"

# (evaluate's figure, what it means), in the order the block shows them.
FIGURES = [
    ("cases", "cases"),
    ("recall", "recall: rule-detectable planted findings named by a case"),
    ("precision_at_k", "precision_at_k: top K cases naming a planted anomaly"),
    ("findings_top_k", "findings_top_k: planted findings the top K cases name"),
    ("outliers_named", "outliers_named: outlier-only planted findings named"),
    ("lookalikes_flagged", "lookalikes_flagged: look-alikes hit by the rule they imitate"),
    ("lookalikes_named", "lookalikes_named: look-alikes named by a case"),
    ("coverage_recall", "coverage_recall: planted missed beneficiaries in coverage.csv"),
    ("coverage_lookalikes_listed", "coverage_lookalikes_listed: their look-alikes in coverage.csv"),
]


def evaluate_sample(ws) -> dict[str, dict]:
    """{"rules": figures, "detector": figures}: `fundwatch evaluate`'s overall row for YEAR of
    the sample, scanned with the rules alone and with the outlier detector, on `ws` (a
    Workspace with sample_data/ loaded)."""
    from fundwatch.cases.evaluate import evaluate, read_truth

    truth = read_truth(SAMPLE / "ground_truth.csv")
    out = {}
    for name, outliers in (("rules", False), ("detector", True)):
        run = ws.scan(YEAR, outliers=outliers, rescan=True)
        out[name] = evaluate(ws.con, truth, year=YEAR, run_id=run.run_id).overall.iloc[0].to_dict()
    return out


def _value(v) -> str:
    v = v.item() if hasattr(v, "item") else v  # numpy scalars as Python numbers
    return f"{v:,}" if isinstance(v, int) else repr(round(v, 3)) if isinstance(v, float) else str(v)


def evaluate_block(figures: dict[str, dict]) -> str:
    """The README block (without its markers) for `figures` from evaluate_sample."""
    rules, detector = figures["rules"], figures["detector"]
    intro = (
        f"On the bundled sample's {YEAR}, what `fundwatch evaluate --truth sample_data/ground_truth.csv "
        f"--year {YEAR}` prints after a scan with the rules alone (`--no-outliers`) and with the detector "
        f"({int(rules['findings'])} planted findings, {int(rules['outliers'])} of them outlier-only; "
        f"K = {int(rules['k'])}):"
    )
    lines = [
        *textwrap.wrap(intro, 95, break_on_hyphens=False),
        "",
        f"| {YEAR} | rules alone | rules and detector |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {label} | {_value(rules[key])} | {_value(detector[key])} |" for key, label in FIGURES]
    return "\n".join(lines)


# The README's example of layered files (its "Layers" section): a province default, a county's
# value for one year.
CONFIG_FILES = {
    "province.toml": '[params."dibao.over_standard"]\nurban_standard = 790\n',
    "fundwatch.toml": 'extends = ["province.toml"]\n\n[year.2024.params."dibao.over_standard"]\nurban_standard = 800\n',
}
CONFIG_ARGS = ["config", "show", "--year", "2024", "--rule", "dibao.over_standard"]


def config_show_block(folder: Path) -> str:
    """The README block: CONFIG_FILES written to `folder`, `fundwatch CONFIG_ARGS` run there."""
    import contextlib
    import io
    import os

    from fundwatch.cli import main as fundwatch

    for name, text in CONFIG_FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    out, here = io.StringIO(), Path.cwd()
    os.chdir(folder)  # the output names the files as given, relative to here
    try:
        with contextlib.redirect_stdout(out):
            code = fundwatch(CONFIG_ARGS)
    finally:
        os.chdir(here)
    if code != 0:
        raise RuntimeError(f"fundwatch {' '.join(CONFIG_ARGS)} exited {code}")
    files = [f"$ cat {name}\n{text}" for name, text in CONFIG_FILES.items()]
    return "```\n" + "\n".join(files) + f"\n$ fundwatch {' '.join(CONFIG_ARGS)}\n{out.getvalue().rstrip()}\n```"


def computed_blocks(ws, folder: Path) -> dict[str, str]:
    """Every block's text: `ws` a Workspace with sample_data/ loaded, `folder` an empty folder."""
    return {"evaluate": evaluate_block(evaluate_sample(ws)), "config-show": config_show_block(folder)}


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- generated:{name}[^>]*-->\n)(.*?)(<!-- /generated:{name} -->)", re.S)


def block_in(text: str, name: str = "evaluate") -> str:
    """What the README holds between the markers of block `name`."""
    found = _pattern(name).search(text)
    if not found:
        raise ValueError(f"README.md has no <!-- generated:{name} --> block")
    return found.group(2).removesuffix("\n")


def with_block(text: str, body: str, name: str = "evaluate") -> str:
    """`text` with block `name` replaced by `body`."""
    block_in(text, name)  # it must be there: a rewrite never adds one elsewhere
    return _pattern(name).sub(lambda m: m.group(1) + body + "\n" + m.group(3), text, count=1)


def main(argv=None) -> int:
    import tempfile

    from fundwatch.workspace import Workspace

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="rewrite the blocks in README.md")
    action.add_argument("--check", action="store_true", help="exit 1 when README.md disagrees")
    args = parser.parse_args(argv)
    with Workspace() as ws, tempfile.TemporaryDirectory() as folder:
        ws.load(SAMPLE)
        blocks = computed_blocks(ws, Path(folder))
    text = README.read_text(encoding="utf-8")
    if args.write:
        for name, body in blocks.items():
            text = with_block(text, body, name)
        README.write_text(text, encoding="utf-8")
        print(f"rewrote {', '.join(blocks)} in {README}")
        return 0
    stale = [name for name, body in blocks.items() if block_in(text, name) != body]
    if args.check:
        if stale:
            print(f"README.md's {', '.join(stale)} block(s) are stale: run {COMMAND}", file=sys.stderr)
        return 1 if stale else 0
    print("\n\n".join(blocks.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
