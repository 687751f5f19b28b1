"""核查报告: one case, its outcome and its timeline as an XLSX workbook (masked by the caller)."""

from __future__ import annotations

import io
import json

import xlsxwriter

FIELDS = [("线索编号 case", "case_id"), ("状态 state", "state"), ("乡镇 township", "township"),
          ("项目 programme", "program"), ("对象 entity", "entity_id"), ("涉及金额 amount", "amount_at_risk"),
          ("规则 rules", "rule_ids"), ("摘要 summary", "summary_zh"), ("核查人 verifier", "verifier"),
          ("结论 outcome", "outcome"), ("追回金额 recovered", "recovered"), ("措施 measures", "measures"),
          ("理由 reason", "reason"), ("销号人 closed by", "closed_by"), ("销号时间 closed at", "closed_at")]


def case_report_xlsx(case: dict, timeline: list[dict], stamp: str) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    bold = book.add_format({"bold": True})
    sheet = book.add_worksheet("核查报告")
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 80)
    sheet.write(0, 0, "核查报告 verification report", bold)
    sheet.write(1, 0, "导出 exported by")
    sheet.write_string(1, 1, stamp)
    for i, (title, key) in enumerate(FIELDS, start=3):
        sheet.write(i, 0, title, bold)
        sheet.write_string(i, 1, "" if case.get(key) is None else str(case.get(key)))
    row = len(FIELDS) + 4
    sheet.write(row, 0, "证据 evidence", bold)
    for hit in case.get("evidence") or []:
        row += 1
        sheet.write_string(row, 0, str(hit.get("rule_id", "")))
        sheet.write_string(row, 1, json.dumps(hit.get("evidence", {}), ensure_ascii=False))
    log = book.add_worksheet("办理记录")
    for j, title in enumerate(["#", "time", "who", "action", "detail"]):
        log.write(0, j, title, bold)
    for i, e in enumerate(timeline, start=1):
        for j, v in enumerate([e["seq"], e["at"], e["actor"], e["action"], json.dumps(e["detail"], ensure_ascii=False)]):
            log.write_string(i, j, str(v))
    book.close()
    return buf.getvalue()
