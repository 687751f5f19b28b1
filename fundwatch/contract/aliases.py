"""Headers that real exports use for each canonical column, and Chinese enum values.

A header is matched after normalisation (trimmed, lower-cased, inner spaces and
full-width brackets removed). `COLUMN_ALIASES` applies to every table that has the
column; `TABLE_ALIASES` adds names that only make sense in one table (统一社会信用代码 is
the coop_id in `cooperatives` but the entity_code in `business_roles`). Users add their
own in a mapping file (fundwatch/load/headers.py), never by editing this.
"""

from __future__ import annotations

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
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
    ),
    "name": ("姓名", "名称"),
    "employer": ("工作单位", "单位名称", "单位"),
    "employer_type": ("单位性质", "单位类型", "人员类别"),
    "position": ("职务", "岗位"),
    "start_date": ("开始日期", "起始日期", "入职日期", "纳入日期", "任职日期", "起租日期", "开始时间"),
    "end_date": ("结束日期", "终止日期", "离职日期", "退出日期", "退租日期", "结束时间"),
    "monthly_salary": ("月工资", "月薪", "工资"),
    "death_date": ("死亡日期", "死亡时间", "火化日期"),
    "plate_no": ("车牌号", "号牌号码", "车牌号码"),
    "vehicle_type": ("车辆类型", "车型"),
    "registration_date": ("登记日期", "注册日期", "初次登记日期"),
    "deregistration_date": ("注销日期",),
    "purchase_price": ("购置价格", "购车价格", "车辆价格"),
    "entity_code": ("统一社会信用代码", "信用代码", "企业信用代码"),
    "entity_name": ("企业名称", "主体名称"),
    "role": ("角色", "职务类型", "任职类型"),
    "registered_capital": ("注册资本", "注册资本(元)"),
    "property_id": ("不动产单元号", "房产编号", "产权证号"),
    "region_code": ("行政区划代码", "区划代码", "行政区划", "地区代码"),
    "area_m2": ("面积", "建筑面积", "面积(平方米)"),
    "usage": ("用途", "房屋用途"),
    "household_id": ("户编号", "家庭编号", "低保户编号", "户号"),
    "head_id": ("户主身份证号", "户主身份证号码", "户主证件号码"),
    "household_size": ("家庭人口", "家庭人口数", "保障人口", "人口数"),
    "declared_monthly_income": ("家庭月收入", "申报月收入", "月收入"),
    "approved_by": ("审批人身份证号", "审批人"),
    "relation": ("与户主关系", "关系", "与承租人关系"),
    "payment_id": ("发放编号", "流水号", "支付编号"),
    "period": ("发放月份", "所属期", "期间", "月份", "所属月份"),
    "amount": ("发放金额", "金额", "补贴金额", "分红金额", "拨付金额"),
    "pay_date": ("发放日期", "支付日期", "到账日期"),
    "bank_account": ("银行账号", "账号", "银行卡号", "收款账号"),
    "program_code": ("项目代码", "补贴项目代码", "资金项目代码"),
    "program_name": ("项目名称", "补贴项目", "补贴项目名称"),
    "basis_quantity": ("补贴依据数量", "面积(亩)", "计补面积", "数量"),
    "unit_rate": ("补贴标准", "单价", "补贴单价"),
    "apply_date": ("申请日期",),
    "approve_date": ("审批日期", "批准日期"),
    "agency_code": ("发放单位代码", "单位代码", "经办机构代码"),
    "allocation_id": ("拨款编号", "指标文号"),
    "received_date": ("到账日期", "收款日期", "下达日期"),
    "tenancy_id": ("租赁编号", "合同编号"),
    "unit_id": ("房源编号", "房屋编号"),
    "monthly_rent": ("月租金", "租金"),
    "rent_due": ("应缴租金", "应收租金"),
    "rent_paid": ("实缴租金", "已缴租金"),
    "paid_date": ("缴费日期", "缴纳日期"),
    "payer_account": ("缴费账号", "付款账号"),
    "water_m3": ("用水量", "用水量(立方米)"),
    "electricity_kwh": ("用电量", "用电量(千瓦时)"),
    "coop_id": ("合作社统一社会信用代码",),
    "registered_date": ("成立日期", "注册日期"),
    "dissolved_date": ("注销日期", "解散日期"),
    "legal_rep_id": ("法定代表人身份证号", "法人身份证号"),
    "member_count_declared": ("成员数", "申报成员数", "社员人数"),
    "join_date": ("入社日期", "加入日期"),
    "shares": ("股份", "出资份额", "股数"),
    "year": ("年度", "年份", "会计年度"),
    "revenue": ("营业收入", "收入"),
    "cost": ("成本", "营业成本"),
    "surplus": ("盈余", "可分配盈余"),
    "subsidies_received": ("获得补贴", "补贴收入"),
    "dividends_declared": ("分红总额", "宣布分红"),
}

TABLE_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "cooperatives": {"coop_id": ("统一社会信用代码", "信用代码"), "name": ("合作社名称", "名称")},
    "coop_members": {"coop_id": ("统一社会信用代码",)},
    "coop_financials": {"coop_id": ("统一社会信用代码",)},
    "coop_dividends": {"coop_id": ("统一社会信用代码",)},
    "housing_tenancies": {"person_id": ("承租人身份证号",), "household_size": ("家庭人口",)},
    "housing_rent": {"period": ("租金月份", "计租月份")},
    "fund_allocations": {"amount": ("拨付金额", "到账金额")},
    "dibao_payments": {"amount": ("保障金额", "低保金")},
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
    """The form headers are compared in: case, spaces and bracket width do not matter."""
    h = str(header).strip().lower().replace("\ufeff", "")
    for a, b in (("（", "("), ("）", ")"), (" ", ""), ("\u3000", ""), ("_", "")):
        h = h.replace(a, b)
    return h
