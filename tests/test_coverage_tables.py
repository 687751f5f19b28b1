"""The household registry (residents) and disability certificates load from 户籍 and 残联
exports: Chinese headers and values, GBK CSV and XLSX, bad rows quarantined with their reason."""

import datetime as dt

import openpyxl

from tests.conftest import make_id

RESIDENT_HEADER = ["公民身份号码", "姓名", "出生日期", "户籍地址代码", "户号", "户籍状态", "迁出日期"]
RESIDENT_ROWS = [
    [make_id(1), "张三", "1940-03-05", "130123100201", "HH1", "在册", ""],
    [make_id(2), "李四", "1941年2月1日", "130123100202", "HH2", "迁出", "2022-06-30"],
    [make_id(3), "王五", "1940-02-30", "130123100201", "HH3", "在册", ""],  # no such day
    [make_id(4), "赵六", "1939-01-01", "130123100201", "HH4", "死亡", ""],  # not a registry status
]
CERT_HEADER = ["身份证号", "残疾类别", "残疾等级", "发证日期", "收回日期"]
CERT_ROWS = [
    [make_id(1), "肢体", "一级", "2015-04-01", ""],
    [make_id(2), "精神残疾", "2", "2018-01-10", "2022-05-01"],
    [make_id(3), "视力", "五级", "2019-01-01", ""],  # grade 5 does not exist
    [make_id(4), "心脏", "3", "2019-01-01", ""],  # not a category
]


def _quarantine(ws, table):
    return ws.con.execute("SELECT line, column_name, reason FROM fw_quarantine WHERE table_name = ? ORDER BY line",
                          [table]).fetchall()


def _check(ws):
    assert ws.con.execute("SELECT person_id, birth_date, region_code, hukou_household_id, status, moved_out_date "
                          "FROM residents ORDER BY birth_date").fetchall() == [
        (make_id(1), dt.date(1940, 3, 5), "130123100201", "HH1", "resident", None),
        (make_id(2), dt.date(1941, 2, 1), "130123100202", "HH2", "moved_out", dt.date(2022, 6, 30)),
    ]
    assert ws.con.execute("SELECT person_id, category, grade, issue_date, revoked_date FROM disability_certificates "
                          "ORDER BY person_id").fetchall() == [
        (make_id(1), "physical", "1", dt.date(2015, 4, 1), None),
        (make_id(2), "mental", "2", dt.date(2018, 1, 10), dt.date(2022, 5, 1)),
    ]
    assert _quarantine(ws, "residents") == [(4, "birth_date", "bad_date"), (5, "status", "bad_enum")]
    assert _quarantine(ws, "disability_certificates") == [(4, "grade", "bad_enum"), (5, "category", "bad_enum")]


def test_gbk_csv_exports_load_with_chinese_headers_and_values(ws, tmp_path):
    for name, header, rows in (("residents", RESIDENT_HEADER, RESIDENT_ROWS),
                               ("disability_certificates", CERT_HEADER, CERT_ROWS)):
        lines = [",".join(header)] + [",".join(r) for r in rows]
        (tmp_path / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="gbk")
    report = ws.load(tmp_path)
    assert report.tables["residents"].rows_loaded == 2
    assert report.tables["disability_certificates"].rows_quarantined == 2
    _check(ws)


def test_xlsx_exports_load_with_chinese_headers_and_values(ws, tmp_path):
    for name, header, rows in (("residents", RESIDENT_HEADER, RESIDENT_ROWS),
                               ("disability_certificates", CERT_HEADER, CERT_ROWS)):
        wb = openpyxl.Workbook()
        sheet = wb.active
        sheet.append(header)
        for r in rows:
            sheet.append(r)
        wb.save(tmp_path / f"{name}.xlsx")
    ws.load(tmp_path)
    _check(ws)
