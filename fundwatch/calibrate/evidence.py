"""Evidence in words: a histogram of values and counts, a small table."""

from __future__ import annotations

import math

import pandas as pd

BAR = 30  # characters of the longest bar
MAX_BINS = 8


def _label(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.2f}".rstrip("0").rstrip(".")


def histogram(values: pd.Series, counts: pd.Series, unit: str = "", what: str = "observations",
              commonest: bool = False) -> list[str]:
    """Lines such as `780 yuan   41 households (62%) #########`. With more than MAX_BINS values:
    the commonest values and the rest as `other` (`commonest`), else bins of equal width."""
    frame = pd.DataFrame({"v": pd.to_numeric(values, errors="coerce"), "n": pd.to_numeric(counts)}).dropna()
    if frame.empty:
        return []
    total = frame["n"].sum()
    if commonest and frame["v"].nunique() > MAX_BINS:
        groups = frame.groupby("v")["n"].sum().sort_values(ascending=False)
        top = groups.head(MAX_BINS - 1).sort_index()
        rows = [(_label(v), n) for v, n in top.items()] + [("other", groups.iloc[MAX_BINS - 1:].sum())]
    elif frame["v"].nunique() > MAX_BINS:
        lo, hi = frame["v"].min(), frame["v"].max()
        width = max((hi - lo) / MAX_BINS, 1e-9)
        nice = 10 ** math.floor(math.log10(width)) if width >= 1 else width
        width = math.ceil(width / nice) * nice
        start = math.floor(lo / width) * width
        frame["bin"] = ((frame["v"] - start) // width).astype(int)
        groups = frame.groupby("bin")["n"].sum()
        rows = [(f"{_label(start + b * width)} to {_label(start + (b + 1) * width)}", n) for b, n in groups.items()]
    else:
        groups = frame.groupby("v")["n"].sum()
        rows = [(_label(v), n) for v, n in groups.items()]
    top = max(n for _, n in rows)
    width = max(len(label) for label, _ in rows)
    suffix = f" {unit}" if unit else ""
    return [f"{label.rjust(width)}{suffix}  {int(n):>6} {what} ({n / total:4.0%}) {'#' * max(1, round(BAR * n / top))}"
            for label, n in rows]


def table(frame: pd.DataFrame, max_rows: int = 12) -> list[str]:
    if frame.empty:
        return ["(no rows)"]
    lines = frame.head(max_rows).to_string(index=False).splitlines()
    if len(frame) > max_rows:
        lines.append(f"... {len(frame) - max_rows} more rows")
    return lines
