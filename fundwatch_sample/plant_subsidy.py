"""Subsidy scenarios: duplicate and excessive payments, after-death payments, approval and
disbursement timing, shared accounts, agency-level spikes and idle allocations.

A person in a scenario is taken out of the bulk rows of the programme concerned and given
explicit rows (marked planted, so the after-death filter leaves them alone); agency cases add
payments and allocations to one township office each.
"""

from __future__ import annotations

import numpy as np

from fundwatch_sample import subsidy as S
from fundwatch_sample.dibao_roster import Ctx as DibaoCtx
from fundwatch_sample.people import FARM, HEAD, OTHER
from fundwatch_sample.plant_common import elderly_rows, farm_row, hardship_row, iso, row
from fundwatch_sample.util import (
    FIRST_MONTH,
    LAST_MONTH,
    NA,
    OPEN,
    YEARS,
    day,
    mi,
    month_of,
    month_start,
    rand_day,
)

PROGRAM = "subsidy"


class Ctx:
    def __init__(self, w):
        self.w = w
        busy = w.busy_people()
        self.busy = busy
        f = w.farmers
        self.farm_ok = ~busy[f.person.to_numpy()]
        self.median = f.groupby("village").basis.median()
        self.village_count = np.bincount(f.village.to_numpy(), minlength=len(w.villages))
        p = w.people
        self.heads = np.flatnonzero(
            np.isin(p.kind.to_numpy(), (FARM, OTHER)) & (p.rel.to_numpy() == HEAD) & ~busy
        )
        birth = p.birth.to_numpy()[w.elderly]
        alive = p.death.to_numpy()[w.elderly] == OPEN
        plain = np.isin(p.kind.to_numpy()[w.elderly], (FARM, OTHER))  # no dibao or lease rule sees their death
        self.elderly = w.elderly[plain & alive & (birth + int(80 * 365.2425) < day(2021, 10, 1)) & ~busy[w.elderly]]
        self.town = w.villages.township.to_numpy()[p.village.to_numpy()]
        h = w.hardship
        h_year = h.month // 12
        self.norm = h.groupby([h.agency, h_year]).amount.median()

    def farmer(self, what, in_village_of_size=0) -> int:
        f = self.w.farmers
        ok = self.farm_ok & (self.village_count[f.village.to_numpy()] >= in_village_of_size)
        return int(self.w.pick("person", f.person.to_numpy()[ok], 1, what)[0])

    def basis(self, person) -> float:
        f = self.w.farmers
        return float(f.basis.to_numpy()[f.person.to_numpy() == person][0])

    def head(self, what, town=None) -> int:
        cand = self.heads if town is None else self.heads[self.town[self.heads] == town]
        p = int(self.w.pick("person", cand, 1, what)[0])
        self.w.skip["HARDSHIP"].add(p)
        return p

    def norm_of(self, person, y) -> float:
        """The township's median hardship payment in year y, in yuan."""
        return float(self.norm.get((3 + self.town[person], y), 120_000)) / 100


def plant(w) -> None:
    c = Ctx(w)
    _duplicates(w, c)
    _amounts(w, c)
    _deaths(w, c)
    _timing(w, c)
    _accounts(w, c)
    _agencies(w, c)
    _statistical(w, c)


def _all_farm_rows(w, c, person, special_year=None, basis=None, **kw) -> int:
    """Explicit FARMLAND rows for 2022-2024; the special year may differ in basis, amount, account."""
    base = c.basis(person)
    w.skip["FARMLAND"].add(person)
    out = 0
    for y in YEARS:
        special = y == special_year
        b = basis if (special and basis is not None) else base
        out = farm_row(w, person, y, b, **(kw if special else {}))
    return out


def _duplicates(w, c: Ctx) -> None:
    rng = w.rng
    for y in w.years(w.n(2)):
        p = c.farmer("farmland_paid_twice")
        _all_farm_rows(w, c, p)
        amount = farm_row(w, p, y, c.basis(p), pay=day(y, 5, 25))
        w.truth("anomaly", "farmland_paid_twice", PROGRAM, "person", p, y, "subsidy.duplicate_payment",
                f"The {y} farmland subsidy of {amount / 100:.2f} yuan was paid to {w.name(p)} twice, for the same period {y}-05.")  # fmt: skip
    for y in w.years(w.n(1), (2022, 2023)):
        p = int(w.pick("person", c.elderly, 1, "elderly_allowance_paid_twice")[0])
        elderly_rows(w, p, LAST_MONTH, dup_month=mi(y, 7))
        w.truth("anomaly", "elderly_allowance_paid_twice", PROGRAM, "person", p, y, "subsidy.duplicate_payment",
                f"{w.name(p)}'s elderly allowance for {y}-07 was paid twice.")  # fmt: skip
    for y in w.years(w.n(2)):
        p = c.farmer("two_programmes_same_period")
        w.skip["HARDSHIP"].add(p)
        hardship_row(w, p, mi(y, 5), 800 + 10 * int(rng.integers(0, 60)))
        w.truth("lookalike", "two_programmes_same_period", PROGRAM, "person", p, y, "subsidy.duplicate_payment",
                f"{w.name(p)} received the farmland subsidy and hardship aid in the same month {y}-05: two programmes.")  # fmt: skip


def _amounts(w, c: Ctx) -> None:
    for y in w.years(w.n(2)):
        p = c.farmer("farmland_paid_above_entitlement")
        basis = c.basis(p)
        due = int(S.entitlement([basis], S.FARMLAND_RATE[y])[0])
        paid = int(round(due * 1.8 / 100)) * 100
        _all_farm_rows(w, c, p, special_year=y, amount=paid)
        w.truth("anomaly", "farmland_paid_above_entitlement", PROGRAM, "person", p, y, "subsidy.over_entitlement",
                f"Paid {paid / 100:.2f} yuan for {basis} mu at {S.FARMLAND_RATE[y] / 100:.2f} yuan/mu, an entitlement of {due / 100:.2f}.")  # fmt: skip
    d = w.disabled
    cand = d.person.to_numpy()[(d.from_month.to_numpy() == FIRST_MONTH) & ~c.busy[d.person.to_numpy()]]
    for y in w.years(w.n(1)):
        p = int(w.pick("person", cand, 1, "disability_paid_above_rate")[0])
        level = int(d.level.to_numpy()[d.person.to_numpy() == p][0])
        rate = S.DISABLED_RATE[level]
        w.skip["DISABLED"].add(p)
        for m in [mi(yy, q) for yy in YEARS for q in (1, 4, 7, 10)]:
            amount = 3 * rate * (3 if m == mi(y, 7) else 1)
            approve = month_start(m) + 3
            row(
                w,
                "DISABLED",
                p,
                m,
                amount,
                approve + 8,
                approve,
                month_start(FIRST_MONTH) - 40,
                basis=3.0,
                rate=rate,
            )
        w.truth("anomaly", "disability_paid_above_rate", PROGRAM, "person", p, y, "subsidy.over_entitlement",
                f"The {y}-07 disability allowance paid {9 * rate / 100:.2f} yuan for 3 months at {rate / 100:.2f} yuan a month.")  # fmt: skip
    for y in w.years(w.n(2)):
        p = c.farmer("amount_equal_to_entitlement")
        basis = float(round(c.median.get(int(w.people.village.iat[p]), 6.0)))
        w.farmers.loc[w.farmers.person == p, "basis"] = basis
        amount = _all_farm_rows(w, c, p)
        w.truth("lookalike", "amount_equal_to_entitlement", PROGRAM, "person", p, y, "subsidy.over_entitlement",
                f"{basis:.2f} mu at the going rate: paid exactly the entitlement ({amount / 100:.2f} yuan in 2024).")  # fmt: skip
    for y in w.years(w.n(3), (2023, 2024, 2023, 2022)):
        p = c.farmer("farmland_area_far_above_village", in_village_of_size=12)
        med = float(c.median[int(w.people.village.iat[p])])
        big = round(med * 8, 2)
        _all_farm_rows(w, c, p, special_year=y, basis=big)
        w.truth("anomaly", "farmland_area_far_above_village", PROGRAM, "person", p, y, "subsidy.basis_outlier",
                f"Claimed {big} mu of farmland in {y} where the village median is {med} mu.")  # fmt: skip
    for y in w.years(w.n(2)):
        p = c.farmer("large_plausible_farm", in_village_of_size=12)
        med = float(c.median[int(w.people.village.iat[p])])
        big = round(med * 2.7, 2)
        sel = w.farmers.person == p
        w.farmers.loc[sel, "basis"] = big
        w.farmers.loc[sel, "grain"] = 0.0
        w.truth("lookalike", "large_plausible_farm", PROGRAM, "person", p, y, "subsidy.basis_outlier",
                f"A large family farm of {big} mu, 2.7 times the village median of {med} mu.")  # fmt: skip


def _deaths(w, c: Ctx) -> None:
    rng = w.rng
    for y in w.years(w.n(3)):
        p = int(w.pick("person", c.elderly, 1, "elderly_allowance_after_death")[0])
        d = int(rand_day(rng, day(y, 2, 1), day(y, 3, 31)))
        w.set_death(p, d)
        elderly_rows(w, p, mi(y, 12))
        w.truth("anomaly", "elderly_allowance_after_death", PROGRAM, "person", p, y, "subsidy.paid_after_death",
                f"{w.name(p)} died on {iso(d)}; the elderly allowance kept being paid until {y}-12.")  # fmt: skip
    for y in w.years(w.n(2)):
        p = int(w.pick("person", c.elderly, 1, "late_payment_for_month_alive")[0])
        d = int(rand_day(rng, day(y, 6, 8), day(y, 6, 20)))
        w.set_death(p, d)
        elderly_rows(w, p, mi(y, 6), late_last=True)
        w.truth("lookalike", "late_payment_for_month_alive", PROGRAM, "person", p, y, "subsidy.paid_after_death",
                f"{w.name(p)} died on {iso(d)}; the allowance for June, a month they were alive, was paid in early July.")  # fmt: skip


def _timing(w, c: Ctx) -> None:
    rng = w.rng
    for i, y in enumerate(w.years(w.n(3))):
        p = c.head("hardship_paid_without_approval" if i % 3 != 2 else "hardship_paid_before_approval")
        month = mi(y, int(rng.integers(3, 10)))
        pay = month_start(month) + int(rng.integers(3, 20))
        if i % 3 != 2:
            hardship_row(w, p, month, round(c.norm_of(p, y), -1), pay=pay, approve=NA)
            w.truth("anomaly", "hardship_paid_without_approval", PROGRAM, "person", p, y, "subsidy.unapproved",
                    f"Hardship aid paid to {w.name(p)} on {iso(pay)} with no approval date.")  # fmt: skip
        else:
            hardship_row(w, p, month, round(c.norm_of(p, y), -1), pay=pay, approve=pay + 9)
            w.truth("anomaly", "hardship_paid_before_approval", PROGRAM, "person", p, y, "subsidy.unapproved",
                    f"Hardship aid paid to {w.name(p)} on {iso(pay)}, nine days before it was approved.")  # fmt: skip
    for y in w.years(w.n(3)):
        p = c.head("hardship_paid_months_after_approval")
        approve = int(rand_day(rng, day(y, 1, 20), day(y, 3, 10)))
        pay = approve + int(rng.integers(75, 130))
        hardship_row(w, p, int(month_of(pay)), round(c.norm_of(p, y), -1), pay=pay, approve=approve)
        # Holding the batch back is the disbursing agency's finding; its recipient is named in it.
        agency = w.agencies[int(S.agency_of(w, "HARDSHIP", w.people.village.iat[p]))]
        key = ("late_batch", agency, pay)
        w.truth("anomaly", "hardship_paid_months_after_approval", PROGRAM, "agency", agency, y, "subsidy.late_disbursement",
                f"{agency} paid hardship aid approved on {iso(approve)} only on {iso(pay)}, to {w.name(p)}.", finding=key)  # fmt: skip
        w.truth("involved", "hardship_paid_months_after_approval", PROGRAM, "person", p, y, "subsidy.late_disbursement",
                f"{w.name(p)} received the hardship aid that {agency} held back from {iso(approve)} to {iso(pay)}.", finding=key)  # fmt: skip
    for y in w.years(w.n(2)):
        p = c.head("long_wait_for_approval_prompt_payment")
        apply = int(rand_day(rng, day(y, 1, 5), day(y, 2, 15)))
        approve = apply + int(rng.integers(100, 140))
        pay = approve + int(rng.integers(4, 12))
        hardship_row(
            w, p, int(month_of(pay)), round(c.norm_of(p, y), -1), pay=pay, approve=approve, apply=apply
        )
        agency = w.agencies[int(S.agency_of(w, "HARDSHIP", w.people.village.iat[p]))]
        key = ("prompt_batch", agency, pay)
        w.truth("lookalike", "long_wait_for_approval_prompt_payment", PROGRAM, "agency", agency, y, "subsidy.late_disbursement",
                f"{agency} paid {w.name(p)} promptly on {iso(pay)}: applied {iso(apply)}, approved only on {iso(approve)}.", finding=key)  # fmt: skip
        w.truth("involved", "long_wait_for_approval_prompt_payment", PROGRAM, "person", p, y, "subsidy.late_disbursement",
                f"Applied {iso(apply)}, approved only on {iso(approve)}, then paid promptly on {iso(pay)}.", finding=key)  # fmt: skip


def _accounts(w, c: Ctx) -> None:
    rng = w.rng
    for g, y in enumerate(w.years(w.n(3))):
        acct = w.new_account()
        first = c.head(f"one_account_many_beneficiaries_{g}")
        village = int(w.people.village.iat[first])
        same = c.heads[w.people.village.to_numpy()[c.heads] == village]
        more = [
            int(x)
            for x in w.pick(
                "person",
                same if len(np.setdiff1d(same, list(w.used["person"]))) >= 3 else c.heads,
                3,
                "shared account",
            )
        ]
        group = [first, *more]
        for k, p in enumerate(group):
            w.skip["HARDSHIP"].add(p)
            hardship_row(
                w, p, mi(y, 3 + 2 * k), round(c.norm_of(p, y) * float(rng.uniform(0.8, 1.2)), -1), acct=acct
            )
        for p in group:
            w.truth("anomaly", "one_account_many_beneficiaries", PROGRAM, "person", p, y, "subsidy.shared_account",
                    f"In {y} hardship aid for {len(group)} unrelated people, {w.name(p)} among them, went into one bank account.",
                    finding=("subsidy_account", g))  # fmt: skip
    d = DibaoCtx(w)
    for y in w.years(w.n(2)):
        h = d.pick("shared_account_within_dibao_household", min_size=3)
        persons, _ = d.members(h)
        head = int(w.hh["head"][h])
        for k, p in enumerate(persons[:3]):
            hardship_row(w, p, mi(y, 4 + 2 * k), 600 + 100 * k, acct=head)
            w.used["person"].add(int(p))
        for p in persons[:3]:
            w.truth("lookalike", "shared_account_within_dibao_household", PROGRAM, "person", int(p), y, "subsidy.shared_account",
                    "Aid for three members of one dibao household went to the head's card: one household, not several beneficiaries.",
                    finding=("dibao_household_card", y))  # fmt: skip
    t = w.ten
    ok = (t.start.to_numpy() < day(2021, 11, 1)) & (t.end.to_numpy() == OPEN) & (t["size"].to_numpy() >= 3)
    ok &= ~c.busy[t.tenant.to_numpy()]
    for y in w.years(w.n(1)):
        k = int(w.pick("ten", np.flatnonzero(ok), 1, "shared_account_within_housing_household")[0])
        tenant = int(t.tenant[k])
        fam = w.people.fam.to_numpy()
        persons = np.flatnonzero(fam == fam[tenant])[:3]
        for j, p in enumerate(persons):
            hardship_row(w, p, mi(y, 3 + 3 * j), 500 + 150 * j, acct=tenant)
            w.used["person"].add(int(p))
        for p in persons:
            w.truth("lookalike", "shared_account_within_housing_household", PROGRAM, "person", int(p), y, "subsidy.shared_account",
                    "Aid for three people on one public-housing lease went to the tenant's card: one household.",
                    finding=("lease_card", y))  # fmt: skip


AGENCIES_PER_CASE = 20  # a planted agency scenario per twenty agencies at most


def agency_cases(w) -> int:
    """Cases of each agency scenario (over the three years): w.n(3) as elsewhere, but at most
    one per AGENCIES_PER_CASE agencies (and no fewer than 3). Agencies grow with the townships,
    more slowly than w.n(): at scale 100, thirty cases put twenty of 83 agencies on a rule in
    one year, and fundwatch rightly called both agency rules mis-tuned in every benchmark run."""
    return min(w.n(3), max(3, len(w.agencies) // AGENCIES_PER_CASE))


def _agencies(w, c: Ctx) -> None:
    rng = w.rng
    h = w.hardship
    towns = np.arange(w.n_townships)
    for y in w.years(agency_cases(w)):
        t = int(w.pick("agency", towns, 1, "december_disbursement_spike")[0])
        agency = 3 + t
        year_rows = h[(h.agency == agency) & (h.month // 12 == y)]
        target = 1.5 * max(float(year_rows.amount.sum()) / 100, 20_000.0)
        got = set(year_rows.person.tolist())
        cand = c.heads[(c.town[c.heads] == t) & ~np.isin(c.heads, list(got))]
        norm = c.norm_of(cand[0], y) if len(cand) else 1200.0
        n = int(np.ceil(target / norm))
        for p in w.pick("person", cand, min(n, len(cand)), "december_disbursement_spike"):
            w.skip["HARDSHIP"].add(int(p))
            hardship_row(
                w,
                p,
                mi(y, 12),
                round(norm * float(rng.uniform(0.7, 1.3)), -1),
                pay=day(y, 12, 10) + int(rng.integers(0, 16)),
            )
        w.truth("anomaly", "december_disbursement_spike", PROGRAM, "agency", w.agencies[agency], y, "subsidy.year_end_spike",
                f"{w.agencies[agency]} paid out about 60% of its {y} hardship aid in December, to {n} people.")  # fmt: skip
    for i, y in enumerate(w.years(agency_cases(w))):
        t = int(w.pick("agency", towns, 1, "allocation_left_idle")[0])
        agency = 3 + t
        received = int(rand_day(rng, day(y, 3, 1), day(y, 3, 31)))
        amount = int(rng.integers(80, 200)) * 1000
        w.extra["fund_allocations"].append(
            {"agency": agency, "prog": S.P["FLOOD"], "amount": amount * 100, "received": received}
        )
        if i % 2 == 1:  # disbursed, but only after seven months
            n = amount // 3000
            cand = c.heads[c.town[c.heads] == t]
            pay = received + int(rng.integers(200, 214))  # October, clear of December
            paid = w.pick("person", cand, n, "late flood aid", up_to=True)
            for p in paid:
                hardship_row(w, p, month_of(pay), amount / len(paid), pay=pay, approve=pay - 5, prog="FLOOD")
            how = f"only paid out from {iso(pay)}"
        else:
            how = "never paid out"
        w.truth("anomaly", "allocation_left_idle", PROGRAM, "agency", w.agencies[agency], y, "subsidy.idle_allocation",
                f"A flood-relief allocation of {amount} yuan received on {iso(received)} was {how}.")  # fmt: skip


def _statistical(w, c: Ctx) -> None:
    """Outliers no rule states: aid far above the township's norm, aid repeated all year."""
    rng = w.rng
    for y in w.years(w.n(4)):
        p = c.head("hardship_far_above_township_norm")
        norm = c.norm_of(p, y)
        hardship_row(w, p, mi(y, int(rng.integers(2, 11))), round(norm * 6, -1))
        w.truth("anomaly", "hardship_far_above_township_norm", PROGRAM, "person", p, y, "",
                f"Hardship aid of {round(norm * 6, -1):.0f} yuan, six times the township's typical {norm:.0f} yuan.")  # fmt: skip
    for y in w.years(w.n(2)):
        p = c.head("hardship_repeated_same_person")
        for m in (2, 4, 6, 8, 10):
            hardship_row(w, p, mi(y, m), round(c.norm_of(p, y) * float(rng.uniform(0.8, 1.1)), -1))
        w.truth("anomaly", "hardship_repeated_same_person", PROGRAM, "person", p, y, "",
                f"{w.name(p)} received one-off hardship aid five times in {y}.")  # fmt: skip
