"""An incremental load equals a full reload of the same folder, row for row and quarantine
row for quarantine row, over random sequences of added, changed and removed part files."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundwatch.contract.tables import TABLES
from fundwatch.load.changes import ALL, touched_years
from fundwatch.workspace import Workspace

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
PAY_LINES = (SAMPLE / "subsidy_payments.csv").read_text(encoding="utf-8").splitlines()
DEATH_LINES = (SAMPLE / "deaths.csv").read_text(encoding="utf-8").splitlines()


def _spoil(line: str, how: int) -> str:
    """A sample row made unusable in one of a few ways the loader quarantines."""
    cells = line.split(",")
    if how == 1:
        cells[7] = "12,3x元"  # bad amount (and a field too many: a shape error)
    elif how == 2:
        cells[3] = cells[3][:-1] + ("0" if cells[3][-1] != "0" else "1")  # bad check digit
    elif how == 3:
        cells[6] = "2023-13"  # bad period
    return ",".join(cells)


rows = st.lists(st.tuples(st.integers(1, len(PAY_LINES) - 1), st.integers(0, 6)), min_size=0, max_size=12)
op = st.one_of(
    st.tuples(st.just("write"), st.integers(0, 4), rows),  # add or change part k
    st.tuples(st.just("remove"), st.integers(0, 4), st.just([])),
    st.tuples(st.just("deaths"), st.integers(0, 3), rows),  # replace, or (0) remove, the single-file registry
)


def _write(folder: Path, kind: str, k: int, picked) -> None:
    if kind == "write":
        part = folder / "subsidy_payments" / f"2023-{k:02d}.csv"
        part.parent.mkdir(exist_ok=True)
        body = [_spoil(PAY_LINES[i], how) for i, how in picked]
        part.write_text("\n".join([PAY_LINES[0], *body]) + "\n", encoding="utf-8")
    elif kind == "remove":
        (folder / "subsidy_payments" / f"2023-{k:02d}.csv").unlink(missing_ok=True)
    else:
        target = folder / "deaths.csv"
        if k == 0:
            target.unlink(missing_ok=True)
        else:
            body = [DEATH_LINES[1 + (i * k) % (len(DEATH_LINES) - 1)] for i, _ in picked]
            target.write_text("\n".join([DEATH_LINES[0], *body]) + "\n", encoding="utf-8")


def _state(ws: Workspace) -> dict:
    out = {}
    for name in ("subsidy_payments", "deaths"):
        cols = ", ".join(TABLES[name].column_names)
        out[name] = sorted(ws.con.execute(f"SELECT {cols} FROM {name}").fetchall(), key=repr)
    out["quarantine"] = sorted(ws.con.execute(
        "SELECT table_name, file, line, column_name, raw_value, reason, problems, raw_row FROM fw_quarantine"
    ).fetchall(), key=repr)
    out["versions"] = sorted(ws.con.execute(
        "SELECT table_name, content_hash, rows_loaded, rows_quarantined FROM fw_table_versions").fetchall())
    return out


def _report(report) -> dict:
    return {n: (t.rows_read, t.rows_loaded, t.rows_quarantined, t.blank, t.repeated_headers)
            for n, t in report.tables.items()}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(op, min_size=1, max_size=6))
def test_incremental_load_equals_a_full_reload(tmp_path_factory, steps):
    folder = tmp_path_factory.mktemp("data")
    _write(folder, "write", 0, [(1, 0), (2, 1)])
    with Workspace() as inc:
        inc.load(folder)
        for kind, k, picked in steps:
            _write(folder, kind, k, picked)
            if not any(folder.iterdir()):
                continue
            report = inc.load(folder)
            with Workspace() as full:
                full_report = full.load(folder)
                present = set(full_report.tables)
                state, expected = _state(inc), _state(full)
                # A table gone from the folder is left as it is (load semantics): compare the others.
                for name in ("subsidy_payments", "deaths"):
                    if name not in present:
                        state.pop(name)
                        expected.pop(name)
                state["quarantine"] = [q for q in state["quarantine"] if q[0] in present]
                state["versions"] = [v for v in state["versions"] if v[0] in present]
                assert state == expected
                assert {n: v for n, v in _report(report).items() if n in present} == _report(full_report)
    shutil.rmtree(folder)


def test_unchanged_parts_are_not_read_again_and_removed_ones_leave(tmp_path):
    _write(tmp_path, "write", 0, [(1, 0), (2, 0), (3, 1)])
    _write(tmp_path, "write", 1, [(4, 0), (5, 0)])
    with Workspace() as ws:
        ws.load(tmp_path)
        _write(tmp_path, "write", 2, [(6, 0)])
        report = ws.load(tmp_path)
        assert report.tables["subsidy_payments"].files_read == 1
        assert ws.con.execute("SELECT count(*) FROM subsidy_payments").fetchall()[0][0] == 5
        (tmp_path / "subsidy_payments" / "2023-00.csv").unlink()
        report = ws.load(tmp_path)
        assert report.tables["subsidy_payments"].files_read == 0
        assert report.tables["subsidy_payments"].rows_loaded == 3
        assert ws.con.execute("SELECT count(*) FROM fw_quarantine").fetchall()[0][0] == 0
        assert ws.load(tmp_path).tables["subsidy_payments"].status == "unchanged"


def test_touched_years_follow_the_rows_that_changed(tmp_path):
    # PAY_LINES[1:] hold 2022 payments first; a part of later rows covers later years.
    header = PAY_LINES[0].split(",")
    dates = [header.index(c) for c in ("period", "apply_date", "approve_date", "pay_date")]
    # lines whose every date is of 2024 (a row touches the year of each of its dates)
    late = [i for i, line in enumerate(PAY_LINES[1:], start=1)
            if all(line.split(",")[c] in ("",) or line.split(",")[c].startswith("2024-") for c in dates)][:3]
    assert len(late) == 3
    _write(tmp_path, "write", 0, [(1, 0)])
    with Workspace() as ws:
        ws.load(tmp_path)
        since = ws.con.execute("SELECT max(loaded_at) FROM fw_load_files").fetchall()[0][0]
        assert touched_years(ws.con, since) == set()
        _write(tmp_path, "write", 1, [(i, 0) for i in late])
        ws.load(tmp_path)
        years = touched_years(ws.con, since)
        assert years and 2024 in years and 2022 not in years
        (tmp_path / "deaths.csv").write_text("\n".join(DEATH_LINES[:3]) + "\n", encoding="utf-8")
        ws.load(tmp_path)
        assert touched_years(ws.con, since) == ALL  # a registry can matter to any year


def test_a_table_a_rule_reads_beyond_its_year_touches_every_year(tmp_path):
    """subsidy.late_disbursement judges a batch against the programme's batches of every year
    (history: [subsidy_payments]): a 2024 part changes what 2023's list says."""
    from fundwatch.rules import load_rules

    assert "subsidy_payments" in load_rules().rules["subsidy.late_disbursement"].history
    header = PAY_LINES[0].split(",")
    dates = [header.index(c) for c in ("period", "apply_date", "approve_date", "pay_date")]
    # lines whose every date is of 2024 (a row touches the year of each of its dates)
    late = [i for i, line in enumerate(PAY_LINES[1:], start=1)
            if all(line.split(",")[c] in ("",) or line.split(",")[c].startswith("2024-") for c in dates)][:3]
    assert len(late) == 3
    _write(tmp_path, "write", 0, [(1, 0)])
    with Workspace() as ws:
        ws.load(tmp_path)
        since = ws.con.execute("SELECT max(loaded_at) FROM fw_load_files").fetchall()[0][0]
        _write(tmp_path, "write", 1, [(i, 0) for i in late])
        ws.load(tmp_path)
        assert 2023 not in touched_years(ws.con, since)
        assert touched_years(ws.con, since, frozenset({"subsidy_payments"})) == ALL
        assert 2023 not in touched_years(ws.con, since, frozenset({"dibao_payments"}))


def test_a_scan_reuses_the_stored_run_until_a_load_touches_its_year(tmp_path):
    """Nightly: nothing changed → the stored run comes back whole; a change in 2023 or
    --rescan → a new run."""
    folder = tmp_path / "data"
    shutil.copytree(SAMPLE, folder)
    with Workspace(tmp_path / "ws.duckdb") as ws:
        first = ws.scan(2023, data=folder, outliers=False)
        again = ws.scan(2023, data=folder, outliers=False)
        assert again.run_id == first.run_id and again.run.get("reused") is True
        for mine, stored in ((first.cases, again.cases), (first.members, again.members)):
            cols = ["case_id", "entity_id"] if "case_id" in mine and "entity_id" in mine else list(mine.columns)[:3]
            assert sorted(map(tuple, mine[cols].astype(str).values)) == sorted(map(tuple, stored[cols].astype(str).values))
        assert ws.scan(2023, outliers=False, rescan=True).run_id != first.run_id
        lines = (folder / "subsidy_payments.csv").read_text(encoding="utf-8").splitlines()
        (folder / "subsidy_payments.csv").write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
        changed = ws.scan(2023, data=folder, outliers=False)
        assert changed.run_id != first.run_id and not changed.run.get("reused")
        touched = touched_years(ws.con, first.run["started_at"])
        assert touched == ALL or 2023 in touched
