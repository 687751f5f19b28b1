"""Chinese text in report.html is readable, not tofu (issue 22 item 5): the page names the CJK
fonts readers have, and the charts, drawn on the scanning machine, use its CJK font or say in
the page how to get one. Checked in a real browser (Debian's chromium through playwright),
with the machine's fonts and with a fontconfig that has no CJK font: a character is tofu when
it renders exactly like an unassigned one (U+FFFF), whose box every missing glyph shares.

These tests never skip: without chromium or a CJK font they fail and say what to install.
"""

import re
import shutil
import subprocess
import warnings
from pathlib import Path

import matplotlib
import pytest

from fundwatch.report import fonts
from fundwatch.report.html import write_html
from tests.test_report_files import make_result

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
INSTALL = "apt-get update && apt-get install -y chromium fonts-noto-cjk (as root; .ci/run does it)"
STACK = ("Microsoft YaHei", "SimSun", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _needs_machine():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: {INSTALL}")
    fc = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False)
    if not fc.stdout.strip():
        pytest.fail(f"no CJK font on this machine: {INSTALL}")


@pytest.fixture(scope="module")
def no_cjk_fontconfig(tmp_path_factory) -> Path:
    """A fontconfig that knows one Latin font (matplotlib's DejaVu Sans) and no CJK font."""
    root = tmp_path_factory.mktemp("fontconfig")
    (root / "fonts").mkdir()
    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    shutil.copy(dejavu, root / "fonts" / dejavu.name)
    conf = root / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    f'<dir>{root / "fonts"}</dir><cachedir>{root / "cache"}</cachedir></fontconfig>')
    return conf


def _open(pw, url: str, fontconfig: Path | None = None):
    env = {"FONTCONFIG_FILE": str(fontconfig)} if fontconfig else None
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, env=env)
    page = browser.new_page()
    page.goto(url)
    return browser, page


TOFU_JS = """([selector, limit]) => {
  const el = document.querySelector(selector);
  const style = getComputedStyle(el);
  const chars = [...new Set([...el.textContent].filter(c => /[\\u4e00-\\u9fff]/.test(c)))].slice(0, limit);
  const box = document.createElement('div');
  box.id = 'fw-glyphs';
  for (const c of ['\\uffff', ...chars]) {
    const s = document.createElement('span');
    s.textContent = c;
    s.style.cssText = `font-family:${style.fontFamily};font-size:32px;display:inline-block;`;
    box.appendChild(s);
  }
  document.body.prepend(box);
  return chars;
}"""


def tofu(page, selector: str, limit: int = 12) -> tuple[list[str], list[str]]:
    """(the CJK characters of `selector` checked, those drawn as tofu)."""
    chars = page.evaluate(TOFU_JS, [selector, limit])
    spans = page.locator("#fw-glyphs span")
    box = spans.nth(0).screenshot()
    drawn = [spans.nth(i + 1).screenshot() for i in range(len(chars))]
    page.evaluate("document.getElementById('fw-glyphs').remove()")
    return chars, [c for c, png in zip(chars, drawn, strict=True) if png == box]


@pytest.fixture(scope="module")
def zh_page(tmp_path_factory) -> str:
    path = write_html(make_result(), tmp_path_factory.mktemp("page") / "report.html", lang="zh")
    return path.as_uri()


def test_chinese_headings_are_drawn_with_the_machines_fonts(zh_page):
    from playwright.sync_api import sync_playwright

    _needs_machine()
    with sync_playwright() as pw:
        browser, page = _open(pw, zh_page)
        try:
            for selector in ("h1", "nav h2", "section#cases h2", "table.cases"):
                chars, boxes = tofu(page, selector)
                assert chars and boxes == [], f"{selector}: tofu for {''.join(boxes)}"
        finally:
            browser.close()


def test_without_a_cjk_font_the_check_sees_tofu(zh_page, no_cjk_fontconfig):
    # The same page on a machine without CJK fonts: every Chinese character is a box, and the
    # check above says so (it can fail).
    from playwright.sync_api import sync_playwright

    _needs_machine()
    with sync_playwright() as pw:
        browser, page = _open(pw, zh_page, no_cjk_fontconfig)
        try:
            chars, boxes = tofu(page, "h1")
            assert chars and boxes == chars
        finally:
            browser.close()


def test_the_page_names_the_cjk_fonts_readers_have(zh_page):
    from playwright.sync_api import sync_playwright

    _needs_machine()
    with sync_playwright() as pw:
        browser, page = _open(pw, zh_page)
        try:
            family = page.evaluate("getComputedStyle(document.body).fontFamily")
        finally:
            browser.close()
    missing = [f for f in STACK if f not in family]
    assert missing == [], family


def test_the_charts_use_the_machines_cjk_font():
    _needs_machine()
    fonts.cjk_font.cache_clear()
    try:
        assert fonts.cjk_font() is not None and fonts.chart_lang("zh") == "zh"
    finally:
        fonts.cjk_font.cache_clear()


def test_without_a_cjk_font_for_the_charts_the_page_says_how_to_get_one(tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    _needs_machine()
    monkeypatch.setattr(fonts, "_find_cjk_font", lambda: None)
    fonts.cjk_font.cache_clear()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            zh = write_html(make_result(), tmp_path / "zh.html", lang="zh")
            en = write_html(make_result(), tmp_path / "en.html", lang="en")
    finally:
        fonts.cjk_font.cache_clear()
    assert "fonts-noto-cjk" not in en.read_text(encoding="utf-8")  # English charts need no CJK font
    with sync_playwright() as pw:
        browser, page = _open(pw, zh.as_uri())
        try:
            note = page.get_by_text("apt-get install fonts-noto-cjk")
            assert note.count() == 1 and note.is_visible()
            assert "没有中文字体" in note.inner_text()
        finally:
            browser.close()
    monkeypatch.undo()
    fonts.cjk_font.cache_clear()
    try:
        with_font = write_html(make_result(), tmp_path / "with.html", lang="zh").read_text(encoding="utf-8")
    finally:
        fonts.cjk_font.cache_clear()
    assert "fonts-noto-cjk" not in with_font


# A process whose only CJK font has a bold face and no regular one (issue 22's leftover): it
# draws the Chinese charts of report.html with --log-format json. Run apart, because the
# font list and the chosen font are per process.
BOLD_ONLY_SCRIPT = """
import sys
from matplotlib import font_manager
from fundwatch import log
from fundwatch.report import fonts
from fundwatch.report.html import write_html
from tests.test_report_files import make_result

bold = sys.argv[1]
font_manager.fontManager.ttflist = [f for f in font_manager.fontManager.ttflist
                                    if f.name not in fonts.CJK_FAMILIES and "CJK" not in f.name]
fonts._fontconfig_zh_files = lambda: [bold]
log.set_format("json")
write_html(make_result(), sys.argv[2], lang="zh")
chosen = [f for f in font_manager.fontManager.ttflist if f.name == fonts.cjk_font()]
print(fonts.chart_lang("zh"), sorted({f.weight for f in chosen}))
"""


def _bold_only_cjk_file() -> str:
    out = subprocess.run(["fc-list", ":lang=zh:style=Bold", "file"], capture_output=True, text=True, check=False)
    files = sorted({line.split(":")[0].strip() for line in out.stdout.splitlines() if line.strip()})
    if not files:
        pytest.fail(f"no bold CJK font on this machine: {INSTALL}")
    return files[0]


def test_a_bold_only_cjk_font_prints_nothing_but_json_log_lines(tmp_path):
    import json
    import sys

    _needs_machine()
    root = Path(__file__).resolve().parent.parent
    run = subprocess.run([sys.executable, "-c", BOLD_ONLY_SCRIPT, _bold_only_cjk_file(), str(tmp_path / "r.html")],
                         capture_output=True, text=True, cwd=root, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    # The charts really were drawn in Chinese with a font that has no regular weight ...
    lang, weights = run.stdout.split(" ", 1)
    assert lang == "zh" and "normal" not in weights and 400 not in json.loads(weights.replace("'", '"')), weights
    # ... and every line on stderr is a JSON record (matplotlib's findfont lines included).
    not_json = []
    for line in run.stderr.splitlines():
        try:
            json.loads(line)
        except ValueError:
            not_json.append(line)
    assert not_json == [], not_json
