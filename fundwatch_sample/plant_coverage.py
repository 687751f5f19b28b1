"""Coverage scenarios (应享未享): people who met a programme's criteria and were not paid (or paid
too little), and the look-alikes who rightly were not: moved out before the age, died, a revoked
certificate, paid under a code that covers the same need, eligible only in the year's last weeks,
paid dibao by a tier a little below the formula.

The background pays everyone the criteria name (subsidy.py, certificates.py, dibao.py); a missed
beneficiary is made by withholding their bulk rows for one year (`w.withheld`) or replacing them
with planted rows. Runs after the other scenario modules, so it picks only people they left alone.
"""

from __future__ import annotations

import numpy as np

from fundwatch_sample import dibao
from fundwatch_sample import subsidy as S
from fundwatch_sample.dibao_roster import Ctx as DibaoCtx
from fundwatch_sample.people import FARM, HEAD, OTHER
from fundwatch_sample.plant_common import iso, row
from fundwatch_sample.util import NA, day, mi, month_start, rand_day

PROGRAM = "coverage"
ELDERLY = "coverage.elderly_allowance"
BACK_PAY = "coverage.no_back_pay"
NURSING = "coverage.severe_disability_nursing"
LIVING = "coverage.disability_living"
UNDER = "coverage.dibao_under_standard"


class Ctx:
    def __init__(self, w):
        self.w = w
        p = w.people
        busy = w.busy_people()
        busy[w.coop_members.person.to_numpy()] = True
        busy[w.ten_members.person.to_numpy()] = True
        self.free = ~busy
        self.birth = p.birth.to_numpy()
        self.key = S.date_key(self.birth)
        self.plain = np.isin(p.kind.to_numpy(), (FARM, OTHER))  # in no dibao household nor lease
        self.dib = DibaoCtx(w)
        self.hh_of = np.full(len(p), -1)
        self.hh_of[w.hh_members.person.to_numpy()] = w.hh_members.hh.to_numpy()

    def elderly(self, what, y, lo, hi, plain=False) -> int | None:
        """A free resident aged lo..hi on 1 January of year y."""
        e = self.w.elderly
        age = (y * 10000 + 101 - self.key[e]) // 10000
        ok = self.free[e] & (age >= lo) & (age <= hi)
        if plain:
            ok &= self.plain[e]
        return self.one(e[ok], what)

    def one(self, candidates, what) -> int | None:
        """One unused person of the candidates, or None (a tiny world may have none)."""
        got = self.w.pick("person", candidates, 1, what, up_to=True)
        return int(got[0]) if len(got) else None

    def turning(self, what, age, first_day, last_day, plain=False) -> int | None:
        """A free resident whose birthday of `age` falls in [first_day, last_day] (day numbers)."""
        e = self.w.elderly
        b = self.key[e] + age * 10000
        ok = self.free[e] & (b >= S.date_key(first_day)) & (b <= S.date_key(last_day)) & (self.key[e] % 100 != 1)
        if plain:
            ok &= self.plain[e]
        return self.one(e[ok], what)

    def certificate(self, what, grades, dibao_member: bool) -> int | None:
        """Row of w.certs: a free holder of one of `grades`, issued before 2021, in a dibao household
        enrolled all three years (dibao_member) or in none."""
        c = self.w.certs
        person = c.person.to_numpy()
        hh = self.hh_of[person]
        home = hh >= 0
        hh_ok = np.zeros(len(c), dtype=bool)
        hh_ok[home] = self.dib.clean[hh[home]] & ~np.isin(hh[home], list(self.w.used["hh"]))
        ok = self.free[person] & np.isin(c.grade.to_numpy(), grades) & (c.issued.to_numpy() < day(2021, 1, 1))
        ok &= (c.revoked.to_numpy() == NA) & (hh_ok if dibao_member else ~home)
        counts = np.bincount(person, minlength=len(self.free))
        ok &= counts[person] == 1  # one certificate each
        p = self.one(person[ok], what)
        if p is None:
            return None
        if dibao_member:
            self.w.used["hh"].add(int(self.hh_of[p]))
        return int(np.flatnonzero(person == p)[0])


def plant(w) -> None:
    c = Ctx(w)
    _elderly(w, c)
    _disability(w, c)
    _dibao(w, c)


def _picks(w, base: int, pick):
    """(year, pick(year)) for the scenario's years, leaving out the years pick() finds nobody for."""
    for y in w.years(w.n(base)):
        got = pick(y)
        if got is not None:
            yield y, got


def _year(w, code, person, y) -> None:
    w.withheld.append((code, int(person), mi(y, 1), mi(y, 12)))


def _elderly(w, c: Ctx) -> None:
    rng = w.rng
    for y, p in _picks(w, 4, lambda y: c.elderly("elderly_not_paid", y, 81, 89)):
        _year(w, "ELDERLY", p, y)
        w.truth("anomaly", "elderly_not_paid", PROGRAM, "person", p, y, ELDERLY,
                f"Aged {(y * 10000 + 101 - c.key[p]) // 10000} on 1 January {y}, alive and resident, and paid no elderly allowance in {y}.")  # fmt: skip
    for y, p in _picks(w, 2, lambda y: c.elderly("elderly_paid_lower_tier", y, 91, 98)):
        _year(w, "ELDERLY", p, y)
        for m in range(mi(y, 1), mi(y, 12) + 1):
            approve = month_start(m) + int(rng.integers(0, 4))
            row(w, "ELDERLY", p, m, S.ELDERLY_BANDS[2][1], approve + int(rng.integers(4, 16)), approve, approve - 30)
        w.truth("anomaly", "elderly_paid_lower_tier", PROGRAM, "person", p, y, ELDERLY,
                f"Aged over 90 all {y} yet paid the 80+ rate of 100 yuan a month, not 200.")  # fmt: skip
    for y, p in _picks(w, 3, lambda y: c.turning("elderly_first_paid_late", 80, day(y, 1, 2), day(y, 3, 28))):
        b = int(S.birthday_month(c.birth[p], 80))
        w.withheld.append(("ELDERLY", p, b + 2, b + 7))
        w.truth("anomaly", "elderly_first_paid_late", PROGRAM, "person", p, y, BACK_PAY,
                f"Turned 80 on {iso(c.birth[p] + 0)[5:]} of {y} but first paid eight months later, with no back pay.")  # fmt: skip
    for y, p in _picks(w, 1, lambda y: c.turning("elderly_moved_out_before_80", 80, day(y, 3, 2), day(y, 8, 28), plain=True)):
        d = int(rand_day(rng, day(y - 1, 6, 1), day(y - 1, 12, 20)))
        w.moved_out[p] = d
        w.skip["ELDERLY"].add(p)
        w.truth("lookalike", "elderly_moved_out_before_80", PROGRAM, "person", p, y, ELDERLY,
                f"Moved out of the county (户籍迁出) on {iso(d)}, before turning 80 in {y}: not the county's to pay.")  # fmt: skip
    for y, p in _picks(w, 1, lambda y: c.elderly("elderly_died_in_year", y, 83, 89, plain=True)):
        d = int(rand_day(rng, day(y, 3, 1), day(y, 9, 30)))
        w.set_death(p, d)
        _year(w, "ELDERLY", p, y)
        w.truth("lookalike", "elderly_died_in_year", PROGRAM, "person", p, y, ELDERLY,
                f"Died on {iso(d)}; the allowance was not paid in {y}, and nothing is owed now.")  # fmt: skip
    for y, p in _picks(w, 1, lambda y: c.turning("elderly_turned_80_in_december", 80, day(y, 11, 20), day(y, 12, 28))):
        w.truth("lookalike", "elderly_turned_80_in_december", PROGRAM, "person", p, y, ELDERLY,
                f"Turned 80 late in {y}: the first payment is due in the next year.")  # fmt: skip
        w.truth("lookalike", "elderly_turned_80_in_december", PROGRAM, "person", p, y, BACK_PAY,
                f"Turned 80 late in {y}: the first payment is due in the next year.")  # fmt: skip


def _unpaid_holders(w, c: Ctx, base: int, scenario, code, rule, grades, dibao_member, text) -> None:
    """Certificate holders whose `code` payments are withheld for one year each."""
    certs = w.certs
    for y in w.years(w.n(base)):
        i = c.certificate(scenario, grades, dibao_member=dibao_member)
        if i is None:
            continue
        p = int(certs.person.iat[i])
        _year(w, code, p, y)
        w.truth("anomaly", scenario, PROGRAM, "person", p, y, rule,
                text.format(grade=certs.grade.iat[i], issued=iso(certs.issued.iat[i]), y=y))


def _disability(w, c: Ctx) -> None:
    rng, certs = w.rng, w.certs
    _unpaid_holders(w, c, 3, "nursing_not_paid", "NURSING", NURSING, [1, 2], False,
                    "Holds a grade {grade} certificate issued {issued}; no nursing subsidy in {y}.")
    for y, i in _picks(w, 1, lambda y: c.certificate("nursing_certificate_revoked", [1, 2], dibao_member=False)):
        d = int(rand_day(rng, day(y - 1, 5, 1), day(y - 1, 10, 28)))
        certs.loc[i, "revoked"] = d
        w.truth("lookalike", "nursing_certificate_revoked", PROGRAM, "person", int(certs.person.iat[i]), y, NURSING,
                f"The certificate was revoked on {iso(d)}; the subsidy rightly stopped.")  # fmt: skip
    for y in w.years(w.n(1)):
        ok = c.free & c.plain & (w.people.rel.to_numpy() != HEAD) & (c.key < 20000101) & (c.key > 19650101)
        ok[certs.person.to_numpy()] = False
        p = c.one(np.flatnonzero(ok), "nursing_issued_in_december")
        if p is None:
            continue
        d = int(rand_day(rng, day(y, 11, 5), day(y, 12, 20)))
        certs.loc[len(certs)] = {"person": p, "grade": 1, "category": "physical", "issued": d, "revoked": NA}
        w.truth("lookalike", "nursing_issued_in_december", PROGRAM, "person", p, y, NURSING,
                f"A grade 1 certificate issued on {iso(d)}: the first payment is due in the next year.")  # fmt: skip
    _unpaid_holders(w, c, 3, "living_not_paid", "DISABLED", LIVING, [1, 2, 3, 4], True,
                    "A dibao member holding a grade {grade} certificate; no living subsidy for disabled people in hardship in {y}.")
    for y, i in _picks(w, 1, lambda y: c.certificate("paid_under_merged_code", [1, 2], dibao_member=True)):
        p = int(certs.person.iat[i])
        _year(w, "NURSING", p, y)
        _year(w, "DISABLED", p, y)
        rate = S.NURSING_RATE[int(certs.grade.iat[i])] + S.LIVING_RATE
        for m in range(mi(y, 1), mi(y, 12) + 1):
            approve = month_start(m) + int(rng.integers(0, 4))
            row(w, "TWOSUB", p, m, rate, approve + int(rng.integers(4, 16)), approve, approve - 30, basis=1.0, rate=rate)
        for rule in (NURSING, LIVING):
            w.truth("lookalike", "paid_under_merged_code", PROGRAM, "person", p, y, rule,
                    f"Paid both disability subsidies in {y} under the merged code TWOSUB (残疾人两项补贴).")  # fmt: skip


def _dibao(w, c: Ctx) -> None:
    d = c.dib
    for y, share in zip(w.years(w.n(3)), (0.5, 0.6, 0.7, 0.55, 0.65, 0.45), strict=False):
        h = d.pick("dibao_paid_below_formula")
        hh = w.hh.loc[h]
        due = int(dibao.monthly_amount(hh["size"], hh.income, 1.0))
        w.hh.loc[h, ["amount2", "amount2_from", "amount2_to"]] = [int(dibao.monthly_amount(hh["size"], hh.income, share)), mi(y, 1), mi(y, 12)]
        w.truth("anomaly", "dibao_paid_below_formula", PROGRAM, "household", h, y, UNDER,
                f"Paid {share:.0%} of the {due / 100:.2f} yuan a month the formula gives {hh['size']} people all {y}.")  # fmt: skip
    for y in w.years(w.n(1)):
        h = d.pick("dibao_paid_by_tier")
        w.hh.loc[h, "factor"] = 0.85
        w.truth("lookalike", "dibao_paid_by_tier", PROGRAM, "household", h, y, UNDER,
                "Paid 85% of the formula all three years: a tier (分档) within the county's tolerance.")  # fmt: skip

