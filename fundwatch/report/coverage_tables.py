"""The coverage list (应享未享) as every export shows it: coverage.csv and coverage_rates.csv,
the workbook's coverage sheets and the page's coverage section. IDs masked by column, as the
case list's are (report/mask.py)."""

from __future__ import annotations

import pandas as pd

from fundwatch.contract.outputs import COVERAGE, COVERAGE_RATES
from fundwatch.report.mask import mask_frame

COVERAGE_CSV = COVERAGE.csv_columns
RATES_CSV = COVERAGE_RATES.csv_columns


def coverage_table(result, lang: str = "en", unmask: bool = False, top: int | None = None) -> pd.DataFrame:
    """The coverage rows as coverage.csv has them, best first; title and summary in `lang`."""
    rows = getattr(result, "coverage", None)
    if rows is None or rows.empty:
        return pd.DataFrame(columns=COVERAGE_CSV)
    rows = (rows if top is None else rows.head(top)).copy()
    if lang == "zh":
        rows["title"], rows["summary"] = rows["title_zh"], rows["summary_zh"]
    rows = rows.reindex(columns=COVERAGE_CSV)
    # A summary quotes its row's evidence and entity: mask_frame reads both from the frame.
    return rows if unmask else mask_frame(rows)


def rates_table(result) -> pd.DataFrame:
    """Per coverage rule and township: eligible, paid, missed, coverage rate (no personal data)."""
    rates = getattr(result, "coverage_rates", None)
    if rates is None or rates.empty:
        return pd.DataFrame(columns=RATES_CSV)
    return rates.reindex(columns=RATES_CSV).sort_values(["rule_id", "township"], ignore_index=True)
