"""What a new user reads after a scan: the terminal, the files' small print, the help (issue 22
items 7, 8 and 9). One scan of the sample, run as a user runs it (the `fundwatch` command)."""

import json
import os
import re
import subprocess
import sys
from html import escape
from pathlib import Path

import click
import pandas as pd
import pytest

from fundwatch.cli import cli, main
from fundwatch.report.tables import share_text
from fundwatch.report.terminal import case_lines, display_width, wrap
from fundwatch.workspace import Workspace

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
FUNDWATCH = [sys.executable, "-c", "import sys; from fundwatch.cli import main; sys.exit(main())"]


@pytest.fixture(scope="module")
def scan(readme_scan):
    """The README's scan of the sample (tests/conftest.py), on a 100-column terminal."""
    run, folder = readme_scan
    assert run.returncode == 0, run.stderr
    return run, folder / "out"


# ---------------------------------------------------------------- item 7: the terminal


def test_the_top_cases_fit_a_100_column_terminal(scan):
    run, out = scan
    table = run.stdout[run.stdout.index("top 15:"):run.stdout.index("\nwrote ")]
    lines = table.splitlines()[1:]
    assert len(lines) > 15 and max(display_width(line) for line in lines) <= 100
    cases = pd.read_csv(out / "cases.csv", dtype=str)
    longest = max(cases["summary"].head(15), key=len)
    assert len(longest) > 200  # a summary the terminal cannot show whole ...
    assert "…" in table and longest in cases["summary"].tolist()  # ... is cut there, whole in the file


def test_wrap_and_cut_count_chinese_as_two_columns():
    text = "合作社" * 30
    lines = wrap(text, 40)
    assert len(lines) == 2 and all(display_width(line) <= 40 for line in lines) and lines[-1].endswith("…")
    assert wrap("short text", 40) == ["short text"]


def test_case_lines_cut_the_widest_column_to_fit():
    frame = pd.DataFrame({"rank": [1], "rule_ids": ["x." * 60], "summary": ["s " * 100]})
    lines = case_lines(frame, width=60)
    assert all(display_width(line) <= 60 for line in lines) and lines[1].endswith("…")


# ---------------------------------------------------------------- item 8: the files' small print


def test_csv_money_has_two_decimals_and_scores_three(scan):
    _, out = scan
    for name in ("cases.csv", "rule_hits.csv"):
        raw = pd.read_csv(out / name, dtype=str)
        assert raw["amount_at_risk"].str.fullmatch(r"\d+\.\d{2}").all(), name
    raw = pd.read_csv(out / "cases.csv", dtype=str)
    scores = raw["outlier_score"].dropna()
    assert len(scores) and scores.str.fullmatch(r"[01](\.\d{1,3})?").all()


def test_statistical_cases_have_a_level_of_their_own(scan):
    _, out = scan
    cases = pd.read_csv(out / "cases.csv", dtype=str, keep_default_na=False)
    statistical = cases[cases["rule_ids"] == ""]
    assert len(statistical) and (statistical["level"] == "statistical").all()
    assert (cases["level"] != "").all()
    assert set(cases.loc[cases["rule_ids"] != "", "level"]) <= {"low", "medium", "high", "critical"}
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "statistical only" in page


def test_each_html_case_says_its_summary_once(scan):
    _, out = scan
    page = (out / "report.html").read_text(encoding="utf-8")
    cases = pd.read_csv(out / "cases.csv", dtype=str)
    for summary in cases["summary"].head(50):
        first = escape(summary.split(" (+")[0].split(" Also statistically")[0], quote=True)
        assert page.count(first) == 1, first


@pytest.mark.parametrize(("share", "text"), [(2 / 530, "0.4%"), (2 / 5000, "<0.1%"), (0.18, "18%"),
                                             (0.0, "0%"), (None, ""), (0.05, "5.0%")])
def test_share_text(share, text):
    assert share_text(share) == text


def test_page_shares_of_a_few_hits_are_not_zero(scan):
    _, out = scan
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    small = [o for o in run["rules"].values() if o.get("hits") and o.get("share") and o["share"] < 0.005]
    assert small  # the sample has rules with 2 hits among hundreds of entities
    page = (out / "report.html").read_text(encoding="utf-8")
    for o in small:
        assert f'<td class="num">{escape(share_text(o["share"]))}</td>' in page


# ---------------------------------------------------------------- item 9: what the scan says


def test_the_scan_prints_what_every_rule_did(scan):
    run, out = scan
    rules = json.loads((out / "run.json").read_text(encoding="utf-8"))["rules"]
    said = " ".join(run.stderr.split())
    for rule_id, o in rules.items():
        name = rule_id.partition(".")[2]
        word = f"{o['hits']:,}" if o["status"] == "found" else None
        assert re.search(rf"\b{re.escape(name)} {re.escape(word or '')}", said), rule_id


def test_an_unchanged_reload_says_what_it_read(tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    for f in ("cooperatives.csv", "deaths.csv"):
        (small / f).write_text("".join((SAMPLE / f).read_text(encoding="utf-8").splitlines(True)[:20]))
    with Workspace(tmp_path / "w.duckdb") as ws:
        first = ws.load(small).format().splitlines()[0]
        again = ws.load(small).format().splitlines()[0]
    assert "38 rows loaded, 0 quarantined" in first
    assert "38 rows in the workspace (2 of 2 tables unchanged since their last load and not read again; " \
           "0 rows read now)" in again and "rows loaded" not in again


# ---------------------------------------------------------------- item 9: the help


def _help(args) -> str:
    run = subprocess.run([*FUNDWATCH, *args, "--help"], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "80"})
    assert run.returncode == 0, run.stderr
    return run.stdout


def _commands(group=cli, path=()):
    for name, cmd in group.commands.items():
        yield (*path, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*path, name))


def test_no_command_description_is_cut_off():
    for args in [(), ("rules",)]:
        text = _help(list(args))
        commands = text[text.index("Commands:"):]
        assert "..." not in commands, commands


@pytest.mark.parametrize("path", [p for p, _ in _commands()], ids=" ".join)
def test_every_option_says_what_it_does(path):
    cmd = dict(_commands())[path]
    bare = [p.opts[0] for p in cmd.params if isinstance(p, click.Option) and not p.help]
    assert bare == []
    _help(list(path))  # and the help renders


def test_every_global_option_says_what_it_does():
    assert [p.opts[0] for p in cli.params if isinstance(p, click.Option) and not p.help and
            p.opts[0] != "--version"] == []


def test_scan_out_help_names_every_file_it_writes(scan):
    _, out = scan
    text = " ".join(_help(["scan"]).split())
    for name in sorted(p.name for p in out.iterdir()):
        assert name in text, name


def test_the_missing_folder_messages_are_worded_the_same(tmp_path, capsys):
    missing = str(tmp_path / "nowhere")
    ws = str(tmp_path / "w.duckdb")
    assert main(["--workspace", ws, "load", missing]) == 2
    load = capsys.readouterr().err
    assert main(["--workspace", ws, "scan", "--year", "2023", "--data", missing]) == 2
    scan_ = capsys.readouterr().err
    expected = f"folder {missing!r} does not exist"
    assert expected in load and expected in scan_
