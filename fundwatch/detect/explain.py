"""One plain sentence per flagged entity, in English and Chinese, naming the two or three
features that made it stand out, with the entity's value and its peer group's median.

Features are ranked by how far the entity is from its peers in the direction that counts
(the detector's own inputs): the first always, up to two more if they are at least
NOTABLE_Z robust standard deviations out.
"""

from __future__ import annotations

import math

import numpy as np

from fundwatch.detect.model import directional

NOTABLE_Z = 2.0
MAX_FEATURES = 3

UNIT_EN = {
    "yuan": " yuan",
    "days": " days",
    "m3": " m³",
    "kwh": " kWh",
    "mu": "",
    "people": "",
    "count": "",
    "share": "",
    "ratio": "",
}
UNIT_ZH = {
    "yuan": "元",
    "days": "天",
    "m3": "立方米",
    "kwh": "千瓦时",
    "mu": "",
    "people": "人",
    "count": "",
    "share": "",
    "ratio": "",
}


def top_features(z_row: np.ndarray, directions: np.ndarray) -> list[int]:
    """Indices of the features to name for one entity, strongest first."""
    d = np.abs(directional(z_row, directions))
    order = [int(i) for i in np.argsort(-d, kind="stable") if d[i] > 0]
    if not order:
        return []
    return [order[0]] + [i for i in order[1:MAX_FEATURES] if d[i] >= NOTABLE_Z]


def fmt(v: float, unit: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if unit == "share":
        return f"{v * 100:.0f}%"
    if unit in ("yuan", "kwh", "days"):
        return f"{v:,.0f}"
    if unit in ("ratio", "m3", "mu"):
        return f"{v:,.2f}".rstrip("0").rstrip(".") if abs(v) < 100 else f"{v:,.0f}"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def describe_peer(fs, tag: str | None, lang: str) -> str:
    if not tag:
        return "its peers" if lang == "en" else "同类"
    name, *values = str(tag).split("|")
    level = fs.level(name)
    return (level.en if lang == "en" else level.zh).format(*values)


def _times(v, med) -> float | None:
    if v is None or med is None or not med or med <= 0 or v < 0:
        return None
    r = v / med
    return r if (r >= 1.5 or r <= 0.67) else None


def phrase(fs, f, year: int, v, med, tag, same_peer: bool, lang: str) -> str:
    label = (f.en if lang == "en" else f.zh).format(year=year)
    peer = describe_peer(fs, tag, lang)
    r = _times(v, med) if f.unit in ("yuan", "m3", "kwh", "mu", "ratio") else None
    if lang == "en":
        val, m = fmt(v, f.unit) + UNIT_EN[f.unit], fmt(med, f.unit) + UNIT_EN[f.unit]
        whose = "the same peers" if same_peer else peer
        if r is not None:
            return f"{label} {val}, {r:.1f}× the median of {m} for {whose}"
        return f"{label} {val} (median {m} for {whose})"
    val, m = fmt(v, f.unit) + UNIT_ZH[f.unit], fmt(med, f.unit) + UNIT_ZH[f.unit]
    whose = "同组" if same_peer else peer
    if r is not None:
        return f"{label}{val}，为{whose}中位数{m}的{r:.1f}倍"
    return f"{label}{val}（{whose}中位数{m}）"


def sentence(fs, year: int, entity_id: str, row: dict, top: list[int]) -> tuple[str, str]:
    """(English, Chinese) explanation of one entity; `row` holds f, f_med, f_peer per feature."""
    if not top:
        return (
            f"{fs.noun_en} {entity_id} stands out only through an unusual combination of values.",
            f"{fs.noun_zh}{entity_id}各项指标组合异常。",
        )
    en, zh, seen = [], [], None
    for i in top:
        f = fs.features[i]
        v, med, tag = row.get(f.name), row.get(f"{f.name}_med"), row.get(f"{f.name}_peer")
        v = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
        med = None if med is None or (isinstance(med, float) and math.isnan(med)) else float(med)
        same = tag == seen
        en.append(phrase(fs, f, year, v, med, tag, same, "en"))
        zh.append(phrase(fs, f, year, v, med, tag, same, "zh"))
        seen = tag
    return (
        f"{fs.noun_en} {entity_id} stands out from its peers: {'; '.join(en)}.",
        f"{fs.noun_zh}{entity_id}与同类相比异常：{'；'.join(zh)}。",
    )
