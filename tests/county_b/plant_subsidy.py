"""Subsidy anomalies and look-alikes: rows added before the programmes are paid, or edits of
the finished rows (the plants need the batch they belong to)."""

from __future__ import annotations

from datetime import date, timedelta

from .pick import elderly, free_person, full_year_dibao
from .world import World

P = "subsidy"


def plant(w: World, y: int) -> None:
    towns = [t for t in sorted(w.typical_grant) if t >= "100"]
    late_town, spike_town, idle_town, idle_ok_town = (towns[((y - 2022) * 3 + i) % len(towns)] for i in (0, 1, 2, 3))
    # A quarterly batch held 118 days after its approval meeting (the county's norm is 35-42).
    w.batch_overrides[("GLJT", late_town, y, 6)] = date(y, 6, 25) - timedelta(days=118)
    f = w.record("anomaly", "batch_held_after_approval", P, "agency", f"GSMZ{late_town}", y,
                 "subsidy.late_disbursement", f"The June {y} elderly-allowance batch was paid 118 days after approval.")

    def late_recipients(rows, f=f, agency=f"GSMZ{late_town}", y=y):
        for r in rows:
            if r["agency_code"] == agency and r["program_code"] == "GLJT" and r["period"] == date(y, 6, 1):
                w.record("anomaly", "batch_held_after_approval", P, "person", r["person_id"], y,
                         "subsidy.late_disbursement", "A recipient of the held batch.", finding=f)
    w.subsidy_edits.append(late_recipients)
    w.record("lookalike", "batch_paid_weeks_after_meeting", P, "agency", f"GSCZ{late_town}", y,
             "subsidy.late_disbursement", "The farmland batch was paid 35-42 days after its approval meeting, "
             "the county's normal timing for an annual programme.")
    # Year-end spending: a township pays half its year's hardship grants in December.
    grant = w.typical_grant[spike_town]
    for i in range(40):
        p = free_person(w, 25, 75)
        pay = date(y, 12, 5 + i % 20)
        w.extra_subsidy.append(_row("LSJZ", p, date(y, 12, 1), grant, pay, pay - timedelta(days=3),
                                    f"GSMZ{spike_town}"))
    w.record("anomaly", "december_grant_rush", P, "agency", f"GSMZ{spike_town}", y, "subsidy.year_end_spike",
             "Forty hardship grants paid in December, about half of the office's year.")
    w.record("lookalike", "winter_relief_batch", P, "agency", "GSMZJ", y, "subsidy.year_end_spike",
             "The county bureau pays its annual winter relief in one December batch.")
    # Idle allocation: a special fund received in January, most of it paid out only in October.
    _special_fund(w, y, idle_town, [(date(y, 2, 20), 0.08), (date(y, 10, 15), 0.92)])
    w.record("anomaly", "special_fund_idle", P, "agency", f"GSMZ{idle_town}", y, "subsidy.idle_allocation",
             "A 90,000 yuan special fund received in January was 92% unpaid after 180 days.")
    _special_fund(w, y, idle_ok_town, [(date(y, 2, 20), 0.4), (date(y, 4, 10), 0.35), (date(y, 6, 1), 0.25)])
    w.record("lookalike", "special_fund_in_batches", P, "agency", f"GSMZ{idle_ok_town}", y, "subsidy.idle_allocation",
             "A special fund paid out in three batches within five months.")
    # Duplicate batch payment / reversal and reissue.
    p = elderly(w, y)
    w.extra_subsidy.append(_row("GLJT", p, date(y, 9, 1), 150, date(y, 10, 9), date(y, 8, 12),
                                f"GSMZ{p['region_code'][6:9]}"))
    w.record("anomaly", "batch_paid_twice", P, "person", p["person_id"], y, "subsidy.duplicate_payment",
             "The September batch was paid to the person twice.")
    p = elderly(w, y)
    t = p["region_code"][6:9]
    w.extra_subsidy.append(_row("GLJT", p, date(y, 9, 1), -150, date(y, 9, 28), date(y, 8, 12), f"GSMZ{t}"))
    w.extra_subsidy.append(_row("GLJT", p, date(y, 9, 1), 150, date(y, 10, 8), date(y, 8, 12), f"GSMZ{t}"))
    w.record("lookalike", "reversed_and_reissued", P, "person", p["person_id"], y, "subsidy.duplicate_payment",
             "A payment to a closed card was reversed and reissued to the new card.")
    # Farmland: inflated quantity / a large honest farm; an amount above its own entitlement.
    for kind in ("anomaly", "lookalike"):
        pid, village_median = _farmer(w, y)
        factor = 9 if kind == "anomaly" else 2.6
        w.mu[pid][y] = round(village_median * factor, 2)
        w.record(kind, "inflated_farmland" if kind == "anomaly" else "large_farm", P, "person", pid, y,
                 "subsidy.basis_outlier", f"Claims {factor}x the village's median farmland.")
    for kind, extra in (("anomaly", 380.0), ("lookalike", 0.6)):
        pid, _ = _farmer(w, y)

        def bump(rows, pid=pid, extra=extra, y=y):
            for r in rows:
                if r["person_id"] == pid and r["program_code"] == "GDBT" and r["period"].year == y:
                    r["amount"] = round(float(r["amount"]) + extra, 2)
        w.subsidy_edits.append(bump)
        w.record(kind, "paid_above_entitlement" if kind == "anomaly" else "rounding", P, "person", pid, y,
                 "subsidy.over_entitlement", f"Paid {extra} yuan above mu x rate.")
    # Paid after death / paid late for the month of death.
    p = elderly(w, y, 82, 88)
    p["death_date"] = date(y, 1, 20)
    t = p["region_code"][6:9]
    for bm in (3, 6, 9):
        w.extra_subsidy.append(_row("GLJT", p, date(y, bm, 1), 150, date(y, bm, 25), date(y, bm, 25) - timedelta(days=38),
                                    f"GSMZ{t}"))
    w.record("anomaly", "elderly_allowance_after_death", P, "person", p["person_id"], y, "subsidy.paid_after_death",
             "The allowance kept being paid for three quarterly batches after the death in January.")
    p = elderly(w, y, 82, 88)
    p["death_date"] = date(y, 6, 4)  # the June batch (period June) is the month of death: legitimate
    w.record("lookalike", "paid_for_death_month", P, "person", p["person_id"], y, "subsidy.paid_after_death",
             "The June batch was paid on the 25th for June, the month of death.")
    # A village cadre's card collects four unrelated elderly people's allowances (one finding).
    cadre = w.people[w.pick(w.cadres[w.pick(sorted(w.cadres))])]
    f = w.new_finding()
    for _ in range(4):
        p = elderly(w, y)
        p["pay_account"] = cadre["account"]
        p["pay_account_year"] = y
        w.record("anomaly", "cadre_collects_allowances", P, "person", p["person_id"], y, "subsidy.shared_account",
                 "The person's elderly allowance is paid into a village cadre's card with three others'.", finding=f)
    # Look-alike: a dibao household's members' subsidies paid into the head's card.
    h = _household_with_two_beneficiaries(w, y)
    if h is not None:
        w.record("lookalike", "household_card", P, "person", h, y, "subsidy.shared_account",
                 "The members' subsidies are paid into the household head's card (one household).")
    # Unapproved: no approval on a grant / paid before approval; same-day approval is fine.
    for kind, approve_shift, scenario in (("anomaly", None, "grant_without_approval"),
                                          ("anomaly", 6, "paid_before_approval"),
                                          ("lookalike", 0, "approved_same_day")):
        p = free_person(w, 25, 75)
        t = p["region_code"][6:9]
        pay = date(y, 5, 16)
        approve = None if approve_shift is None else pay + timedelta(days=approve_shift)
        w.extra_subsidy.append(_row("LSJZ", p, date(y, 5, 1), w.typical_grant[t], pay, approve, f"GSMZ{t}"))
        w.record(kind, scenario, P, "person", p["person_id"], y, "subsidy.unapproved",
                 f"A hardship grant paid {pay} with approval {approve or 'missing'}.")
    # Outlier-only: hardship grants six times the township's typical amount.
    for _ in range(6):
        p = free_person(w, 25, 75)
        t = p["region_code"][6:9]
        pay = date(y, int(w.rng.integers(2, 11)), 12)
        w.extra_subsidy.append(_row("LSJZ", p, pay.replace(day=1), w.typical_grant[t] * 6, pay,
                                    pay - timedelta(days=4), f"GSMZ{t}"))
        w.record("anomaly", "grant_six_times_typical", P, "person", p["person_id"], y, "",
                 "A hardship grant six times the township's typical amount.")


def _row(code, p, period, amount, pay, approve, agency, qty=None, rate=None) -> dict:
    return {"program_code": code, "person_id": p["person_id"], "period": period, "amount": amount,
            "pay_date": pay, "approve_date": approve, "agency_code": agency, "basis_quantity": qty, "unit_rate": rate}


def _special_fund(w: World, y: int, town: str, tranches) -> None:
    total = 90000
    w.allocations_extra.append({"agency_code": f"GSMZ{town}", "program_code": "ZXJZ", "amount": total,
                                "received_date": date(y, 1, 12)})
    for pay, share in tranches:
        n = 6
        for _ in range(n):
            p = free_person(w, 25, 75)
            w.extra_subsidy.append(_row("ZXJZ", p, pay.replace(day=1), round(total * share / n, 2), pay,
                                        pay - timedelta(days=3), f"GSMZ{town}"))


def _farmer(w: World, y: int):
    """A farming head not yet planted, and the median farmland of their village."""
    keys = sorted(w.mu)
    for i in w.rng.permutation(len(keys)):
        pid = keys[int(i)]
        p = w.people[pid]
        if pid in w.used or p["death_date"] is not None or p["status"] != "resident" or p.get("dibao"):
            continue
        village = [w.mu[k]["base"] for k in keys if w.people[k]["region_code"] == p["region_code"]]
        if len(village) < 8:
            continue
        w.used.add(pid)
        village.sort()
        return pid, village[len(village) // 2]
    raise RuntimeError("county B ran out of farmers to plant with")


def _household_with_two_beneficiaries(w: World, y: int):
    """A dibao household whose elderly and disabled members are paid into the head's card."""
    h = full_year_dibao(w, y, min_size=2)
    from .enrol import add_cert
    head = h["enrolments"][0]["head_id"]
    others = [pid for pid, _ in h["members"] if pid != head]
    add_cert(w, others[0], 2, date(2016, 3, 1), None, "intellectual")
    add_cert(w, head, 2, date(2017, 3, 1), None, "physical")
    w.people[others[0]]["pay_account"] = w.people[head]["account"]
    return others[0]

