"""The alias table: every alias names one column of each table, also after normalisation."""

import pytest

from fundwatch.contract.aliases import COLUMN_ALIASES, TABLE_ALIASES, normalise_header
from fundwatch.contract.tables import TABLES
from fundwatch.load.headers import alias_table, map_headers


def _names_by_table():
    """table -> normalised alias -> the set of columns it is written for (canonical names too)."""
    out = {}
    for spec in TABLES.values():
        names: dict[str, set[str]] = {}
        for col in spec.columns:
            own = TABLE_ALIASES.get(spec.name, {}).get(col.name, ())
            for alias in (col.name, *COLUMN_ALIASES.get(col.name, ()), *own):
                names.setdefault(normalise_header(alias), set()).add(col.name)
        out[spec.name] = names
    return out


def test_no_alias_names_two_columns_of_one_table_after_normalisation():
    clashes = [(t, a, sorted(cols)) for t, names in _names_by_table().items()
               for a, cols in names.items() if len(cols) > 1]
    assert clashes == []


def test_aliases_are_written_for_columns_and_tables_that_exist():
    columns = {c for spec in TABLES.values() for c in spec.column_names}
    assert sorted(set(COLUMN_ALIASES) - columns) == []
    for table, by_column in TABLE_ALIASES.items():
        assert table in TABLES
        assert sorted(set(by_column) - set(TABLES[table].column_names)) == [], table


@pytest.mark.parametrize("written, same_as", [
    ("发放金额（元）", "发放金额"),
    ("\ufeff 身份证号 ", "身份证号"),
    ("*姓名", "姓名"),
    ("ＩＤ＿ＮＯ", "id_no"),
    ("建筑面积(㎡)", "建筑面积"),
    ("用电量【千瓦时】", "用电量"),
    ("发放\n金额", "发放金额"),
])
def test_normalisation_ignores_width_spaces_bom_stars_and_neutral_units(written, same_as):
    assert normalise_header(written) == normalise_header(same_as)


@pytest.mark.parametrize("written, not_as", [("注册资本(万元)", "注册资本"), ("面积(亩)", "面积"), ("(元)", "")])
def test_a_unit_that_changes_the_number_is_kept(written, not_as):
    assert normalise_header(written) != normalise_header(not_as)


def test_headers_of_real_exports_are_placed(tmp_path):
    # 低保 发放明细 (一卡通), 公租房 台账, 市场监管 and 不动产 exports.
    cases = {
        "dibao_payments": ["序号", "低保证号", "发放年月", "发放金额(元)", "发放时间", "一卡通账号"],
        "dibao_households": ["保障证号", "户主公民身份号码", "行政区划编码", "保障起始日期", "保障终止日期", "保障人数"],
        "housing_tenancies": ["租赁合同编号", "房源编号", "承租人证件号码", "合同开始日期", "合同结束日期", "月租金（元）"],
        "business_roles": ["证照号码", "统一社会信用代码", "市场主体名称", "注册资金", "成立日期", "吊销日期"],
        "properties": ["权利人证件号码", "不动产权证号", "规划用途", "登簿日期", "房屋建筑面积(㎡)"],
    }
    for table, headers in cases.items():
        placed = map_headers(tmp_path / f"{table}.csv", headers, TABLES[table], {})
        assert placed.unknown == [] and placed.problems == [], (table, placed)
        assert len(placed.columns) == len(headers)


def test_wan_yuan_capital_is_not_taken_for_yuan():
    assert "注册资本(万元)" not in alias_table(TABLES["business_roles"], {})
    assert normalise_header("注册资本(万元)") not in alias_table(TABLES["business_roles"], {})
