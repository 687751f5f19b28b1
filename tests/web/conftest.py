"""A scanned sample county (sample_data/, 2023) shared by the workbench tests, and its review DB."""

import shutil
from pathlib import Path

import pytest

from fundwatch.cli import main
from tests.shared import built_once

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def scan(workspace: Path, *extra) -> None:
    assert main(["--workspace", str(workspace), "scan", "--year", "2023", "--data", str(SAMPLE),
                 "--out", str(workspace.parent / "out"), "--no-outliers", *extra]) == 0


@pytest.fixture(scope="session")
def scanned_sample(tmp_path_factory) -> Path:
    """A workspace holding one published run of the sample county, scanned once for the test
    run (tests/shared.py); copy it before opening or writing to it."""
    return built_once(tmp_path_factory, "web_sample", lambda folder: scan(folder / "ws.duckdb")) / "ws.duckdb"


@pytest.fixture
def workspace(scanned_sample, tmp_path, monkeypatch) -> Path:
    """A private copy of the scanned workspace; its review database is beside it (ws.review.sqlite3)."""
    monkeypatch.delenv("FUNDWATCH_REVIEW_DB", raising=False)
    ws = tmp_path / "ws.duckdb"
    shutil.copy(scanned_sample, ws)
    return ws


@pytest.fixture
def rescan():
    """Run tonight's scan of the sample county into a workspace (--rescan: with the same data
    the stored run would be given back, and the test wants a new run published)."""
    return lambda workspace, *extra: scan(workspace, "--rescan", *extra)
