"""How county B's systems export their tables: headers, column order, encodings, date styles.

Each table: its headers (canonical -> this county's header), the file format, and how dates and
periods are written. `mapping.toml` (fundwatch's mapping format) maps every header back.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

PID = "公民身份号码"
HEADERS = {
    "residents": {"person_id": PID, "name": "姓名", "birth_date": "出生日期", "region_code": "户籍地区划代码",
                  "hukou_household_id": "户编号", "status": "户籍状态", "moved_out_date": "迁出日期"},
    "disability_certificates": {"person_id": "证件号码", "category": "残疾类别", "grade": "残疾等级",
                                "issue_date": "发证日期", "revoked_date": "注销日期"},
    "civil_servants": {"person_id": PID, "name": "姓名", "employer": "工作单位", "employer_type": "单位性质",
                       "position": "职务", "start_date": "入职日期", "end_date": "离职日期",
                       "monthly_salary": "月工资(元)"},
    "deaths": {"person_id": "死者身份证号码", "name": "死者姓名", "death_date": "死亡日期"},
    "vehicles": {"person_id": "所有人证件号码", "plate_no": "号牌号码", "vehicle_type": "车辆类型",
                 "registration_date": "初次登记日期", "deregistration_date": "注销日期", "purchase_price": "购置价格(元)"},
    "business_roles": {"person_id": "证件号码", "entity_code": "统一社会信用代码", "entity_name": "市场主体名称",
                       "role": "任职类型", "registered_capital": "注册资本(元)", "start_date": "任职起始日期",
                       "end_date": "任职终止日期"},
    "properties": {"person_id": "权利人证件号", "property_id": "不动产权证号", "region_code": "坐落区划代码",
                   "area_m2": "建筑面积(平方米)", "usage": "房屋用途", "registration_date": "登簿日期",
                   "deregistration_date": "注销登记日期"},
    "dibao_households": {"household_id": "保障户编号", "head_id": "申请人证件号码", "region_code": "所属村(社区)代码",
                         "start_date": "保障起始日期", "end_date": "保障终止日期", "household_size": "保障人口数",
                         "declared_monthly_income": "家庭月总收入(元)", "approved_by": "审批人证件号码"},
    "dibao_members": {"household_id": "保障户编号", "person_id": "成员证件号码", "name": "成员姓名",
                      "relation": "与申请人关系"},
    "dibao_payments": {"payment_id": "序号", "household_id": "保障户编号", "period": "发放年月",
                       "amount": "发放金额(元)", "pay_date": "入账日期", "bank_account": "开户账号"},
    "subsidy_payments": {"payment_id": "流水号", "program_code": "项目代码", "program_name": "项目名称",
                         "person_id": "享受人证件号码", "name": "享受人姓名", "region_code": "所属乡镇/村(社区)代码",
                         "period": "所属期", "amount": "实发金额(元)", "basis_quantity": "计补数量",
                         "unit_rate": "补贴标准(元)", "apply_date": "申报日期", "approve_date": "审定日期",
                         "pay_date": "拨付日期", "bank_account": "惠民卡号", "agency_code": "发放单位编码"},
    "fund_allocations": {"allocation_id": "指标文号", "agency_code": "收款单位编码", "program_code": "项目代码",
                         "amount": "下达金额(元)", "received_date": "到账日期"},
    "housing_tenancies": {"tenancy_id": "合同编号", "unit_id": "房源编号", "person_id": "承租人证件号码",
                          "start_date": "租赁起始日期", "end_date": "租赁终止日期", "household_size": "家庭人口",
                          "monthly_rent": "月租金(元)", "declared_monthly_income": "家庭月收入(元)"},
    "housing_members": {"tenancy_id": "合同编号", "person_id": "共同居住人证件号码", "relation": "与承租人关系"},
    "housing_rent": {"tenancy_id": "合同编号", "period": "计租月份", "rent_due": "应缴租金(元)",
                     "rent_paid": "实缴租金(元)", "paid_date": "缴费日期", "payer_account": "缴款账号"},
    "housing_utilities": {"unit_id": "房源编号", "period": "抄表月份", "water_m3": "用水量(吨)",
                          "electricity_kwh": "用电量(度)"},
    "cooperatives": {"coop_id": "统一社会信用代码", "name": "合作社名称", "region_code": "住所区划代码",
                     "registered_date": "成立日期", "dissolved_date": "注销日期", "legal_rep_id": "法定代表人证件号码",
                     "member_count_declared": "申报成员数"},
    "coop_members": {"coop_id": "合作社信用代码", "person_id": "社员证件号码", "join_date": "入社日期",
                     "shares": "出资份额"},
    "coop_financials": {"coop_id": "合作社信用代码", "year": "会计年度", "revenue": "经营收入(元)",
                        "cost": "经营支出(元)", "surplus": "盈余(元)", "subsidies_received": "财政补助(元)",
                        "dividends_declared": "分配盈余(元)"},
    "coop_dividends": {"coop_id": "合作社信用代码", "person_id": "社员证件号码", "year": "分配年度",
                       "amount": "返还金额(元)", "pay_date": "发放日期", "bank_account": "收款账号"},
}
# File format per table: most UTF-8 CSV; two GBK; one XLSX with a title row; one tab-separated.
FORMATS = {"dibao_payments": "gbk", "residents": "gbk", "housing_rent": "xlsx", "coop_dividends": "tsv",
           "deaths": "utf-8-sig"}
# Date style per table (all styles the contract accepts).
DATE_STYLES = {"dibao_payments": "%Y/%-m/%-d", "civil_servants": "%Y年%-m月%-d日", "vehicles": "%Y%m%d",
               "subsidy_payments": "%Y-%m-%d"}
PERIOD_STYLES = {"dibao_payments": "%Y%m", "subsidy_payments": "%Y-%m", "housing_utilities": "%Y/%-m"}
ENUMS = {"status": {"resident": "resident", "moved_out": "moved_out"}}


def _text(v, style: str) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, date):
        return v.strftime(style)
    return str(v)


def write_table(out: Path, table: str, rows: list[dict], rng: np.random.Generator) -> Path:
    heads = HEADERS[table]
    cols = list(heads)
    order = [cols[int(i)] for i in rng.permutation(len(cols))]  # shuffled column order
    fmt = FORMATS.get(table, "utf-8")
    if fmt == "xlsx":
        return _write_xlsx(out / f"{table}.xlsx", table, rows, order)
    data = {heads[c]: [_cell(table, c, r.get(c)) for r in rows] for c in order}
    frame = pd.DataFrame(data, columns=[heads[c] for c in order])
    path = out / f"{table}.csv"
    sep = "\t" if fmt == "tsv" else ","
    encoding = "utf-8" if fmt == "tsv" else fmt
    frame.to_csv(path, index=False, sep=sep, encoding=encoding, lineterminator="\n")
    return path


def _cell(table: str, col: str, v) -> str:
    if col == "period":
        return _text(v, PERIOD_STYLES.get(table, "%Y-%m"))
    return _text(v, DATE_STYLES.get(table, "%Y-%m-%d"))


def _write_xlsx(path: Path, table: str, rows: list[dict], order: list[str]) -> Path:
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.append(["光山县公共租赁住房租金台账（2022—2024年）"])  # a title row above the header
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(order))
    ws.append([HEADERS[table][c] for c in order])
    for r in rows:
        ws.append([_xlsx_value(c, r.get(c)) for c in order])
    wb.properties.created = wb.properties.modified = datetime(2025, 1, 6, 9, 0, 0)
    wb.save(path)
    _fix_zip_times(path)
    return path


def _fix_zip_times(path: Path) -> None:
    """Rewrite the XLSX archive with fixed entry times: the same seed gives the same bytes."""
    import zipfile
    with zipfile.ZipFile(path) as z:
        entries = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            if name == "docProps/core.xml":  # openpyxl stamps the save time in here
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2025-01-06T09:00:00Z", data)
            z.writestr(zipfile.ZipInfo(name, date_time=(2025, 1, 6, 9, 0, 0)), data, zipfile.ZIP_DEFLATED)


def _xlsx_value(col: str, v):
    if col == "period" and isinstance(v, date):
        return v.strftime("%Y-%m")
    if v is None:
        return None
    return v


def write_mapping(out: Path) -> Path:
    """Sections for the tables this fundwatch knows (the registry tables residents and
    disability_certificates are newer than some versions; a mapping naming an unknown table
    is refused), the rest commented out, ready for the version that adds them."""
    try:
        from fundwatch.contract.tables import TABLES
        known = set(TABLES)
    except ImportError:
        known = set(HEADERS)
    lines = ["# county B's headers -> fundwatch's canonical columns (fundwatch load --mapping)", ""]
    for table, heads in HEADERS.items():
        if table not in known:
            lines.append(f"# [{table}] (not a table of this fundwatch's contract yet)")
            lines += [f'# "{h}" = "{c}"' for c, h in heads.items()]
            lines.append("")
            continue
        lines.append(f"[{table}]")
        lines += [f'"{h}" = "{c}"' for c, h in heads.items()]
        lines.append("")
    path = out / "mapping.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
