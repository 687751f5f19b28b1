"""Labels of the human-facing exports (cases.xlsx, report.html) in English and Chinese.

Values in the data (program codes, rule ids, levels in the case rows) stay as they are in
cases.csv, so a filter typed in one export works in the other; headers, sheet names, titles
and notes are translated.
"""

from __future__ import annotations

LANGS = ("en", "zh")

PROGRAM_ORDER = ("dibao", "subsidy", "housing", "cooperative", "cross")

_PROGRAMS = {
    "dibao": ("dibao", "低保"),
    "subsidy": ("subsidy", "补贴救助"),
    "housing": ("housing", "公租房"),
    "cooperative": ("cooperative", "合作社"),
    "cross": ("cross", "跨项目"),
}

_LEVELS = {
    "critical": ("critical", "严重"),
    "high": ("high", "高"),
    "medium": ("medium", "中"),
    "low": ("low", "低"),
    "statistical": ("statistical only", "仅统计异常"),
    "": ("statistical only", "仅统计异常"),  # as runs before `statistical` recorded it
}

_STATUS = {
    "found": ("found", "发现问题"),
    "clean": ("clean", "未发现问题"),
    "skipped": ("could not run", "无法运行"),
    "error": ("error", "运行出错"),
}

# A case's status against the previous run and its review (fundwatch.cases.history).
_CASE_STATES = {
    "new": ("new", "新增"),
    "recurring": ("recurring", "持续存在"),
    "in_progress": ("review in progress", "核查中"),
    "confirmed": ("confirmed", "已确认"),
    "cleared": ("cleared", "已排除"),
}

_COLUMNS = {
    "rank": ("Rank", "排名"),
    "year": ("Year", "年度"),
    "case_id": ("Case ID", "案件编号"),
    "entity_type": ("Entity type", "对象类型"),
    "entity_id": ("Entity ID", "对象编号"),
    "program": ("Program", "项目"),
    "risk_score": ("Risk score", "风险分"),
    "rule_ids": ("Rules", "触发规则"),
    "outlier_score": ("Outlier score", "统计异常分"),
    "amount_at_risk": ("Amount at risk (yuan)", "涉及金额（元）"),
    "summary": ("Summary", "摘要"),
    "level": ("Level", "等级"),
    "signals": ("Signals", "信号数"),
    "programs": ("Programs", "涉及项目"),
    "rule_id": ("Rule", "规则"),
    "rule_version": ("Rule version", "规则版本"),
    "matched_on": ("Matched on", "匹配依据"),
    "evidence": ("Evidence", "证据"),
    "cases": ("Cases", "案件数"),
    "status": ("Status", "状态"),
    "hits": ("Hits", "命中数"),
    "share": ("Share of entities", "占对象比例"),
    "mis_tuned": ("Mis-tuned", "疑似阈值不当"),
    "ran_on_nothing": ("Ran on nothing", "无可核查对象"),
    "note": ("Note", "说明"),
    "township": ("Township", "乡镇"),
    "review_status": ("Review", "核查结论"),
    "region_code": ("Region code", "行政区划代码"),
    "entities": ("Entities", "涉及对象"),
    "n_entities": ("Entities (count)", "涉及对象数"),
    "weights": ("Rule weights", "规则权重"),
    "weight": ("Weight", "权重"),
    "error": ("Error", "错误"),
    # the coverage list (应享未享)
    "outreach_id": ("Outreach ID", "走访编号"),
    "title": ("Programme missed", "应享项目"),
    "months_missed": ("Months missed", "未享月数"),
    "amount_owed": ("Amount owed (yuan)", "应补金额（元）"),
    "outreach_status": ("Outreach", "走访状态"),
    "outreach_note": ("Outreach note", "走访说明"),
    "eligible": ("Eligible", "应享"),
    "paid": ("Paid", "已享"),
    "missed": ("Missed", "未享"),
    "coverage_rate": ("Coverage rate", "覆盖率"),
}

_TEXT = {
    "summary_sheet": ("Summary", "汇总"),
    "hits_sheet": ("Rule hits", "规则命中"),
    # The same in both languages: the county's own words beside the English.
    "coverage_sheet": ("应享未享 coverage", "应享未享 coverage"),
    "coverage_rates_sheet": ("应享未享 townships", "应享未享 townships"),
    "coverage_title": ("Who should be paid and is not (应享未享)", "应享未享"),
    "coverage_missed": ("Missed beneficiaries (person × programme)", "应享未享（人次）"),
    "coverage_owed": ("Amount owed (yuan)", "应补金额合计（元）"),
    "coverage_eligible": ("Eligible (person × programme)", "应享（人次）"),
    "coverage_rate_all": ("Coverage rate", "覆盖率"),
    "coverage_intro": (
        "People (or households) who meet a programme's published criteria in the year and were paid nothing, "
        "or less than due. This is outreach, not investigation: they are not in the case list. Ranked by months "
        "missed, then money owed; every row is in coverage.csv.",
        "本年度符合政策条件却未领取（或少领）待遇的对象。这是主动服务对象，不是核查案件，不列入案件清单。"
        "按未享月数、应补金额排序；全部名单见 coverage.csv。",
    ),
    "coverage_by_township": ("Coverage by township, lowest first", "各乡镇覆盖率（从低到高）"),
    "coverage_by_rule": ("Coverage by programme", "各项目覆盖率"),
    "coverage_chart": ("Missed beneficiaries and coverage rate by township", "各乡镇应享未享人次与覆盖率"),
    "coverage_top": ("The {n} first of {total} missed beneficiaries.", "共{total}人次应享未享，列出前{n}人次。"),
    "no_coverage": ("No one listed: no coverage rule found anyone unpaid.", "未发现应享未享对象。"),
    "no_coverage_rates": (
        "No coverage rate: no coverage rule that ran declares its eligible population (`eligible:`).",
        "无覆盖率：运行的应享未享规则均未声明应享人群（eligible）。",
    ),
    "unknown_township": ("(no township code)", "（无乡镇代码）"),
    "title": ("fundwatch scan report", "fundwatch 扫描报告"),
    "workbook_title": ("fundwatch case list", "fundwatch 案件清单"),
    "run_id": ("Run ID", "运行编号"),
    "year": ("Year", "年度"),
    "date": ("Date", "日期"),
    "version": ("fundwatch version", "fundwatch 版本"),
    "rules_version": ("Rules version", "规则版本"),
    "ids": ("IDs", "身份证号"),
    "ids_masked": (
        "Masked: resident IDs keep their area code and last 4 characters, bank accounts their last 4 digits.",
        "已脱敏：身份证号仅保留地区码和后4位，银行账号仅保留后4位。",
    ),
    "ids_unmasked": (
        "NOT MASKED: this file contains full resident IDs and bank accounts. Do not distribute it.",
        "未脱敏：本文件包含完整身份证号和银行账号，请勿外传。",
    ),
    "total_cases": ("Cases", "案件总数"),
    "total_amount": ("Amount at risk (yuan)", "涉及金额合计（元）"),
    "by_program": ("Cases by program", "按项目统计"),
    "by_level": ("Cases by level", "按等级统计"),
    "total": ("Total", "合计"),
    "rule_outcomes": ("Rule outcomes", "规则运行结果"),
    "rules_label": ("Rules", "规则"),
    "broken_rules": ("Rule files that could not be loaded", "无法加载的规则文件"),
    "no_rules": ("No rule outcomes recorded for this run.", "本次运行没有记录规则结果。"),
    "history": ("Cases across years", "历年案件"),
    "yes": ("yes", "是"),
    "missing": ("missing", "缺少"),
    "ran_on_nothing": ("ran on nothing: none of its entities has records in the year",
                       "无可核查对象：本年度没有相关记录"),
    "no_cases": ("No cases.", "没有案件。"),
    "sheet_capped": (
        "Sheet {sheet} lists the first {n:,} of {total:,} rows: an Excel sheet holds 1,048,576 rows. "
        "Every row is in {file}.",
        "工作表“{sheet}”只列出{total:,}行中的前{n:,}行（Excel 每个工作表最多 1,048,576 行），全部数据见 {file}。",
    ),
    # report.html
    "contents": ("Contents", "目录"),
    "overview": ("Overview", "概况"),
    "chart_program": ("Cases and amount at risk by program", "各项目案件数与涉及金额"),
    "chart_township": ("Cases and amount at risk by township", "各乡镇案件数与涉及金额"),
    "chart_rules": ("Rule hits by rule", "各规则命中数"),
    "chart_scores": ("Distribution of risk scores", "风险分分布"),
    "chart_trend": ("Trend across years", "历年趋势"),
    "top_cases": ("Top cases", "重点案件"),
    "evidence_for": ("Evidence", "证据"),
    "details": ("details", "详情"),
    "no_township": (
        "No township chart: the cases carry no region code.",
        "未生成乡镇图：案件没有行政区划代码。",
    ),
    "no_history": (
        "No trend chart: no earlier years to compare with.",
        "未生成趋势图：没有往年数据可比较。",
    ),
    "one_year": (
        "No trend chart: the history covers a single year ({year}).",
        "未生成趋势图：历史数据只有一个年度（{year}）。",
    ),
    "wan_yuan": ("10,000 yuan", "万元"),
    "amount_wan": ("Amount at risk (10,000 yuan)", "涉及金额（万元）"),
    "yuan": ("yuan", "元"),
    "no_cjk_font": (
        "The charts are labelled in English and townships by code: the machine that wrote this report has "
        "no Chinese (CJK) font. Install one there ({hint} on Debian or Ubuntu) and scan again.",
        "图表以英文标注、乡镇以代码显示：生成本报告的机器没有中文字体。请在该机器上安装中文字体"
        "（Debian/Ubuntu：{hint}）后重新扫描。",
    ),
    "no_chart_data": ("Nothing to chart: no cases.", "没有案件，无图可画。"),
    "no_hits": ("Nothing to chart: no rule hits.", "没有规则命中，无图可画。"),
    "top_note": ("The {n} highest-ranked of {total} cases.", "共{total}个案件中排名前{n}的案件。"),
    "score_axis": ("risk score", "风险分"),
    "amount_axis": ("amount at risk (10k yuan)", "涉及金额（万元）"),
    "cases_axis": ("cases", "案件数"),
    "hits_axis": ("hits", "命中数"),
    "other_townships": ("{n} more townships not shown.", "另有{n}个乡镇未显示。"),
    "no_township_code": (
        "{n} of {total} cases have no township-level region code and are not counted here.",
        "{total}个案件中有{n}个没有乡镇级行政区划代码，未计入本图。",
    ),
}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[LANGS.index(check_lang(lang))]


def text(key: str, lang: str, **values) -> str:
    """A label or note; `values` fill its {placeholders}."""
    s = _pick(_TEXT[key], lang)
    return s.format(**values) if values else s


def column(name: str, lang: str) -> str:
    """A column header; an unknown column keeps its own name."""
    return _pick(_COLUMNS[name], lang) if name in _COLUMNS else name


def program(code: str, lang: str) -> str:
    return _pick(_PROGRAMS[code], lang) if code in _PROGRAMS else str(code)


def level(code: str, lang: str) -> str:
    return _pick(_LEVELS[code], lang) if code in _LEVELS else str(code)


def status(code: str, lang: str) -> str:
    return _pick(_STATUS[code], lang) if code in _STATUS else str(code)


def case_state(code, lang: str) -> str:
    """A case's status or review status in words; "" for none."""
    if not isinstance(code, str):
        return ""
    return _pick(_CASE_STATES[code], lang) if code in _CASE_STATES else code


def outreach_state(code, lang: str) -> str:
    """A coverage row's outreach state in words (fundwatch/coverage/outreach.py); "" for none."""
    from fundwatch.coverage.outreach import STATES

    if not isinstance(code, str) or not code:
        return ""
    return _pick(STATES[code], lang) if code in STATES else code
