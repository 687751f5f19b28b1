"""A year no date can hold is a clear exit-2 error before anything runs (issue 22 item 1)."""

from pathlib import Path

import pytest

from fundwatch.cli import main
from fundwatch.errors import FundwatchError
from fundwatch.workspace import Workspace
from fundwatch.years import check_year

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
BAD_YEARS = [0, -5, 10000]


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> Path:
    """The first rows of every sample table: enough for rules to run (and, before the check, to crash)."""
    folder = tmp_path_factory.mktemp("small")
    for f in sorted(SAMPLE.glob("*.csv")):
        lines = f.read_text(encoding="utf-8").splitlines(keepends=True)[:30]
        (folder / f.name).write_text("".join(lines), encoding="utf-8")
    return folder


@pytest.mark.parametrize("year", BAD_YEARS)
def test_check_year_refuses(year):
    with pytest.raises(FundwatchError, match=rf"year {year} is out of range: expected a year from 1 to 9999"):
        check_year(year)


@pytest.mark.parametrize("year", [True, 2023.0, "2023", None])
def test_check_year_wants_a_whole_number(year):
    with pytest.raises(FundwatchError, match="expected a whole number"):
        check_year(year)


def test_check_year_keeps_good_years():
    assert [check_year(y) for y in (1, 2023, 9999)] == [1, 2023, 9999]


@pytest.mark.parametrize("year", [0, 10000])
def test_cli_scan_refuses_before_anything_runs(year, small_data, tmp_path, capsys):
    ws, out = tmp_path / "w.duckdb", tmp_path / "out"
    code = main(["--workspace", str(ws), "scan", "--year", str(year), "--data", str(small_data), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"year {year} is out of range" in err and "internal error" not in err and "Traceback" not in err
    assert not out.exists() and not ws.exists()  # nothing loaded, nothing written


@pytest.mark.parametrize("command", [["runs"], ["cases"], ["evaluate", "--truth", "TRUTH"]])
def test_cli_year_options_refuse(command, tmp_path, capsys):
    truth = tmp_path / "truth.csv"
    truth.write_text("kind,entity_id,year\n", encoding="utf-8")
    args = [str(truth) if a == "TRUTH" else a for a in command]
    code = main(["--workspace", str(tmp_path / "w.duckdb"), *args, "--year", "-5"])
    err = capsys.readouterr().err
    assert code == 2 and "year -5 is out of range" in err


def test_workspace_scan_refuses_before_loading(small_data, tmp_path):
    with Workspace(tmp_path / "w.duckdb") as ws:
        with pytest.raises(FundwatchError, match="year 0 is out of range"):
            ws.scan(0, data=small_data)
        loads = ws.con.execute("SELECT count(*) FROM fw_loads").fetchone()[0]
        rows = ws.con.execute("SELECT count(*) FROM dibao_households").fetchone()[0]
    assert (loads, rows) == (0, 0)  # refused before the load
