"""The charts of report.html: PNG bytes drawn with matplotlib's Agg canvas on a bare
`Figure`: no pyplot, no global backend or rcParams change. Chinese labels need a CJK font
(fonts.py); without one the charts are labelled in English.
"""

from __future__ import annotations

import io
from contextlib import contextmanager

import pandas as pd

from fundwatch.report import i18n
from fundwatch.report.fonts import chart_lang, cjk_font, matplotlib_logged
from fundwatch.report.tables import LEVELS, ordered

PROGRAM_COLOURS = {
    "dibao": "#4C72B0",
    "subsidy": "#DD8452",
    "housing": "#55A868",
    "cooperative": "#C44E52",
    "cross": "#8172B3",
}
LEVEL_COLOURS = {"critical": "#B2182B", "high": "#E6550D", "medium": "#FDAE6B", "low": "#9ECAE1"}
OTHER_COLOUR = "#8C8C8C"


# ---------------------------------------------------------------- drawing


@contextmanager
def _figure(lang: str, width: float, height: float, cjk: bool = False):
    """A Figure on an Agg canvas, drawn under rc settings local to this block; with the CJK
    font in Chinese, and in English where `cjk` (Chinese names to draw)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Not in every English chart: a CJK font without a regular face makes matplotlib log a
    # findfont warning each time it is looked up, and English charts need it only for names.
    family = ["DejaVu Sans", cjk_font()] if (lang == "zh" or cjk) and cjk_font() else ["DejaVu Sans"]
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
    with matplotlib.rc_context(rc), matplotlib_logged():
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


def _wan(x, _pos=None) -> str:
    """Yuan as 万元 (10,000 yuan), the unit Chinese readers count public money in."""
    v = x / 10_000
    return f"{v:,.0f}" if v == round(v) else f"{v:,.2f}".rstrip("0")


def _money_axis(axis, lang: str, label_axis) -> None:
    """An amount axis readable at a glance: a few ticks (their labels never run into each
    other), 万元 in Chinese, thousands separators in English."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=4, min_n_ticks=2))
    axis.set_major_formatter(_wan if lang == "zh" else _money)
    label_axis(i18n.text("wan_yuan", lang) if lang == "zh" else i18n.text("yuan", lang))


def _money_bars(lang: str):
    """The label on an amount bar, in the axis's unit: 万元 to 2 decimals in Chinese."""
    return (lambda v: f"{v / 10_000:,.2f}") if lang == "zh" else "{:,.0f}"


def _money_title(lang: str) -> str:
    """An amount panel's title, naming the axis's unit."""
    return i18n.text("amount_wan", lang) if lang == "zh" else i18n.column("amount_at_risk", lang)


def township_label(code: str, names: dict | None) -> str:
    """A township by its name where the county's region names are known, by its code otherwise."""
    name = (names or {}).get(code)
    return f"{name} ({code})" if name else str(code)


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
        right.bar_label(bars, fmt=_money_bars(lang), padding=2)
        right.set_title(_money_title(lang))
        _money_axis(right.yaxis, lang, right.set_ylabel)
        for ax in (left, right):
            ax.margins(y=0.15)
        return _png(fig)


def township_chart(totals: pd.DataFrame, lang: str, limit: int = 20, names: dict | None = None) -> bytes:
    """Horizontal bars per township (the `limit` with most money at risk): cases and amount.

    `names` (township code -> name: the county's [regions] in fundwatch.toml, run.json's
    region_names) labels them by name, by code where a township has none."""
    lang = chart_lang(lang)
    shown = totals.head(limit).iloc[::-1].copy()
    # Names are Chinese: drawn only where there is a CJK font to draw them, by code otherwise.
    named = bool(names) and cjk_font() is not None
    shown["township"] = [township_label(c, names if named else None) for c in shown["township"]]
    with _figure(lang, 10, 1.2 + 0.32 * len(shown), cjk=named) as fig:
        left, right = fig.subplots(1, 2, sharey=True)
        bars = left.barh(shown["township"], shown["cases"], color="#4C72B0")
        left.bar_label(bars, fmt="{:,.0f}", padding=2)
        left.set_title(i18n.column("cases", lang))
        left.set_ylabel(i18n.column("township", lang))
        _whole(left.xaxis)
        bars = right.barh(shown["township"], shown["amount_at_risk"], color="#C44E52")
        right.bar_label(bars, fmt=_money_bars(lang), padding=2)
        right.set_title(_money_title(lang))
        _money_axis(right.xaxis, lang, right.set_xlabel)
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
        for prog in ordered(history["program"].astype(str), i18n.PROGRAM_ORDER):
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
        right.set_title(_money_title(lang))
        _money_axis(right.yaxis, lang, right.set_ylabel)
        _whole(left.yaxis)
        for ax in (left, right):
            ax.set_xticks(years)
            ax.set_ylim(bottom=0)
        left.legend(frameon=False)
        return _png(fig)


def coverage_chart(totals: pd.DataFrame, lang: str, limit: int = 20, names: dict | None = None) -> bytes:
    """Horizontal bars per township (the `limit` with the lowest coverage): missed beneficiaries,
    stacked on the paid ones (together the eligible), and the coverage rate.

    `totals`: township, eligible, paid, missed, coverage_rate (coverage/rates.py township_totals)."""
    from matplotlib.ticker import PercentFormatter

    lang = chart_lang(lang)
    shown = totals.head(limit).iloc[::-1].copy()
    named = bool(names) and cjk_font() is not None
    unknown = i18n.text("unknown_township", "en" if lang == "en" or not cjk_font() else lang)
    shown["township"] = [township_label(c, names if named else None) if c else unknown for c in shown["township"]]
    with _figure(lang, 10, 1.4 + 0.32 * len(shown), cjk=named) as fig:
        left, right = fig.subplots(1, 2, sharey=True)
        left.barh(shown["township"], shown["paid"], color="#9ECAE1", label=i18n.column("paid", lang))
        bars = left.barh(shown["township"], shown["missed"], left=shown["paid"], color="#C44E52",
                         label=i18n.column("missed", lang))
        left.bar_label(bars, labels=[f"{m:,}" for m in shown["missed"]], padding=2)
        left.set_title(f"{i18n.column('missed', lang)} / {i18n.column('eligible', lang)}")
        left.set_ylabel(i18n.column("township", lang))
        left.legend(frameon=False, loc="lower right")
        _whole(left.xaxis)
        bars = right.barh(shown["township"], shown["coverage_rate"], color="#55A868")
        right.bar_label(bars, labels=[f"{r:.0%}" for r in shown["coverage_rate"]], padding=2)
        right.set_title(i18n.column("coverage_rate", lang))
        right.set_xlim(0, 1.15)
        right.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        left.margins(x=0.2)
        return _png(fig)
