"""The workbench's words in Chinese and English (a table, so no compiled catalogues are needed).

Templates read `T.key`; the language is the user's choice (profile), else the session's, else 中文.
"""

WORDS = {
    "title": ("fundwatch 核查工作台", "fundwatch review workbench"),
    "queue": ("待办队列", "Queue"), "cases": ("全部线索", "All cases"), "overdue": ("超期", "Overdue"),
    "rules": ("规则反馈", "Rules"), "logout": ("退出", "Log out"), "login": ("登录", "Log in"),
    "username": ("用户名", "User name"), "password": ("密码", "Password"),
    "new_password": ("新密码", "New password"), "repeat_password": ("再次输入新密码", "New password again"),
    "change_password": ("修改密码", "Change password"),
    "must_change": ("首次登录请先修改密码。", "Please change your password before you go on."),
    "bad_login": ("用户名或密码错误。", "Wrong user name or password."),
    "locked": ("登录失败次数过多，账户已锁定，请稍后再试。", "Too many failed logins: the account is locked for now."),
    "case": ("线索", "Case"), "state": ("状态", "State"), "township": ("乡镇", "Township"),
    "program": ("项目", "Programme"), "risk": ("风险分", "Risk"), "amount": ("涉及金额(元)", "Amount (yuan)"),
    "due": ("办理时限", "Due"), "assignee": ("核查人", "Verifier"), "summary": ("摘要", "Summary"),
    "evidence": ("证据", "Evidence"), "timeline": ("办理记录", "Timeline"), "rule": ("规则", "Rule"),
    "take_next": ("领取下一条", "Take the next case"),
    "assign_all": ("轮流分配给乡镇核查员", "Assign pending cases to township verifiers in turn"), "none": ("无", "none"),
    "reason": ("理由", "Reason"), "outcome": ("核查结论", "Outcome"), "recovered": ("追回金额(元)", "Recovered (yuan)"),
    "measures": ("处理措施", "Measures"), "until": ("恢复日期", "Reopen on"), "assign_to": ("交办给", "Assign to"),
    "act_assign": ("交办", "Assign"), "act_reassign": ("改派", "Reassign"), "act_start": ("开始核查", "Start verifying"),
    "act_feedback": ("提交反馈", "Report back"), "act_begin_review": ("开始审核", "Begin review"),
    "act_return": ("退回", "Send back"), "act_close": ("销号", "Close"), "act_suspend": ("挂起", "Suspend"),
    "act_resume": ("恢复", "Resume"), "act_request_reopen": ("申请重新打开", "Ask to reopen"),
    "act_approve_reopen": ("批准重新打开", "Approve reopening"),
    "reveal": ("查看完整信息", "Reveal full data"), "revealed": ("已显示完整信息（已记录）", "Full data shown (logged)"),
    "export_xlsx": ("导出核查报告 (XLSX)", "Export the verification report (XLSX)"),
    "files": ("证据材料", "Evidence files"), "upload": ("上传", "Upload"),
    "upload_hint": ("照片 (JPEG/PNG)、询问笔录 (PDF/DOCX)，每个文件不超过", "Photos (JPEG/PNG), interview records (PDF/DOCX), each at most"),
    "no_files": ("尚无材料。", "No files yet."), "uploaded_by": ("上传人", "uploaded by"),
    "export_pdf": ("导出核查报告 (PDF)", "Export the verification report (PDF)"),
    "export_csv": ("导出列表 (CSV)", "Export the list (CSV)"),
    "new_evidence": ("有新证据", "new evidence"), "escalated": ("已升级至县", "escalated to the county"),
    "confirmed": ("属实", "confirmed"), "refuted": ("不属实", "refuted"), "reviewed": ("已销号", "closed"),
    "precision": ("准确率", "precision"), "no_cases": ("没有线索。", "No cases."),
    "lang_other": ("English", "中文"), "role": ("角色", "Role"), "error": ("无法办理", "Not done"),
    "outcomes_feed": ("已销号线索的结论按规则统计，用于下一次扫描的规则权重。",
                      "Closed outcomes per rule; they weigh the rules in the next scan."),
}


def lang_of(request) -> str:
    profile = getattr(getattr(request, "user", None), "profile", None)
    if request.session.get("lang") in ("zh", "en"):
        return request.session["lang"]
    return profile.language if profile is not None else "zh"


def labels(request):
    """Template context: T (the words in the request's language) and lang."""
    lang = lang_of(request) if hasattr(request, "session") else "zh"
    i = 0 if lang == "zh" else 1
    return {"T": {k: v[i] for k, v in WORDS.items()}, "lang": lang}
