"""Farmers' cooperatives (专业合作社): registrations, members, annual accounts and dividends.

Each cooperative has 12-28 members from FARM families of its township (nobody in two), with
shares of 8-15 units, so no member or pair of members holds most of the capital. Accounts:
revenue and cost are both positive (a tenth of the years make a loss); a dormant tenth
neither trades nor receives subsidies. Dividends are paid for profitable years only,
25-60% of the surplus, in proportion to shares, to members who joined by the year end and
were alive in it, in February-April of the next year. FY2024 dividends are declared but
not yet paid when the data ends. Coops that dissolve got no subsidy in the two years before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fundwatch_sample.people import FARM, REF_DAY, age_on
from fundwatch_sample.util import OPEN, YEARS, day, month_start, rand_day, year_of

PRODUCTS = (
    "茶叶",
    "油茶",
    "香禾糯",
    "蔬菜",
    "生猪养殖",
    "黄牛养殖",
    "中药材",
    "食用菌",
    "精品水果",
    "稻鱼鸭",
)
DIVIDEND_YEARS = (2022, 2023)  # fiscal years whose dividends are paid inside the data


def cooperatives(w, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    p, rng = w.people, w.rng
    age = age_on(p.birth.to_numpy(), REF_DAY)
    eligible = (p.kind.to_numpy() == FARM) & (age >= 22) & (age <= 72) & (p.death.to_numpy() == OPEN)
    town_of = w.villages.township.to_numpy()[p.village.to_numpy()]
    sizes = rng.integers(12, 29, n)
    coop_town = rng.integers(1, w.n_townships, n)  # rural townships
    members, coop_ids = [], []
    taken = np.zeros(len(p), dtype=bool)
    for t in range(w.n_townships):  # members are drawn per township, without replacement
        mine = np.flatnonzero(coop_town == t)
        pool = np.flatnonzero(eligible & (town_of == t))
        need = int(sizes[mine].sum())
        if need > len(pool):
            raise ValueError("not enough farmers for the cooperatives of a township")
        chosen = rng.choice(pool, size=need, replace=False)
        members.append(chosen)
        coop_ids.append(np.repeat(mine, sizes[mine]))
        taken[chosen] = True
    person = np.concatenate(members)
    coop = np.concatenate(coop_ids)
    order = np.lexsort((person, coop))
    person, coop = person[order], coop[order]
    registered = np.where(
        rng.random(n) < 0.9,
        rand_day(rng, day(2009, 3, 1), day(2021, 10, 31), n),
        rand_day(rng, day(2022, 1, 5), day(2023, 3, 31), n),
    )
    first = np.r_[0, np.flatnonzero(np.diff(coop)) + 1]
    legal_rep = person[first]
    village = p.village.to_numpy()[legal_rep]
    product = np.array(PRODUCTS)[rng.integers(0, len(PRODUCTS), n)]
    vname = w.villages.village_name.to_numpy()[village]
    names = pd.Series([f"黎平县{v[:-1]}{pr}专业合作社" for v, pr in zip(vname, product, strict=True)])
    dup = names.groupby(names).cumcount()
    names = names.where(
        dup == 0, names.str.replace("专业合作社", "", regex=False) + [f"第{d + 1}专业合作社" for d in dup]
    )
    dissolves = rng.random(n) < 0.06
    dissolved = np.where(
        dissolves, rand_day(rng, np.maximum(registered + 400, day(2022, 2, 1)), day(2024, 11, 30)), OPEN
    )
    dissolved = np.where(dissolved > day(2024, 12, 31), OPEN, dissolved)
    coops = pd.DataFrame(
        {
            "name": names.to_numpy(), "village": village, "registered": registered, "dissolved": dissolved,
            "legal_rep": legal_rep, "dormant": rng.random(n) < 0.1, "declared": 0,
            "revenue_base": np.clip(rng.lognormal(np.log(600_000), 0.8, n), 60_000, 8_000_000),
        }
    )  # fmt: skip
    reg = registered[coop]
    late = rng.random(len(coop)) < 0.15
    join = np.where(
        late,
        np.minimum(reg + rng.integers(365, 6 * 365, len(coop)), day(2022, 12, 20)),
        reg + rng.integers(0, 60, len(coop)),
    )
    join = np.maximum(join, reg)
    shares = rng.integers(8, 16, len(coop)).astype(float)
    shares[first] = 15.0
    roster = pd.DataFrame(
        {"coop": coop, "person": person, "joined": join, "shares": shares, "div_last_fy": 9999}
    )
    return coops, roster


def financials(w) -> pd.DataFrame:
    """One row per coop and year it existed through; scenario hooks in w.fin_override."""
    c, rng = w.coops, w.rng
    rows = []
    for y in YEARS:  # three years
        alive = (c.registered.to_numpy() <= day(y, 12, 31)) & ~(c.dissolved.to_numpy() <= day(y, 12, 31))
        idx = np.flatnonzero(alive)
        n = len(idx)
        rev = c.revenue_base.to_numpy()[idx] * rng.lognormal(0, 0.2, n)
        cost = rev * rng.uniform(0.72, 1.02, n)
        dormant = c.dormant.to_numpy()[idx]
        rev, cost = (
            np.where(dormant, 0, np.round(rev / 100) * 100),
            np.where(dormant, 0, np.round(cost / 100) * 100),
        )
        soon = c.dissolved.to_numpy()[idx] <= day(y + 2, 12, 31)
        subs = np.where(
            ~dormant & ~soon & (rng.random(n) < 0.25), np.round(rng.uniform(20_000, 250_000, n), -3), 0
        )
        surplus = rev - cost
        pays = (surplus > 0) & (rng.random(n) < 0.75)
        share = np.where(pays, rng.uniform(0.25, 0.6, n), 0.0)
        rows.append(
            pd.DataFrame(
                {
                    "coop": idx,
                    "year": y,
                    "revenue": (rev * 100).astype(np.int64),
                    "cost": (cost * 100).astype(np.int64),
                    "subsidies": (subs * 100).astype(np.int64),
                    "div_share": share,
                    "div_total": -1,
                }
            )  # fmt: skip
        )
    return pd.concat(rows, ignore_index=True)


def dividends(w) -> pd.DataFrame:
    """Pay each profitable fiscal year's dividend in proportion to shares."""
    fin, m, rng = w.fin, w.coop_members, w.rng
    fin = fin[fin.year.isin(DIVIDEND_YEARS)]
    surplus = fin.revenue - fin.cost
    total = np.where(fin.div_total >= 0, fin.div_total, np.floor(surplus * fin.div_share / 100) * 100)
    f = pd.DataFrame({"coop": fin.coop.to_numpy(), "year": fin.year.to_numpy(), "total": total})
    f = f[f.total > 0]
    j = m.merge(f, on="coop")
    death = w.people.death.to_numpy()[j.person.to_numpy()]
    ok = j.joined.to_numpy() <= month_start((j.year.to_numpy() + 1) * 12) - 1
    ok &= (death == OPEN) | (year_of(np.minimum(death, day(2100, 1, 1))) > j.year.to_numpy())
    ok &= j.year.to_numpy() <= j.div_last_fy.to_numpy()
    j = j[ok].copy()
    j["w"] = j.shares / j.groupby(["coop", "year"]).shares.transform("sum")
    j["amount"] = np.floor(j.total * j.w).astype(np.int64)
    pay = rand_day(rng, day(2023, 2, 10), day(2023, 4, 28), len(j)) + np.array(
        [(y - 2022) * 365 for y in j.year], dtype=np.int64
    )
    g = j.groupby(["coop", "year"]).ngroup().to_numpy()  # one pay date per coop and year
    first_pay = pd.Series(pay).groupby(g).transform("first").to_numpy()
    out = pd.DataFrame(
        {
            "coop": j.coop,
            "person": j.person,
            "year": j.year,
            "amount": j.amount,
            "pay": first_pay,
            "acct": j.person,
        }
    )
    if w.extra["coop_dividends"]:
        out = pd.concat([out, pd.DataFrame(w.extra["coop_dividends"])[out.columns]], ignore_index=True)
    return out.sort_values(["coop", "year", "person"], kind="stable", ignore_index=True)


def declared(w) -> np.ndarray:
    """dividends_declared: what was paid for 2022-2023; for 2024 the planned share of surplus."""
    fin = w.fin
    paid = w.div.groupby(["coop", "year"]).amount.sum()
    key = pd.MultiIndex.from_arrays([fin.coop, fin.year])
    paid_here = paid.reindex(key).fillna(0).to_numpy().astype(np.int64)
    planned = np.where(
        fin.div_total >= 0, fin.div_total, np.floor((fin.revenue - fin.cost) * fin.div_share / 100) * 100
    ).astype(np.int64)
    return np.where(fin.year.isin(DIVIDEND_YEARS), paid_here, np.maximum(planned, 0))
