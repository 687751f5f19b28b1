"""cases.xlsx and report.html: structure, formatting, masking, escaping, atomic writes."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from fundwatch.cases import history
from fundwatch.cases.build import build_cases
from fundwatch.cases.score import Scoring
from fundwatch.report import charts, fonts, tables
from fundwatch.report.html import write_html
from fundwatch.report.i18n import column
from fundwatch.report.outputs import CASES_CSV
from fundwatch.report.xlsx import write_xlsx
from fundwatch.rules.runner import HIT_COLUMNS, RuleOutcome
from fundwatch.scan import ScanResult
from tests.conftest import make_code, make_id

YEAR = 2023
STAFF = "110105198001010016"  # a dibao member on the public payroll who also takes coop dividends
STAFF_MASKED = "110105********0016"
FARMER = make_id(17, birth="19650304")
TENANT = make_id(18, birth="19900707")
ACCOUNT = "6222021234567890123"
OVERPAID = make_id(19, birth="19580812")
PEOPLE = (STAFF, FARMER, TENANT, OVERPAID)  # every resident ID in the fixture
COOP = make_code(42)
FORMULA = '=HYPERLINK("http://x","y")'
SCRIPT = "<script>alert('x')</script>"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ROOT = Path(__file__).resolve().parent.parent


def _hit(rule_id, program, entity_type, entity_id, level, amount, evidence, en, zh):
    return dict(
        zip(
            HIT_COLUMNS,
            [
                rule_id,
                "1",
                program,
                entity_type,
                entity_id,
                YEAR,
                level,
                amount,
                "person_id",
                json.dumps(evidence, ensure_ascii=False),
                en,
                zh,
            ],
            strict=True,
        )
    )


def make_result(*, region_codes: bool = True) -> ScanResult:
    hits = pd.DataFrame(
        [
            _hit(
                "dibao.public_staff",
                "dibao",
                "household",
                "H001",
                "critical",
                7200.0,
                {"person_id": STAFF, "employer": "县财政局", "bank_account": ACCOUNT},
                f"Household H001 received 7,200.00 yuan while member {STAFF} was employed by 县财政局; "
                f"paid to account {ACCOUNT}.",
                f"低保户H001在成员{STAFF}任职于县财政局期间领取低保7,200.00元，账户{ACCOUNT}。",
            ),
            _hit(
                "cooperative.dividend_over_surplus",
                "cooperative",
                "cooperative",
                COOP,
                "high",
                15000.0,
                {"person_id": STAFF, "surplus": 0, "dividends": 15000},
                f"Cooperative {COOP} paid 15,000.00 yuan of dividends to {STAFF} with no surplus.",
                f"合作社{COOP}在无盈余情况下向{STAFF}分红15,000.00元。",
            ),
            _hit(
                "subsidy.duplicate_payment",
                "subsidy",
                "person",
                FARMER,
                "critical",
                3600.5,
                {"payment_ids": ["P1", "P2"], "periods": None, "bank_account": ACCOUNT},
                FORMULA,
                FORMULA,
            ),
            _hit(
                "subsidy.paid_after_death",
                "subsidy",
                "person",
                FARMER,
                "critical",
                1200.0,
                {"death_date": "2022-11-03"},
                f"{FARMER} was paid 1,200.00 yuan after death {SCRIPT}",
                f"{FARMER}死亡后仍领取补贴1,200.00元{SCRIPT}",
            ),
            _hit(
                "subsidy.over_entitlement",
                "subsidy",
                "person",
                make_id(19, birth="19580812"),
                "medium",
                800.0,
                {"basis_quantity": 12.5, "unit_rate": 64.0},
                "Paid 1,600.00 yuan for 12.5 mu at 64.00 yuan/mu: 800.00 above the entitlement.",
                "按12.5亩、每亩64.00元计算，多发800.00元。",
            ),
            _hit(
                "housing.vehicle",
                "housing",
                "tenancy",
                "T9",
                "medium",
                9600.0,
                {"person_id": TENANT, "plate_no": "京A12345", "purchase_price": 260000},
                f"Tenancy T9: tenant {TENANT} owns a vehicle bought for 260,000 yuan.",
                f"公租房T9租户{TENANT}名下有价值260,000元的车辆。",
            ),
        ]
    )
    outliers = pd.DataFrame(
        [
            {
                "entity_type": "household",
                "entity_id": "H777",
                "program": "dibao",
                "outlier_score": 0.91,
                "flagged": True,
                "amount_at_risk": 2400.0,
                "explanation": "Payments are 4.2 times the township median.",
                "explanation_zh": "领取金额为乡镇中位数的4.2倍。",
            }
        ]
    )
    _built = build_cases(hits, outliers, YEAR, Scoring(), key=b"test")
    cases, first_hits = _built.cases, _built.hits
    housing = cases.loc[cases["program"] == "housing", "case_id"].iloc[0]
    reviews = pd.DataFrame(
        {
            "case_id": [housing],
            "status": ["confirmed"],
            "evidence_fingerprint": [history.fingerprints(first_hits)[housing]],
        }
    )
    _built = build_cases(hits, outliers, YEAR, Scoring(), key=b"test", previous=pd.DataFrame({"case_id": [housing]}),
                         reviews=reviews)
    cases, hits = _built.cases, _built.hits
    if region_codes:  # as scan() attaches them: village, township or county depth
        regions = {
            "cross": "110105001001",
            "subsidy": "110105002003",
            "housing": "110105001004",
            "dibao": "110105",
        }
        cases["region_code"] = cases["program"].map(regions)
    outcomes = [
        RuleOutcome("dibao.public_staff", "found", hits=1, share=0.01),
        RuleOutcome("subsidy.duplicate_payment", "found", hits=1, share=0.6, mis_tuned=True),
        RuleOutcome("dibao.village_cadre", "clean"),
        RuleOutcome("housing.owns_property", "skipped", missing=["properties"]),
        RuleOutcome("cooperative.shell", "error", message="BinderException: no column revenue"),
    ]
    return ScanResult(
        "R20240105-101500-abc123", YEAR, cases, hits, outcomes, _run(outcomes, len(cases), len(hits))
    )


def _run(outcomes, n_cases, n_hits) -> dict:
    return {
        "run_id": "R20240105-101500-abc123",
        "year": YEAR,
        "started_at": "2024-01-05T10:15:00",
        "fundwatch_version": "0.1.0",
        "rules_version": "0123456789ab",
        "row_counts": {"cases": n_cases, "rule_hits": n_hits},
        "rules": {
            o.rule_id: {
                "status": o.status,
                "hits": o.hits,
                "missing": o.missing,
                "message": o.message,
                "share": o.share,
                "mis_tuned": o.mis_tuned,
                "seconds": 0.01,
            }
            for o in outcomes
        },
    }


def empty_result() -> ScanResult:
    _built = build_cases(pd.DataFrame(columns=HIT_COLUMNS), None, YEAR, Scoring(), key=b"test")
    cases, hits = _built.cases, _built.hits
    cases["region_code"] = pd.Series(dtype=object)
    return ScanResult("R20240105-000000-empty0", YEAR, cases, hits, [], _run([], 0, 0))


def cell_texts(wb) -> list[str]:
    return [
        str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None
    ]


def section(page: str, anchor: str) -> str:
    start = page.index(f'<section id="{anchor}">')
    return page[start : page.index("</section>", start)]


# ---------------------------------------------------------------- cases.xlsx


def test_fixture_is_realistic():
    result = make_result()
    assert set(result.cases["program"]) == {"cross", "subsidy", "housing", "dibao"}
    assert STAFF in set(result.cases["entity_id"])  # the cross case is about the person
    assert (result.cases["rule_ids"] == "").sum() == 1  # the purely statistical case


def test_xlsx_sheets_one_per_program_and_headers(tmp_path):
    result = make_result()
    path = write_xlsx(result, tmp_path / "cases.xlsx")
    assert path == tmp_path / "cases.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "dibao", "subsidy", "housing", "cross", "Rule hits"]
    for program in ("dibao", "subsidy", "housing", "cross"):
        ws = wb[program]
        assert [c.value for c in ws[1]] == [column(c, "en") for c in CASES_CSV]
        assert ws.max_row - 1 == (result.cases["program"] == program).sum()
        assert {r[5] for r in ws.iter_rows(min_row=2, values_only=True)} == {program}
    # The statistical-only case goes with its program, and the dibao sheet is in rank order.
    dibao = list(wb["dibao"].iter_rows(min_row=2, values_only=True))
    assert [r[2] for r in dibao] == list(result.cases.loc[result.cases["program"] == "dibao", "case_id"])
    assert [r[0] for r in dibao] == sorted(r[0] for r in dibao)
    hits = wb["Rule hits"]
    assert hits.max_row - 1 == len(result.hits)
    assert "evidence" in [c.value.lower() for c in hits[1]]


def test_xlsx_is_formatted_for_excel(tmp_path):
    wb = openpyxl.load_workbook(write_xlsx(make_result(), tmp_path / "cases.xlsx"))
    for ws in wb.worksheets[1:]:
        assert ws.freeze_panes == "A2", ws.title
        last = openpyxl.utils.get_column_letter(ws.max_column)
        assert ws.auto_filter.ref == f"A1:{last}{ws.max_row}", ws.title
        header = ws[1][0]
        assert header.font.b and header.fill.fgColor.rgb.endswith("1F4E78")
    ws = wb["subsidy"]
    headers = [c.value for c in ws[1]]
    amount = ws.cell(2, headers.index(column("amount_at_risk", "en")) + 1)
    assert amount.value == pytest.approx(3600.5) and amount.number_format == "#,##0.00"
    summary_col = headers.index(column("summary", "en")) + 1
    assert ws.cell(2, summary_col).alignment.wrap_text
    assert ws.column_dimensions[openpyxl.utils.get_column_letter(summary_col)].width == 80
    assert 8 <= ws.column_dimensions["C"].width <= 50  # case_id: sized to its content
    score_col = openpyxl.utils.get_column_letter(headers.index(column("risk_score", "en")) + 1)
    assert ws.max_row == 3
    scales = [(str(cf.sqref), r.type) for cf in ws.conditional_formatting for r in cf.rules]
    assert scales == [(f"{score_col}2:{score_col}3", "colorScale")]


def test_xlsx_summary_sheet(tmp_path):
    wb = openpyxl.load_workbook(write_xlsx(make_result(), tmp_path / "cases.xlsx"))
    rows = [[c for c in r if c is not None] for r in wb["Summary"].iter_rows(values_only=True)]
    flat = [str(v) for r in rows for v in r]
    assert "R20240105-101500-abc123" in flat and "2024-01-05T10:15:00" in flat
    assert any(v.startswith("Masked") for v in flat)
    assert ["subsidy", 2, pytest.approx(3600.5 + 800.0)] in rows
    # The cross case names the household and the cooperative: two entities' money, added.
    assert ["cross", 1, pytest.approx(15000.0 + 7200.0)] in rows
    # The statistical-only case: no rule says what is wrong, so nothing is stated at risk.
    assert ["dibao", 1, 0.0] in rows
    assert ["statistical only", 1, 0.0] in rows  # a level of its own, named for the reader
    assert ["Total", 5, pytest.approx(15000.0 + 7200.0 + 3600.5 + 800.0 + 9600.0 + 0.0)] in rows
    for status, n in (("found", 2), ("clean", 1), ("could not run", 1), ("error", 1), ("Mis-tuned", 1)):
        assert [status, n] in rows
    assert ["housing.owns_property", "could not run", 0, "missing: properties"] in rows
    assert any(r[:2] == ["subsidy.duplicate_payment", "found"] and "yes" in r for r in rows)


def test_xlsx_cuts_a_table_longer_than_a_sheet_with_a_note(tmp_path, monkeypatch):
    from fundwatch.report import xlsx

    result = make_result()
    monkeypatch.setattr(xlsx, "EXCEL_ROWS", 4)  # a sheet of 4 rows: header, 2 hits, the note
    assert len(result.hits) > 3
    wb = openpyxl.load_workbook(write_xlsx(result, tmp_path / "cases.xlsx"))
    rows = list(wb["Rule hits"].iter_rows(values_only=True))
    assert len(rows) == 4
    note = rows[-1][0]
    assert note.startswith("Sheet Rule hits lists the first 2 of ") and "rule_hits.csv" in note
    assert wb["Rule hits"].auto_filter.ref.endswith("3")  # the note is not part of the table
    assert note in [r[0] for r in wb["Summary"].iter_rows(values_only=True)]
    assert wb["subsidy"].max_row == 3  # two cases fit: not cut


def test_xlsx_masks_ids_unless_unmasked(tmp_path):
    result = make_result()
    masked = cell_texts(openpyxl.load_workbook(write_xlsx(result, tmp_path / "m.xlsx")))
    assert not [t for t in masked if any(pid in t for pid in PEOPLE)]
    assert not [t for t in masked if ACCOUNT in t]
    assert STAFF_MASKED in masked  # the cross case's entity_id
    assert any("***************0123" in t for t in masked)  # the account inside a summary

    unmasked = cell_texts(openpyxl.load_workbook(write_xlsx(result, tmp_path / "u.xlsx", unmask=True)))
    assert STAFF in unmasked
    assert any(ACCOUNT in t for t in unmasked)
    assert any(t.startswith("NOT MASKED") for t in unmasked)


def test_codes_that_look_like_accounts_stay_readable(tmp_path):
    # mask_frame reads any run of 12+ digits as a bank account: a region code, or a case_id whose
    # hash happens to be all digits. Neither is personal, and both are needed to work a case.
    result = make_result()
    old = result.cases.loc[0, "case_id"]
    result.cases.loc[0, "case_id"] = "C2023-123456789012"
    result.hits.loc[result.hits["case_id"] == old, "case_id"] = "C2023-123456789012"
    texts = cell_texts(openpyxl.load_workbook(write_xlsx(result, tmp_path / "cases.xlsx")))
    assert texts.count("C2023-123456789012") == 1 + (result.hits["case_id"] == "C2023-123456789012").sum()
    assert "110105002003" in texts
    page = write_html(result, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "C2023-123456789012" in page


def test_xlsx_neutralises_formulas(tmp_path):
    wb = openpyxl.load_workbook(write_xlsx(make_result(), tmp_path / "cases.xlsx"))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    formula_cells = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert len(formula_cells) == 2  # the subsidy case and its hit
    assert all(c.value.startswith("'=HYPERLINK(") for c in formula_cells)


def test_xlsx_strips_characters_xml_cannot_hold(tmp_path):
    result = make_result()
    result.cases.loc[0, "summary"] = "bell\x07 and form feed\x0c"
    wb = openpyxl.load_workbook(write_xlsx(result, tmp_path / "cases.xlsx"))
    assert "bell and form feed" in cell_texts(wb)


def test_xlsx_cuts_text_longer_than_a_cell_holds(tmp_path):
    from fundwatch.report.xlsx import MAX_CELL_TEXT

    result = make_result()
    result.cases.loc[0, "summary"] = "x" * (MAX_CELL_TEXT + 100)
    texts = cell_texts(openpyxl.load_workbook(write_xlsx(result, tmp_path / "cases.xlsx")))
    assert "x" * MAX_CELL_TEXT in texts and not [t for t in texts if len(t) > MAX_CELL_TEXT]


@pytest.mark.parametrize("dtype", ["str", object])
def test_neutralise_is_the_same_for_string_and_object_columns(dtype):
    from fundwatch.report.files import neutralise

    values = ["=1", " =1", "  +x", "\t-", "\rA", "@a", "ok", "", None, " ", "-", "a=b", "\u3000=1", " \t="]
    out = neutralise(pd.DataFrame({"c": pd.Series(values, dtype=dtype)}))["c"].tolist()
    assert [None if v is None or v != v else v for v in out] == [
        "'=1", "' =1", "'  +x", "'\t-", "'\rA", "'@a", "ok", "", None, " ", "'-", "a=b", "\u3000=1", "' \t="]


def test_xlsx_in_chinese(tmp_path):
    wb = openpyxl.load_workbook(write_xlsx(make_result(), tmp_path / "cases.xlsx", lang="zh"))
    assert wb.sheetnames == ["汇总", "低保", "补贴救助", "公租房", "跨项目", "规则命中"]
    headers = [c.value for c in wb["低保"][1]]
    assert headers[:3] == ["排名", "年度", "案件编号"]
    assert any("领取金额为乡镇中位数" in t for t in cell_texts(wb))  # Chinese summaries
    assert any(t.startswith("已脱敏") for t in cell_texts(wb))


def test_xlsx_empty_result_has_headers_only(tmp_path):
    wb = openpyxl.load_workbook(write_xlsx(empty_result(), tmp_path / "cases.xlsx"))
    assert wb.sheetnames == ["Summary", "Rule hits"]
    hits = wb["Rule hits"]
    assert hits.max_row == 1 and hits[1][0].value == column("case_id", "en")
    assert hits.freeze_panes == "A2"
    assert ["Cases", 0] in [
        [c for c in r if c is not None] for r in wb["Summary"].iter_rows(values_only=True)
    ]


def test_xlsx_history_table(tmp_path):
    history = pd.DataFrame(
        {
            "year": [2021, 2022],
            "program": ["dibao", "dibao"],
            "cases": [3, 5],
            "amount_at_risk": [1000.0, 2000.0],
        }
    )
    wb = openpyxl.load_workbook(write_xlsx(make_result(), tmp_path / "cases.xlsx", history=history))
    rows = [[c for c in r if c is not None] for r in wb["Summary"].iter_rows(values_only=True)]
    assert [2021, "dibao", 3, 1000.0] in rows
    assert [YEAR, "cross", 1, 22200.0] in rows  # this scan's year, taken from its cases


# ---------------------------------------------------------------- report.html

HISTORY = pd.DataFrame(
    {
        "year": [2021, 2021, 2022, 2022],
        "program": ["dibao", "subsidy", "dibao", "subsidy"],
        "cases": [4, 2, 6, 3],
        "amount_at_risk": [12000.0, 3000.0, 18000.0, 5200.0],
    }
)


def test_html_is_self_contained_with_png_charts(tmp_path):
    page = write_html(make_result(), tmp_path / "report.html", history=HISTORY).read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 5  # programs, townships, rules, scores, trend
    for anchor in ("programs", "townships", "rules", "scores", "trend"):
        assert "data:image/png;base64," in section(page, anchor), anchor
    assert all(base64.b64decode(img).startswith(PNG_SIGNATURE) for img in images)
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "<link" not in page.lower() and "@import" not in page and "url(" not in page
    assert "Content-Security-Policy" in page


def test_html_header_and_contents(tmp_path):
    page = write_html(make_result(), tmp_path / "report.html").read_text(encoding="utf-8")
    header = page[page.index("<header>") : page.index("</header>")]
    assert "R20240105-101500-abc123" in header and str(YEAR) in header and "2024-01-05T10:15:00" in header
    toc = page[page.index("<nav>") : page.index("</nav>")]
    for anchor in ("overview", "programs", "townships", "rules", "scores", "trend", "cases"):
        assert f'href="#{anchor}"' in toc
        assert f'<section id="{anchor}">' in page


def test_html_escapes_user_text(tmp_path):
    page = write_html(make_result(), tmp_path / "report.html").read_text(encoding="utf-8")
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)" in page


def test_html_masks_ids_unless_unmasked(tmp_path):
    result = make_result()
    page = write_html(result, tmp_path / "report.html").read_text(encoding="utf-8")
    assert not [pid for pid in PEOPLE if pid in page] and ACCOUNT not in page
    assert STAFF_MASKED in page and "Masked" in page
    page = write_html(result, tmp_path / "full.html", unmask=True).read_text(encoding="utf-8")
    assert STAFF in page and ACCOUNT in page and "NOT MASKED" in page


def test_html_lists_top_cases_with_their_evidence(tmp_path):
    result = make_result()
    page = write_html(result, tmp_path / "report.html", top=2).read_text(encoding="utf-8")
    cases = section(page, "cases")
    assert cases.count('<tr><td class="num">') == 2
    assert "The 2 highest-ranked of 5 cases." in cases
    for case in result.cases.head(2).itertuples():
        assert case.case_id in cases
        for hit in result.hits[result.hits["case_id"] == case.case_id].itertuples():
            assert f"<code>{hit.rule_id}</code>" in cases
            for key in json.loads(hit.evidence):
                assert f"<td>{key}</td>" in cases  # the hit's evidence, as a key/value table
    assert "<td>[&quot;P1&quot;, &quot;P2&quot;]</td>" in cases  # a list in the evidence
    for case in result.cases.iloc[2:].itertuples():
        assert case.case_id not in cases


def test_html_notes_instead_of_missing_charts(tmp_path):
    page = write_html(make_result(region_codes=False), tmp_path / "a.html").read_text(encoding="utf-8")
    assert "no region code" in section(page, "townships") and "<img" not in section(page, "townships")
    assert "no earlier years" in section(page, "trend") and "<img" not in section(page, "trend")
    one_year = HISTORY[HISTORY["year"] == 2022].assign(year=YEAR)
    page = write_html(make_result(), tmp_path / "b.html", history=one_year).read_text(encoding="utf-8")
    assert f"single year ({YEAR})" in section(page, "trend") and "<img" not in section(page, "trend")


def test_html_empty_result(tmp_path):
    page = write_html(empty_result(), tmp_path / "report.html", history=None).read_text(encoding="utf-8")
    assert "<img" not in page
    assert "No cases." in section(page, "cases")
    assert "no rule hits" in section(page, "rules")
    for anchor in ("programs", "townships", "scores"):
        assert "Nothing to chart: no cases." in section(page, anchor)


def test_html_in_chinese(tmp_path):
    page = write_html(make_result(), tmp_path / "report.html", lang="zh", history=HISTORY).read_text(
        encoding="utf-8"
    )
    assert '<html lang="zh-CN">' in page and "重点案件" in page and "已脱敏" in page
    assert "领取金额为乡镇中位数的4.2倍" in page
    assert len(re.findall(r"data:image/png;base64,", page)) == 5


def test_chinese_charts_without_a_cjk_font_warn_once(tmp_path, monkeypatch):
    monkeypatch.setattr(fonts, "_find_cjk_font", lambda: None)
    fonts.cjk_font.cache_clear()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for name in ("a.html", "b.html"):
                page = write_html(make_result(), tmp_path / name, lang="zh").read_text(encoding="utf-8")
                assert len(re.findall(r"data:image/png;base64,", page)) == 4
        cjk = [w for w in caught if "CJK font" in str(w.message)]
        assert len(cjk) == 1, [str(w.message) for w in caught]
        assert not [w for w in caught if "Glyph" in str(w.message)]  # labels fell back to English
    finally:
        fonts.cjk_font.cache_clear()


# ---------------------------------------------------------------- both files


@pytest.mark.parametrize("writer", [write_xlsx, write_html])
def test_files_are_owner_only(tmp_path, writer):
    path = writer(make_result(), tmp_path / "out")
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("writer", [write_xlsx, write_html])
def test_unknown_language_is_refused(tmp_path, writer):
    with pytest.raises(ValueError, match="lang"):
        writer(make_result(), tmp_path / "out", lang="fr")
    assert not (tmp_path / "out").exists()


def test_html_crash_leaves_no_file(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("chart failed")

    monkeypatch.setattr(charts, "score_chart", broken)  # the fourth chart: the page is half built
    with pytest.raises(RuntimeError, match="chart failed"):
        write_html(make_result(), tmp_path / "report.html")
    assert list(tmp_path.iterdir()) == []

    old = tmp_path / "old.html"
    old.write_text("last run's report")
    with pytest.raises(RuntimeError):
        write_html(make_result(), old)
    assert old.read_text() == "last run's report"
    assert [p.name for p in tmp_path.iterdir()] == ["old.html"]


def test_html_half_written_leaves_no_file(tmp_path, monkeypatch):
    old = tmp_path / "report.html"
    old.write_text("last run's report")

    def write_half(self, data, *args, **kwargs):
        with open(self, "w", encoding="utf-8") as f:
            f.write(data[: len(data) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", write_half)
    with pytest.raises(OSError, match="disk full"):
        write_html(make_result(), old)
    assert old.read_text() == "last run's report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_xlsx_crash_leaves_no_file(tmp_path, monkeypatch):
    import xlsxwriter

    real_close = xlsxwriter.Workbook.close

    def close_half(self):
        real_close(self)
        with open(self.filename, "r+b") as f:
            f.truncate(100)
        raise OSError("disk full")

    monkeypatch.setattr(xlsxwriter.Workbook, "close", close_half)
    with pytest.raises(OSError, match="disk full"):
        write_xlsx(make_result(), tmp_path / "cases.xlsx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("lang", "unmask"), [("en", False), ("zh", False), ("en", True)])
def test_write_outputs_masks_each_table_once_and_writes_what_the_writers_write_alone(
    tmp_path, monkeypatch, lang, unmask
):
    import dataclasses

    from fundwatch.report import outputs

    result = dataclasses.replace(make_result(), history=HISTORY)
    masked = []
    real = tables.mask_frame
    monkeypatch.setattr(tables, "mask_frame", lambda frame, **kw: masked.append(list(frame.columns)) or real(frame, **kw))
    outputs.write_outputs(result, tmp_path / "out", lang=lang, unmask=unmask)
    # Once for the cases, once for the hits: the csv, the workbook and the page share them.
    assert masked == ([] if unmask else [CASES_CSV, outputs.HITS_CSV])
    monkeypatch.undo()

    page = write_html(result, tmp_path / "alone.html", lang=lang, unmask=unmask, history=HISTORY)
    assert (tmp_path / "out" / "report.html").read_text(encoding="utf-8") == page.read_text(encoding="utf-8")
    book = write_xlsx(result, tmp_path / "alone.xlsx", lang=lang, unmask=unmask, history=HISTORY)
    shared, alone = openpyxl.load_workbook(tmp_path / "out" / "cases.xlsx"), openpyxl.load_workbook(book)
    assert shared.sheetnames == alone.sheetnames
    for name in alone.sheetnames:
        assert list(shared[name].iter_rows(values_only=True)) == list(alone[name].iter_rows(values_only=True))


def test_history_with_missing_columns_is_refused(tmp_path):
    with pytest.raises(ValueError, match="amount_at_risk"):
        write_html(make_result(), tmp_path / "r.html", history=HISTORY.drop(columns=["amount_at_risk"]))
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_charts_draw_once_to_the_image_savefig_would_save(monkeypatch, lang):
    # charts._png renders with one canvas draw instead of savefig's layout pass plus draw.
    import io

    import numpy as np
    from matplotlib.image import imread

    def savefig_png(fig):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, metadata={"Software": None}, facecolor="white")
        return buf.getvalue()

    result = make_result()
    cases, _ = tables.export_tables(result, lang, False)
    drawings = [
        lambda: charts.program_chart(tables.program_totals(cases), lang),
        lambda: charts.township_chart(tables.township_totals(result.cases), lang),
        lambda: charts.rule_chart(tables.rule_hit_counts(result.hits), lang),
        lambda: charts.trend_chart(tables.history_frame(HISTORY, YEAR, result.cases), lang),
    ]
    for draw in drawings:
        once = draw()
        monkeypatch.setattr(charts, "_png", savefig_png)
        saved = draw()
        monkeypatch.undo()
        assert once.startswith(PNG_SIGNATURE)
        assert np.array_equal(imread(io.BytesIO(once)), imread(io.BytesIO(saved)))


def test_charts_leave_matplotlib_global_state_alone(tmp_path):
    code = (
        "import sys, matplotlib\n"
        "from tests.test_report_files import make_result\n"
        "from fundwatch.report.html import write_html\n"
        "before = dict(matplotlib.rcParams)\n"
        "write_html(make_result(), sys.argv[1], lang='zh')\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
        "after = dict(matplotlib.rcParams)\n"
        "assert after == before, {k: after[k] for k in after if after[k] != before[k]}\n"
    )
    env = {**os.environ, "MPLBACKEND": "module://nonexistent_backend"}  # would fail if a backend were loaded
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "r.html")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r.html").exists()
