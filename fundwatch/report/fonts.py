"""Which CJK font the charts use: looked up once per process, in matplotlib's font list
and then through fontconfig (a font installed after matplotlib built its cache).

Charts are drawn on the scanning machine, so without a CJK font there their Chinese labels
would be boxes: they fall back to English labels, warn once, and the page says how to get one.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
import warnings
from contextlib import contextmanager

from fundwatch import log
from fundwatch.report import i18n

# The page's font stack: the CJK fonts readers have (Windows, macOS, Linux), after the
# system UI font; the reader's browser picks the first it has.
CSS_FONT_STACK = ('system-ui, -apple-system, "Segoe UI", "Microsoft YaHei", "微软雅黑", "PingFang SC", '
                  '"Hiragino Sans GB", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", '
                  '"WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "SimSun", "宋体", sans-serif')
INSTALL_HINT = "apt-get install fonts-noto-cjk"

# Families tried in order; the first one matplotlib knows is used for Chinese labels.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Sarasa Gothic SC",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "Noto Serif CJK SC",
)


def _fontconfig_zh_files() -> list[str]:
    """Font files fontconfig says cover Chinese (empty if fc-list is absent or fails)."""
    fc = shutil.which("fc-list")
    if not fc:
        return []
    try:
        out = subprocess.run(
            [fc, ":lang=zh", "file"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({line.split(":")[0].strip() for line in out.stdout.splitlines() if line.strip()})


def _find_cjk_font() -> str | None:
    """The family name of a font matplotlib can use for Chinese, or None."""
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    # A font installed after matplotlib built its font cache: register it by file.
    for path in _fontconfig_zh_files():
        try:
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
        except Exception:  # an unreadable font file: try the next one
            continue
    return None


@functools.cache
def cjk_font() -> str | None:
    """The CJK font family for chart labels, looked up once; warns once if there is none."""
    family = _find_cjk_font()
    if family is None:
        warnings.warn(
            "fundwatch: no CJK font found for matplotlib, so charts are labelled in English. "
            "Install one (e.g. Debian: apt-get install fonts-noto-cjk) for Chinese chart labels.",
            RuntimeWarning,
            stacklevel=2,
        )
    return family


def chart_lang(lang: str) -> str:
    """The language charts can be labelled in: `lang`, or English when Chinese cannot be drawn."""
    i18n.check_lang(lang)
    return "zh" if lang == "zh" and cjk_font() else "en"




class _MatplotlibToLog(logging.Handler):
    """matplotlib's warnings while a chart is drawn, as fundwatch log lines (JSON records with
    --log-format json), not Python's bare last-resort lines on stderr. A CJK font with no
    regular face (only bold installed) is drawn in the weight it has: matplotlib's "failed to
    find font weight" for it says what was chosen knowingly here, and is dropped."""

    def emit(self, record: logging.LogRecord) -> None:
        if (record.msg.startswith("findfont: Failed to find font weight") and len(record.args) == 3
                and record.args[1] == cjk_font()):
            return
        log.emit(record.getMessage(), event="chart", level="warning")


@contextmanager
def matplotlib_logged():
    """Within the block, matplotlib's log goes through fundwatch's (see _MatplotlibToLog)."""
    logger = logging.getLogger("matplotlib")
    handler, propagate = _MatplotlibToLog(logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
