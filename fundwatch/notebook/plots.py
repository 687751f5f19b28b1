"""Charts of a scan result, as matplotlib figures.

Each function builds a bare `matplotlib.figure.Figure` (no pyplot, no global state), so
it works headless, in tests and in notebooks; in Jupyter the figure shows itself as a PNG.
Save one with `fig.savefig("overview.png")`. Labels are in English (no CJK font needed).
"""

from __future__ import annotations

import io

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from fundwatch.report.charts import LEVEL_COLOURS, PROGRAM_COLOURS

PROGRAMS = ("dibao", "subsidy", "housing", "cooperative", "cross")
LEVELS = ("critical", "high", "medium", "low")
STATUS_COLOURS = {"found": "#C44E52", "clean": "#55A868", "skipped": "#8C8C8C", "error": "#000000"}
OTHER = "#8C8C8C"


class NotebookFigure(Figure):
    """A Figure that shows itself as a PNG in Jupyter even when pyplot was never imported.

    >>> fig = plot_scores(result)
    >>> fig._repr_png_()[:4]
    b'\\x89PNG'
    """

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()


def _figure(width: float, height: float) -> NotebookFigure:
    fig = NotebookFigure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _empty(title: str, message: str) -> NotebookFigure:
    fig = _figure(6, 2.5)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#555555")
    return fig


def _ordered(values, order) -> list:
    present = list(dict.fromkeys(values))
    return [v for v in order if v in present] + sorted(v for v in present if v not in order)


def _amounts(cases: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(cases["amount_at_risk"], errors="coerce").fillna(0.0)


def plot_overview(result) -> Figure:
    """A 2×2 grid: cases and amount at risk per programme, cases per level, risk scores per programme.

    >>> fig = plot_overview(result)
    >>> fig.savefig("overview.png")
    """
    cases = result.cases
    if cases.empty:
        return _empty(f"Scan {result.year}", "no cases")
    cases = cases.assign(amount=_amounts(cases))
    programs = _ordered(cases["program"], PROGRAMS)
    colours = [PROGRAM_COLOURS.get(p, OTHER) for p in programs]
    fig = _figure(11, 7.5)
    (ax_n, ax_amt), (ax_lv, ax_sc) = fig.subplots(2, 2)
    fig.suptitle(f"Scan {result.year}: {len(cases):,} cases, {cases['amount'].sum():,.0f} yuan at risk")

    counts = cases.groupby("program").size().reindex(programs)
    ax_n.bar(programs, counts.values, color=colours)
    ax_n.set_title("Cases per programme")
    ax_n.set_ylabel("cases")
    for x, n in enumerate(counts.values):
        ax_n.annotate(f"{n:,}", (x, n), ha="center", va="bottom", fontsize=8)

    amounts = cases.groupby("program")["amount"].sum().reindex(programs)
    ax_amt.bar(programs, amounts.values / 1e4, color=colours)
    ax_amt.set_title("Amount at risk per programme")
    ax_amt.set_ylabel("10,000 yuan")

    levels = _ordered(cases["level"].replace("", "statistical"), (*LEVELS, "statistical"))
    by_level = (
        cases.assign(level=cases["level"].replace("", "statistical"))
        .groupby(["program", "level"])
        .size()
        .unstack(fill_value=0)
        .reindex(index=programs, fill_value=0)
    )
    bottom = pd.Series(0, index=programs)
    for level in levels:
        values = by_level[level] if level in by_level else pd.Series(0, index=programs)
        ax_lv.bar(
            programs, values.values, bottom=bottom.values, label=level, color=LEVEL_COLOURS.get(level, OTHER)
        )
        bottom = bottom + values
    ax_lv.set_title("Cases per level")
    ax_lv.legend(fontsize=8)

    scores = [
        pd.to_numeric(cases.loc[cases["program"] == p, "risk_score"], errors="coerce").dropna().values
        for p in programs
    ]
    ax_sc.boxplot(scores)
    ax_sc.set_xticks(range(1, len(programs) + 1), programs)
    ax_sc.set_title("Risk score per programme")
    ax_sc.set_ylim(0, 100)
    return fig


def plot_scores(result, bins: int = 20) -> Figure:
    """The distribution of risk scores (0–100), stacked by programme.

    >>> plot_scores(result)
    """
    cases = result.cases
    if cases.empty:
        return _empty("Risk scores", "no cases")
    programs = _ordered(cases["program"], PROGRAMS)
    fig = _figure(8, 4)
    ax = fig.add_subplot()
    data = [
        pd.to_numeric(cases.loc[cases["program"] == p, "risk_score"], errors="coerce").dropna().values
        for p in programs
    ]
    ax.hist(
        data,
        bins=bins,
        range=(0, 100),
        stacked=True,
        label=programs,
        color=[PROGRAM_COLOURS.get(p, OTHER) for p in programs],
    )
    ax.set_xlabel("risk score")
    ax.set_ylabel("cases")
    ax.set_title(f"Risk scores of {len(cases):,} cases, {result.year}")
    ax.legend(fontsize=8)
    return fig


def plot_rules(result) -> Figure:
    """Entities flagged per rule, every rule shown: clean at zero, could-not-run and errors labelled.

    >>> plot_rules(result)
    """
    rows = [(o.rule_id, o.status, o.hits) for o in result.outcomes]
    if not rows and not result.hits.empty:
        rows = [(r, "found", n) for r, n in result.hits.groupby("rule_id")["entity_id"].nunique().items()]
    if not rows:
        return _empty("Rules", "no rules ran")
    frame = pd.DataFrame(rows, columns=["rule_id", "status", "hits"]).sort_values(["hits", "rule_id"])
    fig = _figure(8, max(2.5, 0.28 * len(frame) + 1))
    ax = fig.add_subplot()
    ax.barh(frame["rule_id"], frame["hits"], color=[STATUS_COLOURS.get(s, OTHER) for s in frame["status"]])
    top = max(1, frame["hits"].max())
    for y, (status, n) in enumerate(zip(frame["status"], frame["hits"], strict=True)):
        label = {"skipped": "could not run", "error": "error", "clean": "clean"}.get(status, f"{n:,}")
        ax.text(n + top * 0.01, y, label, va="center", fontsize=7)
    ax.set_xlim(0, top * 1.15)
    ax.set_xlabel("entities flagged")
    ax.set_title(f"Hits per rule, {result.year}")
    ax.tick_params(axis="y", labelsize=7)
    return fig


def plot_townships(result, top: int = 20) -> Figure:
    """Cases and amount at risk per township (first 9 digits of `region_code`), top `top` by cases.

    Cases without a region code (agencies, say) are left out; if none has one, the figure says so.

    >>> plot_townships(result)
    """
    cases = result.cases
    codes = cases["region_code"] if "region_code" in cases else pd.Series(dtype=object)
    codes = codes.dropna().astype(str)
    codes = codes[codes.str.len() >= 9]
    if codes.empty:
        return _empty("Townships", "no case has a region code (townships unknown)")
    frame = cases.loc[codes.index].assign(township=codes.str[:9], amount=_amounts(cases.loc[codes.index]))
    per = (
        frame.groupby("township")
        .agg(cases=("case_id", "size"), amount=("amount", "sum"))
        .sort_values(["cases", "amount"], ascending=False)
        .head(top)
        .iloc[::-1]
    )
    fig = _figure(10, max(2.5, 0.3 * len(per) + 1.2))
    ax_n, ax_amt = fig.subplots(1, 2, sharey=True)
    ax_n.barh(per.index, per["cases"], color="#4C72B0")
    ax_n.set_xlabel("cases")
    ax_n.set_title("Cases per township")
    ax_amt.barh(per.index, per["amount"] / 1e4, color="#DD8452")
    ax_amt.set_xlabel("10,000 yuan")
    ax_amt.set_title("Amount at risk")
    fig.suptitle(
        f"{len(frame):,} cases in {frame['township'].nunique():,} townships, {result.year}"
        + (f" (top {top})" if frame["township"].nunique() > top else "")
    )
    return fig
