"""Headers that real exports use for each canonical column, and Chinese enum values.

A header is matched after normalisation (`normalise_header`: width, case, spaces, a BOM and
a trailing unit the contract already uses, such as (元), do not count). `COLUMN_ALIASES` applies to every table that has the
column; `TABLE_ALIASES` adds names that only make sense in one table (统一社会信用代码 is
the coop_id in `cooperatives` but the entity_code in `business_roles`). Users add their
own in a mapping file (fundwatch/load/headers.py), never by editing this.
"""

from __future__ import annotations

import re
import unicodedata

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    # 民政 (低保/特困/临时救助), 公安, 残联 and 一卡通 exports name the person in many ways.
    "person_id": (
        "身份证号",
        "身份证号码",
        "公民身份号码",
        "证件号码",
        "身份证",
        "居民身份证号",
        "人员身份证号",
        "idcard",
        "id_no",
        "id_number",
        "身份证件号码",
        "身份证件号",
        "证件号",
        "居民身份证号码",
        "公民身份证号",
        "公民身份证号码",
        "成员身份证号",
        "成员身份证号码",
        "家庭成员身份证号",
        "保障对象身份证号",
        "救助对象身份证号码",
        "补贴对象身份证号",
        "领取人身份证号",
        "收款人身份证号",
        "享受人身份证号",
        "农户身份证号",
        "持证人身份证号",
        "人员证件号码",
        "身份证明号码",  # 公安 机动车: 所有人身份证明号码
        "所有人身份证明号码",
        "权利人证件号",  # 不动产登记
        "权利人证件号码",
        "权利人身份证号",
        "产权人身份证号",
        "证照号码",  # 市场监管: a person's ID
        "投资人证件号码",
        "死者身份证号",
        "逝者身份证号码",
        "社员身份证号",
    ),
    "name": (
        "姓名",
        "名称",
        "人员姓名",
        "成员姓名",
        "保障对象姓名",
        "救助对象姓名",
        "补贴对象姓名",
        "领取人姓名",
        "收款人姓名",
        "农户姓名",
        "持证人姓名",
        "死者姓名",
        "逝者姓名",
    ),
    "employer": ("工作单位", "单位名称", "单位", "所在单位", "任职单位", "用人单位", "工资发放单位"),
    "employer_type": ("单位性质", "单位类型", "人员类别", "人员身份", "编制类型", "编制性质", "人员性质"),
    "position": ("职务", "岗位", "职务名称", "岗位名称", "现任职务"),
    "start_date": (
        "开始日期",
        "起始日期",
        "入职日期",
        "纳入日期",
        "任职日期",
        "起租日期",
        "开始时间",
        "保障起始日期",
        "保障开始日期",
        "救助起始日期",
        "享受起始日期",
        "纳入保障日期",
        "合同开始日期",
        "租赁开始日期",
        "租赁起始日期",
        "入住日期",
        "任职开始日期",
        "到岗日期",
        "入编日期",
    ),
    "end_date": (
        "结束日期",
        "终止日期",
        "离职日期",
        "退出日期",
        "退租日期",
        "结束时间",
        "保障终止日期",
        "保障结束日期",
        "救助终止日期",
        "享受终止日期",
        "停保日期",
        "退保日期",
        "合同结束日期",
        "合同终止日期",
        "租赁结束日期",
        "租赁截止日期",
        "任职结束日期",
        "离任日期",
        "调出日期",
    ),
    # Gross pay (应发); 实发 (net) is left out so that a payroll with both is not ambiguous.
    "monthly_salary": ("月工资", "月薪", "工资", "应发工资", "月应发工资", "应发合计"),
    "death_date": ("死亡日期", "死亡时间", "火化日期", "去世日期", "死亡注销日期"),
    "plate_no": ("车牌号", "号牌号码", "车牌号码", "号牌", "车辆号牌"),
    "vehicle_type": ("车辆类型", "车型", "车辆类型名称", "车辆种类"),
    "registration_date": ("登记日期", "注册日期", "初次登记日期", "初登日期", "注册登记日期", "登记时间", "登簿日期", "登簿时间"),
    "deregistration_date": ("注销日期", "注销时间", "注销登记日期"),
    "purchase_price": ("购置价格", "购车价格", "车辆价格", "购置价", "车辆购置价格", "发票价格", "购车发票价格", "计税价格"),
    "entity_code": ("统一社会信用代码", "信用代码", "企业信用代码", "社会信用代码", "统一代码", "主体统一社会信用代码"),
    "entity_name": ("企业名称", "主体名称", "市场主体名称", "字号名称", "企业(机构)名称"),
    "role": ("角色", "职务类型", "任职类型", "任职角色", "人员职务"),
    "registered_capital": ("注册资本", "注册资本(元)", "注册资金"),
    "property_id": ("不动产单元号", "房产编号", "产权证号", "不动产权证号", "不动产权证书号", "不动产证号", "房产证号", "权证号"),
    "region_code": (
        "行政区划代码",
        "区划代码",
        "行政区划",
        "地区代码",
        "行政区划编码",
        "区划编码",
        "所属区划代码",
        "所在地区划代码",
        "统计用区划代码",
        "区域代码",
    ),
    "area_m2": ("面积", "建筑面积", "面积(平方米)", "房屋面积", "房屋建筑面积"),
    "usage": ("用途", "房屋用途", "规划用途", "房屋规划用途"),
    "household_id": (
        "户编号",
        "家庭编号",
        "低保户编号",
        "户号",
        "家庭户号",
        "救助家庭编号",
        "保障家庭编号",
        "家庭id",
        "低保证号",
        "低保证编号",
        "保障证号",
    ),
    "head_id": ("户主身份证号", "户主身份证号码", "户主证件号码", "户主公民身份号码", "户主身份证件号码", "户主证件号"),
    "household_size": ("家庭人口", "家庭人口数", "保障人口", "人口数", "保障人数", "家庭人数", "在保人数", "享受人数", "家庭成员数"),
    # A total, not per head: 家庭月人均收入 is another quantity and stays unknown.
    "declared_monthly_income": ("家庭月收入", "申报月收入", "月收入", "家庭月总收入", "申报家庭月收入"),
    "approved_by": ("审批人身份证号", "审批人", "审批人证件号码", "审批人身份证号码"),
    "relation": ("与户主关系", "关系", "与承租人关系", "与申请人关系", "家庭关系", "成员关系"),
    # Payment exports (一卡通, 低保 发放明细) number their rows; that number is the payment's key.
    "payment_id": ("发放编号", "流水号", "支付编号", "发放流水号", "支付流水号", "交易流水号", "业务流水号", "序号"),
    "period": (
        "发放月份",
        "所属期",
        "期间",
        "月份",
        "所属月份",
        "发放年月",
        "所属年月",
        "保障月份",
        "补贴月份",
        "资金所属期",
        "发放期间",
        "年月",
        "账期",
    ),
    "amount": (
        "发放金额",
        "金额",
        "补贴金额",
        "分红金额",
        "拨付金额",
        "实发金额",
        "救助金额",
        "补助金额",
        "兑付金额",
        "到户金额",
    ),
    "pay_date": ("发放日期", "支付日期", "到账日期", "发放时间", "支付时间", "兑付日期", "入账日期", "交易日期"),
    "bank_account": (
        "银行账号",
        "账号",
        "银行卡号",
        "收款账号",
        "卡号",
        "银行账户",
        "收款人账号",
        "收款卡号",
        "一卡通账号",
        "一卡通卡号",
        "惠农卡号",
        "存折号",
        "账户号码",
    ),
    "program_code": ("项目代码", "补贴项目代码", "资金项目代码", "项目编码", "补贴项目编码", "补贴类型代码"),
    "program_name": ("项目名称", "补贴项目", "补贴项目名称", "补贴名称", "资金项目名称", "补贴类型"),
    "basis_quantity": ("补贴依据数量", "面积(亩)", "计补面积", "数量", "补贴面积", "补贴面积(亩)", "计补面积(亩)", "补贴数量", "种植面积"),
    "unit_rate": ("补贴标准", "单价", "补贴单价", "补贴标准(元/亩)", "每亩补贴"),
    "apply_date": ("申请日期", "申请时间", "申报日期", "受理日期"),
    "approve_date": ("审批日期", "批准日期", "审批时间", "审核日期", "审批通过日期"),
    "agency_code": ("发放单位代码", "单位代码", "经办机构代码", "经办单位代码", "发放机构代码", "经办机构编码"),
    "allocation_id": ("拨款编号", "指标文号", "文号", "拨付编号", "资金文号", "下达文号", "指标编号"),
    "received_date": ("到账日期", "收款日期", "下达日期", "拨付日期", "入账日期"),
    "tenancy_id": ("租赁编号", "合同编号", "租赁合同编号", "合同号", "租赁合同号"),
    "unit_id": ("房源编号", "房屋编号", "房源号", "房间编号", "房屋代码"),
    "monthly_rent": ("月租金", "租金", "租金标准", "月租金额"),
    "rent_due": ("应缴租金", "应收租金"),
    "rent_paid": ("实缴租金", "已缴租金", "实收租金"),
    "paid_date": ("缴费日期", "缴纳日期", "缴费时间", "收款日期"),
    "payer_account": ("缴费账号", "付款账号", "扣款账号", "付款人账号"),
    "water_m3": ("用水量", "用水量(立方米)", "用水量(吨)", "水量"),
    "electricity_kwh": ("用电量", "用电量(千瓦时)", "用电量(度)", "电量"),
    "coop_id": ("合作社统一社会信用代码", "合作社信用代码"),
    "registered_date": ("成立日期", "注册日期", "成立时间", "设立日期"),
    "dissolved_date": ("注销日期", "解散日期", "注销时间", "吊销日期"),
    "legal_rep_id": ("法定代表人身份证号", "法人身份证号", "法定代表人证件号码", "法定代表人身份证号码", "理事长身份证号"),
    "member_count_declared": ("成员数", "申报成员数", "社员人数", "成员总数", "成员人数", "社员数"),
    "join_date": ("入社日期", "加入日期", "入社时间"),
    "shares": ("股份", "出资份额", "股数", "持股数", "股金数"),
    "year": ("年度", "年份", "会计年度", "所属年度", "分配年度", "分红年度", "报告年度"),
    "revenue": ("营业收入", "收入", "经营收入", "总收入"),
    "cost": ("成本", "营业成本", "经营支出", "经营成本", "总成本"),
    "surplus": ("盈余", "可分配盈余", "本年盈余", "经营盈余"),
    "subsidies_received": ("获得补贴", "补贴收入", "财政补助", "财政补助资金", "政府补助", "补助收入"),
    "dividends_declared": ("分红总额", "宣布分红", "分配总额", "盈余返还总额"),
}

TABLE_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "cooperatives": {
        "coop_id": ("统一社会信用代码", "信用代码"),
        "name": ("合作社名称", "名称", "企业名称", "主体名称"),
        "registered_date": ("登记日期",),
    },
    "coop_members": {"coop_id": ("统一社会信用代码",)},
    "coop_financials": {"coop_id": ("统一社会信用代码",)},
    "coop_dividends": {
        "coop_id": ("统一社会信用代码",),
        "amount": ("盈余返还金额", "返还金额", "分配金额"),
    },
    "housing_tenancies": {
        "person_id": ("承租人身份证号", "承租人证件号码", "承租人身份证号码", "申请人身份证号"),
        "household_size": ("家庭人口",),
    },
    "housing_rent": {
        "period": ("租金月份", "计租月份"),
        "rent_due": ("应缴金额", "应收金额"),
        "rent_paid": ("实缴金额", "实收金额"),
    },
    "housing_utilities": {"period": ("抄表月份", "用量月份")},
    "fund_allocations": {"amount": ("拨付金额", "到账金额", "下达金额", "指标金额", "拨款金额")},
    "dibao_payments": {"amount": ("保障金额", "低保金", "保障金", "低保金额", "月保障金")},
    "dibao_households": {"head_id": ("申请人身份证号", "申请人身份证号码")},
    # 市场监管: an 个体工商户's role begins when it is set up and ends when it is struck off.
    "business_roles": {"start_date": ("成立日期",), "end_date": ("注销日期", "吊销日期")},
}

# Chinese (and common English) spellings of enum values -> canonical value.
ENUM_ALIASES: dict[str, dict[str, str]] = {
    "employer_type": {
        "机关": "government",
        "行政机关": "government",
        "公务员": "government",
        "政府": "government",
        "事业单位": "institution",
        "事业": "institution",
        "村干部": "village_cadre",
        "村（社区）干部": "village_cadre",
        "社区干部": "village_cadre",
        "国企": "soe",
        "国有企业": "soe",
    },
    "role": {
        "法定代表人": "legal_rep",
        "法人": "legal_rep",
        "股东": "shareholder",
        "高管": "executive",
        "高级管理人员": "executive",
        "董事": "executive",
        "监事": "executive",
    },
    "usage": {
        "住宅": "residential",
        "商业": "commercial",
        "商服": "commercial",
        "商铺": "commercial",
        "其他": "other",
        "其它": "other",
    },
    "relation": {
        "户主": "head",
        "本人": "head",
        "配偶": "spouse",
        "妻": "spouse",
        "夫": "spouse",
        "子女": "child",
        "子": "child",
        "女": "child",
        "儿子": "child",
        "女儿": "child",
        "父母": "parent",
        "父亲": "parent",
        "母亲": "parent",
        "其他": "other",
        "其它": "other",
    },
}


# Units that say what the contract already stores: "发放金额(元)" is "发放金额". A unit that
# changes the number (万元, 亩, 公顷) is kept, so that such a header never passes as another.
NEUTRAL_UNITS = frozenset({"元", "人民币元", "平方米", "m2", "m²", "立方米", "m3", "千瓦时", "kwh", "人", "户", "个"})
_UNIT_SUFFIX = re.compile(r"\(([^()]*)\)$")


# --- residents (户籍/人口库) and disability certificates (残联), issue 23 -------------------------
TABLE_ALIASES.update({
    "residents": {
        "birth_date": ("出生日期", "出生年月日"),
        "region_code": ("户籍地址代码", "户籍地区划代码", "行政区划代码"),
        "hukou_household_id": ("户号", "户籍户号"),
        "status": ("户籍状态", "人员状态"),
        "moved_out_date": ("迁出日期", "注销户籍日期"),
    },
    "disability_certificates": {
        "category": ("残疾类别",),
        "grade": ("残疾等级",),
        "issue_date": ("发证日期", "办证日期"),
        "revoked_date": ("注销日期", "收回日期"),
    },
})
ENUM_ALIASES.update({
    "status": {"在册": "resident", "正常": "resident", "迁出": "moved_out", "已迁出": "moved_out"},
    "category": {
        "视力": "visual", "视力残疾": "visual", "听力": "hearing", "听力残疾": "hearing",
        "言语": "speech", "言语残疾": "speech", "肢体": "physical", "肢体残疾": "physical",
        "智力": "intellectual", "智力残疾": "intellectual", "精神": "mental", "精神残疾": "mental",
        "多重": "multiple", "多重残疾": "multiple",
    },
    # Excel writes a grade typed as a number as 1.0.
    "grade": {**{f"{zh}级": str(n) for n, zh in enumerate("一二三四", 1)},
              **{f"{n}级": str(n) for n in range(1, 5)}, **{f"{n}.0": str(n) for n in range(1, 5)}},
})


def normalise_header(header: str) -> str:
    """The form headers are compared in: case, width (NFKC: full-width letters, digits and
    brackets), spaces, line breaks, a BOM, a template's required-field star and a trailing
    neutral unit do not matter."""
    h = unicodedata.normalize("NFKC", str(header)).replace("\ufeff", "").strip().lower()
    for a, b in (("【", "("), ("】", ")"), ("[", "("), ("]", ")")):
        h = h.replace(a, b)
    h = re.sub(r"[\s_]+", "", h).strip("*:")
    unit = _UNIT_SUFFIX.search(h)
    if unit and unit.group(1) in NEUTRAL_UNITS and unit.start() > 0:
        h = h[: unit.start()]
    return h
