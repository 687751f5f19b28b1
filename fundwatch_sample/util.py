"""Calendar and sampling helpers shared by the generator modules.

Dates are held as int32 day numbers (days since 1970-01-01) so that whole columns can be
shifted and compared with numpy; months as int month indexes (year * 12 + month - 1).
"""

from __future__ import annotations

import numpy as np

# Sentinels: NA is a missing optional date, OPEN an interval that has not ended (compares
# greater than every real date, so "end >= d" works without special cases).
NA = -999_999
OPEN = 999_999

YEARS = (2022, 2023, 2024)
FIRST_MONTH = 2022 * 12  # 2022-01
LAST_MONTH = 2024 * 12 + 11  # 2024-12
_EPOCH_MONTH = 1970 * 12


def day(y: int, m: int = 1, d: int = 1) -> int:
    """Day number of one calendar date."""
    return int(np.datetime64(f"{y:04d}-{m:02d}-{d:02d}", "D").astype(np.int64))


def days(values) -> np.ndarray:
    """Day numbers of ISO date strings (vectorised, for small lists)."""
    return np.asarray(values, dtype="datetime64[D]").astype(np.int64)


def month_of(d) -> np.ndarray | int:
    """Month index of day numbers."""
    arr = np.asarray(d, dtype=np.int64)
    out = arr.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) + _EPOCH_MONTH
    return int(out) if out.ndim == 0 else out


def month_start(m) -> np.ndarray | int:
    """Day number of the first day of month index m."""
    arr = np.asarray(m, dtype=np.int64) - _EPOCH_MONTH
    out = arr.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return int(out) if out.ndim == 0 else out


def month_end(m) -> np.ndarray | int:
    """Day number of the last day of month index m."""
    return month_start(np.asarray(m) + 1) - 1 if np.ndim(m) else month_start(m + 1) - 1


def mi(y: int, m: int) -> int:
    """Month index of year y, month m (1-12)."""
    return y * 12 + m - 1


def year_of(d) -> np.ndarray:
    return (
        np.asarray(d, dtype=np.int64).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    )


def period_labels(first: int, last: int) -> list[str]:
    """'YYYY-MM' for month indexes first..last inclusive."""
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(first, last + 1)]


def rand_day(rng: np.random.Generator, lo: int, hi, n: int | None = None):
    """Uniform day numbers in [lo, hi] (hi inclusive; arrays broadcast)."""
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    u = rng.random(n if n is not None else np.broadcast(lo, hi).shape)
    return (lo + np.floor(u * (hi - lo + 1))).astype(np.int64)


def choice_idx(rng: np.random.Generator, weights, n: int) -> np.ndarray:
    """n draws of category indexes with the given (unnormalised) weights."""
    w = np.asarray(weights, dtype=float)
    return rng.choice(len(w), size=n, p=w / w.sum())


def group_ranks(keys: np.ndarray) -> np.ndarray:
    """Rank of each element within its group of equal keys, in array order (0-based)."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    starts = np.r_[0, np.flatnonzero(k[1:] != k[:-1]) + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, n]))
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = np.arange(n) - first
    return ranks


def expand_ranges(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For intervals [first_i, last_i] return (owner index, value) for every integer inside.

    The vectorised replacement of `for i: for v in range(first[i], last[i] + 1)`.
    """
    first = np.asarray(first, dtype=np.int64)
    last = np.asarray(last, dtype=np.int64)
    counts = np.maximum(last - first + 1, 0)
    owner = np.repeat(np.arange(len(first)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, first[owner] + offsets


def cents(yuan) -> np.ndarray:
    """Yuan amounts to integer cents, rounded half away from zero."""
    a = np.asarray(yuan, dtype=float)
    return (np.sign(a) * np.floor(np.abs(a) * 100 + 0.5)).astype(np.int64)
