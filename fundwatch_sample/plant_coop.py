"""Cooperative scenarios: subsidised shells, dividends beyond earnings, flat or funnelled
dividends, dividends to the dead or to staff, dissolution after subsidies, officials as
legal representatives; and outliers only the statistical detector sees.

Cases change one coop-year of the accounts (w.fin) or the roster, so the coop's other years
stay ordinary. Dividend evidence is dated by fiscal year (paid early the following year).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fundwatch_sample.cooperative import DIVIDEND_YEARS
from fundwatch_sample.plant_common import add_staff, iso
from fundwatch_sample.util import OPEN, YEARS, day, rand_day

PROGRAM = "cooperative"


class Ctx:
    def __init__(self, w):
        self.w = w
        co = w.coops
        # Only staff records, deaths and other scenarios matter to cooperative rules; a
        # member's car or house does not.
        busy = np.zeros(len(w.people), dtype=bool)
        busy[w.civil.person.to_numpy()] = True
        busy[w.people.death.to_numpy() != OPEN] = True
        busy[np.fromiter(w.used["person"], dtype=np.int64)] = True
        self.busy = busy
        self.ok = (
            (co.registered.to_numpy() < day(2021, 6, 1))
            & (co.dissolved.to_numpy() == OPEN)
            & ~co.dormant.to_numpy()
        )
        self.ok &= ~self.busy[co.legal_rep.to_numpy()]

    def pick(self, what: str, registered_after: int | None = None) -> int:
        ok = self.ok.copy()
        if registered_after is not None:
            ok = (self.w.coops.registered.to_numpy() > registered_after) & (
                self.w.coops.dissolved.to_numpy() == OPEN
            )
            ok &= ~self.w.coops.dormant.to_numpy()
        return int(self.w.pick("coop", np.flatnonzero(ok), 1, what)[0])

    def fin_row(self, k: int, y: int) -> int:
        f = self.w.fin
        return int(np.flatnonzero((f.coop.to_numpy() == k) & (f.year.to_numpy() == y))[0])

    def set_year(self, k: int, y: int, **vals) -> None:
        i = self.fin_row(k, y)
        for col, v in vals.items():
            self.w.fin.loc[i, col] = v

    def profitable(self, k: int, y: int, share: float = 0.4) -> tuple[int, int]:
        """Make the coop-year profitable and paying dividends; returns (surplus, dividend total) in cents."""
        i = self.fin_row(k, y)
        f = self.w.fin
        rev = max(int(f.revenue[i]), 40_000_000)
        cost = int(rev * 0.8 // 100) * 100
        total = int((rev - cost) * share // 100) * 100
        self.set_year(k, y, revenue=rev, cost=cost, div_share=share, div_total=total)
        return rev - cost, total

    def members(self, k: int) -> pd.DataFrame:
        m = self.w.coop_members
        return m[m.coop == k]

    def member(self, k: int, what: str) -> int:
        m = self.members(k)
        cand = m.person.to_numpy()[~self.busy[m.person.to_numpy()]]
        cand = cand[cand != int(self.w.coops.legal_rep[k])]
        return int(self.w.pick("person", cand, 1, what)[0])


def plant(w) -> None:
    c = Ctx(w)
    _accounts(w, c)
    _dividends(w, c)
    _people(w, c)
    _statistical(w, c)


def _accounts(w, c: Ctx) -> None:
    rng = w.rng
    for y in w.years(w.n(3)):
        k = c.pick("no_activity_but_subsidised")
        subs = int(rng.integers(150, 400)) * 1000
        c.set_year(k, y, revenue=0, cost=0, subsidies=subs * 100, div_share=0.0, div_total=0)
        w.truth("anomaly", "no_activity_but_subsidised", PROGRAM, "cooperative", k, y, "cooperative.shell",
                f"No revenue and no costs in {y}, yet {subs} yuan of subsidies received.")  # fmt: skip
    for y in w.years(w.n(2)):
        k = c.pick("honest_loss_year")
        rev = int(rng.integers(300, 900)) * 1000
        cost = int(rev * float(rng.uniform(1.15, 1.3)))
        subs = int(rng.integers(30, 80)) * 1000
        c.set_year(k, y, revenue=rev * 100, cost=cost * 100, subsidies=subs * 100, div_share=0.0, div_total=0)
        for rule in ("cooperative.shell", "cooperative.dividend_over_surplus"):
            w.truth("lookalike", "honest_loss_year", PROGRAM, "cooperative", k, y, rule,
                    f"A real trading year at a loss: revenue {rev} yuan, costs {cost} yuan, {subs} yuan of subsidies, no dividends.")  # fmt: skip
    for y in w.years(w.n(1)):
        k = c.pick("dormant_without_subsidy")
        c.set_year(k, y, revenue=0, cost=0, subsidies=0, div_share=0.0, div_total=0)
        w.truth("lookalike", "dormant_without_subsidy", PROGRAM, "cooperative", k, y, "cooperative.shell",
                f"Dormant in {y}: no revenue, no costs and no subsidies either.")  # fmt: skip
    for y in w.years(w.n(3), (2023, 2024, 2023)):
        k = c.pick("dissolved_within_year_of_subsidy")
        subs = int(rng.integers(150, 300)) * 1000
        c.set_year(k, y - 1, subsidies=subs * 100)
        gone = int(rand_day(rng, day(y, 5, 1), day(y, 10, 31)))
        w.coops.loc[k, "dissolved"] = gone
        w.fin = w.fin[~((w.fin.coop == k) & (w.fin.year >= y))].reset_index(drop=True)
        w.truth("anomaly", "dissolved_within_year_of_subsidy", PROGRAM, "cooperative", k, y, "cooperative.dissolved_after_subsidy",
                f"Received {subs} yuan of subsidies in {y - 1} and was dissolved on {iso(gone)}.")  # fmt: skip
    for _ in range(w.n(1)):
        k = c.pick("dissolved_long_after_subsidy")
        c.set_year(k, 2022, subsidies=12_000_000)
        c.set_year(k, 2023, subsidies=0)
        gone = int(rand_day(w.rng, day(2024, 3, 1), day(2024, 10, 31)))
        w.coops.loc[k, "dissolved"] = gone
        w.fin = w.fin[~((w.fin.coop == k) & (w.fin.year >= 2024))].reset_index(drop=True)
        w.truth("lookalike", "dissolved_long_after_subsidy", PROGRAM, "cooperative", k, 2024, "cooperative.dissolved_after_subsidy",
                f"Its last subsidy was in 2022; it was dissolved on {iso(gone)}, more than a year later.")  # fmt: skip


def _dividends(w, c: Ctx) -> None:
    rng = w.rng
    for y in w.years(w.n(3), DIVIDEND_YEARS[::-1]):
        k = c.pick("dividends_exceed_surplus")
        i = c.fin_row(k, y)
        rev = max(int(w.fin.revenue[i]), 30_000_000)
        surplus = int(rng.integers(40, 80)) * 100_000
        total = int(surplus * float(rng.uniform(2.5, 4)) // 100) * 100
        c.set_year(k, y, revenue=rev, cost=rev - surplus, div_share=1.0, div_total=total)
        w.truth("anomaly", "dividends_exceed_surplus", PROGRAM, "cooperative", k, y, "cooperative.dividend_over_surplus",
                f"Paid about {total / 100:.0f} yuan of dividends for {y} on a surplus of {surplus / 100:.0f} yuan.")  # fmt: skip
    for y in w.years(w.n(2), DIVIDEND_YEARS[::-1]):
        k = c.pick("honest_loss_year_no_dividends")
        rev = int(rng.integers(300, 900)) * 1000
        c.set_year(k, y, revenue=rev * 100, cost=int(rev * 1.2) * 100, div_share=0.0, div_total=0)
        w.truth("lookalike", "honest_loss_year_no_dividends", PROGRAM, "cooperative", k, y, "cooperative.dividend_over_surplus",
                f"Made a loss in {y} and paid no dividends for it.")  # fmt: skip
    for i, y in enumerate(w.years(w.n(3), DIVIDEND_YEARS[::-1])):
        k = c.pick("flat_or_funnelled_dividends")
        surplus, total = c.profitable(k, y)
        c.set_year(k, y, div_total=0)  # bulk pays nothing; the rows below are the whole payout
        m = c.members(k)
        m = m[m.joined <= day(y, 12, 31)]
        pay = day(y + 1, 3, 10) + int(rng.integers(0, 20))
        rep = int(w.coops.legal_rep[k])
        if i % 3 != 2:
            each = int(total / len(m) // 100) * 100
            for p in m.person:
                w.extra["coop_dividends"].append(
                    {"coop": k, "person": int(p), "year": y, "amount": each, "pay": pay, "acct": int(p)}
                )
            w.truth("anomaly", "identical_dividends_despite_shares", PROGRAM, "cooperative", k, y, "cooperative.uniform_dividends",
                    f"All {len(m)} members received exactly {each / 100:.2f} yuan for {y} although their shares range from {m.shares.min():.0f} to {m.shares.max():.0f}.")  # fmt: skip
        else:
            weights = m.shares.to_numpy() / m.shares.sum()
            keep = set(m.person.to_numpy()[:2].tolist())
            for p, wt in zip(m.person, weights, strict=True):
                acct = int(p) if int(p) in keep else rep
                w.extra["coop_dividends"].append(
                    {
                        "coop": k,
                        "person": int(p),
                        "year": y,
                        "amount": int(total * wt // 1),
                        "pay": pay,
                        "acct": acct,
                    }
                )
            w.truth("anomaly", "dividends_funnelled_to_few_accounts", PROGRAM, "cooperative", k, y, "cooperative.uniform_dividends",
                    f"Dividends for {y} of {len(m) - 2} of the {len(m)} members were paid into the legal representative's account.")  # fmt: skip
    for y in w.years(w.n(1), DIVIDEND_YEARS[::-1]):
        k = c.pick("equal_shares_equal_dividends")
        w.coop_members.loc[w.coop_members.coop == k, "shares"] = 10.0
        c.profitable(k, y)
        w.truth("lookalike", "equal_shares_equal_dividends", PROGRAM, "cooperative", k, y, "cooperative.uniform_dividends",
                "Every member holds 10 shares, so equal dividends are proportional ones.")  # fmt: skip


def _people(w, c: Ctx) -> None:
    rng = w.rng
    for y in w.years(w.n(3), DIVIDEND_YEARS[::-1]):
        k = c.pick("dividend_to_member_dead_before_year")
        surplus, total = c.profitable(k, y)
        p = c.member(k, "dividend_to_member_dead_before_year")
        d = int(rand_day(rng, day(y - 1, 3, 1), day(y - 1, 10, 31)))
        w.set_death(p, d)
        m = c.members(k)
        share = float(m.shares[m.person == p].iloc[0]) / float(m.shares.sum())
        w.extra["coop_dividends"].append(
            {
                "coop": k,
                "person": p,
                "year": y,
                "amount": int(total * share // 100) * 100,
                "pay": day(y + 1, 3, 20),
                "acct": p,
            }
        )
        w.truth("anomaly", "dividend_to_member_dead_before_year", PROGRAM, "cooperative", k, y, "cooperative.deceased_member",
                f"A dividend for {y} was paid to {w.name(p)}, who died on {iso(d)}.")  # fmt: skip
    for y in w.years(w.n(2), DIVIDEND_YEARS[::-1]):
        k = c.pick("member_died_after_dividend_paid")
        c.profitable(k, y)
        p = c.member(k, "member_died_after_dividend_paid")
        d = int(rand_day(rng, day(y + 1, 6, 1), day(y + 1, 10, 31)))
        w.set_death(p, d)
        w.truth("lookalike", "member_died_after_dividend_paid", PROGRAM, "cooperative", k, y, "cooperative.deceased_member",
                f"{w.name(p)} was paid the {y} dividend in spring {y + 1} and died later, on {iso(d)}.")  # fmt: skip
    for y in w.years(w.n(3), DIVIDEND_YEARS[::-1]):
        k = c.pick("civil_servant_member_paid_dividend")
        c.profitable(k, y)
        p = c.member(k, "civil_servant_member_paid_dividend")
        emp = add_staff(
            w,
            p,
            "government" if rng.random() < 0.6 else "institution",
            rand_day(rng, day(2010, 1, 1), day(2018, 12, 31)),
        )
        sel = (w.coop_members.coop == k) & (w.coop_members.person == p)
        w.coop_members.loc[sel, ["joined", "div_last_fy"]] = [
            int(rand_day(rng, day(y, 1, 10), day(y, 3, 31))),
            y,
        ]
        w.truth("anomaly", "civil_servant_member_paid_dividend", PROGRAM, "cooperative", k, y, "cooperative.public_staff_member",
                f"Member {w.name(p)}, employed by {emp}, was paid a dividend for {y}.")  # fmt: skip
    for y in w.years(w.n(2), DIVIDEND_YEARS[::-1]):
        k = c.pick("village_cadre_member_paid_dividend")
        c.profitable(k, y)
        p = c.member(k, "village_cadre_member_paid_dividend")
        add_staff(w, p, "village_cadre", rand_day(rng, day(2021, 4, 1), day(2021, 5, 31)))
        w.truth("lookalike", "village_cadre_member_paid_dividend", PROGRAM, "cooperative", k, y, "cooperative.public_staff_member",
                f"Member {w.name(p)} is a village cadre, not publicly funded staff.")  # fmt: skip
    for y in w.years(w.n(1), DIVIDEND_YEARS[::-1]):
        k = c.pick("staff_left_before_joining")
        c.profitable(k, y)
        p = c.member(k, "staff_left_before_joining")
        add_staff(w, p, "soe", day(2006, 3, 1), end=day(2019, 6, 30))
        w.truth("lookalike", "staff_left_before_joining", PROGRAM, "cooperative", k, y, "cooperative.public_staff_member",
                f"Member {w.name(p)} left a state-owned firm on 2019-06-30, years before these dividends.")  # fmt: skip
    for i, y in enumerate(w.years(w.n(3))):
        k = c.pick("official_as_legal_rep")
        rep = int(w.coops.legal_rep[k])
        etype = "village_cadre" if i % 3 != 2 else "government"
        # Takes office after the spring dividend run, leaves at the year end: no dividend is
        # paid to the legal representative while in office.
        add_staff(
            w,
            rep,
            etype,
            rand_day(rng, day(y, 5, 1), day(y, 6, 30)),
            end=day(y, 12, 31) if y < 2024 else OPEN,
        )
        scenario = "village_cadre_legal_rep" if etype == "village_cadre" else "civil_servant_legal_rep"
        w.truth("anomaly", scenario, PROGRAM, "cooperative", k, y, "cooperative.official_legal_rep",
                f"Its legal representative {w.name(rep)} held office as {etype.replace('_', ' ')} during {y}.")  # fmt: skip
    for y in w.years(w.n(2)):
        k = c.pick("legal_rep_former_cadre")
        rep = int(w.coops.legal_rep[k])
        reg = int(w.coops.registered[k])
        add_staff(w, rep, "village_cadre", reg - 3000, end=reg - int(rng.integers(200, 900)))
        w.truth("lookalike", "legal_rep_former_cadre", PROGRAM, "cooperative", k, y, "cooperative.official_legal_rep",
                f"{w.name(rep)} was a village cadre, but the term ended before the cooperative was registered on {iso(reg)}.")  # fmt: skip


def _statistical(w, c: Ctx) -> None:
    """Outliers no rule states: a tenfold dividend per member, subsidies dwarfing the trade."""
    rng = w.rng
    fin = w.fin
    n_mem = w.coop_members.groupby("coop").size()
    for y in w.years(w.n(4), DIVIDEND_YEARS[::-1]):
        f = fin[(fin.year == y) & (fin.div_share > 0) & (fin.revenue > fin.cost)]
        per = (f.revenue - f.cost) * f.div_share / n_mem.reindex(f.coop).to_numpy()
        typical = float(np.median(per)) if len(per) else 150_000.0
        k = c.pick("dividend_10x_regional_per_member")
        n = int(n_mem[k])
        total = int(typical * 10 * n // 100) * 100
        rev = max(int(w.fin.revenue[c.fin_row(k, y)]), total * 4)
        c.set_year(k, y, revenue=rev, cost=rev - int(total * 1.25), div_share=0.8, div_total=total)
        w.truth("anomaly", "dividend_10x_regional_per_member", PROGRAM, "cooperative", k, y, "",
                f"Paid about {total / n / 100:.0f} yuan per member for {y}, ten times the usual {typical / 100:.0f}, while staying under its surplus.")  # fmt: skip
    for y in w.years(w.n(2), YEARS[::-1][:2]):
        k = c.pick("subsidies_far_above_revenue")
        rev = int(rng.integers(60, 100)) * 1000
        subs = int(rng.integers(800, 1200)) * 1000
        c.set_year(
            k,
            y,
            revenue=rev * 100,
            cost=int(rev * 0.8) * 100,
            subsidies=subs * 100,
            div_share=0.0,
            div_total=0,
        )
        w.truth("anomaly", "subsidies_far_above_revenue", PROGRAM, "cooperative", k, y, "",
                f"Received {subs} yuan of subsidies in {y} on a turnover of only {rev} yuan.")  # fmt: skip
