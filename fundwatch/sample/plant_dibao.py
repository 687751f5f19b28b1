"""Dibao scenarios: anomalies each catalogue rule must find, look-alikes it must not flag,
and outliers only the statistical detector can see.

Each case picks an untouched household whose members appear in no registry, changes its
parameters or adds registry rows, and writes its ground truth. Evidence is kept inside the
case's year: households are enrolled (or exit) around it, so a rule that judges each
payment by the state on its date fires in that year only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fundwatch.sample import dibao
from fundwatch.sample.people import CHILD, HEAD, OTHER_REL, PARENT, REF_DAY, RELATIONS, SPOUSE, age_on
from fundwatch.sample.registries import EMPLOYERS
from fundwatch.sample.util import OPEN, day, mi, month_of, rand_day

PROGRAM = "dibao"


class Ctx:
    """Household rosters and ages, indexed once."""

    def __init__(self, w):
        self.w = w
        m = w.hh_members
        order = np.argsort(m.hh.to_numpy(), kind="stable")
        self.m_hh = m.hh.to_numpy()[order]
        self.m_person = m.person.to_numpy()[order]
        self.m_rel = m.rel.to_numpy()[order]
        self.age = age_on(w.people.birth.to_numpy(), REF_DAY)
        busy = w.busy_people()
        bad = np.zeros(len(w.hh), dtype=bool)
        bad[self.m_hh[busy[self.m_person]]] = True
        hh = w.hh
        self.clean = (~bad) & (hh.start.to_numpy() < day(2021, 11, 1)) & (hh.end.to_numpy() == OPEN)
        adult = (self.age[self.m_person] >= 23) & (self.age[self.m_person] <= 55) & (self.m_rel != HEAD)
        self.n_adult = np.bincount(self.m_hh[adult], minlength=len(hh))

    def members(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.searchsorted(self.m_hh, [h, h + 1])
        return self.m_person[lo:hi], self.m_rel[lo:hi]

    def pick(self, what: str, min_size=1, max_size=6, adult=False) -> int:
        size = self.w.hh["size"].to_numpy()[: len(self.clean)]  # scenarios may append households
        ok = self.clean & (size >= min_size) & (size <= max_size)
        if adult:
            ok &= self.n_adult > 0
        return int(self.w.pick("hh", np.flatnonzero(ok), 1, what)[0])

    def adult_member(self, h: int) -> int:
        persons, rels = self.members(h)
        a = self.age[persons]
        ok = (rels != HEAD) & (a >= 23) & (a <= 55)
        return int(persons[ok][0])

    def nonhead(self, h: int, prefer=(PARENT, SPOUSE, CHILD, OTHER_REL)) -> int:
        persons, rels = self.members(h)
        for r in prefer:
            if (rels == r).any():
                return int(persons[rels == r][0])
        raise ValueError("household has no member besides its head")

    def rel_name(self, h: int, person: int) -> str:
        persons, rels = self.members(h)
        return RELATIONS[int(rels[persons == person][0])]


def enrol_in(w, h: int, y: int, exit_at_year_end: bool = True) -> None:
    """Approve the household early in year y (paid from Jan-Mar) and, before 2024, let it
    exit at the year end, so that its evidence is in y only."""
    w.hh.loc[h, "start"] = int(rand_day(w.rng, day(y, 1, 2), day(y, 2, 25)))
    if exit_at_year_end and y < 2024:
        w.hh.loc[h, "end"] = day(y, 12, 31)


def exit_at(w, h: int, y: int) -> None:
    if y < 2024:
        w.hh.loc[h, "end"] = day(y, 12, 31)


def add_staff(w, person, etype, start, end=OPEN, salary=None, employer=None, position=None) -> str:
    rng = w.rng
    town = w.villages.township.iat[int(w.people.village.iat[int(person)])]
    if employer is None:
        if etype == "village_cadre":
            employer = f"{w.town_name(town)}{w.villages.village_name.iat[int(w.people.village.iat[int(person)])]}村民委员会"
        else:
            employer = EMPLOYERS[etype][int(rng.integers(0, len(EMPLOYERS[etype])))].format(
                town=w.town_name(town)
            )
    pos = (
        position
        or {"government": "科员", "institution": "教师", "soe": "职员", "village_cadre": "村委会委员"}[etype]
    )
    if salary is None:
        salary = {"government": 5600, "institution": 5200, "soe": 4800, "village_cadre": 2400}[etype] + int(
            rng.integers(-40, 41)
        ) * 10
    w.add_rows("civil", person=int(person), employer=employer, employer_type=etype, position=pos,
               start=int(start), end=int(end), salary=int(salary) * 100)  # fmt: skip
    w.used["person"].add(int(person))
    return employer


def add_vehicle(w, person, price, reg, dereg=OPEN, vtype="小型轿车") -> None:
    w.add_rows(
        "vehicles", person=int(person), vtype=vtype, reg=int(reg), dereg=int(dereg), price=int(price) * 100
    )
    w.used["person"].add(int(person))


def add_property(w, person, reg, dereg=OPEN, usage="residential", area=None) -> None:
    area = area if area is not None else round(float(w.rng.uniform(70, 150)), 2)
    w.add_rows("properties", person=int(person), village=int(w.people.village.iat[int(person)]), area=area,
               usage=usage, reg=int(reg), dereg=int(dereg))  # fmt: skip
    w.used["person"].add(int(person))


def add_role(w, person, role, start, end=OPEN, company=True) -> str:
    """A new market entity with the person in the given role."""
    surname = w.name(person)[0]
    name = f"黎平县{surname}氏建材有限公司" if company else f"黎平县{surname}记农资店"
    idx = len(w.entities)
    w.entities = pd.concat(
        [
            w.entities,
            pd.DataFrame(
                {
                    "etype": [1 if company else 2],
                    "name": [name],
                    "capital": [50_000_000 if company else 8_000_000],
                }
            ),
        ],
        ignore_index=True,
    )
    w.add_rows("roles", person=int(person), entity=idx, role=role, start=int(start), end=int(end), coop=-1)
    w.used["person"].add(int(person))
    return name


def iso(d: int) -> str:
    return str(np.datetime64(int(d), "D"))


def plant(w) -> None:
    c = Ctx(w)
    _staff(w, c)
    _deaths(w, c)
    _assets(w, c)
    _enrolment(w, c)
    _amounts(w, c)
    _statistical(w, c)


def _staff(w, c: Ctx) -> None:
    rng = w.rng
    kinds = [("government", "civil_servant_member_on_dibao", 2, None, None),
             ("institution", "teacher_member_on_dibao", 1, "黎平县第二中学", "教师"),
             ("soe", "soe_worker_member_on_dibao", 1, None, None)]  # fmt: skip
    for etype, scenario, base, employer, position in kinds:
        for y in w.years(w.n(base)):
            h = c.pick(scenario, min_size=2, adult=True)
            m = c.adult_member(h)
            start = rand_day(rng, day(2010, 1, 1), day(2020, 12, 31))
            emp = add_staff(w, m, etype, start, employer=employer, position=position)
            enrol_in(w, h, y)
            w.truth("anomaly", scenario, PROGRAM, "household", h, y, "dibao.public_staff",
                    f"The {c.rel_name(h, m)} {w.name(m)} is on the payroll of {emp} ({etype}) while the household is paid dibao in {y}.")  # fmt: skip
    for y in w.years(w.n(2)):
        h = c.pick("employment_ended_before_enrolment", min_size=2, adult=True)
        m = c.adult_member(h)
        enrol_in(w, h, y, exit_at_year_end=False)
        left = int(w.hh.start[h]) - int(rng.integers(60, 400))
        emp = add_staff(w, m, "institution", rand_day(rng, day(2008, 1, 1), day(2015, 12, 31)), end=left)
        w.truth("lookalike", "employment_ended_before_enrolment", PROGRAM, "household", h, y, "dibao.public_staff",
                f"{w.name(m)} left {emp} on {iso(left)}, before the household was enrolled.")  # fmt: skip
    for y in w.years(w.n(3)):
        h = c.pick("village_cadre_member_on_dibao", adult=True)
        m = c.adult_member(h)
        add_staff(w, m, "village_cadre", rand_day(rng, day(2021, 4, 1), day(2021, 5, 31)))
        enrol_in(w, h, y)
        w.truth("anomaly", "village_cadre_member_on_dibao", PROGRAM, "household", h, y, "dibao.village_cadre",
                f"The {c.rel_name(h, m)} {w.name(m)} is a serving village cadre while the household is paid dibao in {y}.")  # fmt: skip
    for y in w.years(w.n(2), (2023, 2022, 2024)):
        h = c.pick("cadre_term_ended_before_payment", adult=True)
        m = c.adult_member(h)
        add_staff(
            w, m, "village_cadre", rand_day(rng, day(2014, 4, 1), day(2016, 5, 31)), end=day(2021, 4, 30)
        )
        enrol_in(w, h, y, exit_at_year_end=False)
        w.truth("lookalike", "cadre_term_ended_before_payment", PROGRAM, "household", h, y, "dibao.village_cadre",
                f"{w.name(m)}'s term as village cadre ended on 2021-04-30, before any payment to the household.")  # fmt: skip
    for y in w.years(w.n(3)):
        h = c.pick("approver_approved_own_household", min_size=2, adult=True)
        m = c.adult_member(h)
        town = w.villages.township.iat[int(w.hh.village[h])]
        add_staff(w, m, "government", rand_day(rng, day(2012, 1, 1), day(2019, 12, 31)), employer=f"{w.town_name(town)}人民政府",
                  position="社会事务办工作人员")  # fmt: skip
        w.hh.loc[h, "approver"] = m
        enrol_in(w, h, y)
        w.truth("anomaly", "approver_approved_own_household", PROGRAM, "household", h, y, "dibao.approver_member",
                f"The application was approved by {w.name(m)}, a township official who is the household's {c.rel_name(h, m)}.")  # fmt: skip
        w.truth("anomaly", "approver_is_staff_member", PROGRAM, "household", h, y, "dibao.public_staff",
                f"The household's {c.rel_name(h, m)} {w.name(m)} is a township government employee (and approved the application).")  # fmt: skip


def _deaths(w, c: Ctx) -> None:
    rng = w.rng
    for scenario, size, base in (
        ("paid_after_head_death", (2, 6), 2),
        ("paid_after_sole_member_death", (1, 1), 2),
    ):
        for y in w.years(w.n(base)):
            h = c.pick(scenario, *size)
            head = int(w.hh["head"][h])
            d = int(rand_day(rng, day(y, 1, 20), day(y, 4, 10)))
            w.set_death(head, d)
            exit_at(w, h, y)
            w.truth("anomaly", scenario, PROGRAM, "household", h, y, "dibao.paid_after_death",
                    f"The head {w.name(head)} died on {iso(d)}; payments for later months continued to the end of {y}.")  # fmt: skip
    for y in w.years(w.n(2)):
        h = c.pick("death_after_last_payment", 1, 1)
        head = int(w.hh["head"][h])
        w.hh.loc[h, "end"] = day(y, 5, 31)
        d = int(rand_day(rng, day(y, 7, 1), day(y, 9, 30)))
        w.set_death(head, d)
        w.truth("lookalike", "death_after_last_payment", PROGRAM, "household", h, y, "dibao.paid_after_death",
                f"The household left dibao on {y}-05-31; its only member {w.name(head)} died later, on {iso(d)}.")  # fmt: skip
    for y in w.years(w.n(2)):
        h = c.pick("late_payment_for_month_alive", 1, 1)
        head = int(w.hh["head"][h])
        d = int(rand_day(rng, day(y, 6, 12), day(y, 6, 22)))
        w.set_death(head, d)
        w.hh.loc[h, "end"] = d
        w.hh.loc[h, "last_late"] = 25  # June's payment goes out around July 1st
        w.truth("lookalike", "late_payment_for_month_alive", PROGRAM, "household", h, y, "dibao.paid_after_death",
                f"{w.name(head)} died on {iso(d)}; the June payment was made after the death but is for a month they were alive.")  # fmt: skip
    for y in w.years(w.n(3)):
        h = c.pick("payments_continue_after_member_death", 2, 6)
        m = c.nonhead(h)
        d = int(rand_day(rng, day(y, 1, 10), day(y, 3, 31)))
        w.set_death(m, d)
        exit_at(w, h, y)
        w.truth("anomaly", "payments_continue_after_member_death", PROGRAM, "household", h, y, "dibao.member_deceased",
                f"The {c.rel_name(h, m)} {w.name(m)} died on {iso(d)}; the household kept receiving the same amount for the rest of {y}.")  # fmt: skip
    for y in w.years(w.n(1)):
        h = c.pick("member_died_after_last_payment", 2, 6)
        m = c.nonhead(h)
        w.hh.loc[h, "end"] = day(y, 4, 30)
        d = int(rand_day(rng, day(y, 8, 1), day(y, 10, 31)))
        w.set_death(m, d)
        w.truth("lookalike", "member_died_after_last_payment", PROGRAM, "household", h, y, "dibao.member_deceased",
                f"The household left dibao on {y}-04-30; the {c.rel_name(h, m)} {w.name(m)} died afterwards, on {iso(d)}.")  # fmt: skip
    for y in w.years(w.n(2)):
        h = c.pick("amount_reduced_after_member_death", 2, 6)
        m = c.nonhead(h)
        d = int(rand_day(rng, day(y, 3, 5), day(y, 3, 25)))
        w.set_death(m, d)
        hh = w.hh.loc[h]
        w.hh.loc[h, "amount2"] = int(
            dibao.monthly_amount(hh["size"] - 1, hh.income * (hh["size"] - 1) // hh["size"], hh.factor)
        )
        w.hh.loc[h, "amount2_from"] = month_of(d) + 1
        w.truth("lookalike", "amount_reduced_after_member_death", PROGRAM, "household", h, y, "dibao.member_deceased",
                f"After the {c.rel_name(h, m)} {w.name(m)} died on {iso(d)} the amount was recalculated for one person fewer from the next month.")  # fmt: skip


def _assets(w, c: Ctx) -> None:
    rng = w.rng
    for y in w.years(w.n(3)):
        h = c.pick("expensive_vehicle_while_paid", adult=True)
        m = c.adult_member(h) if rng.random() < 0.5 else int(w.hh["head"][h])
        enrol_in(w, h, y)
        price = int(rng.integers(120, 280)) * 1000
        add_vehicle(w, m, price, int(w.hh.start[h]) - int(rng.integers(100, 900)), vtype="小型越野客车")
        w.truth("anomaly", "expensive_vehicle_while_paid", PROGRAM, "household", h, y, "dibao.vehicle",
                f"{w.name(m)} owns a vehicle bought for {price} yuan while the household is paid dibao in {y}.")  # fmt: skip
    for y in w.years(w.n(1), (2023, 2024)):
        h = c.pick("vehicle_deregistered_before_enrolment", adult=True)
        m = int(w.hh["head"][h])
        enrol_in(w, h, y, exit_at_year_end=False)
        dereg = int(w.hh.start[h]) - int(rng.integers(30, 300))
        add_vehicle(w, m, int(rng.integers(150, 200)) * 1000, day(2015, 6, 1), dereg=dereg)
        w.truth("lookalike", "vehicle_deregistered_before_enrolment", PROGRAM, "household", h, y, "dibao.vehicle",
                f"{w.name(m)}'s car was deregistered on {iso(dereg)}, before the household was enrolled.")  # fmt: skip
    for y in w.years(w.n(2)):
        h = c.pick("cheap_vehicle")
        m = int(w.hh["head"][h])
        price = int(rng.integers(25, 46)) * 1000
        add_vehicle(w, m, price, day(2019, 3, 1) + int(rng.integers(0, 600)), vtype="三轮汽车")
        w.truth("lookalike", "cheap_vehicle", PROGRAM, "household", h, y, "dibao.vehicle",
                f"{w.name(m)} owns a three-wheeled farm vehicle worth {price} yuan, far below the threshold.")  # fmt: skip
    for y in w.years(w.n(3)):
        h = c.pick("member_runs_company", adult=True)
        m = c.adult_member(h)
        role = "legal_rep" if rng.random() < 0.6 else "shareholder"
        name = add_role(w, m, role, rand_day(rng, day(2017, 1, 1), day(2021, 6, 30)))
        enrol_in(w, h, y)
        w.truth("anomaly", "member_runs_company", PROGRAM, "household", h, y, "dibao.business_role",
                f"{w.name(m)} is {role} of {name} while the household is paid dibao in {y}.")  # fmt: skip
    for y in w.years(w.n(2)):
        h = c.pick("role_ended_before_enrolment", adult=True)
        m = c.adult_member(h)
        enrol_in(w, h, y, exit_at_year_end=False)
        end = int(w.hh.start[h]) - int(rng.integers(60, 500))
        name = add_role(w, m, "legal_rep", day(2014, 5, 1), end=end, company=False)
        w.truth("lookalike", "role_ended_before_enrolment", PROGRAM, "household", h, y, "dibao.business_role",
                f"{w.name(m)}'s shop {name} was closed on {iso(end)}, before enrolment.")  # fmt: skip
    for y in w.years(w.n(3)):
        h = c.pick("members_own_two_homes", min_size=2, adult=True)
        head, m = int(w.hh["head"][h]), c.adult_member(h)
        enrol_in(w, h, y)
        add_property(w, head, rand_day(rng, day(2003, 1, 1), day(2012, 12, 31)))
        add_property(
            w,
            m,
            rand_day(rng, day(2015, 1, 1), day(2020, 12, 31)),
            area=round(float(rng.uniform(88, 130)), 2),
        )
        w.truth("anomaly", "members_own_two_homes", PROGRAM, "household", h, y, "dibao.multiple_properties",
                f"{w.name(head)} and {w.name(m)} each own a registered home while the household is paid dibao in {y}.")  # fmt: skip
    for y in w.years(w.n(1)):
        h = c.pick("one_home")
        head = int(w.hh["head"][h])
        add_property(w, head, rand_day(rng, day(2000, 1, 1), day(2010, 12, 31)))
        w.truth("lookalike", "one_home", PROGRAM, "household", h, y, "dibao.multiple_properties",
                f"{w.name(head)} owns the one house the household lives in.")  # fmt: skip
    for y in w.years(w.n(2)):
        h = c.pick("property_sold_before_enrolment")
        head = int(w.hh["head"][h])
        enrol_in(w, h, y, exit_at_year_end=False)
        sold = int(w.hh.start[h]) - int(rng.integers(90, 700))
        add_property(w, head, rand_day(rng, day(2000, 1, 1), day(2008, 12, 31)))
        add_property(w, head, day(2012, 4, 1), dereg=sold)
        w.truth("lookalike", "property_sold_before_enrolment", PROGRAM, "household", h, y, "dibao.multiple_properties",
                f"{w.name(head)} sold a second home on {iso(sold)}, before enrolment, and keeps one.")  # fmt: skip


def _new_household(w, c: Ctx, head: int, village: int, start: int, income: int, acct: int) -> int:
    town = w.villages.township.iat[village]
    row = w.hh.iloc[[0]].copy()
    row.loc[:, ["fam", "head", "village", "start", "end", "size", "income", "approver", "factor", "acct"]] = [
        -1,
        head,
        village,
        start,
        OPEN,
        1,
        income,
        int(w.approvers[town, 0]),
        1.0,
        acct,
    ]
    for col, v in (
        ("acct2", -1),
        ("acct2_from", OPEN),
        ("amount2", -1),
        ("amount2_from", OPEN),
        ("last_late", 0),
        ("amount_override", -1),
    ):
        row.loc[:, col] = v
    h = len(w.hh)
    w.hh = pd.concat([w.hh, row], ignore_index=True)
    w.hh_members = pd.concat(
        [w.hh_members, pd.DataFrame({"hh": [h], "person": [head], "rel": [HEAD]})], ignore_index=True
    )
    w.used["hh"].add(h)
    return h


def _enrolment(w, c: Ctx) -> None:
    rng = w.rng
    for y in w.years(w.n(3)):
        a = c.pick("enrolled_in_two_households_a", min_size=2)
        b = c.pick("enrolled_in_two_households_b", max_size=5)
        m = c.nonhead(a, prefer=(CHILD, OTHER_REL, PARENT, SPOUSE))
        w.hh_members = pd.concat(
            [w.hh_members, pd.DataFrame({"hh": [b], "person": [m], "rel": [OTHER_REL]})], ignore_index=True
        )
        w.hh.loc[b, "size"] += 1
        enrol_in(w, b, y)
        w.used["person"].add(m)
        w.truth("anomaly", "enrolled_in_two_households", PROGRAM, "person", m, y, "dibao.duplicate_enrolment",
                f"{w.name(m)} is on the roster of two households (in different villages) paid dibao at the same time in {y}.")  # fmt: skip
    for y in w.years(w.n(2)):
        a = c.pick("moved_old_enrolment_ended", 1, 1)
        p = int(w.hh["head"][a])
        w.hh.loc[a, "end"] = day(y, 3, 31)
        other = np.flatnonzero(
            w.villages.township.to_numpy() != w.villages.township.iat[int(w.hh.village[a])]
        )
        v = int(other[rng.integers(0, len(other))]) if len(other) else int(w.hh.village[a])
        _new_household(
            w, c, p, v, day(y, 5, 1) + int(rng.integers(0, 20)), int(w.hh.income[a]), w.new_account()
        )
        w.used["person"].add(p)
        w.truth("lookalike", "moved_old_enrolment_ended", PROGRAM, "person", p, y, "dibao.duplicate_enrolment",
                f"{w.name(p)} moved: the old household's enrolment ended on {y}-03-31 and the new one started in May {y}.")  # fmt: skip
    for g, y in enumerate(w.years(w.n(3))):
        acct = w.new_account()
        first = c.pick(f"one_account_group_{g}")
        village = int(w.hh.village[first])
        same = np.flatnonzero(c.clean & (w.hh.village.to_numpy()[: len(c.clean)] == village))
        if len(same[~np.isin(same, list(w.used["hh"]))]) < 2:
            same = np.flatnonzero(c.clean)
        group = [first, *[int(x) for x in w.pick("hh", same, 2, "one_account_for_unrelated_households")]]
        for h in group:
            w.hh.loc[h, "acct2"] = acct
            w.hh.loc[h, "acct2_from"] = mi(y, 1)
            exit_at(w, h, y)
        for h in group:
            w.truth("anomaly", "one_account_for_unrelated_households", PROGRAM, "household", h, y, "dibao.shared_account",
                    f"In {y} the dibao of {len(group)} unrelated households, including this one, was paid into one bank account.")  # fmt: skip
    for y in w.years(w.n(2)):
        h = c.pick("household_changed_account")
        w.hh.loc[h, "acct2"] = w.new_account()
        w.hh.loc[h, "acct2_from"] = mi(y, 6)
        w.truth("lookalike", "household_changed_account", PROGRAM, "household", h, y, "dibao.shared_account",
                f"The household switched to a new bank card of its own from June {y}.")  # fmt: skip


def _amounts(w, c: Ctx) -> None:
    for y in w.years(w.n(3)):
        h = c.pick("paid_above_standard")
        hh = w.hh.loc[h]
        due = int(dibao.monthly_amount(hh["size"], hh.income, 1.0))
        paid = int(round((due * 1.5 + 30_000) / 100)) * 100
        w.hh.loc[h, "amount_override"] = paid
        enrol_in(w, h, y)
        w.truth("anomaly", "paid_above_standard", PROGRAM, "household", h, y, "dibao.over_standard",
                f"Paid {paid / 100:.2f} yuan a month where the standard allows {due / 100:.2f} for {hh['size']} people and the declared income.")  # fmt: skip
    for y in w.years(w.n(2)):
        h = c.pick("paid_exactly_at_standard")
        w.hh.loc[h, "income"] = 0
        w.hh.loc[h, "factor"] = 1.0
        size = int(w.hh["size"][h])
        w.truth("lookalike", "paid_exactly_at_standard", PROGRAM, "household", h, y, "dibao.over_standard",
                f"No declared income: paid exactly the standard, {dibao.STANDARD * size} yuan for {size} people.")  # fmt: skip


def _statistical(w, c: Ctx) -> None:
    """Outliers no rule states: back-pay of months before enrolment, a declared size the roster does not show."""
    rng = w.rng
    for y in w.years(w.n(3)):
        h = c.pick("backdated_extra_periods")
        w.hh.loc[h, "start"] = day(y, 1, 2) + int(rng.integers(0, 7))
        exit_at(w, h, y)
        back = int(rng.integers(5, 8))
        for k in range(back):
            m = mi(y, 1) - back + k
            w.extra["dibao_payments"].append(
                {"hh": h, "month": m, "amount": -1, "pay": day(y, 1, 15) + 3 * k, "acct": -1}
            )
        w.truth("anomaly", "backdated_extra_periods", PROGRAM, "household", h, y, "",
                f"Enrolled in January {y} yet paid {12 + back} times in {y}: {back} back-dated months from before enrolment.")  # fmt: skip
    for y in w.years(w.n(3)):
        h = c.pick("declared_size_above_roster", 2, 2)
        w.hh.loc[h, "size"] = 5
        enrol_in(w, h, y)
        w.truth("anomaly", "declared_size_above_roster", PROGRAM, "household", h, y, "",
                "Declared and paid as a household of 5 though only 2 people are on its roster.")  # fmt: skip


__all__ = [
    "plant",
    "Ctx",
    "add_staff",
    "add_vehicle",
    "add_property",
    "add_role",
    "enrol_in",
    "iso",
    "day",
    "REF_DAY",
]
