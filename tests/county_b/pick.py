"""Choosing the people and records a plant changes: each is taken once, so plants never overlap."""

from __future__ import annotations

from datetime import date

from .world import World, age_on


def full_year_dibao(w: World, year: int, urban: bool | None = None, min_size: int = 1, max_size: int = 9) -> dict:
    """A dibao household enrolled all of `year` and untouched by other plants."""
    from . import ids
    for hh in w.rng.permutation(len(w.dibao)):
        h = w.dibao[int(hh)]
        e = h["enrolments"][0]
        if h["household_id"] in w.used or e["start"] > date(year - 1, 6, 1) or e["end"] is not None:
            continue
        if not (min_size <= len(h["members"]) <= max_size):
            continue
        if urban is not None and ids.is_urban(h["region_code"]) != urban:
            continue
        if any(pid in w.used for pid, _ in h["members"]):
            continue
        w.used.add(h["household_id"])
        for pid, _ in h["members"]:
            w.used.add(pid)
        return h
    raise RuntimeError("county B ran out of dibao households to plant in: raise the scale")


def member(w: World, hh: dict, relation: str | None = None) -> str:
    for pid, rel in hh["members"]:
        if relation is None and rel != "head" or rel == relation:
            return pid
    return hh["members"][-1][0]


def free_person(w: World, min_age=25, max_age=55, rural: bool | None = None, on=date(2022, 1, 1)) -> dict:
    """A resident alive through the span who is on no programme roster and in no plant yet."""
    from . import ids
    keys = sorted(w.people)
    for i in w.rng.permutation(len(keys)):
        p = w.people[keys[int(i)]]
        if p["person_id"] in w.used or p.get("dibao") or p.get("tenant") or p["status"] != "resident" \
                or p["death_date"] is not None or not (min_age <= age_on(p["birth_date"], on) <= max_age):
            continue
        if rural is not None and ids.is_urban(p["region_code"]) == rural:
            continue
        w.used.add(p["person_id"])
        return p
    raise RuntimeError("county B ran out of people to plant with")


def tenancy(w: World, year: int, min_members: int = 0) -> dict:
    for i in w.rng.permutation(len(w.tenancies)):
        t = w.tenancies[int(i)]
        if t["tenancy_id"] in w.used or t["start_date"] > date(year - 1, 6, 1) or len(t["members"]) < min_members:
            continue
        if t["person_id"] in w.used:
            continue
        w.used.add(t["tenancy_id"])
        w.used.add(t["person_id"])
        for pid, _ in t["members"]:
            w.used.add(pid)
        return t
    raise RuntimeError("county B ran out of tenancies to plant in")


def coop(w: World, year: int) -> dict:
    for i in w.rng.permutation(len(w.coops)):
        c = w.coops[int(i)]
        if c["coop_id"] not in w.used and c["dissolved_date"] is None:
            w.used.add(c["coop_id"])
            return c
    raise RuntimeError("county B ran out of cooperatives to plant in")


def elderly(w: World, year: int, min_age=81, max_age=88) -> dict:
    return free_person(w, min_age, max_age, on=date(year, 1, 1))
