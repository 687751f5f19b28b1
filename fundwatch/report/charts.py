"""What cases.xlsx and report.html show: the case and hit tables, totals per program, level,
township and rule, and their charts.

The tables and totals feed both files. Charts are PNG bytes drawn with
matplotlib's Agg canvas on a bare `Figure`: no pyplot, no global backend or rcParams
change. Chinese labels need a CJK font; without one the charts fall back to English
labels and a warning is given once per process.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import shutil
import subprocess
import warnings
from contextlib import contextmanager

import pandas as pd

from fundwatch.report import i18n
from fundwatch.report.outputs import CASES_CSV, case_table, hit_table
from fundwatch.rules.runner import ran_on_nothing

LEVELS = ("critical", "high", "medium", "low", "")
HISTORY_COLUMNS = ["year", "program", "cases", "amount_at_risk"]

PROGRAM_COLOURS = {
    "dibao": "#4C72B0",
    "subsidy": "#DD8452",
    "housing": "#55A868",
    "cooperative": "#C44E52",
    "cross": "#8172B3",
}
LEVEL_COLOURS = {"critical": "#B2182B", "high": "#E6550D", "medium": "#FDAE6B", "low": "#9ECAE1"}
OTHER_COLOUR = "#8C8C8C"

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


# Not personal data, but digit runs that mask_frame would read as bank accounts: a 12-digit
# region code, a case_id whose hash happens to be all digits. Shown as they are.
NOT_PERSONAL = ("case_id", "region_code")


# ---------------------------------------------------------------- the tables


def export_tables(
    result, lang: str, unmask: bool, tables: tuple[pd.DataFrame, pd.DataFrame] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cases best first, hits) with the columns of cases.csv and rule_hits.csv, summaries in
    `lang`, IDs masked unless `unmask`. Columns the cases lack (region_code, say) are empty.

    `tables` is (case_table, hit_table) of this result for the same `lang` and `unmask`, when
    the caller has them already: masking every text cell is the costly part."""
    raw = result.cases
    absent = [c for c in [*CASES_CSV, "summary_zh"] if c not in raw.columns]
    if absent:
        raw = raw.assign(**{c: None for c in absent})
        result = dataclasses.replace(result, cases=raw)
    if tables is not None:
        cases, hits = (t.copy() for t in tables)  # shallow under copy-on-write; written to below
    else:
        cases = case_table(result, lang, unmask)
        hits = hit_table(result, lang, unmask)
    if not unmask:
        for col in NOT_PERSONAL:
            cases[col] = raw.loc[cases.index, col]
        if not hits.empty:
            hits["case_id"] = result.hits.loc[hits.index, "case_id"]
    return cases.sort_values("rank", kind="stable"), hits


# ---------------------------------------------------------------- the numbers


def _amounts(frame: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(frame["amount_at_risk"], errors="coerce").fillna(0.0).astype(float)


def _totals(cases: pd.DataFrame, key: pd.Series, name: str) -> pd.DataFrame:
    """Cases and amount at risk per value of `key` (aligned with `cases`)."""
    if cases.empty:
        return pd.DataFrame(
            {
                name: pd.Series(dtype=object),
                "cases": pd.Series(dtype=int),
                "amount_at_risk": pd.Series(dtype=float),
            }
        )
    frame = pd.DataFrame({name: key.to_numpy(), "amount_at_risk": _amounts(cases).to_numpy()})
    out = frame.groupby(name, sort=False).agg(cases=(name, "size"), amount_at_risk=("amount_at_risk", "sum"))
    return out.reset_index()


def _order(values, first) -> list:
    """`first` in its order, then every other value sorted."""
    values = list(dict.fromkeys(values))
    return [v for v in first if v in values] + sorted(v for v in values if v not in first)


def programs_present(cases: pd.DataFrame) -> list[str]:
    """The programs of the cases, in the contract's order (unknown ones last)."""
    if cases.empty:
        return []
    return _order(cases["program"].fillna("").astype(str), i18n.PROGRAM_ORDER)


def program_totals(cases: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """program, cases, amount_at_risk: one row per program present, in the contract's order.

    With `lang`, programs are named in that language instead of by their code.
    """
    out = _totals(cases, cases["program"].fillna("").astype(str), "program")
    order = programs_present(cases)
    if order:
        out = out.set_index("program").loc[order].reset_index()
    if lang:
        out["program"] = [i18n.program(p, lang) for p in out["program"]]
    return out


def level_totals(cases: pd.DataFrame, lang: str | None = None) -> pd.DataFrame:
    """level, cases, amount_at_risk, worst level first; level "" = a purely statistical case.

    With `lang`, levels are named in that language.
    """
    out = _totals(cases, cases["level"].fillna("").astype(str), "level")
    if not out.empty:
        out = out.set_index("level").loc[_order(out["level"], LEVELS)].reset_index()
    if lang:
        out["level"] = [i18n.level(lv, lang) for lv in out["level"]]
    return out


def township_totals(cases: pd.DataFrame) -> pd.DataFrame | None:
    """township (first 9 digits of region_code), cases, amount_at_risk, by amount at risk.

    None when the cases carry no region code of township depth.
    """
    if cases.empty or "region_code" not in cases:
        return None
    codes = cases["region_code"].astype("string").str.strip()
    usable = codes.str.fullmatch(r"\d{9,}").fillna(False).astype(bool)
    if not usable.any():
        return None
    out = _totals(cases[usable], codes[usable].str[:9], "township")
    return out.sort_values(
        ["amount_at_risk", "cases", "township"], ascending=[False, False, True], ignore_index=True
    )


def rule_hit_counts(hits: pd.DataFrame) -> pd.DataFrame:
    """rule_id, level, hits: rule hit rows per rule, most first."""
    if hits.empty:
        return pd.DataFrame(
            {
                "rule_id": pd.Series(dtype=object),
                "level": pd.Series(dtype=object),
                "hits": pd.Series(dtype=int),
            }
        )
    out = hits.groupby("rule_id").agg(level=("level", "first"), hits=("rule_id", "size")).reset_index()
    return out.sort_values(["hits", "rule_id"], ascending=[False, True], ignore_index=True)


def outcome_table(run: dict, lang: str) -> pd.DataFrame:
    """One row per rule the run tried: rule_id, status, hits, share, mis_tuned, note (in `lang`)."""
    rows = []
    for rule_id, o in sorted((run.get("rules") or {}).items()):
        if o.get("status") == "skipped":
            note = f"{i18n.text('missing', lang)}: {', '.join(o.get('missing') or [])}"
        elif o.get("status") == "error":
            note = o.get("message") or ""
        elif ran_on_nothing(o.get("status"), o.get("population")):
            note = i18n.text("ran_on_nothing", lang)
        else:
            note = ""
        rows.append(
            {
                "rule_id": rule_id,
                "status": i18n.status(o.get("status", ""), lang),
                "hits": int(o.get("hits") or 0),
                "share": o.get("share"),
                "mis_tuned": i18n.text("yes", lang) if o.get("mis_tuned") else "",
                "note": note,
            }
        )
    return pd.DataFrame(rows, columns=["rule_id", "status", "hits", "share", "mis_tuned", "note"])


def outcome_counts(run: dict) -> dict[str, int]:
    """How many rules were found / clean / skipped (could not run) / error, mis_tuned and ran_on_nothing."""
    rules = (run.get("rules") or {}).values()
    counts = {
        s: sum(1 for o in rules if o.get("status") == s) for s in ("found", "clean", "skipped", "error")
    }
    counts["mis_tuned"] = sum(1 for o in rules if o.get("mis_tuned"))
    counts["ran_on_nothing"] = sum(1 for o in rules if ran_on_nothing(o.get("status"), o.get("population")))
    return counts


def history_frame(history: pd.DataFrame | None, year: int, cases: pd.DataFrame) -> pd.DataFrame:
    """year, program, cases, amount_at_risk across years, with this scan's year added if `history` lacks it."""
    if history is None:
        history = pd.DataFrame(columns=HISTORY_COLUMNS)
    missing = [c for c in HISTORY_COLUMNS if c not in history.columns]
    if missing:
        raise ValueError(
            f"history lacks column(s) {', '.join(missing)}; it has {', '.join(map(str, history.columns))}"
        )
    out = history[HISTORY_COLUMNS].copy()
    out["year"] = pd.to_numeric(out["year"], errors="raise").astype(int)
    if year not in set(out["year"]):
        now = program_totals(cases)
        now.insert(0, "year", year)
        out = pd.concat([out, now], ignore_index=True) if not out.empty else now
    out["cases"] = pd.to_numeric(out["cases"], errors="coerce").fillna(0).astype(int)
    out["amount_at_risk"] = _amounts(out)
    order = {p: i for i, p in enumerate(i18n.PROGRAM_ORDER)}
    out["_order"] = out["program"].map(order).fillna(len(order))
    return out.sort_values(["year", "_order", "program"], ignore_index=True).drop(columns="_order")


# ---------------------------------------------------------------- fonts


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


# ---------------------------------------------------------------- drawing


@contextmanager
def _figure(lang: str, width: float, height: float):
    """A Figure on an Agg canvas, drawn under rc settings local to this block."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    family = ["DejaVu Sans", cjk_font()] if lang == "zh" else ["DejaVu Sans"]
    # Titles in normal weight: many CJK fonts (WenQuanYi) have no bold face. A label with two
    # "$" (a program or rule name) is text, not mathtext to parse.
    rc = {
        "font.family": family,
        "text.parse_math": False,
        "axes.unicode_minus": False,
        "font.size": 10,
        "axes.titlesize": 13,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        yield fig


def _png(fig) -> bytes:
    """The figure as a PNG at 110 dpi on white, drawn once.

    Not fig.savefig: with a layout engine, savefig first draws the whole figure with
    rendering disabled to run the layout, then draws it again to render, and the second
    draw runs the constrained layout again. One canvas draw runs the layout and renders
    the same image (Figure.draw executes the layout engine) for less work: text layout
    and tick building dominate these charts."""
    fig.set_dpi(110)
    fig.patch.set_facecolor("white")
    buf = io.BytesIO()
    fig.canvas.print_png(buf, metadata={"Software": None})
    return buf.getvalue()


def _money(x, _pos=None) -> str:
    return f"{x:,.0f}"


def _whole(axis) -> None:
    """Ticks at whole numbers only (counts of cases and hits)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def program_chart(totals: pd.DataFrame, lang: str) -> bytes:
    """Two bar panels: cases and amount at risk per program."""
    lang = chart_lang(lang)
    labels = [i18n.program(p, lang) for p in totals["program"]]
    colours = [PROGRAM_COLOURS.get(p, OTHER_COLOUR) for p in totals["program"]]
    with _figure(lang, 10, 3.8) as fig:
        left, right = fig.subplots(1, 2)
        bars = left.bar(labels, totals["cases"], color=colours)
        left.bar_label(bars, fmt="{:,.0f}", padding=2)
        left.set_title(i18n.column("cases", lang))
        left.set_ylabel(i18n.text("cases_axis", lang))
        _whole(left.yaxis)
        bars = right.bar(labels, totals["amount_at_risk"], color=colours)
        right.bar_label(bars, fmt="{:,.0f}", padding=2)
        right.set_title(i18n.column("amount_at_risk", lang))
        right.yaxis.set_major_formatter(_money)
        for ax in (left, right):
            ax.margins(y=0.15)
        return _png(fig)


def township_chart(totals: pd.DataFrame, lang: str, limit: int = 20) -> bytes:
    """Horizontal bars per township (the `limit` with most money at risk): cases and amount."""
    lang = chart_lang(lang)
    shown = totals.head(limit).iloc[::-1]
    with _figure(lang, 10, 1.2 + 0.32 * len(shown)) as fig:
        left, right = fig.subplots(1, 2, sharey=True)
        bars = left.barh(shown["township"], shown["cases"], color="#4C72B0")
        left.bar_label(bars, fmt="{:,.0f}", padding=2)
        left.set_title(i18n.column("cases", lang))
        left.set_ylabel(i18n.column("township", lang))
        _whole(left.xaxis)
        bars = right.barh(shown["township"], shown["amount_at_risk"], color="#C44E52")
        right.bar_label(bars, fmt="{:,.0f}", padding=2)
        right.set_title(i18n.column("amount_at_risk", lang))
        right.xaxis.set_major_formatter(_money)
        for ax in (left, right):
            ax.margins(x=0.2)
        return _png(fig)


def rule_chart(counts: pd.DataFrame, lang: str) -> bytes:
    """Horizontal bars: rule hit rows per rule, coloured by the rule's level."""
    from matplotlib.patches import Patch

    lang = chart_lang(lang)
    shown = counts.iloc[::-1]
    with _figure(lang, 10, 1.3 + 0.34 * len(shown)) as fig:
        ax = fig.subplots()
        bars = ax.barh(
            shown["rule_id"],
            shown["hits"],
            color=[LEVEL_COLOURS.get(lv, OTHER_COLOUR) for lv in shown["level"]],
        )
        ax.bar_label(bars, fmt="{:,.0f}", padding=2)
        ax.set_xlabel(i18n.text("hits_axis", lang))
        ax.margins(x=0.1)
        _whole(ax.xaxis)
        levels = [lv for lv in LEVELS if lv in set(shown["level"])]
        fig.legend(
            handles=[
                Patch(color=LEVEL_COLOURS.get(lv, OTHER_COLOUR), label=i18n.level(lv, lang)) for lv in levels
            ],
            title=i18n.column("level", lang),
            loc="outside right upper",
            frameon=False,
        )
        return _png(fig)


def score_chart(scores: pd.Series, lang: str) -> bytes:
    """Histogram of risk scores over 0-100 in steps of 5, green (low) to red (high)."""
    import numpy as np
    from matplotlib import colormaps

    lang = chart_lang(lang)
    edges = np.arange(0, 105, 5)
    counts, _ = np.histogram(pd.to_numeric(scores, errors="coerce").dropna().clip(0, 100), bins=edges)
    cmap = colormaps["RdYlGn_r"]
    with _figure(lang, 10, 3.4) as fig:
        ax = fig.subplots()
        ax.bar(
            edges[:-1],
            counts,
            width=5,
            align="edge",
            edgecolor="white",
            color=[cmap(e / 100) for e in edges[:-1] + 2.5],
        )
        ax.set_xlim(0, 100)
        ax.set_xticks(range(0, 101, 10))
        ax.set_xlabel(i18n.text("score_axis", lang))
        ax.set_ylabel(i18n.text("cases_axis", lang))
        _whole(ax.yaxis)
        return _png(fig)


def trend_chart(history: pd.DataFrame, lang: str) -> bytes:
    """Two line panels across years, one line per program: cases and amount at risk."""
    lang = chart_lang(lang)
    years = sorted(history["year"].unique())
    with _figure(lang, 10, 3.8) as fig:
        left, right = fig.subplots(1, 2)
        for prog in _order(history["program"].astype(str), i18n.PROGRAM_ORDER):
            rows = (
                history[history["program"].astype(str) == prog]
                .groupby("year")[["cases", "amount_at_risk"]]
                .sum()
            )
            rows = rows.reindex(years, fill_value=0)
            style = {
                "marker": "o",
                "color": PROGRAM_COLOURS.get(prog, OTHER_COLOUR),
                "label": i18n.program(prog, lang),
            }
            left.plot(rows.index, rows["cases"], **style)
            right.plot(rows.index, rows["amount_at_risk"], **style)
        left.set_title(i18n.column("cases", lang))
        right.set_title(i18n.column("amount_at_risk", lang))
        right.yaxis.set_major_formatter(_money)
        _whole(left.yaxis)
        for ax in (left, right):
            ax.set_xticks(years)
            ax.set_ylim(bottom=0)
        left.legend(frameon=False)
        return _png(fig)
