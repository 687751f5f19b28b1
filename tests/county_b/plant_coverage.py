"""Missed beneficiaries (应享未享) for the coverage work, and those rightly not paid."""

from __future__ import annotations

from datetime import date

from . import enrol
from .pick import elderly, free_person
from .world import World

P = "coverage"


def plant(w: World, y: int) -> None:
    for _ in range(3):
        p = elderly(w, y, 81, 89)
        w.skip_payments.add(("GLJT", p["person_id"], y))
        w.record("missed", "elderly_not_paid", P, "person", p["person_id"], y, "",
                 f"Aged 80 or more, alive and resident all {y}, never paid the elderly allowance.")
    for _ in range(2):
        p = free_person(w, 30, 70)
        enrol.add_cert(w, p["person_id"], 1 + int(w.rng.integers(2)), date(y - 2, 4, 1), None)
        w.skip_payments.add(("CJHL", p["person_id"], y))
        w.record("missed", "severe_disability_no_nursing", P, "person", p["person_id"], y, "",
                 f"A grade 1-2 certificate holder not paid the nursing subsidy in {y}.")
    p = elderly(w, y, 81, 89)
    p["status"], p["moved_out_date"] = "moved_out", date(y - 1, 10, 1)
    w.record("missed_lookalike", "moved_out_elderly", P, "person", p["person_id"], y, "",
             "Moved out of the county before the year: rightly not paid.")
    p = elderly(w, y, 81, 89)
    p["death_date"] = date(y - 1, 11, 2)
    w.record("missed_lookalike", "died_elderly", P, "person", p["person_id"], y, "",
             "Died before the year: rightly not paid.")
    home = w.pick(w.hukou)
    p = w.new_person(date(y - 80, 12, 28), home["region_code"], home["hukou_household_id"])
    w.used.add(p["person_id"])
    w.record("missed_lookalike", "turned_80_at_year_end", P, "person", p["person_id"], y, "",
             "Turned 80 on 28 December: the first batch due is next March.")
    p = free_person(w, 30, 70)
    enrol.add_cert(w, p["person_id"], 2, date(y - 3, 4, 1), date(y - 1, 6, 30))
    w.record("missed_lookalike", "certificate_revoked", P, "person", p["person_id"], y, "",
             "The grade 2 certificate was revoked before the year.")
