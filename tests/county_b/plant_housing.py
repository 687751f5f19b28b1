"""Public rental housing anomalies and look-alikes."""

from __future__ import annotations

from datetime import date

from . import enrol
from .pick import free_person, tenancy
from .world import World, months

P = "housing"


def plant(w: World, y: int) -> None:
    tid = "tenancy"
    # Arrears: four months unpaid / two months unpaid, then paid in full late.
    t = tenancy(w, y)
    for m in months(date(y, 4, 1), date(y, 7, 1)):
        t["rent_edits"][m] = {"rent_paid": 0, "paid_date": None}
    w.record("anomaly", "four_months_unpaid", P, tid, t["tenancy_id"], y, "housing.arrears",
             f"Rent of April to July {y} was never paid.")
    t = tenancy(w, y)
    for m in months(date(y, 4, 1), date(y, 5, 1)):
        t["rent_edits"][m] = {"rent_paid": 0, "paid_date": None}
    t["rent_edits"][date(y, 6, 1)] = {"paid_date": date(y, 9, 30)}
    w.record("lookalike", "two_months_unpaid", P, tid, t["tenancy_id"], y, "housing.arrears",
             "Two months unpaid and one paid three months late: below the arrears threshold.")
    # Double lease: a co-resident of one lease is the tenant of another unit for eight months.
    a, b = tenancy(w, y, min_members=1), tenancy(w, y)
    person = a["members"][0][0]
    b["person_id"], b["start_date"], b["end_date"] = person, date(y, 2, 1), date(y, 9, 30)
    w.record("anomaly", "on_two_leases", P, "person", person, y, "housing.double_lease",
             f"On lease {a['tenancy_id']} and tenant of {b['tenancy_id']} for eight months.")
    a, b = tenancy(w, y), tenancy(w, y)
    a["end_date"] = date(y, 3, 20)
    b["person_id"], b["start_date"] = a["person_id"], date(y, 3, 1)
    b["members"] = []
    b["payer"] = w.people[a["person_id"]]["account"]
    w.record("lookalike", "moved_unit", P, "person", a["person_id"], y, "housing.double_lease",
             "Moved to another unit; the leases overlap 20 days.")
    # Owns a home / owns a shop.
    for kind, usage in (("anomaly", "residential"), ("lookalike", "commercial")):
        t = tenancy(w, y)
        enrol.add_property(w, t["person_id"], t["region_code"], usage, date(y, 1, 15), date(y + 1, 1, 1))
        w.record(kind, f"tenant_owns_{usage}", P, tid, t["tenancy_id"], y, "housing.owns_property",
                 f"The tenant registered a {usage} property during the lease.")
    # Public staff on the lease with a high salary / a modest one.
    for kind, salary in (("anomaly", 7600), ("lookalike", 4300)):
        t = tenancy(w, y, min_members=1)
        p = w.people[t["members"][0][0]]
        w.staff.append(enrol.staff_row(w, p, "光山县税务局", "government", "科员", date(y, 1, 1), date(y, 12, 31), salary))
        w.record(kind, "staff_on_lease", P, tid, t["tenancy_id"], y, "housing.public_staff_income",
                 f"A co-resident is publicly funded staff earning {salary} yuan a month.")
    # The tenant dies; rent keeps being paid / a co-resident dies.
    t = tenancy(w, y)
    w.people[t["person_id"]]["death_date"] = date(y, 3, 8)
    t["end_date"] = date(y, 12, 31)  # closed at the annual review
    w.record("anomaly", "rent_paid_for_dead_tenant", P, tid, t["tenancy_id"], y, "housing.tenant_deceased",
             f"The tenant died on {y}-03-08; rent kept being paid under the name.")
    t = tenancy(w, y)
    w.people[t["person_id"]]["death_date"] = date(y, 5, 2)
    t["end_date"] = date(y, 5, 31)
    w.record("lookalike", "lease_closed_on_death", P, tid, t["tenancy_id"], y, "housing.tenant_deceased",
             "The tenant died; the lease was closed at the end of the month.")
    # Third-party payer: the real occupant pays the rent from a card that collects their own grant.
    t = tenancy(w, y)
    occupant = free_person(w, 25, 55)
    w.extra_subsidy.append({"program_code": "LSJZ", "person_id": occupant["person_id"], "period": date(y, 2, 1),
                            "amount": w.typical_grant[occupant["region_code"][6:9]], "pay_date": date(y, 2, 14),
                            "approve_date": date(y, 2, 10), "agency_code": f"GSMZ{occupant['region_code'][6:9]}"})
    for m in months(date(y, 1, 1), date(y, 12, 1)):
        t["rent_edits"][m] = {"payer_account": occupant["account"]}
    w.record("anomaly", "occupant_pays_rent", P, tid, t["tenancy_id"], y, "housing.third_party_payer",
             "The rent is paid from the card of someone not on the lease (the real occupant).")
    t = tenancy(w, y, min_members=1)
    grandparent = t["person_id"]
    for pid, _ in t["members"]:
        w.people[pid]["pay_account"] = w.people[grandparent]["account"]
    enrol.add_cert(w, t["members"][0][0], 2, date(2014, 6, 1), None, "intellectual")
    w.record("lookalike", "family_card_pays_rent", P, tid, t["tenancy_id"], y, "housing.third_party_payer",
             "The tenant's card pays the rent and also receives the co-residents' subsidies (one lease).")
    # Quiet meters: ten months idle (anomaly); a hospital stay and seasonal work away (look-alikes).
    t = tenancy(w, y)
    t["quiet"] |= set(months(date(y, 2, 1), date(y, 11, 1)))
    w.record("anomaly", "unit_held_empty", P, tid, t["tenancy_id"], y, "housing.vacant_sublet",
             "Ten months without water or electricity while the rent is paid.")
    for scenario, start, end in (("tenant_in_hospital", date(y, 3, 1), date(y, 6, 1)),
                                 ("seasonal_migrant_work", date(y, 3, 1), date(y, 7, 1))):
        t = tenancy(w, y)
        t["quiet"] |= set(months(start, end))
        w.record("lookalike", scenario, P, tid, t["tenancy_id"], y, "housing.vacant_sublet",
                 f"The household was away {len(list(months(start, end)))} months with the rent paid.")
    # Vehicles: a car / a motorcycle.
    t = tenancy(w, y)
    enrol.add_vehicle(w, t["person_id"], "car", date(y, 1, 20), vtype="K33", price=136000, dereg=date(y + 1, 1, 1))
    w.record("anomaly", "tenant_with_car", P, tid, t["tenancy_id"], y, "housing.vehicle",
             "The tenant registered a 136,000 yuan car during the lease.")
    t = tenancy(w, y)
    enrol.add_vehicle(w, t["person_id"], "cheap", date(y - 1, 12, 1), vtype="M21")
    w.record("lookalike", "tenant_with_motorcycle", P, tid, t["tenancy_id"], y, "housing.vehicle",
             "The tenant owns a motorcycle (M21).")
