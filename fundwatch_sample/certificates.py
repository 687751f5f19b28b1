"""Disability certificates of the sample world, and the two disability subsidies they bring.

Every person of the disabled-allowance pool holds a certificate whose grade is their allowance
level, issued up to five years before the allowance began; about one dibao member in twenty
holds one too (any grade, issued 2012-2024). Whoever the criteria name is paid (国发〔2015〕52号):
the nursing subsidy (NURSING) to every grade 1-2 holder, from the second month after the issue
until the month before a revocation, in quarterly batches in arrears; the living subsidy (DISABLED) to every dibao member holding
a valid certificate, for each month the household is paid dibao. plant_coverage.py changes
`w.certs` and withholds payments to plant the missed ones and their look-alikes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fundwatch_sample.people import DIBAO, REF_DAY, age_on
from fundwatch_sample.util import FIRST_MONTH, LAST_MONTH, NA, day, month_of, month_start, rand_day

CATEGORIES = ("visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple")


def make(w) -> pd.DataFrame:
    """w.certs: person, grade, category, issued, revoked (NA = valid), one row per certificate."""
    d = w.disabled
    rng = np.random.default_rng([w.seed, 2023])  # its own stream: the rest of the world is unchanged
    issued = month_start(d.from_month.to_numpy()) - rng.integers(30, 5 * 365, len(d))
    pool = pd.DataFrame({"person": d.person.to_numpy(), "grade": d.level.to_numpy(),
                         "category": rng.choice(np.array(CATEGORIES), len(d)), "issued": issued})  # fmt: skip
    p = w.people
    members = w.hh_members.person.to_numpy()
    age = age_on(p.birth.to_numpy()[members], REF_DAY)
    take = (p.kind.to_numpy()[members] == DIBAO) & (age >= 5) & (age <= 75) & (rng.random(len(members)) < 0.05)
    who = np.unique(members[take])
    dib = pd.DataFrame({"person": who, "grade": rng.choice([1, 2, 3, 4], len(who), p=[0.15, 0.25, 0.3, 0.3]),
                        "category": rng.choice(np.array(CATEGORIES), len(who)),
                        "issued": rand_day(rng, day(2012, 1, 1), day(2024, 6, 30), len(who))})  # fmt: skip
    certs = pd.concat([pool, dib], ignore_index=True)
    certs["revoked"] = NA
    return certs


def _valid_until(certs: pd.DataFrame) -> np.ndarray:
    """Last month index whose first day falls before the revocation (LAST_MONTH when valid)."""
    rev = certs.revoked.to_numpy()
    return np.where(rev == NA, LAST_MONTH, month_of(np.maximum(rev, 1) - 1))


def nursing_rows(w, prog: int, rates: dict) -> pd.DataFrame:
    """Monthly NURSING rows (code `prog`, `rates` by grade) for grade 1-2 holders; subsidy.py batches them."""
    from fundwatch_sample.util import expand_ranges

    c = w.certs[w.certs.grade <= 2]
    first = np.maximum(month_of(c.issued.to_numpy()) + 2, FIRST_MONTH)
    owner, month = expand_ranges(first, np.minimum(_valid_until(c), LAST_MONTH))
    person = c.person.to_numpy()[owner]
    rate = np.where(c.grade.to_numpy()[owner] == 1, rates[1], rates[2])
    return pd.DataFrame(
        {"prog": prog, "person": person, "month": month, "amount": rate, "basis": 1.0, "rate": rate,
         "apply": c.issued.to_numpy()[owner] + 20, "agency": 2}
    )  # fmt: skip


def living_rows(w, prog: int, rate: float) -> pd.DataFrame:
    """DISABLED rows (code `prog`, `rate` a month) for dibao members with a certificate valid on the
    first day of a paid month."""

    paid = w.dibao_pay[["hh", "month"]].drop_duplicates()
    m = paid.merge(w.hh_members[["hh", "person"]], on="hh").merge(
        w.certs.assign(until=_valid_until(w.certs))[["person", "issued", "until"]], on="person")
    start = month_start(m.month.to_numpy())
    m = m[(start >= m.issued.to_numpy()) & (m.month.to_numpy() <= m.until.to_numpy())]
    m = m[["person", "month"]].drop_duplicates().sort_values(["person", "month"], ignore_index=True)
    n = len(m)
    approve = month_start(m.month.to_numpy()) + w.rng.integers(0, 4, n)
    return pd.DataFrame(
        {"prog": prog, "person": m.person.to_numpy(), "month": m.month.to_numpy(), "amount": rate,
         "basis": 1.0, "rate": rate, "apply": approve - 30, "approve": approve,
         "pay": approve + w.rng.integers(4, 16, n), "acct": m.person.to_numpy(), "agency": 2, "planted": False}
    )  # fmt: skip
