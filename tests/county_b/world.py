"""The people of county B and the programmes' enrolments, before any anomaly is planted.

Everything is kept as plain dicts in `World`; payments are made from these records later
(payments.py), once the plants (plants/*.py) have changed the records they need.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from . import ids


def d(y: int, m: int, day: int) -> date:
    return date(y, m, day)


def months(start: date, end: date):
    """First days of the months from start's month to end's month, both included."""
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        yield date(y, m, 1)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


FIRST, LAST = date(2022, 1, 1), date(2024, 12, 31)


class World:
    def __init__(self, scale: float, seed: int):
        self.rng = np.random.default_rng(seed)
        self.scale = scale
        self.people: dict[str, dict] = {}
        self.hukou: list[dict] = []          # household registry households
        self.staff: list[dict] = []          # civil_servants rows
        self.vehicles: list[dict] = []
        self.roles: list[dict] = []
        self.properties: list[dict] = []
        self.certs: list[dict] = []
        self.dibao: list[dict] = []          # dibao households: enrolments + roster
        self.tenancies: list[dict] = []
        self.coops: list[dict] = []
        self.truth: list[dict] = []
        self.finding = 0
        self.used: set[str] = set()          # people a plant has taken, so plants never collide
        self.tables: dict[str, list[dict]] = {}
        self.extra_subsidy: list[dict] = []  # payments plants add before the programmes are paid
        self.allocations_extra: list[dict] = []
        self.skip_payments: set[tuple] = set()  # (program, person_id, year) left unpaid: missed
        self.batch_overrides: dict[tuple, date] = {}  # (program, township, year, month) -> approve_date
        self.subsidy_edits: list = []        # functions that change the finished subsidy rows
        self.mu: dict[str, dict] = {}        # farmland (mu) of each farming household's head
        self.typical_grant: dict[str, int] = {}

    # --- helpers ------------------------------------------------------------------------
    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def new_person(self, birth: date, region: str, hukou: str, surname=None, female=None) -> dict:
        female = bool(self.rng.integers(2)) if female is None else female
        while True:
            pid = ids.resident_id(self.rng, birth, female)
            if pid not in self.people:
                break
        p = {"person_id": pid, "name": ids.person_name(self.rng, surname), "birth_date": birth, "female": female,
             "region_code": region, "hukou_household_id": hukou, "status": "resident", "moved_out_date": None,
             "death_date": None, "account": ids.bank_account(self.rng)}
        self.people[pid] = p
        return p

    def record(self, kind, scenario, program, entity_type, entity_id, year, rule_id, description, finding=None):
        if finding is None:
            self.finding += 1
            finding = self.finding
        self.truth.append({"kind": kind, "scenario": scenario, "program": program, "entity_type": entity_type,
                           "entity_id": entity_id, "year": year, "rule_id": rule_id, "description": description,
                           "finding": f"F{finding:04d}"})
        return finding

    def new_finding(self) -> int:
        self.finding += 1
        return self.finding

    def birth_for_age(self, age: int, on: date = date(2023, 1, 1)) -> date:
        return on - timedelta(days=int(age * 365.25 + self.rng.integers(1, 360)))


def villages() -> list[str]:
    out = []
    for t in ids.TOWNSHIPS:
        if t < "100":   # a street: urban neighbourhoods only
            out += [ids.village_code(t, v) for v in (1, 2, 3)]
        else:            # a town: its seat's 居委会 and four 村委会
            out += [ids.village_code(t, 1)] + [ids.village_code(t, v) for v in (201, 202, 203, 204)]
    return out


def build_population(w: World) -> None:
    n_households = int(3300 * w.scale)
    vs = villages()
    for i in range(n_households):
        region = vs[i % len(vs)]
        hid = f"H{region[6:]}{i:05d}"
        surname = ids.SURNAMES[int(w.rng.integers(len(ids.SURNAMES)))]
        head_age = int(w.rng.choice([28, 35, 42, 50, 58, 66, 72, 78, 84],
                                    p=[.13, .15, .15, .15, .13, .11, .08, .06, .04]) + w.rng.integers(0, 7))
        head = w.new_person(w.birth_for_age(head_age), region, hid, surname, female=bool(w.rng.random() < 0.2))
        members = [(head, "head")]
        if w.rng.random() < 0.75:
            members.append((w.new_person(w.birth_for_age(max(20, head_age - int(w.rng.integers(-3, 6)))),
                                         region, hid, female=not head["female"]), "spouse"))
        if head_age < 75:
            for _ in range(int(w.rng.integers(0, 3))):
                members.append((w.new_person(w.birth_for_age(max(1, head_age - int(w.rng.integers(22, 34)))),
                                             region, hid, surname), "child"))
        if head_age < 60 and w.rng.random() < 0.25:
            members.append((w.new_person(w.birth_for_age(head_age + int(w.rng.integers(24, 32))), region, hid,
                                         surname), "parent"))
        w.hukou.append({"hukou_household_id": hid, "region_code": region, "members": members})
    # Some people left the county (moved out) years ago or during the span.
    everyone = list(w.people.values())
    for p in w.rng.choice(len(everyone), int(len(everyone) * 0.02), replace=False):
        person = everyone[int(p)]
        person["status"] = "moved_out"
        person["moved_out_date"] = date(2019, 1, 1) + timedelta(days=int(w.rng.integers(0, 1800)))
    # Natural deaths of the very old (not of anyone a programme below enrols: those are plants).
    for person in everyone:
        if age_on(person["birth_date"], FIRST) >= 85 and w.rng.random() < 0.12 and person["status"] == "resident":
            person["death_date"] = FIRST + timedelta(days=int(w.rng.integers(0, 1090)))


def alive_resident(p: dict, day: date) -> bool:
    return (p["death_date"] is None or p["death_date"] > day) and (
        p["moved_out_date"] is None or p["moved_out_date"] > day)


def adults(w: World, min_age=22, max_age=58, on=date(2022, 1, 1)):
    return [p for p in w.people.values()
            if min_age <= age_on(p["birth_date"], on) <= max_age and p["status"] == "resident"
            and p["death_date"] is None]
