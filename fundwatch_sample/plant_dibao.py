"""Dibao scenarios: anomalies each catalogue rule must find, look-alikes it must not flag,
and outliers only the statistical detector can see. This module holds the eligibility
cases (staff, cadres, approvers, vehicles, businesses, homes); plant_dibao_pay.py the
payment-side ones; dibao_roster.py the roster context both use.

Each case picks an untouched household whose members appear in no registry, changes its
parameters or adds registry rows, and writes its ground truth. Evidence is kept inside the
case's year: households are enrolled (or exit) around it, so a rule that judges each
payment by the state on its date fires in that year only.
"""

from __future__ import annotations

from fundwatch_sample import plant_dibao_pay  # the payment-side scenarios
from fundwatch_sample.dibao_roster import PROGRAM, Ctx, enrol_in
from fundwatch_sample.plant_common import add_property, add_role, add_staff, add_vehicle, iso
from fundwatch_sample.util import day, rand_day


def plant(w) -> None:
    c = Ctx(w)
    _staff(w, c)
    plant_dibao_pay.deaths(w, c)
    _assets(w, c)
    plant_dibao_pay.enrolment(w, c)
    plant_dibao_pay.amounts(w, c)
    plant_dibao_pay.statistical(w, c)


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
