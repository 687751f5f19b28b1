"""Cross-programme scenarios: one person behind hits of two programmes in the same year.

Each department's records look like any other planted case; only matched on the person do
they make one case (entity_type person, program "cross"). Planted last, after every
programme's own scenarios, so those keep their picks.

- cross_staff_on_dibao_and_public_housing: a county civil servant whose household is paid
  dibao (dibao.public_staff, evidence person_id = the civil servant) and who also rents a
  public rental unit in the county seat on a salary above the income limit
  (housing.public_staff_income, evidence person_id = the same civil servant), both in the
  case's year only. Its two ground-truth rows share the scenario name.
"""

from __future__ import annotations

from fundwatch_sample import dibao_roster, plant_housing
from fundwatch_sample.plant_common import add_staff, iso
from fundwatch_sample.util import OPEN, day, rand_day

STAFF_DIBAO_HOUSING = "cross_staff_on_dibao_and_public_housing"


def plant(w) -> None:
    dc, hc = dibao_roster.Ctx(w), plant_housing.Ctx(w)
    # plant_housing's context numbered the units it added; continue after them.
    hc.new_units = int(w.units.code.str.startswith("GZF9-").sum())
    _staff_dibao_housing(w, dc, hc)


def _staff_dibao_housing(w, dc: dibao_roster.Ctx, hc: plant_housing.Ctx) -> None:
    rng = w.rng
    for y in w.years(w.n(3), (2023, 2022, 2024)):  # one a year at scale 1
        h = dc.pick(STAFF_DIBAO_HOUSING, min_size=2, adult=True)
        m = dc.adult_member(h)
        salary = int(rng.integers(580, 760)) * 10
        emp = add_staff(w, m, "government", rand_day(rng, day(2011, 1, 1), day(2019, 12, 31)), salary=salary)
        dibao_roster.enrol_in(w, h, y)
        start = int(rand_day(rng, day(y, 2, 1), day(y, 4, 10)))
        k = hc.new_lease(m, hc.new_unit(), start, day(y, 12, 31) if y < 2024 else OPEN, m)
        rel = dc.rel_name(h, m)
        w.truth("anomaly", STAFF_DIBAO_HOUSING, dibao_roster.PROGRAM, "household", h, y, "dibao.public_staff",
                f"The {rel} {w.name(m)} is on the payroll of {emp} while the household is paid dibao in {y}; the same person rents a public rental unit (one cross-programme case).",
                finding=(STAFF_DIBAO_HOUSING, y))  # fmt: skip
        w.truth("anomaly", STAFF_DIBAO_HOUSING, plant_housing.PROGRAM, "tenancy", k, y, "housing.public_staff_income",
                f"Tenant {w.name(m)} of {emp} earns {salary} yuan a month, took the unit on {iso(start)}, and is a member ({rel}) of a household paid dibao in {y} (one cross-programme case).",
                finding=(STAFF_DIBAO_HOUSING, y))  # fmt: skip
