"""A failing rule fails the nightly job: `fundwatch scan` exits 5 and names the rule on
stderr when a rule raises while it runs or a rule file is broken; --allow-rule-errors
keeps the old exit 0."""

import shutil
from pathlib import Path

import pytest

from fundwatch.cli import RULES_FAILED, main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "rules" / "dibao" / "public_staff.yaml"
# Loads (it parses and reads declared tables and columns), fails when DuckDB runs it,
# whatever the rows: the text cannot be cast to an integer.
FAILS_AT_RUN_TIME = ("WHERE year(p.period) = :year", "WHERE year(p.period) = :year + CAST('next' AS INTEGER)")


@pytest.fixture
def data_dir(tmp_path):
    """The three tables dibao.public_staff reads, from the sample county (payments cut to
    the first months of 2022, the year scanned)."""
    d = tmp_path / "data"
    d.mkdir()
    for name in ("dibao_members", "civil_servants"):
        shutil.copy(ROOT / "sample_data" / f"{name}.csv", d)
    lines = (ROOT / "sample_data" / "dibao_payments.csv").read_text(encoding="utf-8").splitlines()[:3000]
    (d / "dibao_payments.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return d


def _rules(tmp_path, variant: tuple[str, str] | None = None, broken: bool = False) -> Path:
    d = tmp_path / "rules" / "dibao"
    d.mkdir(parents=True)
    shutil.copy(EXAMPLE, d / "public_staff.yaml")
    text = EXAMPLE.read_text(encoding="utf-8").replace("id: dibao.public_staff", "id: dibao.staff_variant")
    if variant:
        assert variant[0] in text
        (d / "staff_variant.yaml").write_text(text.replace(*variant, 1), encoding="utf-8")
    if broken:
        text = text.replace("id: dibao.staff_variant", "id: dibao.broken").replace("level: critical", "level: severe")
        (d / "broken.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "rules"


def _scan(tmp_path, data_dir, rules, *extra) -> int:
    return main(["--workspace", str(tmp_path / "ws.duckdb"), "scan", "--year", "2022", "--data", str(data_dir),
                 "--rules", str(rules), "--out", str(tmp_path / "out"), "--no-outliers", *extra])


def test_a_rule_that_fails_at_run_time_exits_5_and_is_named(tmp_path, data_dir, capsys):
    rules = _rules(tmp_path, FAILS_AT_RUN_TIME)
    assert _scan(tmp_path, data_dir, rules) == RULES_FAILED == 5
    err = capsys.readouterr().err
    failed = [line for line in err.splitlines() if "rule(s) failed" in line]
    assert len(failed) == 1 and "dibao.staff_variant" in failed[0] and "dibao.public_staff" not in failed[0]
    assert (tmp_path / "out" / "cases.csv").exists()  # the scan finished: the other rule's cases are written


def test_allow_rule_errors_keeps_exit_0(tmp_path, data_dir, capsys):
    rules = _rules(tmp_path, FAILS_AT_RUN_TIME)
    assert _scan(tmp_path, data_dir, rules, "--allow-rule-errors") == 0
    assert "rule(s) failed" not in capsys.readouterr().err


def test_a_broken_rule_file_counts_as_a_failed_rule(tmp_path, data_dir, capsys):
    rules = _rules(tmp_path, broken=True)
    assert _scan(tmp_path, data_dir, rules) == 5
    failed = [line for line in capsys.readouterr().err.splitlines() if "rule(s) failed" in line]
    assert len(failed) == 1 and "broken.yaml" in failed[0] and "level" in failed[0]


def test_rules_that_all_run_exit_0(tmp_path, data_dir):
    assert _scan(tmp_path, data_dir, _rules(tmp_path)) == 0
