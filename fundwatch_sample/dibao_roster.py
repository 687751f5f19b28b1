"""The dibao roster as the scenarios see it: households indexed once (Ctx), and how a
household is enrolled so that its evidence falls in one year. Shared by the eligibility
scenarios (plant_dibao.py), the payment-side ones (plant_dibao_pay.py) and the
cross-programme ones, so that none of them imports another's scenarios."""

from __future__ import annotations

import numpy as np

from fundwatch_sample.people import CHILD, HEAD, OTHER_REL, PARENT, REF_DAY, RELATIONS, SPOUSE, age_on
from fundwatch_sample.util import OPEN, day, rand_day

PROGRAM = "dibao"


class Ctx:
    """Household rosters and ages, indexed once."""

    def __init__(self, w):
        self.w = w
        m = w.hh_members
        order = np.argsort(m.hh.to_numpy(), kind="stable")
        self.m_hh = m.hh.to_numpy()[order]
        self.m_person = m.person.to_numpy()[order]
        self.m_rel = m.rel.to_numpy()[order]
        self.age = age_on(w.people.birth.to_numpy(), REF_DAY)
        busy = w.busy_people()
        bad = np.zeros(len(w.hh), dtype=bool)
        bad[self.m_hh[busy[self.m_person]]] = True
        hh = w.hh
        self.clean = (~bad) & (hh.start.to_numpy() < day(2021, 11, 1)) & (hh.end.to_numpy() == OPEN)
        adult = (self.age[self.m_person] >= 23) & (self.age[self.m_person] <= 55) & (self.m_rel != HEAD)
        self.n_adult = np.bincount(self.m_hh[adult], minlength=len(hh))

    def members(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.searchsorted(self.m_hh, [h, h + 1])
        return self.m_person[lo:hi], self.m_rel[lo:hi]

    def pick(self, what: str, min_size=1, max_size=6, adult=False) -> int:
        size = self.w.hh["size"].to_numpy()[: len(self.clean)]  # scenarios may append households
        ok = self.clean & (size >= min_size) & (size <= max_size)
        if adult:
            ok &= self.n_adult > 0
        return int(self.w.pick("hh", np.flatnonzero(ok), 1, what)[0])

    def adult_member(self, h: int) -> int:
        persons, rels = self.members(h)
        a = self.age[persons]
        ok = (rels != HEAD) & (a >= 23) & (a <= 55)
        return int(persons[ok][0])

    def nonhead(self, h: int, prefer=(PARENT, SPOUSE, CHILD, OTHER_REL)) -> int:
        persons, rels = self.members(h)
        for r in prefer:
            if (rels == r).any():
                return int(persons[rels == r][0])
        raise ValueError("household has no member besides its head")

    def rel_name(self, h: int, person: int) -> str:
        persons, rels = self.members(h)
        return RELATIONS[int(rels[persons == person][0])]


def enrol_in(w, h: int, y: int, exit_at_year_end: bool = True) -> None:
    """Approve the household early in year y (paid from Jan-Mar) and, before 2024, let it
    exit at the year end, so that its evidence is in y only."""
    w.hh.loc[h, "start"] = int(rand_day(w.rng, day(y, 1, 2), day(y, 2, 25)))
    if exit_at_year_end and y < 2024:
        w.hh.loc[h, "end"] = day(y, 12, 31)


def exit_at(w, h: int, y: int) -> None:
    if y < 2024:
        w.hh.loc[h, "end"] = day(y, 12, 31)
