"""Low-income benefit (低保): enrolled households, their rosters and monthly payments.

A household's monthly amount is the gap to the local standard, (standard - per-capita
declared income) x household size, rounded down to whole yuan; some households receive a
classified share of it (分类施保), never more. Payments are made for every month from the
month after approval (or the approval month, when approved in its first ten days) until the
month of exit, a few days after the period starts.

Households are held as one row of parameters each (hh frame); scenarios in plant_dibao.py
change those parameters or add explicit payments before `payments()` expands them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fundwatch_sample.people import DIBAO
from fundwatch_sample.util import FIRST_MONTH, LAST_MONTH, OPEN, day, month_of, month_start, rand_day

STANDARD = 800  # yuan per person per month, all three years (the rule's default parameter)


def households(w) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One household per DIBAO family; the roster is the whole family."""
    rng, p, fam = w.rng, w.people, w.fam
    f = fam[fam.kind == DIBAO]
    n = len(f)
    before = rng.random(n) < 0.68  # most were enrolled before 2022
    start = np.where(
        before,
        rand_day(rng, day(2012, 1, 1), day(2021, 11, 30), n),
        rand_day(rng, day(2022, 1, 1), day(2024, 8, 31), n),
    )
    leaves = rng.random(n) < 0.12
    end = np.where(leaves, rand_day(rng, np.maximum(start + 240, day(2022, 3, 1)), day(2024, 12, 31)), OPEN)
    end = np.where(end > day(2024, 12, 31), OPEN, end)
    size = f["size"].to_numpy()
    pc_income = np.where(rng.random(n) < 0.25, 0, rng.uniform(0, 0.75 * STANDARD, n))
    income = (np.floor(pc_income * size / 10) * 1000).astype(np.int64)  # cents, whole tens of yuan
    township = w.villages.township.to_numpy()[f.village.to_numpy()]
    approver = w.approvers[township, rng.integers(0, 2, n)]
    factor = np.where(rng.random(n) < 0.2, rng.uniform(0.85, 0.99, n), 1.0)
    hh = pd.DataFrame(
        {
            "fam": f.index.to_numpy(), "head": f["head"].to_numpy(), "village": f.village.to_numpy(),
            "start": start, "end": end, "size": size, "income": income, "approver": approver,
            "factor": factor, "acct": f["head"].to_numpy(),
            # scenario hooks (defaults = no effect)
            "acct2": -1, "acct2_from": OPEN, "amount2": -1, "amount2_from": OPEN, "amount2_to": OPEN,
            "last_late": 0, "amount_override": -1,
        }
    )  # fmt: skip
    members = p[p.kind == DIBAO]
    fam_to_hh = np.full(len(fam), -1)
    fam_to_hh[hh.fam.to_numpy()] = np.arange(n)
    rel = members.rel.to_numpy()
    roster = pd.DataFrame(
        {"hh": fam_to_hh[members.fam.to_numpy()], "person": members.index.to_numpy(), "rel": rel}
    )
    return hh, roster


def monthly_amount(size, income_cents, factor) -> np.ndarray:
    """Cents per month: the standard gap, times the classification factor, down to whole yuan."""
    gap = np.asarray(size) * STANDARD * 100 - np.asarray(income_cents)
    return (np.floor(gap * np.asarray(factor) / 100) * 100).astype(np.int64)


def first_paid_month(start) -> np.ndarray:
    """Approved in the first ten days of a month: paid from that month, else from the next."""
    return month_of(np.asarray(start) + 21)


def payments(w) -> pd.DataFrame:
    """Expand households into monthly payments (vectorised), then add scenario payments."""
    hh, rng = w.hh, w.rng
    first = np.maximum(first_paid_month(hh.start.to_numpy()), FIRST_MONTH)
    end = hh.end.to_numpy()
    last = np.where(end == OPEN, LAST_MONTH, month_of(np.minimum(end, day(2100, 1, 1))))
    last = np.minimum(last, LAST_MONTH)
    amount = monthly_amount(hh["size"], hh.income, hh.factor)
    amount = np.where(hh.amount_override >= 0, hh.amount_override, amount)
    counts = np.maximum(last - first + 1, 0)
    h = np.repeat(np.arange(len(hh)), counts)
    month = first[h] + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    n = len(h)
    pay = month_start(month) + rng.integers(4, 12, n)
    late = rng.random(n) < 0.02  # a few slow months, within limits
    pay = pay + np.where(late, rng.integers(8, 20, n), 0)
    is_last = month == last[h]
    pay = pay + np.where(is_last, hh.last_late.to_numpy()[h], 0)
    second = (month >= hh.amount2_from.to_numpy()[h]) & (month <= hh.amount2_to.to_numpy()[h])
    amt = np.where(second, hh.amount2.to_numpy()[h], amount[h])
    acct = np.where(month >= hh.acct2_from.to_numpy()[h], hh.acct2.to_numpy()[h], hh.acct.to_numpy()[h])
    bulk = pd.DataFrame({"hh": h, "month": month, "amount": amt, "pay": pay, "acct": acct})
    if w.extra["dibao_payments"]:
        extra = pd.DataFrame(w.extra["dibao_payments"])
        default = extra.amount < 0
        extra.loc[default, "amount"] = amount[extra.hh[default].to_numpy()]
        extra["acct"] = extra.acct.where(extra.acct >= 0, hh.acct.to_numpy()[extra.hh.to_numpy()])
        bulk = pd.concat([bulk, extra[bulk.columns]], ignore_index=True)
    bulk = bulk.sort_values(["hh", "month", "pay"], kind="stable", ignore_index=True)
    return bulk
