"""`fundwatch headers`: proposals from names and values, on real CSV (GBK), XLSX and Parquet
files; the written mapping makes the load exact, in one edit for what it was unsure of."""

import csv
import datetime as dt
import random
import re
import string
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundwatch.cli import main
from fundwatch.contract.aliases import normalise_header
from fundwatch.contract.tables import TABLES
from fundwatch.errors import LoadError
from fundwatch.load.header_guess import APPLY, propose_headers
from fundwatch.load.headers import alias_table, read_mapping
from fundwatch.workspace import Workspace
from tests.conftest import make_code, make_id

N = 40


def _households():
    rows = []
    for i in range(N):
        end = "" if i % 3 else f"2023-0{1 + i % 9}-15"
        rows.append([f"DB{i:07d}", make_id(i, "19600101", "522631"), f"52263110{i % 9 + 1}20{i % 7}",
                     f"2019年{1 + i % 12}月{1 + i % 28}日", end, str(1 + i % 5), "实地核查"])
    return rows


HOUSEHOLD_HEADERS = ["救助家庭编码", "申请人公民身份证件号", "所在村居区划", "纳保时间", "停保时间", "家庭人口数", "备注"]
HOUSEHOLD_CANONICAL = ["household_id", "head_id", "region_code", "start_date", "end_date", "household_size", None]


def _write_csv(path, headers, rows, encoding="utf-8"):
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(headers)
        w.writerows(rows)


def _subsidies():
    return [[str(i + 1), make_id(i, "19750101", "522631"), "GDZL", f"2023-{1 + i % 12:02d}", f"{100 + i * 7.5:.2f}",
             f"2023-{1 + i % 12:02d}-2{i % 8}"] for i in range(N)]


SUBSIDY_HEADERS = ["序号", "公民身份号码", "补贴项目码", "资金期别", "发放金额(元)", "兑现日"]
SUBSIDY_CANONICAL = ["payment_id", "person_id", "program_code", "period", "amount", "pay_date"]


def _write_xlsx(path, headers, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["黎平县2023年耕地地力保护补贴发放明细表"])  # a sheet title above the header
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)


def _deaths():
    return pd.DataFrame({"a": [make_id(i, "19300101", "522631") for i in range(N)],
                         "b": [f"王{'一二三四五六七八九十'[i % 10]}{'明华'[i % 2]}" for i in range(N)],
                         "c": [dt.date(2023, 1 + i % 12, 1 + i % 28).isoformat() for i in range(N)]})


DEATH_HEADERS = ["逝者证件", "对象", "殁日"]
DEATH_CANONICAL = ["person_id", "name", "death_date"]


def _county(root, canonical=False):
    """The same three tables, with the county's headers or the contract's."""
    root.mkdir()
    pick = (lambda mine, contract: [c for c in contract if c]) if canonical else (lambda mine, contract: mine)
    hh = _households()
    if canonical:
        hh = [r[:-1] for r in hh]
    _write_csv(root / "dibao_households.csv", pick(HOUSEHOLD_HEADERS, HOUSEHOLD_CANONICAL), hh, "gbk")
    _write_xlsx(root / "subsidy_payments.xlsx", pick(SUBSIDY_HEADERS, SUBSIDY_CANONICAL), _subsidies())
    deaths = _deaths()
    deaths.columns = pick(DEATH_HEADERS, DEATH_CANONICAL)
    deaths.to_parquet(root / "deaths.parquet")
    return root


def _proposed(p, table):
    rows = p[(p.table == table) & p.header.notna()]
    return dict(zip(rows.header, rows.column, strict=True))


def test_proposals_from_gbk_csv_xlsx_with_title_and_parquet(tmp_path):
    p = propose_headers(_county(tmp_path / "county"))
    assert _proposed(p, "dibao_households") == {h: c or "ignore" for h, c in
                                                zip(HOUSEHOLD_HEADERS, HOUSEHOLD_CANONICAL, strict=True)
                                                if h != "家庭人口数"}  # 家庭人口数 is an alias
    # 序号, 公民身份号码 and 发放金额(元) are aliases: only the three others are proposed.
    assert _proposed(p, "subsidy_payments") == {"补贴项目码": "program_code", "资金期别": "period", "兑现日": "pay_date"}
    assert _proposed(p, "deaths") == dict(zip(DEATH_HEADERS, DEATH_CANONICAL, strict=True))
    ids = p[p.header == "申请人公民身份证件号"].iloc[0]
    assert ids.action == "map" and f"{N}/{N}" in ids.reason and "GB 11643" in ids.reason
    assert p[p.header == "备注"].iloc[0].action == "ignore"
    assert not p[p.action == "missing"].size  # every required column found a header


def _table(ws, name):
    cols = ", ".join(TABLES[name].column_names)
    return ws.con.execute(f"SELECT {cols} FROM {name} ORDER BY ALL").fetchall()


def test_written_mapping_loads_as_canonical_headers_after_one_edit(tmp_path, capsys):
    county = _county(tmp_path / "county")
    canonical = _county(tmp_path / "canonical", canonical=True)
    mapping = tmp_path / "mapping.toml"
    assert main(["headers", str(county), "--write", str(mapping)]) == 0
    out = capsys.readouterr().out
    assert "救助家庭编码" in out and "household_id" in out and "ignore" in out
    text = mapping.read_text(encoding="utf-8")
    # The name column of deaths (header 对象, a name saying nothing) is the one left to check.
    unsure = [line for line in text.splitlines() if line.startswith('# "') and '" = "' in line]
    assert [line.split(" = ")[0] for line in unsure] == ['# "对象"']
    read_mapping(mapping)  # the file as written is a valid mapping

    with Workspace(tmp_path / "want.duckdb") as ws:
        ws.load(canonical)
        want = {t: _table(ws, t) for t in ("dibao_households", "subsidy_payments", "deaths")}
    with Workspace(tmp_path / "before.duckdb") as ws:
        report = ws.load(county, mapping=mapping)
        assert report.tables["deaths"].unknown_headers == ["对象"]
        assert _table(ws, "deaths") != want["deaths"]  # the names are missing

    mapping.write_text(text.replace('# "对象" = "name"', '"对象" = "name"', 1), encoding="utf-8")
    with Workspace(tmp_path / "after.duckdb") as ws:
        report = ws.load(county, mapping=mapping)
        assert report.tables["deaths"].unknown_headers == []
        assert report.tables["subsidy_payments"].unknown_headers == []
        assert report.tables["dibao_households"].unknown_headers == ["备注"]  # free text, no column
        assert report.rows_quarantined == 0
        assert {t: _table(ws, t) for t in want} == want


def test_values_that_do_not_fit_make_a_low_confidence(tmp_path):
    (tmp_path / "d").mkdir()
    rows = [[f"DP{i:06d}", f"DB{i:06d}", f"2023-{1 + i % 12:02d}", "720.00", "已发放"] for i in range(N)]
    _write_csv(tmp_path / "d" / "dibao_payments.csv", ["payment_id", "household_id", "period", "amount", "实付金额"], rows)
    # 实付金额 names money, but its values are words: no column fits it.
    row = propose_headers(tmp_path / "d").iloc[0]
    assert row.header == "实付金额" and row.confidence <= 0.3 and row.action == "ignore"
    # The same name over amounts of money is confident.
    rows = [r[:3] + [r[3]] for r in rows]
    _write_csv(tmp_path / "d" / "dibao_payments.csv", ["payment_id", "household_id", "period", "实付金额"], rows)
    row = propose_headers(tmp_path / "d").iloc[0]
    assert row.column == "amount" and row.confidence >= APPLY


def test_one_column_is_never_given_to_two_headers(tmp_path):
    (tmp_path / "d").mkdir()
    rows = [[f"DB{i:06d}", make_id(i), "522631101201", f"2020-01-{1 + i % 28:02d}", f"2020-02-{1 + i % 28:02d}"]
            for i in range(N)]
    _write_csv(tmp_path / "d" / "dibao_households.csv", ["household_id", "head_id", "region_code", "纳保时间", "纳保日"],
               rows)
    p = propose_headers(tmp_path / "d")
    taken = p[p.action.isin(["map", "check"])]
    assert taken.column.is_unique
    assert "start_date" in taken.column.tolist()
    loser = p[p.reason.str.contains("went to")]
    assert len(loser) == 1 and "start_date" in loser.iloc[0].reason


def test_missing_required_column_error_points_at_the_command(ws, tmp_path):
    (tmp_path / "d").mkdir()
    _write_csv(tmp_path / "d" / "deaths.csv", ["身份证号", "殁日"], [[make_id(1), "2023-01-01"]])
    with pytest.raises(LoadError) as err:
        ws.load(tmp_path / "d")
    message = str(err.value)
    assert f"run `fundwatch headers {tmp_path / 'd'} --write mapping.toml`" in message
    assert "load with --mapping mapping.toml" in message


def test_a_header_in_wan_yuan_is_never_applied_to_yuan(tmp_path):
    (tmp_path / "d").mkdir()
    rows = [[make_id(i), make_code(i), "legal_rep", f"{10 + i}"] for i in range(N)]
    _write_csv(tmp_path / "d" / "business_roles.csv", ["person_id", "entity_code", "role", "注册资本(万元)"], rows)
    row = propose_headers(tmp_path / "d").iloc[0]
    assert row.header == "注册资本(万元)" and row.confidence <= 0.3 and row.action == "ignore"
    assert "convert the values" in row.reason and "registered_capital" in row.reason


def test_a_folder_of_part_files_is_judged_file_by_file(tmp_path):
    parts = tmp_path / "d" / "deaths"
    parts.mkdir(parents=True)
    frame = _deaths()
    frame.columns = DEATH_HEADERS
    frame.iloc[:20].to_csv(parts / "part-0.csv", index=False, encoding="gbk")
    frame.iloc[20:].to_parquet(parts / "part-1.parquet")
    p = propose_headers(tmp_path / "d")
    assert sorted(Path(f).name for f in p.file.unique()) == ["part-0.csv", "part-1.parquet"]
    for _, group in p.groupby("file"):
        assert dict(zip(group.header, group.column, strict=True)) == dict(zip(DEATH_HEADERS, DEATH_CANONICAL, strict=True))
    mapping = tmp_path / "m.toml"
    assert main(["headers", str(tmp_path / "d"), "--write", str(mapping)]) == 0
    assert read_mapping(mapping)["deaths"] == {"逝者证件": "person_id", "殁日": "death_date"}  # each header once


def test_existing_mapping_is_kept_and_its_headers_not_proposed(tmp_path, capsys):
    county = _county(tmp_path / "county")
    existing = tmp_path / "mine.toml"
    existing.write_text('[deaths]\n"对象" = "name"\n', encoding="utf-8")
    out = tmp_path / "out.toml"
    assert main(["headers", str(county), "--mapping", str(existing), "--write", str(out)]) == 0
    written = read_mapping(out)
    assert written["deaths"]["对象"] == "name"
    assert "对象" not in set(propose_headers(county, existing).header.dropna())
    assert main(["headers", str(county), "--write", str(tmp_path / "out.yaml")]) == 2
    capsys.readouterr()


# --- property: unknown names, any column order ------------------------------------------

def _unknown_names(draw_random, n, table):
    known = alias_table(TABLES[table], {})
    names = set()
    while len(names) < n:
        name = "列" + "".join(draw_random.choice(string.ascii_uppercase) for _ in range(4))
        if name.lower() not in known:
            names.add(name)
    return sorted(names)


def _values(kind, i, rnd):
    if kind == "person_id":
        return make_id(rnd.randrange(1000), f"19{rnd.randrange(40, 99)}0{rnd.randrange(1, 10)}1{rnd.randrange(0, 9)}")
    if kind == "credit_code":
        return make_code(rnd.randrange(10 ** 6))
    if kind == "date":
        return (dt.date(2015, 1, 1) + dt.timedelta(days=rnd.randrange(3000))).isoformat()
    if kind == "money":
        return f"{rnd.randrange(100, 900000) / 100:.2f}"
    if kind == "year":
        return str(rnd.choice([2021, 2022, 2023]))
    if kind == "account":
        return "6217" + "".join(str(rnd.randrange(10)) for _ in range(15))
    return f"K{i:05d}"


# Tables where each of these columns is the only one of its kind: its values alone place it.
PROPERTY_TABLES = {"deaths": ["person_id", "death_date"],
                   "coop_dividends": ["coop_id", "person_id", "year", "amount", "pay_date", "bank_account"],
                   "fund_allocations": ["amount", "received_date"]}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=st.sampled_from(sorted(PROPERTY_TABLES)), seed=st.integers(0, 10 ** 6))
def test_shapes_place_id_date_and_money_columns_under_unknown_names_in_any_order(tmp_path_factory, table, seed):
    rnd = random.Random(seed)
    spec = TABLES[table]
    columns = spec.column_names[:]
    rnd.shuffle(columns)
    names = _unknown_names(rnd, len(columns), table)
    truth = dict(zip(names, columns, strict=True))
    rows = [[_values(spec.column(c).kind, i, rnd) for c in columns] for i in range(N)]
    root = tmp_path_factory.mktemp("prop")
    _write_csv(root / f"{table}.csv", names, rows)
    p = propose_headers(root)
    got = _proposed(p, table)
    for header, column in truth.items():
        if column in PROPERTY_TABLES[table]:
            assert got[header] == column, (header, column, p[p.header == header].reason.tolist())


# --- the measure: sample_data with every header renamed to an unseen one of the same meaning --

# Headers of the same meaning as each column that the alias table does not know: what a
# county whose systems name things their own way writes.
UNSEEN = {
    "person_id": "人员公民身份证件号",
    "name": "对象姓名",
    "employer": "所在工作单位名称",
    "employer_type": "单位编制性质",
    "position": "担任职务",
    "start_date": "起始时间点",
    "end_date": "终止时间点",
    "monthly_salary": "每月应发工资数",
    "death_date": "死亡登记日期",
    "plate_no": "机动车号牌号码",
    "vehicle_type": "机动车类型",
    "registration_date": "办理登记日期",
    "deregistration_date": "办理注销日期",
    "purchase_price": "车辆购置金额",
    "entity_code": "主体信用代码号",
    "entity_name": "市场主体字号",
    "role": "担任角色",
    "registered_capital": "登记注册资本",
    "property_id": "不动产单元编号",
    "region_code": "所在行政区划码",
    "area_m2": "登记建筑面积",
    "usage": "房屋登记用途",
    "household_id": "救助户编号",
    "head_id": "户主公民身份证件号",
    "household_size": "共同生活人口数",
    "declared_monthly_income": "申报家庭收入月额",
    "approved_by": "审批经办人证件",
    "relation": "与户主之关系",
    "payment_id": "发放记录号",
    "period": "资金所属月份",
    "amount": "本次发放金额",
    "pay_date": "资金发放日期",
    "bank_account": "收款银行账号码",
    "program_code": "补贴项目编码号",
    "program_name": "补贴项目名",
    "basis_quantity": "补贴依据数",
    "unit_rate": "补贴单价标准",
    "apply_date": "提出申请日期",
    "approve_date": "审批完成日期",
    "agency_code": "发放机构编码",
    "allocation_id": "拨款单号",
    "received_date": "资金到账时间",
    "tenancy_id": "租赁合同号码",
    "unit_id": "房源编码",
    "monthly_rent": "每月租金",
    "rent_due": "本期应缴租金",
    "rent_paid": "本期实缴租金",
    "paid_date": "租金缴费日期",
    "payer_account": "缴费人账号",
    "water_m3": "当月用水",
    "electricity_kwh": "当月用电",
    "coop_id": "合作社社会信用代码",
    "registered_date": "合作社成立日期",
    "dissolved_date": "合作社注销日期",
    "legal_rep_id": "法定代表人证件号",
    "member_count_declared": "申报社员人数",
    "join_date": "入社时间点",
    "shares": "持有股份数",
    "year": "所属会计年度",
    "revenue": "经营总收入",
    "cost": "经营总成本",
    "surplus": "本年度盈余",
    "subsidies_received": "获得财政补贴",
    "dividends_declared": "分红总金额",
    "birth_date": "出生时间",
    "hukou_household_id": "户口簿编号",
    "status": "户口状态",
    "moved_out_date": "户口迁出时间",
    "category": "残疾种类",
    "grade": "残疾级别",
    "issue_date": "证件发放时间",
    "revoked_date": "证件注销时间",
}


SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"


def test_sample_data_under_unseen_headers_is_proposed_right(tmp_path):
    out = tmp_path / "renamed"
    out.mkdir()
    total = 0
    for f in sorted(SAMPLE_DATA.glob("*.csv")):
        if f.stem not in TABLES:
            continue
        known = alias_table(TABLES[f.stem], {})
        with f.open(encoding="utf-8-sig") as src:
            rows = list(csv.reader(src))
        assert [h for h in rows[0] if normalise_header(UNSEEN[h]) in known] == []  # really unseen
        rows[0] = [UNSEEN[h] for h in rows[0]]
        total += len(rows[0])
        _write_csv(out / f.name, rows[0], rows[1:])
    p = propose_headers(out)
    meaning = {v: k for k, v in UNSEEN.items()}
    p = p[p.header.notna()]
    right = p[p.column == p.header.map(meaning)]
    wrong_applied = p[(p.column != p.header.map(meaning)) & (p.action == "map")]
    print(f"sample_data, unseen headers: {len(right)}/{total} proposed right, "
          f"{(right.action == 'map').sum()} of them confident; {len(wrong_applied)} wrong and confident")
    assert len(p) == total
    assert len(right) >= 0.95 * total
    assert wrong_applied.empty
    # What the README says of this measure is what it measures now.
    assert _readme_says(r"(\d+) of (\d+) columns proposed right, (\d+) of them confident, none\s+wrong and confident"
                        ) == (len(right), total, int((right.action == "map").sum()))


README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_says(pattern: str) -> tuple[int, ...]:
    found = re.search(pattern, README.read_text(encoding="utf-8"))
    assert found, f"README.md no longer says {pattern!r}: update this test with it"
    return tuple(int(g) for g in found.groups())


def test_sample_data_under_meaningless_headers_is_proposed_from_values(tmp_path):
    """Every header of sample_data renamed 字段00, 字段01, ... (by position): only the values tell."""
    meaning, total = {}, 0
    for f in sorted(SAMPLE_DATA.glob("*.csv")):
        if f.stem not in TABLES:
            continue
        header, rest = f.read_text(encoding="utf-8-sig").split("\n", 1)
        columns = next(csv.reader([header]))
        names = [f"字段{i:02d}" for i in range(len(columns))]
        meaning.update({(f.stem, n): c for n, c in zip(names, columns, strict=True)})
        total += len(columns)
        (tmp_path / f.name).write_text(",".join(names) + "\n" + rest, encoding="utf-8")
    p = propose_headers(tmp_path)
    p = p[p.header.notna()]
    right = p.column == [meaning[(t, h)] for t, h in zip(p.table, p.header, strict=True)]
    wrong_applied = p[~right & (p.action == "map")]
    assert len(p) == total and wrong_applied.empty
    assert right.sum() >= 0.6 * total
    assert _readme_says(r"from values alone: (\d+) of (\d+)\s+right, none wrong and confident") == (right.sum(), total)
