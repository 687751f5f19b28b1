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


# --- from a real scan: the county's [regions] names reach the chart ---------------------------


@pytest.fixture(scope="module")
def named_scan(tmp_path_factory):
    """A small generated county scanned with a fundwatch.toml naming two of its townships."""
    from fundwatch.report import tables
    from fundwatch.workspace import Workspace
    from fundwatch_sample import generate_world

    root = tmp_path_factory.mktemp("named")
    generate_world(root / "data", scale=0.1, seed=7)
    config = root / "fundwatch.toml"
    config.write_text('[regions]\n"522631101" = "德凤街道"\n"522631103" = "高屯街道"\n"5226" = "黔东南州"\n',
                      encoding="utf-8")
    ws = Workspace()
    try:
        result = ws.scan(2023, data=root / "data", config=config, outliers=False)
    finally:
        ws.close()
    return result, tables.township_totals(result.cases)


def test_a_scan_names_its_townships_in_the_report(drawn, named_scan):
    from fundwatch.report.html import render_html

    result, totals = named_scan
    assert result.run["region_names"]["522631101"] == "德凤街道"  # in run.json, so a reused run keeps them
    assert {"522631101", "522631103"} <= set(totals["township"])  # the names are of townships with cases
    for lang in ("zh", "en"):
        drawn.clear()
        render_html(result, lang=lang)
        township_fig = next(f for f in drawn if f.axes and f.axes[0].get_ylabel() in ("乡镇", "Township"))
        shown = [t.get_text() for t in township_fig.axes[0].get_yticklabels()]
        assert "德凤街道 (522631101)" in shown and "高屯街道 (522631103)" in shown
        assert set(shown) - {"德凤街道 (522631101)", "高屯街道 (522631103)"} == set(totals["township"]) - {
            "522631101", "522631103"}  # every other township by its code
        amount = township_fig.axes[1]
        largest = float(totals["amount_at_risk"].max())
        ticks = [t.get_text() for t in amount.get_xticklabels() if t.get_text()]
        bar_texts = [t.get_text() for t in amount.texts]
        if lang == "zh":
            assert amount.get_xlabel() == "万元" and amount.get_title() == "涉及金额（万元）"
            assert amount.xaxis.get_major_formatter()(300_000) == "30"
            assert f"{largest / 10_000:,.2f}" in bar_texts  # the bars in the axis's unit
        else:
            assert amount.get_xlabel() == "yuan"
            assert amount.xaxis.get_major_formatter()(300_000) == "300,000"
            assert f"{largest:,.0f}" in bar_texts
        assert len(ticks) >= 2 and _overlaps(_ticks(amount, "x")[1]) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_twenty_named_townships_do_not_overlap(drawn, lang):
    names = {code: f"{'德凤高屯'[i % 4]}{'镇街乡'[i % 3]}第{i}片区" for i, code in enumerate(TOWNSHIPS["township"])}
    charts.township_chart(TOWNSHIPS, lang, names=names)
    labels, boxes = _ticks(drawn[0].axes[0], "y")
    assert len(labels) == 20 and _overlaps(boxes) == []
    assert all(names[code] in t.get_text() for code, t in zip(TOWNSHIPS["township"][::-1], labels, strict=True))
    amount_labels, amount_boxes = _ticks(drawn[0].axes[1], "x")
    assert _overlaps(amount_boxes) == [] and len(amount_labels) >= 2


@pytest.mark.parametrize(("toml", "message"), [
    ('[regions]\n"52263x" = "德凤街道"\n', 'regions."52263x": a region code is 2-12 digits'),
    ('[regions]\n"522631101" = ""\n', 'regions."522631101": the name must be text'),
    ('[regions]\n"522631101" = 3\n', 'regions."522631101": the name must be text'),
    ('regions = "德凤街道"\n', "[regions] must be a table"),
])
def test_bad_region_names_name_the_file_and_key(tmp_path, toml, message):
    from fundwatch.config import load_config
    from fundwatch.errors import ConfigError

    path = tmp_path / "fundwatch.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert str(path) in str(e.value) and message in str(e.value)


def test_a_later_file_names_over_the_one_it_extends(tmp_path):
    from fundwatch.config import load_config

    (tmp_path / "province.toml").write_text('[regions]\n"522631101" = "旧名"\n"522631102" = "高屯街道"\n',
                                            encoding="utf-8")
    (tmp_path / "county.toml").write_text('extends = ["province.toml"]\n[regions]\n"522631101" = "德凤街道"\n',
                                          encoding="utf-8")
    assert load_config(tmp_path / "county.toml").regions == {"522631101": "德凤街道", "522631102": "高屯街道"}
