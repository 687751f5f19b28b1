"""核查报告 as PDF: the XLSX report's fields, the evidence, the files and the timeline (masked by the caller).

fpdf2 writes it (pure Python; it embeds a subset of a CJK font so the Chinese text renders on
any reader). The font is one found on the server: $FUNDWATCH_PDF_FONT, else a Chinese font that
fontconfig lists, the simplified-Chinese face of a collection (.ttc) preferred.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

from fundwatch.errors import ConfigError
from fundwatch.report.fonts import INSTALL_HINT, _fontconfig_zh_files
from fundwatch.web.reports import FIELDS

ENV_FONT = "FUNDWATCH_PDF_FONT"


def cjk_font_file() -> tuple[str, int]:
    """(font file, face number in a collection) for Chinese text, or a ConfigError saying how to get one."""
    return _font_file(os.environ.get(ENV_FONT) or None)


@functools.cache  # fontconfig is asked once per process
def _font_file(chosen: str | None) -> tuple[str, int]:
    if chosen and not Path(chosen).is_file():
        raise ConfigError(f"{ENV_FONT}={chosen}: no such font file")
    files = [chosen] if chosen else sorted(_fontconfig_zh_files(), key=_preference)
    for path in files:
        if Path(path).suffix.lower() in (".ttf", ".otf"):
            return path, 0
        if Path(path).suffix.lower() == ".ttc":
            return path, _simplified_face(path)
    raise ConfigError(f"the PDF report needs a Chinese font and none was found: install one ({INSTALL_HINT}) "
                      f"or set {ENV_FONT} to a .ttf/.otf/.ttc file")


def _preference(path: str) -> tuple:
    name = Path(path).name.lower()
    return ("sans" not in name, "bold" in name or "mono" in name, name)


def _simplified_face(path: str) -> int:
    from fontTools.ttLib import TTCollection

    names = [f["name"].getDebugName(1) or "" for f in TTCollection(path).fonts]
    for i, name in enumerate(names):
        if name.endswith((" SC", " CN", " GB")) and "Mono" not in name:
            return i
    return 0


def case_report_pdf(case: dict, timeline: list[dict], files: list[dict], stamp: str) -> bytes:
    from fpdf import FPDF

    font, face = cjk_font_file()
    pdf = FPDF(format="A4")
    pdf.set_title(f"核查报告 {case['case_id']}")
    pdf.set_creator("fundwatch")
    pdf.add_font("cjk", fname=font, collection_font_number=face)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 10, "核查报告 verification report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.cell(0, 6, f"导出 exported by {stamp}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("cjk", size=10)
    for title, key in FIELDS:
        value = case.get(key)
        _row(pdf, title, "" if value is None else str(value))
    _heading(pdf, "证据 evidence")
    for hit in case.get("evidence") or []:
        _row(pdf, str(hit.get("rule_id", "")), f"{hit.get('summary', '')}\n"
             f"{json.dumps(hit.get('evidence', {}), ensure_ascii=False)}")
    _heading(pdf, "证据材料 files")
    for f in files:
        _row(pdf, f["sha256"][:12], f"{f['name']} · {f['mime']} · {f['size']} B · {f['uploaded_by']} {f['uploaded_at']}")
    _heading(pdf, "办理记录 timeline")
    for e in timeline:
        detail = " ".join(f"{k}={v}" for k, v in e["detail"].items() if v not in (None, "", [], False))
        _row(pdf, f"{e['seq']} {e['at']}", f"{e['actor']} {e['action']} {detail}")
    return bytes(pdf.output())


def _heading(pdf, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)


def _row(pdf, title: str, text: str) -> None:
    """A label on the left and its text wrapped to the right."""
    page, y = pdf.page_no(), pdf.get_y()
    pdf.multi_cell(48, 6, title, new_x="RIGHT", new_y="TOP")
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    if pdf.page_no() == page:
        pdf.set_y(max(pdf.get_y(), y + 6))
