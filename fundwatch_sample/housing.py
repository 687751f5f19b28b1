"""Public rental housing (公租房): units, leases, co-residents, rent ledger and meter readings.

Units sit in a few estates in the county seat. Most were let before 2022 and stay let; about
one in seven changes tenant during 2022-2024 after a short vacancy. Rent is paid within the
month (a few payments slip into the next month, none is missed), from the tenant's own
account, and every occupied month has ordinary water and electricity readings. Tenancies
are one row of parameters each; plant_housing.py changes those before `ledger()` expands them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fundwatch_sample.people import HEAD, HOUSING
from fundwatch_sample.util import FIRST_MONTH, LAST_MONTH, NA, OPEN, day, month_of, month_start, rand_day

RENT_PER_M2 = 7.2  # yuan per square metre per month
ESTATES = ("德凤", "五开", "南泉", "城北")


def units(w, n: int) -> pd.DataFrame:
    rng = w.rng
    estate = np.sort(rng.integers(0, len(ESTATES), n))
    seq = np.arange(n) - np.searchsorted(estate, estate)  # running number inside the estate
    building, rest = 1 + seq // 60, seq % 60
    floor, room = 1 + rest // 6, 1 + rest % 6
    area = np.round(rng.choice([40.5, 45.2, 50.8, 55.3, 60.1], n) + rng.normal(0, 0.3, n), 1)
    return pd.DataFrame(
        {
            "code": [
                f"GZF{e + 1}-{b:02d}-{f:02d}{r:02d}"
                for e, b, f, r in zip(estate, building, floor, room, strict=True)
            ],
            "area": area,
            "rent": (np.round(area * RENT_PER_M2) * 100).astype(np.int64),  # cents
        }
    )


def tenancies(w) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A chain of one or two leases per unit; each lease houses one HOUSING family."""
    rng, fam = w.rng, w.fam
    u = w.units
    n = len(u)
    vacant = rng.random(n) < 0.07
    start1 = np.where(
        vacant,
        rand_day(rng, day(2022, 1, 10), day(2023, 6, 30), n),
        rand_day(rng, day(2013, 1, 1), day(2021, 12, 20), n),
    )
    turnover = rng.random(n) < 0.15
    end1 = np.where(
        turnover, rand_day(rng, np.maximum(start1 + 200, day(2022, 2, 1)), day(2024, 8, 31)), OPEN
    )
    end1 = np.where(end1 > day(2024, 9, 30), OPEN, end1)
    second = end1 != OPEN
    start2 = end1[second] + rng.integers(20, 120, second.sum())
    ok2 = start2 <= day(2024, 11, 30)
    unit = np.r_[np.arange(n), np.flatnonzero(second)[ok2]]
    start = np.r_[start1, start2[ok2]]
    end = np.r_[end1, np.full(ok2.sum(), OPEN)]
    order = np.lexsort((start, unit))
    unit, start, end = unit[order], start[order], end[order]
    fams = fam[fam.kind == HOUSING]
    if len(fams) < len(unit):
        raise ValueError("not enough housing families for the leases")
    f = fams.iloc[: len(unit)]
    size = f["size"].to_numpy()
    income = (np.round(rng.uniform(1000, 3800, len(unit)) / 10) * 1000).astype(np.int64)
    t = pd.DataFrame(
        {
            "unit": unit, "fam": f.index.to_numpy(), "tenant": f["head"].to_numpy(), "start": start, "end": end,
            "size": size, "rent": u.rent.to_numpy()[unit], "income": income, "acct": f["head"].to_numpy(),
            "list_tenant": rng.random(len(unit)) < 0.5,  # roster lists the tenant too
            # scenario hooks
            "unpaid_from": OPEN, "unpaid_to": -1, "late_month": -1, "late_days": 0,
            "payer2": -1, "payer2_from": OPEN, "payer2_to": -1,
            "low_from": OPEN, "low_to": -1, "util_factor": 1.0, "hi_from": OPEN, "hi_to": -1,
        }
    )  # fmt: skip
    w.spare_housing_families = fams.index.to_numpy()[len(unit) :]
    p = w.people
    mem = p[p.kind == HOUSING]
    fam_to_t = np.full(len(fam), -1)
    fam_to_t[t.fam.to_numpy()] = np.arange(len(t))
    tid = fam_to_t[mem.fam.to_numpy()]
    keep = tid >= 0
    rel = mem.rel.to_numpy()[keep]
    tid = tid[keep]
    listed = (rel != HEAD) | t.list_tenant.to_numpy()[tid]
    roster = pd.DataFrame(
        {"ten": tid[listed], "person": mem.index.to_numpy()[keep][listed], "rel": rel[listed]}
    )
    return t, roster


def rent_months(start, end) -> tuple[np.ndarray, np.ndarray]:
    """First and last month rent is charged for (inside 2022-2024)."""
    first = np.maximum(month_of(np.asarray(start) + 21), FIRST_MONTH)
    end = np.asarray(end)
    last = np.where(end == OPEN, LAST_MONTH, month_of(np.minimum(end, day(2100, 1, 1))))
    return first, np.minimum(last, LAST_MONTH)


def ledger(w) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rent rows and utility readings for every let month."""
    t, rng = w.ten, w.rng
    first, last = rent_months(t.start.to_numpy(), t.end.to_numpy())
    counts = np.maximum(last - first + 1, 0)
    i = np.repeat(np.arange(len(t)), counts)
    month = first[i] + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    n = len(i)
    col = {c: t[c].to_numpy()[i] for c in ("rent", "acct", "unpaid_from", "unpaid_to", "late_month", "late_days",
                                             "payer2", "payer2_from", "payer2_to", "low_from", "low_to", "util_factor", "hi_from", "hi_to", "size")}  # fmt: skip
    paid_day = month_start(month) + rng.integers(0, 21, n)
    paid_day = paid_day + np.where(rng.random(n) < 0.03, rng.integers(20, 40, n), 0)
    paid_day = np.where(month == col["late_month"], month_start(month) + col["late_days"], paid_day)
    unpaid = (month >= col["unpaid_from"]) & (month <= col["unpaid_to"])
    payer = np.where((month >= col["payer2_from"]) & (month <= col["payer2_to"]), col["payer2"], col["acct"])
    rent = pd.DataFrame(
        {
            "ten": i, "month": month, "due": col["rent"], "paid": np.where(unpaid, 0, col["rent"]),
            "paid_date": np.where(unpaid, NA, paid_day), "payer": np.where(unpaid, -1, payer),
        }
    )  # fmt: skip
    season = np.array([1.35, 1.25, 1.0, 0.9, 0.9, 1.05, 1.3, 1.35, 1.05, 0.9, 0.95, 1.2])[month % 12]
    size = col["size"].astype(float)
    water = np.maximum(1.8, size**0.8 * rng.uniform(2.2, 3.6, n) * (0.85 + 0.15 * season))
    elec = np.maximum(45, 55 * size**0.7 * season * rng.lognormal(0, 0.15, n))
    low = (month >= col["low_from"]) & (month <= col["low_to"])
    factor = np.where((month >= col["hi_from"]) & (month <= col["hi_to"]), col["util_factor"], 1.0)
    water = np.where(low, rng.uniform(0, 0.3, n), water * factor)
    elec = np.where(low, rng.integers(0, 4, n), elec * factor)
    util = pd.DataFrame(
        {"unit": t.unit.to_numpy()[i], "month": month, "water": np.round(water, 1), "elec": np.round(elec)}
    )
    return rent, util.sort_values(["unit", "month"], kind="stable", ignore_index=True)


__all__ = ["units", "tenancies", "ledger", "rent_months", "OPEN", "NA"]
