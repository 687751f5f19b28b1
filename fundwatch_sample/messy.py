"""A small directory of badly formatted exports that the loaders must cope with.

Rows come from a tiny sample world, written the way county offices really send them:
- dibao_households.csv, dibao_members.csv: GBK, Chinese headers, Chinese relation values,
  dates in four spellings, money with thousands separators or a trailing 元;
- subsidy_payments.xlsx: a title row and a blank row above the header, dates as real Excel
  dates in some rows and as text (2023年3月5日) in others, money as text like 1,234.50元;
- deaths.csv: UTF-8 with BOM, dates as 2023/3/5 and 20230305, IDs with a lower-case x and
  surrounding spaces (these load), a blank line and a repeated header row (skipped).
Seven rows are broken, each for a different reason, and expected_quarantine.csv lists them
(file, line, column, reason_code): the 1-based physical line in a CSV, the Excel row number
in the workbook, the canonical column name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

QUARANTINE_COLUMNS = ("file", "line", "column", "reason_code")
_FIXED_TIME = dt.datetime(2024, 1, 15, 9, 0, 0)
_REL_CN = {"head": "户主", "spouse": "配偶", "child": "子女", "parent": "父母", "other": "其他"}


def generate_messy(out_dir, seed: int = 7) -> dict:
    """Write the messy files; returns the number of data rows written per file."""
    from fundwatch_sample import world, write

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    w = world.build(world.World(seed, 0.05))
    cols = write.tables(w)
    frames = {
        n: write.to_table(n, cols[n]).to_pandas()
        for n in ("dibao_households", "dibao_members", "subsidy_payments", "deaths")
    }
    rng = np.random.default_rng([seed, 31])
    quarantine: list[tuple] = []
    counts = {}
    hh = frames["dibao_households"].head(32).reset_index(drop=True)
    counts["dibao_households.csv"] = _households(out, hh, rng, quarantine)
    mem = frames["dibao_members"][frames["dibao_members"].household_id.isin(hh.household_id)].head(58)
    counts["dibao_members.csv"] = _members(out, mem.reset_index(drop=True), quarantine)
    sub = frames["subsidy_payments"]
    # Round-robin over the programmes so that the sheet shows every kind of row (but the two
    # disability subsidies' codes, whose small monthly amounts would crowd out the larger ones).
    sub = sub[~sub.program_code.isin(["NURSING", "TWOSUB"])]
    sub = sub.assign(k=sub.groupby("program_code").cumcount()).sort_values(
        ["k", "program_code", "payment_id"]
    )
    sub = sub[sub.k < 9].drop(columns="k").head(45).reset_index(drop=True)
    counts["subsidy_payments.xlsx"] = _subsidies(out, sub, rng, quarantine)
    counts["deaths.csv"] = _deaths(out, frames["deaths"], w, rng, quarantine)
    with open(out / "expected_quarantine.csv", "w", newline="", encoding="utf-8") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(QUARANTINE_COLUMNS)
        wr.writerows(sorted(quarantine))
    counts["expected_quarantine.csv"] = len(quarantine)
    return counts


def _date_text(d, style: int) -> str:
    """One of the spellings offices use for a date."""
    if d is None or pd.isna(d):
        return ""
    return (
        d.isoformat(),
        f"{d.year}/{d.month}/{d.day}",
        d.strftime("%Y%m%d"),
        f"{d.year}年{d.month}月{d.day}日",
    )[style % 4]


def _money_text(v, style: int) -> str:
    """One of the spellings of an amount: 1234.50, 1,234.50, 1234.50元, 1,234.50元."""
    if v is None or pd.isna(v):
        return ""
    x = float(v)
    return (f"{x:.2f}", f"{x:,.2f}", f"{x:.2f}元", f"{x:,.2f}元")[style % 4]


def _write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> None:
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(header)
    wr.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


def _households(out: Path, hh: pd.DataFrame, rng, quarantine: list) -> int:
    header = [
        "户编号",
        "户主身份证号",
        "行政区划代码",
        "纳入日期",
        "退出日期",
        "家庭人口",
        "家庭月收入",
        "审批人身份证号",
    ]
    rows = []
    for i, r in hh.iterrows():  # a couple of dozen rows
        rows.append([
            r.household_id, r.head_id, r.region_code, _date_text(r.start_date, i), _date_text(r.end_date, i + 1),
            str(r.household_size), _money_text(r.declared_monthly_income, i), r.approved_by,
        ])  # fmt: skip
    bad = 7  # head ID with a wrong check digit
    head = rows[bad][1]
    rows[bad][1] = head[:17] + ("0" if head[17] != "0" else "1")
    quarantine.append(("dibao_households.csv", bad + 2, "head_id", "bad_check_digit"))
    _write_csv(out / "dibao_households.csv", header, rows, "gbk")
    return len(rows)


def _members(out: Path, mem: pd.DataFrame, quarantine: list) -> int:
    header = ["户编号", "身份证号", "姓名", "与户主关系"]
    rows = [[r.household_id, r.person_id, r.name, _REL_CN[r.relation]] for r in mem.itertuples()]
    legacy = 11  # an old 15-character ID: 6 place + yymmdd + 3 order digits, no check digit
    pid = rows[legacy][1]
    rows[legacy][1] = pid[:6] + pid[8:14] + pid[14:17]
    quarantine.append(("dibao_members.csv", legacy + 2, "person_id", "legacy_id"))
    missing = 23
    rows[missing][1] = ""
    quarantine.append(("dibao_members.csv", missing + 2, "person_id", "missing_required"))
    _write_csv(out / "dibao_members.csv", header, rows, "gbk")
    return len(rows)


def _subsidies(out: Path, sub: pd.DataFrame, rng, quarantine: list) -> int:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    header = ["发放编号", "项目代码", "项目名称", "身份证号", "姓名", "行政区划代码", "发放月份", "发放金额",
              "计补面积", "补贴标准", "申请日期", "审批日期", "发放日期", "银行账号", "发放单位代码"]  # fmt: skip
    wb = Workbook()
    ws = wb.active
    ws.title = "发放明细"
    ws.append(["黎平县惠民惠农财政补贴资金发放明细表（2022-2024年）"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append([])
    ws.append(header)
    first = 4
    for i, r in sub.iterrows():  # forty-odd rows
        as_text = i % 3 == 1  # every third row was typed in by hand
        period = (r.period, r.period.replace("-", ""), f"{r.period[:4]}/{int(r.period[5:])}")[i % 3]
        dates = [_date_text(d, 3) if as_text else (dt.datetime(d.year, d.month, d.day) if d is not None and not pd.isna(d) else None)
                 for d in (r.apply_date, r.approve_date, r.pay_date)]  # fmt: skip
        amount = _money_text(r.amount, i) if as_text or i % 4 == 0 else float(r.amount)
        ws.append([
            r.payment_id, r.program_code, r.program_name, r.person_id, r["name"], r.region_code, period, amount,
            None if pd.isna(r.basis_quantity) else float(r.basis_quantity),
            None if pd.isna(r.unit_rate) else float(r.unit_rate), *dates, r.bank_account, r.agency_code,
        ])  # fmt: skip
        row = first + i
        for col in (11, 12, 13):
            if not as_text:
                ws.cell(row=row, column=col).number_format = "yyyy-mm-dd"
        for col in (1, 4, 6, 14):  # IDs and accounts kept as text, as careful clerks do
            ws.cell(row=row, column=col).number_format = "@"
    mangled, money, month = 5, 17, 29
    ws.cell(row=first + mangled, column=4).value = 1.10105e17  # the ID pasted as a number
    ws.cell(row=first + mangled, column=4).number_format = "General"
    quarantine.append(("subsidy_payments.xlsx", first + mangled, "person_id", "excel_mangled_id"))
    ws.cell(row=first + money, column=8).value = "abc元"
    quarantine.append(("subsidy_payments.xlsx", first + money, "amount", "bad_money"))
    ws.cell(row=first + month, column=7).value = "2023-13"
    quarantine.append(("subsidy_payments.xlsx", first + month, "period", "bad_period"))
    for c, width in zip(
        "ABCDEFGHIJKLMNO", (12, 10, 22, 21, 8, 14, 10, 12, 9, 9, 12, 12, 12, 22, 14), strict=True
    ):
        ws.column_dimensions[c].width = width
    wb.properties.creator = "黎平县民政局"
    wb.properties.created = wb.properties.modified = _FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    (out / "subsidy_payments.xlsx").write_bytes(_fixed_zip(buf.getvalue()))
    return len(sub)


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite the workbook's zip with fixed timestamps so the file is byte-identical per seed."""
    src = zipfile.ZipFile(io.BytesIO(data))
    stamp = _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, body)
            dst.writestr(fixed, body)
    return buf.getvalue()


def _deaths(out: Path, deaths: pd.DataFrame, w, rng, quarantine: list) -> int:
    """UTF-8 with BOM; IDs ending in x written lower-case with spaces around them."""
    d = deaths.head(34).reset_index(drop=True)
    pid = pd.Series(w.pid.to_pylist())
    x_ids = pid[pid.str.endswith("X")].head(4).tolist()
    names = [w.pname[int(i)].as_py() for i in pid[pid.str.endswith("X")].head(4).index]
    extra = pd.DataFrame(
        {
            "person_id": x_ids,
            "name": names,
            "death_date": [
                dt.date(2023, 3, 5),
                dt.date(2023, 8, 19),
                dt.date(2024, 1, 7),
                dt.date(2022, 11, 30),
            ],
        }
    )
    d = pd.concat([d, extra], ignore_index=True)
    header = ["身份证号", "姓名", "死亡日期"]
    rows = []
    for i, r in d.iterrows():
        p = r.person_id
        if p.endswith("X"):
            p = f"  {p[:-1]}x "
        rows.append([p, r["name"], _date_text(r.death_date, 1 if i % 2 else 2)])
    bad_date = 9
    rows[bad_date][2] = "2023-02-30"
    lines: list[list[str] | None] = [
        *rows[:15],
        None,
        *rows[15:28],
        header,
        *rows[28:],
    ]  # blank line, repeated header
    quarantine.append(("deaths.csv", 1 + 1 + bad_date, "death_date", "bad_date"))
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(header)
    for line in lines:
        if line is None:
            buf.write("\n")
        else:
            wr.writerow(line)
    (out / "deaths.csv").write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
    return len(rows)
