"""Public housing scenarios: ineligible tenants (homes, cars, well-paid staff), arrears,
empty or sublet units, third-party payers, double leases and rent after the tenant's death.

Most cases take a lease that runs through 2022-2024 and end it at the close of the case's
year (before 2024), so that the evidence falls in that year only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fundwatch_sample.people import HEAD, REF_DAY, age_on
from fundwatch_sample.plant_common import add_property, add_staff, add_vehicle, hardship_row, iso
from fundwatch_sample.util import OPEN, day, mi, rand_day

PROGRAM = "housing"


class Ctx:
    def __init__(self, w):
        self.w = w
        t = w.ten
        self.busy = w.busy_people()
        self.fam = w.people.fam.to_numpy()
        self.age = age_on(w.people.birth.to_numpy(), REF_DAY)
        m = w.ten_members
        bad = np.zeros(len(t), dtype=bool)
        bad[m.ten.to_numpy()[self.busy[m.person.to_numpy()]]] = True
        bad |= self.busy[t.tenant.to_numpy()]
        self.clean = ~bad & (t.start.to_numpy() < day(2021, 11, 1)) & (t.end.to_numpy() == OPEN)
        self.new_units = 0

    def pick(self, what: str, min_size: int = 1) -> int:
        ok = self.clean & (
            self.w.ten["size"].to_numpy()[: len(self.clean)] >= min_size
        )  # leases may be appended
        return int(self.w.pick("ten", np.flatnonzero(ok), 1, what)[0])

    def coresident(self, k: int) -> int:
        tenant = int(self.w.ten.tenant[k])
        mates = np.flatnonzero(self.fam == self.fam[tenant])
        mates = mates[mates != tenant]
        adults = mates[self.age[mates] >= 20]
        return int((adults if len(adults) else mates)[0])

    def new_unit(self) -> int:
        k = self.new_units
        self.new_units += 1
        code = f"GZF9-{1 + k // 60:02d}-{1 + (k % 60) // 6:02d}{1 + k % 6:02d}"
        area = 45.2
        self.w.units = pd.concat(
            [self.w.units, pd.DataFrame({"code": [code], "area": [area], "rent": [round(area * 7.2) * 100]})],
            ignore_index=True,
        )
        return len(self.w.units) - 1

    def new_lease(self, tenant: int, unit: int, start: int, end: int, acct: int, mates=()) -> int:
        w = self.w
        row = {c: w.ten[c].iat[0] for c in w.ten.columns}
        defaults = {"unpaid_from": OPEN, "unpaid_to": -1, "late_month": -1, "late_days": 0, "payer2": -1,
                    "payer2_from": OPEN, "payer2_to": -1, "low_from": OPEN, "low_to": -1, "util_factor": 1.0,
                    "hi_from": OPEN, "hi_to": -1}  # fmt: skip
        row.update(defaults)
        row.update({"unit": unit, "fam": -1, "tenant": tenant, "start": start, "end": end, "size": 1 + len(mates),
                    "rent": int(w.units.rent.iat[unit]), "income": 180_000, "acct": acct, "list_tenant": True})  # fmt: skip
        k = len(w.ten)
        w.ten = pd.concat([w.ten, pd.DataFrame([row])], ignore_index=True)
        rows = [{"ten": k, "person": tenant, "rel": HEAD}] + [
            {"ten": k, "person": int(p), "rel": int(w.people.rel.iat[int(p)])} for p in mates
        ]
        w.ten_members = pd.concat([w.ten_members, pd.DataFrame(rows)], ignore_index=True)
        w.used["ten"].add(k)
        return k


def end_lease(w, k: int, y: int) -> None:
    if y < 2024:
        w.ten.loc[k, "end"] = day(y, 12, 31)


def plant(w) -> None:
    c = Ctx(w)
    _eligibility(w, c)
    _ledger(w, c)
    _leases(w, c)
    _statistical(w, c)


def _eligibility(w, c: Ctx) -> None:
    rng = w.rng
    for i, y in enumerate(w.years(w.n(3))):
        co = i % 3 == 2
        k = c.pick("owns_home", min_size=2 if co else 1)
        p = c.coresident(k) if co else int(w.ten.tenant[k])
        reg = int(rand_day(rng, day(y, 2, 1), day(y, 4, 30)))
        add_property(w, p, reg)
        end_lease(w, k, y)
        scenario = "coresident_owns_home" if co else "tenant_owns_home"
        w.truth("anomaly", scenario, PROGRAM, "tenancy", k, y, "housing.owns_property",
                f"{'Co-resident' if co else 'Tenant'} {w.name(p)} registered a home on {iso(reg)} and kept the public rental unit.")  # fmt: skip
    for y in w.years(w.n(2)):
        k = c.pick("property_deregistered_before_lease")
        p = int(w.ten.tenant[k])
        sold = int(w.ten.start[k]) - int(rng.integers(60, 400))
        add_property(w, p, sold - 3000, dereg=sold)
        w.truth("lookalike", "property_deregistered_before_lease", PROGRAM, "tenancy", k, y, "housing.owns_property",
                f"{w.name(p)} sold their home on {iso(sold)}, before the lease began.")  # fmt: skip
    for i, y in enumerate(w.years(w.n(3))):
        co = i % 3 == 2
        k = c.pick("expensive_vehicle", min_size=2 if co else 1)
        p = c.coresident(k) if co else int(w.ten.tenant[k])
        price = int(rng.integers(130, 300)) * 1000
        reg = int(rand_day(rng, day(y, 2, 1), day(y, 5, 31)))
        add_vehicle(w, p, price, reg)
        end_lease(w, k, y)
        scenario = "coresident_expensive_vehicle" if co else "tenant_expensive_vehicle"
        w.truth("anomaly", scenario, PROGRAM, "tenancy", k, y, "housing.vehicle",
                f"{w.name(p)} registered a {price}-yuan car on {iso(reg)} while living in the unit.")  # fmt: skip
    for y in w.years(w.n(2)):
        k = c.pick("cheap_vehicle")
        p = int(w.ten.tenant[k])
        price = int(rng.integers(20, 46)) * 1000
        add_vehicle(w, p, price, day(2019, 5, 1) + int(rng.integers(0, 500)), vtype="微型普通客车")
        w.truth("lookalike", "cheap_vehicle", PROGRAM, "tenancy", k, y, "housing.vehicle",
                f"{w.name(p)} owns an old van worth {price} yuan, below the threshold.")  # fmt: skip
    for y in w.years(w.n(3)):
        k = c.pick("staff_salary_above_limit")
        p = int(w.ten.tenant[k])
        salary = int(rng.integers(620, 900)) * 10
        emp = add_staff(
            w,
            p,
            "government" if rng.random() < 0.5 else "institution",
            rand_day(rng, day(y, 2, 1), day(y, 4, 30)),
            salary=salary,
        )
        end_lease(w, k, y)
        w.truth("anomaly", "staff_salary_above_limit", PROGRAM, "tenancy", k, y, "housing.public_staff_income",
                f"Tenant {w.name(p)} joined {emp} in {y} at {salary} yuan a month and stayed in the unit.")  # fmt: skip
    for y in w.years(w.n(1)):
        k = c.pick("village_cadre_tenant")
        p = int(w.ten.tenant[k])
        salary = int(rng.integers(520, 580)) * 10
        add_staff(
            w,
            p,
            "village_cadre",
            day(2021, 4, 20),
            salary=salary,
            employer="德凤镇五开社区居民委员会",
            position="社区居委会委员",
        )
        w.truth("lookalike", "village_cadre_tenant", PROGRAM, "tenancy", k, y, "housing.public_staff_income",
                f"Tenant {w.name(p)} is a community cadre ({salary} yuan a month), not publicly funded staff.")  # fmt: skip
    for y in w.years(w.n(2)):
        k = c.pick("low_salary_staff_tenant")
        p = int(w.ten.tenant[k])
        salary = int(rng.integers(360, 420)) * 10
        add_staff(
            w, p, "institution", day(2019, 9, 1), salary=salary, employer="黎平县人民医院", position="护工"
        )
        w.truth("lookalike", "low_salary_staff_tenant", PROGRAM, "tenancy", k, y, "housing.public_staff_income",
                f"Tenant {w.name(p)} works at the county hospital for {salary} yuan a month, below the income limit.")  # fmt: skip


def _ledger(w, c: Ctx) -> None:
    rng = w.rng
    for y in w.years(w.n(3)):
        k = c.pick("rent_unpaid_months")
        first = mi(y, int(rng.integers(4, 7)))
        n = int(rng.integers(4, 6))
        w.ten.loc[k, ["unpaid_from", "unpaid_to"]] = [first, first + n - 1]
        w.truth("anomaly", "rent_unpaid_months", PROGRAM, "tenancy", k, y, "housing.arrears",
                f"No rent was paid for {n} consecutive months from {y}-{first % 12 + 1:02d}.")  # fmt: skip
    for y in w.years(w.n(2)):
        k = c.pick("one_late_month_later_paid")
        w.ten.loc[k, ["late_month", "late_days"]] = [mi(y, 4), int(rng.integers(45, 60))]
        w.truth("lookalike", "one_late_month_later_paid", PROGRAM, "tenancy", k, y, "housing.arrears",
                f"The rent for {y}-04 was paid late, in June, and every other month on time.")  # fmt: skip
    for y in w.years(w.n(3)):
        k = c.pick("near_zero_utilities_rent_paid")
        first = mi(y, int(rng.integers(3, 6)))
        n = int(rng.integers(5, 7))
        w.ten.loc[k, ["low_from", "low_to"]] = [first, first + n - 1]
        w.truth("anomaly", "near_zero_utilities_rent_paid", PROGRAM, "tenancy", k, y, "housing.vacant_sublet",
                f"Almost no water or electricity used for {n} months from {y}-{first % 12 + 1:02d} while rent kept being paid.")  # fmt: skip
    for y in w.years(w.n(2)):
        k = c.pick("short_absence_two_months")
        w.ten.loc[k, ["low_from", "low_to"]] = [mi(y, 7), mi(y, 8)]
        w.truth("lookalike", "short_absence_two_months", PROGRAM, "tenancy", k, y, "housing.vacant_sublet",
                f"The household was away for July and August {y}: two months of near-zero use.")  # fmt: skip
    farmers = w.farmers.person.to_numpy()
    farmers = farmers[~c.busy[farmers]]
    for y in w.years(w.n(2)):
        k = c.pick("rent_paid_by_unrelated_person")
        q = int(w.pick("person", farmers, 1, "unrelated payer")[0])
        w.ten.loc[k, ["payer2", "payer2_from", "payer2_to"]] = [q, mi(y, 1), mi(y, 12)]
        w.truth("anomaly", "rent_paid_by_unrelated_person", PROGRAM, "tenancy", k, y, "housing.third_party_payer",
                f"In {y} the rent was paid from the card of {w.name(q)}, a farmer in another township who is not on the lease.")  # fmt: skip
    for y in w.years(w.n(1)):
        a, b = c.pick("one_account_pays_two_tenancies"), c.pick("one_account_pays_two_tenancies")
        w.ten.loc[b, ["payer2", "payer2_from", "payer2_to"]] = [int(w.ten.acct[a]), mi(y, 1), mi(y, 12)]
        for k in (a, b):
            w.truth("anomaly", "one_account_pays_two_tenancies", PROGRAM, "tenancy", k, y, "housing.third_party_payer",
                    f"In {y} one card paid the rent of two different leases, this one included.",
                    finding=("rent_account", y))  # fmt: skip
    for y in w.years(w.n(2)):
        k = c.pick("coresident_pays_rent", min_size=2)
        p = c.coresident(k)
        w.ten.loc[k, ["payer2", "payer2_from", "payer2_to"]] = [p, mi(y, 1), mi(y, 12)]
        hardship_row(w, p, mi(y, 5), 600)  # makes the card known as the co-resident's
        w.used["person"].add(p)
        w.truth("lookalike", "coresident_pays_rent", PROGRAM, "tenancy", k, y, "housing.third_party_payer",
                f"In {y} the rent was paid from the card of {w.name(p)}, who lives in the unit and is on the lease.")  # fmt: skip


def _leases(w, c: Ctx) -> None:
    rng = w.rng
    for i, y in enumerate(w.years(w.n(3))):
        co = i % 3 == 2
        k = c.pick("second_lease", min_size=2 if co else 1)
        p = c.coresident(k) if co else int(w.ten.tenant[k])
        start = int(rand_day(rng, day(y, 2, 1), day(y, 4, 10)))
        acct = p if co else w.new_account()  # a second card, so no account is shared
        k2 = c.new_lease(p, c.new_unit(), start, day(y, 12, 31) if y < 2024 else OPEN, acct)
        w.used["person"].add(p)
        scenario = "coresident_leases_second_unit" if co else "tenant_on_two_leases"
        w.truth("anomaly", scenario, PROGRAM, "person", p, y, "housing.double_lease",
                f"{w.name(p)} holds a second public rental lease ({iso(start)}) while still on the first one.")  # fmt: skip
        del k2
    for y in w.years(w.n(2)):
        k = c.pick("moved_first_lease_ended_before_second")
        p = int(w.ten.tenant[k])
        w.ten.loc[k, "end"] = day(y, 4, 30)
        mates = np.flatnonzero(c.fam == c.fam[p])
        mates = mates[mates != p]
        k2 = c.new_lease(
            p, c.new_unit(), day(y, 6, 1) + int(rng.integers(0, 10)), OPEN, int(w.ten.acct[k]), mates
        )
        w.used["person"].add(p)
        w.truth("lookalike", "moved_first_lease_ended_before_second", PROGRAM, "person", p, y, "housing.double_lease",
                f"{w.name(p)} moved: the first lease ended on {y}-04-30 and the second began in June {y}.")  # fmt: skip
        for kk in (k, k2):
            w.truth("lookalike", "moved_tenant_same_account", PROGRAM, "tenancy", kk, y, "housing.third_party_payer",
                    f"{w.name(p)} paid both their old and, after moving, their new lease from their own card.",
                    finding=("moved_tenant", y))  # fmt: skip
    for y in w.years(w.n(3)):
        k = c.pick("rent_paid_after_tenant_death")
        p = int(w.ten.tenant[k])
        d = int(rand_day(rng, day(y, 1, 10), day(y, 3, 31)))
        w.set_death(p, d)
        end_lease(w, k, y)
        w.truth("anomaly", "rent_paid_after_tenant_death", PROGRAM, "tenancy", k, y, "housing.tenant_deceased",
                f"Tenant {w.name(p)} died on {iso(d)}; rent kept being charged and paid on the lease for the rest of {y}.")  # fmt: skip
    for y in w.years(w.n(2)):
        k = c.pick("death_after_lease_ended")
        p = int(w.ten.tenant[k])
        w.ten.loc[k, "end"] = day(y, 3, 31)
        d = int(rand_day(rng, day(y, 6, 1), day(y, 9, 30)))
        w.set_death(p, d)
        w.truth("lookalike", "death_after_lease_ended", PROGRAM, "tenancy", k, y, "housing.tenant_deceased",
                f"The lease ended on {y}-03-31; the former tenant {w.name(p)} died later, on {iso(d)}.")  # fmt: skip


def _statistical(w, c: Ctx) -> None:
    """Outliers no rule states: a unit using far more power than its peers, a rent far below theirs."""
    rng = w.rng
    for y in w.years(w.n(3)):
        k = c.pick("utilities_far_above_peers")
        f = round(float(rng.uniform(6, 9)), 1)
        w.ten.loc[k, ["util_factor", "hi_from", "hi_to"]] = [f, mi(y, 3), mi(y, 10)]
        w.truth("anomaly", "utilities_far_above_peers", PROGRAM, "tenancy", k, y, "",
                f"From March to October {y} the unit used about {f:.0f} times the water and electricity of similar households.")  # fmt: skip
    t = w.ten
    starts_in = t.start.to_numpy() >= day(2022, 1, 1)
    ok = starts_in & ~c.busy[t.tenant.to_numpy()]
    for _ in range(w.n(3)):
        k = int(w.pick("ten", np.flatnonzero(ok), 1, "rent_far_below_peers")[0])
        y = int(np.datetime64(int(t.start[k]), "D").astype("datetime64[Y]").astype(int) + 1970)
        full = int(w.ten.rent[k])
        w.ten.loc[k, "rent"] = int(round(full * 0.35 / 100)) * 100
        w.truth("anomaly", "rent_far_below_peers", PROGRAM, "tenancy", k, y, "",
                f"Charged {w.ten.rent[k] / 100:.0f} yuan a month where units of the same size pay {full / 100:.0f}.")  # fmt: skip
