"""The township chart is readable (issue 22 item 6): tick labels never run into each other,
amounts are in 万元 in Chinese and with thousands separators in English, townships carry
their names where a caller has them (by code otherwise)."""

import pandas as pd
import pytest

from fundwatch.report import charts

TOWNSHIPS = pd.DataFrame({
    "township": [f"5226311{i:02d}" for i in range(1, 21)],
    "cases": list(range(20, 0, -1)),
    "amount_at_risk": [987_654.32 - 40_000 * i for i in range(20)],
})


@pytest.fixture
def drawn(monkeypatch):
    figures = []
    real = charts._png
    monkeypatch.setattr(charts, "_png", lambda fig: figures.append(fig) or real(fig))
    return figures


def _ticks(ax, axis: str):
    renderer = ax.figure.canvas.get_renderer()
    labels = [t for t in getattr(ax, f"get_{axis}ticklabels")() if t.get_text() and t.get_visible()]
    return labels, [t.get_window_extent(renderer) for t in labels]


def _overlaps(boxes) -> list:
    return [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.overlaps(b)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_amount_ticks_do_not_run_into_each_other(drawn, lang):
    charts.township_chart(TOWNSHIPS, lang)
    amount_ax = drawn[0].axes[1]
    labels, boxes = _ticks(amount_ax, "x")
    assert len(labels) >= 2 and _overlaps(boxes) == []
    texts = [t.get_text() for t in labels]
    if lang == "zh":
        assert amount_ax.get_xlabel() == "万元"
        shown = dict(zip(amount_ax.get_xticks(), (t.get_text() for t in amount_ax.get_xticklabels()), strict=True))
        assert all(text == f"{pos / 10_000:,.0f}" for pos, text in shown.items() if text)  # 300,000 yuan = 30 万元
        assert max(float(t) for t in texts) >= 90  # the largest township, 987,654 yuan, is on the scale
    else:
        assert amount_ax.get_xlabel() == "yuan" and any("," in t for t in texts)


def test_township_labels_do_not_overlap(drawn):
    charts.township_chart(TOWNSHIPS, "en")
    labels, boxes = _ticks(drawn[0].axes[0], "y")
    assert len(labels) == 20 and _overlaps(boxes) == []


def test_townships_are_named_where_names_are_known(drawn):
    names = {"522631101": "德凤街道", "522631102": "高屯街道"}
    charts.township_chart(TOWNSHIPS, "zh", names=names)
    shown = {t.get_text() for t in drawn[0].axes[0].get_yticklabels()}
    assert "德凤街道 (522631101)" in shown and "高屯街道 (522631102)" in shown and "522631103" in shown


def test_other_money_axes_are_formatted_alike(drawn):
    totals = pd.DataFrame({"program": ["dibao", "subsidy"], "cases": [3, 4], "amount_at_risk": [812_000.0, 1_230_000.0]})
    charts.program_chart(totals, "zh")
    assert drawn[0].axes[1].get_ylabel() == "万元"
    labels, boxes = _ticks(drawn[0].axes[1], "y")
    assert _overlaps(boxes) == [] and all("," not in t.get_text() or len(t.get_text()) < 6 for t in labels)
