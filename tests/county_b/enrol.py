"""Registries and programme enrolments of county B's people (no anomaly yet)."""

from __future__ import annotations

from datetime import date, timedelta

from . import facts, ids
from .world import FIRST, World, adults, age_on

# GA 802 vehicle type codes this county's traffic-police export carries; price ranges in yuan.
CARS = {"K33": (60000, 260000), "K31": (80000, 220000)}          # 小型轿车, 小型普通客车
CHEAP = {"M21": (4000, 12000), "M11": (3000, 9000),                # 普通二轮摩托车, 普通正三轮摩托车 (e-tricycles)
         "N11": (15000, 32000), "T21": (12000, 40000)}             # 三轮汽车, 小型轮式拖拉机


def rand_date(w: World, start: date, end: date) -> date:
    return start + timedelta(days=int(w.rng.integers(0, max(1, (end - start).days))))


def build_dibao(w: World) -> None:
    candidates = [h for h in w.hukou if len(h["members"]) <= 4]
    chosen = w.rng.choice(len(candidates), int(450 * w.scale), replace=False)
    for n, idx in enumerate(sorted(int(i) for i in chosen)):
        h = candidates[idx]
        head = h["members"][0][0]
        if head["death_date"] is not None or head["status"] != "resident":
            continue
        members = [(p["person_id"], rel) for p, rel in h["members"] if p["death_date"] is None
                   and p["status"] == "resident"]
        for pid, _ in members:
            w.people[pid]["dibao"] = True
        size = len(members)
        std = facts.DIBAO_STANDARD[2023]["urban" if ids.is_urban(h["region_code"]) else "rural"]
        income = int(round(float(w.rng.uniform(0, 0.55)) * std * size, -1))
        start = rand_date(w, date(2014, 1, 1), date(2021, 12, 1)) if n % 9 else rand_date(w, date(2022, 2, 1),
                                                                                          date(2024, 3, 1))
        hh = {"household_id": f"GSB{n + 1:06d}", "region_code": h["region_code"], "members": members,
              "enrolments": [{"start": start.replace(day=1), "end": None, "head_id": head["person_id"],
                              "size": size, "income": income, "approved_by": None}],
              "account": head["account"], "overrides": {}, "pay_after_end": False, "extra_account": {}}
        w.dibao.append(hh)


def classified_allowance(w: World, hh: dict, year: int, day: date) -> int:
    """分类施保 of the household for a month: shares of the standard and fixed amounts per member."""
    urban = ids.is_urban(hh["region_code"])
    std = facts.DIBAO_STANDARD[year]["urban" if urban else "rural"]
    total = 0.0
    grades = {c["person_id"]: c["grade"] for c in w.certs if c["revoked_date"] is None or c["revoked_date"] > day}
    rels = [r for _, r in hh["members"]]
    for pid, rel in hh["members"]:
        p = w.people[pid]
        if p["death_date"] is not None and p["death_date"] < day and not hh.get("no_reassess"):
            continue  # reassessed: a dead member's allowance stops (unless never reassessed)
        if age_on(p["birth_date"], day) >= 70:
            total += facts.CLASSIFIED["elderly_70_share"] * std
        g = grades.get(pid)
        if g in (1, 2):
            total += facts.CLASSIFIED["disabled_grade12_share"] * std
        elif g in (3, 4):
            total += facts.CLASSIFIED["disabled_grade34_share"] * std
        if rel == "head" and "spouse" not in rels and "child" in rels:
            total += facts.CLASSIFIED["single_parent_fixed"]
    return int(round(total))


def build_registries(w: World) -> None:
    # Households without a home of their own: candidates for public rental housing, kept off the
    # registries (a tenant's job, car or home is a plant's business, never an accident).
    w.tenant_pool = [h for h in w.hukou if ids.is_urban(h["region_code"]) and not h["members"][0][0].get("dibao")
                     and w.rng.random() < 0.12]
    housed = {id(h) for h in w.tenant_pool}
    for h in w.tenant_pool:
        for p, _ in h["members"]:
            p["tenant_pool"] = True
    free = [p for p in adults(w) if not p.get("dibao") and not p.get("tenant_pool")]
    order = w.rng.permutation(len(free))
    pool = [free[int(i)] for i in order]
    cursor = 0

    def take(k):
        nonlocal cursor
        out = pool[cursor:cursor + k]
        cursor += k
        return out

    # Township civil-affairs officials: they approve dibao enrolments.
    w.approvers = {}
    for t in ids.TOWNSHIPS:
        officials = take(2)
        w.approvers[t] = [o["person_id"] for o in officials]
        for o in officials:
            w.used.add(o["person_id"])
            w.staff.append(staff_row(w, o, f"光山县{t}乡镇民政所", "government", "民政专干", date(2010, 3, 1), None, 5200))
    for hh in w.dibao:
        hh["enrolments"][0]["approved_by"] = w.pick(w.approvers[hh["region_code"][6:9]])
    employers = [("光山县教育体育局", "government"), ("光山县第一高级中学", "institution"),
                 ("光山县人民医院", "institution"), ("国网光山县供电公司", "soe"), ("光山县自然资源局", "government")]
    for o in take(int(220 * w.scale)):
        emp, typ = w.pick(employers)
        w.staff.append(staff_row(w, o, emp, typ, "职员", rand_date(w, date(2004, 1, 1), date(2021, 6, 1)), None,
                                 int(w.rng.integers(3600, 9500))))
    w.cadres = {}
    for region in sorted({h["region_code"] for h in w.hukou}):
        local = [p for p in pool[cursor:cursor + 400] if p["region_code"] == region][:2]
        for o in local:
            pool.remove(o)
            w.cadres.setdefault(region, []).append(o["person_id"])
            w.staff.append(staff_row(w, o, f"{region}村(居)委会", "village_cadre", "村委委员", date(2021, 1, 1), None, 2200))
    for o in take(int(600 * w.scale)):
        kind = "car" if w.rng.random() < 0.6 else "cheap"
        add_vehicle(w, o["person_id"], kind, rand_date(w, date(2012, 1, 1), date(2023, 6, 1)))
    for o in take(int(260 * w.scale)):
        add_role(w, o["person_id"], w.pick(["legal_rep", "shareholder", "executive"]),
                 rand_date(w, date(2010, 1, 1), date(2022, 1, 1)), None, int(w.rng.integers(1, 50)) * 10000)
    # Every household owns its home (the registry lists it under the head); some own more.
    for h in w.hukou:
        head = h["members"][0][0]
        if id(h) in housed:
            continue
        add_property(w, head["person_id"], h["region_code"], "residential",
                     rand_date(w, date(1998, 1, 1), date(2020, 1, 1)), None)
        if not head.get("dibao") and w.rng.random() < 0.08:
            add_property(w, head["person_id"], h["region_code"], w.pick(["residential", "commercial"]),
                         rand_date(w, date(2005, 1, 1), date(2021, 1, 1)), None)
    # Disability certificates: about 4% of people, more often the old.
    for p in list(w.people.values()):
        rate = 0.09 if age_on(p["birth_date"], FIRST) >= 65 else 0.03
        if w.rng.random() < rate:
            grade = int(w.rng.choice([1, 2, 3, 4], p=[0.12, 0.2, 0.3, 0.38]))
            add_cert(w, p["person_id"], grade, rand_date(w, date(2008, 1, 1), date(2023, 10, 1)), None)


def staff_row(w, p, employer, typ, position, start, end, salary) -> dict:
    return {"person_id": p["person_id"], "name": p["name"], "employer": employer, "employer_type": typ,
            "position": position, "start_date": start, "end_date": end, "monthly_salary": salary}


def add_vehicle(w, pid, kind, reg, dereg=None, vtype=None, price=None) -> dict:
    table = CARS if kind == "car" else CHEAP
    vtype = vtype or w.pick(sorted(table))
    lo, hi = table.get(vtype, (5000, 20000))
    row = {"person_id": pid, "plate_no": f"豫S{int(w.rng.integers(10000, 99999))}", "vehicle_type": vtype,
           "registration_date": reg, "deregistration_date": dereg,
           "purchase_price": price if price is not None else int(w.rng.integers(lo, hi) // 100 * 100)}
    w.vehicles.append(row)
    return row


def add_role(w, pid, role, start, end, capital) -> dict:
    code = ids.credit_code(w.rng, "91" if capital >= 100000 else "92")
    row = {"person_id": pid, "entity_code": code, "entity_name": f"光山县{w.people[pid]['name']}经营部",
           "role": role, "registered_capital": capital, "start_date": start, "end_date": end}
    w.roles.append(row)
    return row


def add_property(w, pid, region, usage, reg, dereg) -> dict:
    row = {"person_id": pid, "property_id": f"豫(光山)不动产权第{len(w.properties) + 100001:07d}号",
           "region_code": region, "area_m2": round(float(w.rng.uniform(45, 160)), 1), "usage": usage,
           "registration_date": reg, "deregistration_date": dereg}
    w.properties.append(row)
    return row


def add_cert(w, pid, grade, issue, revoked, category=None) -> dict:
    row = {"person_id": pid, "category": category or w.pick(["visual", "hearing", "speech", "physical",
                                                            "intellectual", "mental", "multiple"]),
           "grade": grade, "issue_date": issue, "revoked_date": revoked}
    w.certs.append(row)
    return row


def build_housing(w: World) -> None:
    n = min(len(w.tenant_pool), int(120 * w.scale))
    for i in range(n):
        h = w.tenant_pool[i]
        tenant = h["members"][0][0]
        if tenant["status"] != "resident" or tenant["death_date"] is not None:
            continue
        start = rand_date(w, date(2016, 1, 1), date(2022, 6, 1))
        t = {"tenancy_id": f"GZF-ZL-{i + 1:04d}", "unit_id": f"公租房{(i % 6) + 1}号楼{i // 6 + 1:02d}{i % 4 + 1:02d}室",
             "person_id": tenant["person_id"], "start_date": start, "end_date": None,
             "members": [(p["person_id"], rel) for p, rel in h["members"][1:] if p["death_date"] is None],
             "monthly_rent": int(w.rng.integers(15, 42)) * 10,
             "income": int(w.rng.integers(15, 40)) * 100, "payer": tenant["account"], "rent_edits": {},
             "quiet": set(), "region_code": h["region_code"]}
        t["household_size"] = 1 + len(t["members"])
        w.tenancies.append(t)
        for pid in [t["person_id"]] + [m for m, _ in t["members"]]:
            w.people[pid]["tenant"] = True


def add_normal_absences(w: World) -> None:
    """Tenants away for seasonal work or a hospital stay, rent paid: the county's normal vacancies.

    Only tenancies no scenario used, so that a plant's run is the plant's own.
    """
    lo, hi = facts.NORMAL_VACANCY_MONTHS
    for t in w.tenancies:
        if t["tenancy_id"] in w.used:
            continue
        for y in facts.YEARS:
            if w.rng.random() < facts.NORMAL_VACANCY_SHARE:
                n = int(w.rng.integers(lo, hi + 1))
                first = int(w.rng.integers(1, 12 - n + 2))
                t["quiet"] |= {date(y, m, 1) for m in range(first, first + n)}


def build_coops(w: World) -> None:
    rural = [p for p in adults(w, 25, 65) if not ids.is_urban(p["region_code"]) and not p.get("dibao")
             and p["person_id"] not in {s["person_id"] for s in w.staff}]
    by_town: dict[str, list] = {}
    for p in rural:
        by_town.setdefault(p["region_code"][6:9], []).append(p)
    towns = sorted(by_town)
    for i in range(int(50 * w.scale)):
        town = towns[i % len(towns)]
        people = by_town[town]
        k = int(w.rng.integers(7, 20))
        picked = [people[int(j)] for j in w.rng.choice(len(people), k, replace=False)]
        coop = {"coop_id": ids.credit_code(w.rng, "93"), "name": f"光山县{town}{w.pick(['茶叶', '油茶', '水稻', '养殖', '菌菇'])}"
                f"专业合作社{i + 1}", "region_code": picked[0]["region_code"],
                "registered_date": rand_date(w, date(2014, 1, 1), date(2020, 12, 1)), "dissolved_date": None,
                "legal_rep_id": picked[0]["person_id"],
                "members": [{"person_id": p["person_id"], "join_date": None, "shares": int(w.rng.integers(1, 12))}
                            for p in picked],
                "fin": {}, "dividend_edits": {}}
        for m in coop["members"]:
            m["join_date"] = coop["registered_date"] + timedelta(days=int(w.rng.integers(0, 400)))
            w.used.add(m["person_id"])
        for y in (2021, 2022, 2023, 2024):
            revenue = int(w.rng.integers(8, 80)) * 10000
            cost = int(revenue * float(w.rng.uniform(0.7, 0.93)))
            subsidy = int(w.rng.integers(2, 10)) * 10000 if w.rng.random() < 0.3 else 0
            coop["fin"][y] = {"revenue": revenue, "cost": cost, "subsidies_received": subsidy,
                              "dividend_share": float(w.rng.uniform(0.3, 0.6))}
        w.coops.append(coop)


def build_farms(w: World) -> None:
    """Contracted farmland of rural households' heads, around each village's own mean; and each
    township's typical hardship grant."""
    means = {}
    for h in w.hukou:
        if ids.is_urban(h["region_code"]):
            continue
        head = h["members"][0][0]
        mean = means.setdefault(h["region_code"], float(w.rng.uniform(3, 8)))
        w.mu[head["person_id"]] = {"base": round(mean * float(w.rng.lognormal(0, 0.3)), 2)}
    for t in ids.TOWNSHIPS:
        w.typical_grant[t] = int(w.rng.integers(6, 16)) * 100
