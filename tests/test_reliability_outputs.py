"""Issue 9, outputs: spreadsheet injection and personal data in every CSV and XLSX written.

Text that a spreadsheet would run (=, +, -, @, tab, CR first) is neutralised in cases.csv,
rule_hits.csv and cases.xlsx, while numbers, negative ones included, stay numbers. IDs and
accounts are masked unless unmask, and run.json says which.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundwatch.report.files import neutralise
from fundwatch.report.mask import mask_frame, mask_text
from fundwatch.report.outputs import write_outputs
from fundwatch.report.xlsx import write_xlsx
from tests.hostile import FORMULAS, INJECTIONS
from tests.test_report_files import ACCOUNT, PEOPLE, make_result

EXAMPLES = int(os.environ.get("FUNDWATCH_HYPOTHESIS_EXAMPLES", "100")) // 4
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("FUNDWATCH_HYPOTHESIS_RANDOM"),
                database=None, suppress_health_check=[HealthCheck.too_slow])
RISKY = ("=", "+", "-", "@", "\t", "\r")
NUMERIC_CSV = {"rank", "year", "risk_score", "outlier_score", "amount_at_risk", "signals"}
hostile = st.one_of(st.sampled_from(FORMULAS + INJECTIONS + [" =1+1", "  @x", "-", "="]),
                    st.text(alphabet="=+-@\t\r 1aA(\"',;", min_size=1, max_size=8))


def dangerous(text: str) -> bool:
    """A cell a spreadsheet would read as a formula (leading spaces do not protect it)."""
    return text.lstrip(" ").startswith(RISKY)


def read_csv_cells(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def poisoned_result(draw_text, amounts):
    result = make_result()
    cases, hits = result.cases, result.hits
    for frame in (cases, hits):
        for col in ("summary", "summary_zh", "summary_en", "rule_ids", "programs", "review_status"):
            if col in frame.columns:
                frame[col] = [draw_text() for _ in range(len(frame))]
    hits["evidence"] = [json.dumps({"note": draw_text()}) for _ in range(len(hits))]
    hits.loc[0, "entity_id"] = draw_text()
    cases.loc[len(cases) - 1, "entity_id"] = draw_text()
    cases["amount_at_risk"] = amounts[: len(cases)]
    hits["amount_at_risk"] = (amounts * 3)[: len(hits)]
    return result


@FUZZ
@given(data=st.data(), amounts=st.lists(st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: round(x, 2)),
                                         min_size=6, max_size=6))
def test_csv_and_xlsx_cells_never_start_a_formula_and_numbers_stay_numbers(data, amounts):
    result = poisoned_result(lambda: data.draw(hostile), amounts)
    out = Path(tempfile.mkdtemp(prefix="fw-out-"))
    try:
        write_outputs(result, out, reports=False)
        write_xlsx(result, out / "cases.xlsx")
        for name in ("cases.csv", "rule_hits.csv"):
            header, rows = read_csv_cells(out / name)
            for row in rows:
                for col, cell in zip(header, row, strict=True):
                    if col in NUMERIC_CSV:
                        if cell:
                            float(cell)  # a number, not "'-20.5"
                    else:
                        assert not dangerous(cell), (name, col, cell)
            amount = [float(r[header.index("amount_at_risk")]) for r in rows]
            assert sorted(amount) == sorted(pd.to_numeric((result.cases if name == "cases.csv" else result.hits)
                                                          ["amount_at_risk"]).round(2))
        wb = openpyxl.load_workbook(out / "cases.xlsx")
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                    if isinstance(c.value, str):
                        assert not dangerous(c.value), (ws.title, c.coordinate, c.value)
        negative = [c.value for ws in wb.worksheets[1:] for row in ws.iter_rows(min_row=2) for c in row
                    if isinstance(c.value, int | float) and c.value < 0]
        assert len(negative) >= sum(1 for a in amounts[: len(result.cases)] if a < 0)
    finally:
        shutil.rmtree(out)


def test_neutralise_leaves_numbers_in_text_columns_alone():
    frame = pd.DataFrame({"mixed": [-20.5, "-2+3", None, 7, "=1"], "n": [-1.0, 2.0, -3.0, 4.0, 5.0]})
    out = neutralise(frame)
    assert out["mixed"].tolist()[:2] == [-20.5, "'-2+3"] and out["mixed"][4] == "'=1"
    assert out["mixed"][3] == 7 and out["n"].tolist() == frame["n"].tolist()


def test_mask_frame_leaves_numbers_in_text_columns_alone():
    frame = pd.DataFrame({"mixed": [-20.5, PEOPLE[0], None, 6222021234567890123]})
    out = mask_frame(frame)
    assert out["mixed"][0] == -20.5 and out["mixed"][3] == 6222021234567890123
    assert out["mixed"][1] == PEOPLE[0][:6] + "********" + PEOPLE[0][-4:]


def test_every_export_is_masked_unless_unmasked_and_run_json_says_so(tmp_path):
    result = make_result()
    write_outputs(result, tmp_path / "masked")
    write_outputs(result, tmp_path / "open", unmask=True)

    def texts(folder):
        wb = openpyxl.load_workbook(folder / "cases.xlsx")
        cells = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row)
        files = " ".join((folder / n).read_text(encoding="utf-8-sig") for n in ("cases.csv", "rule_hits.csv",
                                                                                "report.html"))
        return cells + files

    masked, full = texts(tmp_path / "masked"), texts(tmp_path / "open")
    assert not [p for p in PEOPLE if p in masked] and ACCOUNT not in masked
    assert all(p in full for p in PEOPLE[:1]) and ACCOUNT in full
    assert json.loads((tmp_path / "masked" / "run.json").read_text())["outputs"]["ids_unmasked"] is False
    assert json.loads((tmp_path / "open" / "run.json").read_text())["outputs"]["ids_unmasked"] is True
    for folder in ("masked", "open"):
        for p in (tmp_path / folder).iterdir():
            assert p.stat().st_mode & 0o777 == 0o600, p


def test_mask_text_masks_ids_that_fail_their_checks_too():
    # Quarantined IDs (bad date, bad check digit, lower-case x) are still someone's ID.
    for raw in ("11010519801301001X", "11010519800101001x", "110105198001010017", "110105800101123"):
        masked = mask_text(f"id={raw};")
        assert raw not in masked and raw.upper() not in masked, masked


@pytest.mark.parametrize("writer", ["xlsx", "html"])
def test_rule_errors_in_workbook_and_page_are_masked_when_called_directly(tmp_path, writer):
    from fundwatch.report.html import write_html

    result = make_result()
    result.run["rules"]["cooperative.shell"]["message"] = f"ConversionException: Could not convert '{PEOPLE[0]}'"
    if writer == "xlsx":
        wb = openpyxl.load_workbook(write_xlsx(result, tmp_path / "cases.xlsx"))
        text = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row)
    else:
        text = write_html(result, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Could not convert" in text and PEOPLE[0] not in text


def test_rule_errors_in_the_scan_outputs_are_masked(tmp_path):
    result = make_result()
    result.run["rules"]["cooperative.shell"]["message"] = f"ConversionException: Could not convert '{PEOPLE[0]}'"
    write_outputs(result, tmp_path / "out")
    wb = openpyxl.load_workbook(tmp_path / "out" / "cases.xlsx")
    text = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row)
    for name in ("report.html", "run.json"):
        text += (tmp_path / "out" / name).read_text(encoding="utf-8")
    assert text.count("Could not convert") >= 3 and PEOPLE[0] not in text


def test_the_same_run_written_the_same_way_again_is_left_in_place(tmp_path):
    """A quiet night gives the stored run back: its files are already there, not written again;
    asked for another language or unmasked, or with a file gone, they are."""
    result = make_result()
    out = tmp_path / "out"
    paths = write_outputs(result, out)
    before = {k: p.stat().st_mtime_ns for k, p in paths.items()}
    assert write_outputs(result, out) == paths
    assert {k: p.stat().st_mtime_ns for k, p in paths.items()} == before
    write_outputs(result, out, lang="zh")
    assert json.loads(paths["run"].read_text(encoding="utf-8"))["outputs"]["lang"] == "zh"
    assert paths["cases"].stat().st_mtime_ns != before["cases"]
    paths["xlsx"].unlink()
    write_outputs(result, out, lang="zh")
    assert paths["xlsx"].exists()
    # unmasking is never skipped into (nor out of): the file would say otherwise
    write_outputs(result, out, lang="zh", unmask=True)
    assert json.loads(paths["run"].read_text(encoding="utf-8"))["outputs"]["ids_unmasked"] is True
