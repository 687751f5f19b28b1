"""The one check of a scan year: a whole number a date can hold, refused before anything runs.

A rule binds {year_start} and {year_end} as dates, so a year Python's dates cannot hold
(0, -5, 10000) would fail deep inside the first rule with a traceback; it is refused here,
with a message saying what is expected.
"""

from __future__ import annotations

import datetime as dt

from fundwatch.errors import FundwatchError

MIN_YEAR = dt.MINYEAR  # 1
MAX_YEAR = dt.MAXYEAR  # 9999


def check_year(year) -> int:
    """`year` as an int if it is a year a scan can hold; FundwatchError (exit 2) otherwise.

    >>> check_year(2023)
    2023
    """
    if isinstance(year, bool) or not isinstance(year, int):
        raise FundwatchError(f"year: expected a whole number such as 2023, got {year!r}")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise FundwatchError(f"year {year} is out of range: expected a year from {MIN_YEAR} to {MAX_YEAR}, "
                             "such as 2023")
    return year
