"""Masking decides by what a value is (the column it came from), never by its shape (issue 22
item 3): an all-digit credit code is not a bank account and stays readable in every export,
while person IDs and accounts are masked wherever they are quoted."""

import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from stdnum.cn import uscc

from fundwatch.cli import main
from fundwatch.notebook.display import case_html, frame_html
from fundwatch.notebook.explain import explain_case
from fundwatch.report.mask import mask_frame, mask_text
from fundwatch.workspace import Workspace

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
CODE = "935226311965456506"  # a cooperative of the sample, caught by cooperative.shell
UNIFORM = "935226313080018191"  # another all-digit code, whose summary quotes a shared bank account
ACCOUNT = "6228484026135056423"  # that account (the rule's top_account): personal
FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{6}(?:19|20)\d{9}[0-9X](?![0-9A-Za-z])")


def test_the_codes_are_valid_all_digit_credit_codes():
    assert uscc.is_valid(CODE) and uscc.is_valid(UNIFORM) and CODE.isdigit() and UNIFORM.isdigit()


@pytest.fixture(scope="module")
def scanned(readme_scan):
    """The README's scan of the sample (tests/conftest.py): its workspace and outputs."""
    run, folder = readme_scan
    assert run.returncode == 0, run.stderr
    return folder / "fundwatch.duckdb", folder / "out"


def _person_ids() -> set[str]:
    ids = set()
    for table, col in (("dibao_members", "person_id"), ("coop_members", "person_id")):
        ids |= set(pd.read_csv(SAMPLE / f"{table}.csv", dtype=str)[col].dropna())
    return ids


def _assert_readable_and_masked(text: str, where: str, uniform_shown: bool = True):
    assert f"Cooperative {CODE} received" in text, f"{where}: the credit code is not shown as it is"
    assert (f"Cooperative {UNIFORM} paid" in text) == uniform_shown, where
    assert "*6506" not in text and "*8191" not in text, f"{where}: a credit code masked as an account"
    assert ACCOUNT not in text, f"{where}: an account shown in full"
    leaked = set(FULL_ID.findall(text)) & _person_ids()
    assert not leaked, f"{where}: person IDs in full: {sorted(leaked)[:3]}"


def test_csv_files(scanned):
    _, out = scanned
    cases = pd.read_csv(out / "cases.csv", dtype=str)
    row = cases[cases["entity_id"] == CODE]
    assert len(row) == 1 and CODE in row["summary"].iloc[0]
    _assert_readable_and_masked((out / "cases.csv").read_text(encoding="utf-8-sig"), "cases.csv")
    hits = pd.read_csv(out / "rule_hits.csv", dtype=str)
    hit = hits[hits["entity_id"] == CODE]
    assert len(hit) == 1 and CODE in hit["summary"].iloc[0]
    _assert_readable_and_masked((out / "rule_hits.csv").read_text(encoding="utf-8-sig"), "rule_hits.csv")
    evidence = [json.loads(e) for e in hits.loc[hits["entity_id"] == UNIFORM, "evidence"]]
    assert evidence and all(e["top_account"].endswith("6423") and "*" in e["top_account"] for e in evidence)


def test_both_xlsx_sheets(scanned):
    _, out = scanned
    book = openpyxl.load_workbook(out / "cases.xlsx", read_only=True)
    for name in ("cooperative", "Rule hits"):
        text = "\n".join(str(v) for row in book[name].iter_rows(values_only=True) for v in row if v is not None)
        _assert_readable_and_masked(text, f"cases.xlsx {name}")
        rows = list(book[name].iter_rows(values_only=True))
        entity = rows[0].index("Entity ID")
        assert CODE in [r[entity] for r in rows[1:]]


def test_html(scanned):
    _, out = scanned
    page = (out / "report.html").read_text(encoding="utf-8")
    # The page lists the first 50 cases: UNIFORM's summary is there only if its case is.
    cases = pd.read_csv(out / "cases.csv", dtype={"entity_id": str})
    rank = cases.loc[cases["entity_id"] == UNIFORM, "rank"].min()
    _assert_readable_and_masked(page, "report.html", uniform_shown=bool(rank <= 50))
    assert f"<code>{CODE}</code>" in page  # the entity cell


def test_cli_cases(scanned, capsys):
    ws_path, _ = scanned
    assert main(["--workspace", str(ws_path), "cases", "--program", "cooperative", "--top", "50"]) == 0
    shown = " ".join(capsys.readouterr().out.split())  # summaries wrap across lines
    _assert_readable_and_masked(shown, "fundwatch cases")


def test_notebook_displays(scanned):
    ws_path, _ = scanned
    with Workspace(ws_path) as ws:
        cases = ws.con.execute("SELECT * FROM fw_cases WHERE entity_type = 'cooperative'").df()
        hits = ws.con.execute("SELECT * FROM fw_hits WHERE entity_type = 'cooperative'").df()
        case_id = cases.loc[cases["entity_id"] == CODE, "case_id"].iloc[0]
        card = case_html(explain_case(ws, None, case_id))
    assert f"Cooperative {CODE} received" in card and "*6506" not in card
    table = frame_html(hits, max_rows=len(hits))
    assert f"Cooperative {CODE} received" in table and "*6506" not in table and ACCOUNT not in table


def test_mask_frame_by_column():
    pid = "110105198001010012"
    frame = pd.DataFrame({
        "entity_type": ["cooperative", "person"],
        "entity_id": [CODE, pid],
        "coop_id": [CODE, CODE],
        "head_id": ["12345", pid],  # a person ID column masked whatever its values look like
        "bank_account": [CODE, "6222021234567890"],  # an account that looks like a credit code
        "evidence": [json.dumps({"coop_id": CODE, "top_account": ACCOUNT}), json.dumps({"person_id": pid})],
        "summary": [f"Cooperative {CODE} paid into {ACCOUNT}", f"Person {pid} owns {CODE}"],
    })
    out = mask_frame(frame)
    assert out["entity_id"].tolist() == [CODE, "110105********0012"]
    assert out["coop_id"].tolist() == [CODE, CODE]
    assert "12345" not in out["head_id"].iloc[0] and pid not in out["head_id"].iloc[1]
    assert out["bank_account"].iloc[0].endswith("6506") and CODE not in out["bank_account"].iloc[0]
    assert json.loads(out["evidence"].iloc[0]) == {"coop_id": CODE, "top_account": "*" * 15 + "6423"}
    assert out["summary"].iloc[0] == f"Cooperative {CODE} paid into {'*' * 15}6423"
    # The second summary's code comes from no known column: by shape, the safe side.
    assert out["summary"].iloc[1] == "Person 110105********0012 owns **************6506"


def test_free_text_is_still_masked_by_shape():
    assert mask_text("line 3: '6222021234567890' and 110105198001010012") == \
        "line 3: '************7890' and 110105********0012"
