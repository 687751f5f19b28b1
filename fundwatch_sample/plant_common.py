"""Building blocks the scenario modules share: registry rows for planted people, and
explicit subsidy rows (marked planted, so the bulk filters leave them alone)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fundwatch_sample import subsidy as S
from fundwatch_sample.registries import EMPLOYERS
from fundwatch_sample.util import FIRST_MONTH, NA, OPEN, day, mi, month_start


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


def row(
    w, prog, person, month, amount, pay, approve, apply, acct=None, agency=None, basis=np.nan, rate=-1
) -> None:
    person = int(person)
    if agency is None:
        agency = int(S.agency_of(w, prog, w.people.village.iat[person]))
    w.extra["subsidy_payments"].append(
        {"prog": S.P[prog], "person": person, "month": int(month), "amount": int(amount), "basis": float(basis),
         "rate": int(rate), "apply": int(apply), "approve": int(approve), "pay": int(pay),
         "acct": person if acct is None else int(acct), "agency": int(agency), "planted": True}
    )  # fmt: skip


def farm_row(w, person, y, basis, amount=None, acct=None, pay=None) -> int:
    """One FARMLAND batch row for year y; returns the amount (cents)."""
    rate = S.FARMLAND_RATE[y]
    amount = int(S.entitlement([basis], rate)[0]) if amount is None else amount
    pay = day(y, 5, 8) + int(w.rng.integers(0, 10)) if pay is None else pay
    row(w, "FARMLAND", person, mi(y, 5), amount, pay, pay - 12, pay - 50, acct=acct, basis=basis, rate=rate)
    return amount


def hardship_row(
    w, person, month, amount_yuan, acct=None, pay=None, approve=None, apply=None, prog="HARDSHIP"
) -> None:
    rng = w.rng
    pay = month_start(month) + int(rng.integers(3, 24)) if pay is None else pay
    approve = pay - int(rng.integers(3, 15)) if approve is None else approve
    apply = (approve if approve != NA else pay) - int(rng.integers(4, 20)) if apply is None else apply
    row(w, prog, person, month, round(amount_yuan) * 100, pay, approve, apply, acct=acct)


def elderly_rows(w, person, last_month, late_last=False, dup_month=None) -> None:
    """Monthly allowance rows for a planted elderly person, 2022-01 to last_month."""
    rng = w.rng
    birth = int(w.people.birth.iat[int(person)])
    for m in range(FIRST_MONTH, last_month + 1):  # one planted person, 36 months at most
        start = month_start(m)
        approve = start + int(rng.integers(0, 4))
        pay = approve + int(rng.integers(4, 16))
        if late_last and m == last_month:
            approve, pay = start + 22, start + 34
        for _ in range(2 if m == dup_month else 1):
            row(
                w,
                "ELDERLY",
                person,
                m,
                int(S.elderly_rate_at(birth, m)),
                pay,
                approve,
                birth + int(80 * 365.2425) + 12,
            )
            pay += 9
    w.skip["ELDERLY"].add(int(person))
