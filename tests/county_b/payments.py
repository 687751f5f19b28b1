"""Turn county B's records into the contract's tables: payments, ledgers, accounts, registries."""

from __future__ import annotations

from datetime import date, timedelta

from . import facts, ids
from .enrol import classified_allowance
from .world import FIRST, LAST, World, age_on, alive_resident, months

YEARS = facts.YEARS


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def dibao_amount(w: World, hh: dict, enr: dict, m: date) -> int:
    urban = ids.is_urban(hh["region_code"])
    std = facts.DIBAO_STANDARD[m.year]["urban" if urban else "rural"]
    size = enr["size"]
    if not hh.get("no_reassess"):
        # A member's death is reassessed: from the second month after it, one person fewer.
        for pid, rel in hh["members"]:
            dd = w.people[pid]["death_date"]
            if dd is not None and rel != "head" and month_index(m) >= month_index(dd) + 2:
                size -= 1
    return max(30, std * size - enr["income"]) + classified_allowance(w, hh, m.year, m)


def enrolment_for(hh: dict, m: date) -> dict | None:
    started = [e for e in hh["enrolments"] if e["start"] <= m]
    if not started:
        return None
    e = max(started, key=lambda e: e["start"])
    if e["end"] is not None and e["end"] < m and not hh["pay_after_end"]:
        return None
    return e


def dibao_payments(w: World) -> list[dict]:
    rows = []
    for hh in w.dibao:
        for m in months(FIRST, LAST):
            enr = enrolment_for(hh, m)
            if enr is None:
                continue
            head = w.people[enr["head_id"]]
            if head["death_date"] is not None and month_index(m) > month_index(head["death_date"]) \
                    and not hh.get("pay_after_death"):
                continue
            amount = hh["overrides"].get(m, dibao_amount(w, hh, enr, m))
            rows.append({"household_id": hh["household_id"], "period": m, "amount": amount,
                         "pay_date": m.replace(day=facts.DIBAO_PAY_DAY),
                         "bank_account": hh["extra_account"].get(m, hh["account"])})
    return rows


def account_of(w: World, pid: str, year: int | None = None) -> str:
    """The card a person's money goes to: their own, or one a plant or the family chose."""
    p = w.people[pid]
    if p.get("pay_account_year") not in (None, year):
        return p["account"]
    return p.get("pay_account") or p["account"]


def batch_approval(w: World, pay: date, lo_hi) -> date:
    return pay - timedelta(days=int(w.rng.integers(lo_hi[0], lo_hi[1] + 1)))


def subsidy_payments(w: World) -> list[dict]:
    rows: list[dict] = []

    def pay(code, pid, period, amount, pay_date, approve, agency, qty=None, rate=None, apply=None):
        p = w.people[pid]
        rows.append({"program_code": code, "program_name": facts.PROGRAMMES[code]["name"], "person_id": pid,
                     "name": p["name"], "region_code": p["region_code"], "period": period, "amount": amount,
                     "basis_quantity": qty, "unit_rate": rate, "apply_date": apply, "approve_date": approve,
                     "pay_date": pay_date, "bank_account": account_of(w, pid, period.year),
                     "agency_code": agency})

    people = sorted(w.people.values(), key=lambda p: p["person_id"])
    grades = {}
    for c in w.certs:
        grades.setdefault(c["person_id"], []).append(c)
    g = facts.PROGRAMMES["GLJT"]
    for y in YEARS:
        for bm in g["batch_months"]:
            first = date(y, bm, 1)
            pay_day = date(y, bm, g["pay_day"])
            approvals = {t: batch_approval(w, pay_day, g["approval_days_before_pay"]) for t in ids.TOWNSHIPS}
            for p in people:
                a = age_on(p["birth_date"], first)
                if a < facts.ELDERLY_AGE or not alive_resident(p, first) or ("GLJT", p["person_id"], y) in w.skip_payments:
                    continue
                rate = 300 if a >= 100 else 100 if a >= 90 else 50
                t = p["region_code"][6:9]
                pay("GLJT", p["person_id"], first, rate * 3, pay_day, w.batch_overrides.get(("GLJT", t, y, bm),
                    approvals[t]), f"GSMZ{t}")
        c = facts.PROGRAMMES["CJHL"]
        for m in months(date(y, 1, 1), date(y, 12, 1)):
            for pid, certs in sorted(grades.items()):
                p = w.people[pid]
                ok = any(cc["grade"] in facts.NURSING_GRADES and cc["issue_date"] < m
                         and (cc["revoked_date"] is None or cc["revoked_date"] > m) for cc in certs)
                if not ok or not alive_resident(p, m) or ("CJHL", pid, y) in w.skip_payments:
                    continue
                pay("CJHL", pid, m, c["monthly_rate"][y], m.replace(day=c["pay_day"]),
                    m.replace(day=c["approve_day"]), "GSCL000")
        gd = facts.PROGRAMMES["GDBT"]
        pay_day = date(y, 6, gd["pay_day"])
        approvals = {t: batch_approval(w, pay_day, gd["approval_days_before_pay"]) for t in ids.TOWNSHIPS}
        for pid in sorted(w.mu):
            p = w.people[pid]
            if not alive_resident(p, date(y, 6, 1)):
                continue
            q = w.mu[pid].get(y, w.mu[pid]["base"])
            rate = gd["unit_rate"][y]
            t = p["region_code"][6:9]
            pay("GDBT", pid, date(y, 6, 1), round(q * rate, 2), pay_day, approvals[t], f"GSCZ{t}", q, rate)
        dc = facts.PROGRAMMES["DCJZ"]
        pay_day = date(y, 12, dc["pay_day"])
        approve = batch_approval(w, pay_day, dc["approval_days_before_pay"])
        for hh in w.dibao:
            enr = [e for e in hh["enrolments"] if e["start"] <= date(y, 11, 1) and (e["end"] is None or e["end"] >= date(y, 12, 1))]
            if enr and alive_resident(w.people[enr[-1]["head_id"]], date(y, 12, 1)):
                pay("DCJZ", enr[-1]["head_id"], date(y, 12, 1), 300 + 100 * (enr[-1]["size"] - 1), pay_day,
                    approve, "GSMZJ")
    # 临时救助: ad hoc grants, around each township's own typical amount.
    adults = [p for p in people if age_on(p["birth_date"], FIRST) >= 18 and p["status"] == "resident"
              and p["death_date"] is None]
    by_town: dict[str, list] = {}
    for p in adults:
        by_town.setdefault(p["region_code"][6:9], []).append(p)
    for y in YEARS:
        for m in months(date(y, 1, 1), date(y, 12, 1)):
            for t in ids.TOWNSHIPS:
                for _ in range(int(w.rng.integers(1, 4))):
                    p = by_town[t][int(w.rng.integers(len(by_town[t])))]
                    pay_day = m.replace(day=int(w.rng.integers(5, 28)))
                    approve = pay_day - timedelta(days=int(w.rng.integers(2, 9)))
                    amount = int(round(w.typical_grant[t] * float(w.rng.uniform(0.7, 1.3)), -1))
                    pay("LSJZ", p["person_id"], m, amount, pay_day, approve, f"GSMZ{t}",
                        apply=approve - timedelta(days=int(w.rng.integers(7, 40))))
    for extra in w.extra_subsidy:
        row = dict(extra)
        row.setdefault("program_name", facts.PROGRAMMES.get(row["program_code"], {"name": "专项"})["name"])
        p = w.people[row["person_id"]]
        row.setdefault("name", p["name"])
        row.setdefault("region_code", p["region_code"])
        row.setdefault("bank_account", account_of(w, row["person_id"], row["period"].year))
        for k in ("basis_quantity", "unit_rate", "apply_date", "approve_date"):
            row.setdefault(k, None)
        rows.append(row)
    for edit in w.subsidy_edits:
        edit(rows)
    rows.sort(key=lambda r: (r["pay_date"] or r["period"], r["program_code"], r["person_id"]))
    return rows


def allocations(w: World, subsidies: list[dict]) -> list[dict]:
    """Money each agency received: each batch's total some weeks ahead; ad hoc and monthly
    programmes a quarter at a time, at the start of the quarter."""
    totals: dict[tuple, float] = {}
    for r in subsidies:
        if r["program_code"] == "ZXJZ":
            continue  # allocated by the plants that use it
        q = r["pay_date"].month if r["program_code"] in ("GLJT", "GDBT", "DCJZ") else (r["period"].month - 1) // 3 * 3 + 1
        key = (r["agency_code"], r["program_code"], r["pay_date"].year if r["program_code"] in ("GLJT", "GDBT", "DCJZ")
               else r["period"].year, q)
        totals[key] = totals.get(key, 0.0) + float(r["amount"])
    rows = []
    for (agency, code, y, m), amount in sorted(totals.items()):
        if code in ("GLJT", "GDBT", "DCJZ"):
            received = date(y, m, 1) - timedelta(days=int(w.rng.integers(5, 25)))
        else:
            received = date(y, m, 1) - timedelta(days=int(w.rng.integers(1, 10)))
        rows.append({"agency_code": agency, "program_code": code, "amount": round(amount, 2), "received_date": received})
    rows += w.allocations_extra
    for i, r in enumerate(rows):
        r["allocation_id"] = f"ZJ{r['received_date']:%Y}{i + 1:05d}"
    return rows


def housing(w: World):
    tenancies, members, rent, utilities = [], [], [], []
    for t in w.tenancies:
        tenancies.append({"tenancy_id": t["tenancy_id"], "unit_id": t["unit_id"], "person_id": t["person_id"],
                          "start_date": t["start_date"], "end_date": t["end_date"],
                          "household_size": t["household_size"], "monthly_rent": t["monthly_rent"],
                          "declared_monthly_income": t["income"]})
        members.append({"tenancy_id": t["tenancy_id"], "person_id": t["person_id"], "relation": "tenant"})
        for pid, rel in t["members"]:
            members.append({"tenancy_id": t["tenancy_id"], "person_id": pid, "relation": rel})
        end = min(LAST, t["end_date"] or LAST)
        for m in months(max(FIRST, t["start_date"]), end):
            nxt = (m.replace(day=28) + timedelta(days=4)).replace(day=10)
            row = {"tenancy_id": t["tenancy_id"], "period": m, "rent_due": t["monthly_rent"],
                   "rent_paid": t["monthly_rent"], "paid_date": nxt, "payer_account": t["payer"]}
            row.update(t["rent_edits"].get(m, {}))
            rent.append(row)
            quiet = m in t["quiet"]
            elec = round(float(w.rng.uniform(2, 8)), 1) if quiet else round(float(w.rng.uniform(60, 260)), 1)
            water = None if m.month % facts.WATER_READ_EVERY_MONTHS else (
                0.0 if quiet else round(float(w.rng.uniform(5, 18)), 1))
            utilities.append({"unit_id": t["unit_id"], "period": m, "water_m3": water, "electricity_kwh": elec})
    return tenancies, members, rent, utilities


def cooperatives(w: World):
    coops, members, fins, dividends = [], [], [], []
    for c in w.coops:
        coops.append({k: c[k] for k in ("coop_id", "name", "region_code", "registered_date", "dissolved_date",
                                        "legal_rep_id")} | {"member_count_declared": len(c["members"])})
        for m in c["members"]:
            members.append({"coop_id": c["coop_id"], "person_id": m["person_id"], "join_date": m["join_date"],
                            "shares": m["shares"]})
        for y, f in sorted(c["fin"].items()):
            if c["dissolved_date"] is not None and c["dissolved_date"].year < y:
                continue
            surplus = None if f.get("blank") else f["revenue"] - f["cost"]
            fins.append({"coop_id": c["coop_id"], "year": y, "revenue": f["revenue"], "cost": f["cost"],
                         "surplus": surplus, "subsidies_received": f["subsidies_received"],
                         "dividends_declared": None})
            if y < 2022 or surplus is None or (c["dissolved_date"] is not None and c["dissolved_date"].year <= y):
                continue
            pool = f.get("dividend_pool", surplus * f["dividend_share"] if surplus > 0 else 0)
            total_shares = sum(m["shares"] for m in c["members"])
            paid = []
            for m in c["members"]:
                if pool <= 0:
                    break
                dd = w.people[m["person_id"]]["death_date"]
                if dd is not None and dd < date(y, 1, 1) and c.get("pay_dead_year") != y:
                    continue  # settled with the heirs, off the list
                amount = f.get("equal_amount") or int(pool * m["shares"] / total_shares * 100) / 100
                paid.append({"coop_id": c["coop_id"], "person_id": m["person_id"], "year": y, "amount": amount,
                             "pay_date": date(y + 1, 3, 15), "bank_account": account_of(w, m["person_id"], y)})
            for edit in c["dividend_edits"].get(y, []):
                edit(paid)
            fins[-1]["dividends_declared"] = round(sum(p["amount"] for p in paid), 2)
            dividends += paid
    return coops, members, fins, dividends
