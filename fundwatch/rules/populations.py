"""How many entities a rule could have flagged, per program and entity type and year.

A rule that fires on more than `mis_tuned_share` of these is called out as probably
mis-tuned. Each query needs only the tables it names.
"""

from __future__ import annotations

import functools

from fundwatch.rules.render import parse, render, scan_values

POPULATIONS: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {  # (tables needed, query)
    ("dibao", "household"): (("dibao_payments",), "SELECT count(DISTINCT household_id) FROM dibao_payments WHERE year(period) = :year"),
    # People on the roster of a household whose enrolment was in force at some point of the year.
    ("dibao", "person"): (("dibao_members", "dibao_households"),
                          "SELECT count(DISTINCT m.person_id) FROM dibao_members m "
                          "JOIN dibao_households h ON h.household_id = m.household_id "
                          "WHERE year(h.start_date) <= :year AND (h.end_date IS NULL OR year(h.end_date) >= :year)"),
    ("subsidy", "person"): (("subsidy_payments",), "SELECT count(DISTINCT person_id) FROM subsidy_payments WHERE year(period) = :year"),
    ("subsidy", "agency"): (("subsidy_payments",), "SELECT count(DISTINCT agency_code) FROM subsidy_payments WHERE year(period) = :year"),
    # Leases and cooperatives count only if they existed at some point of the year.
    ("housing", "tenancy"): (("housing_tenancies",), "SELECT count(DISTINCT tenancy_id) FROM housing_tenancies "
                             "WHERE year(start_date) <= :year AND (end_date IS NULL OR year(end_date) >= :year)"),
    ("housing", "person"): (("housing_tenancies",), "SELECT count(DISTINCT person_id) FROM housing_tenancies "
                            "WHERE year(start_date) <= :year AND (end_date IS NULL OR year(end_date) >= :year)"),
    ("cooperative", "cooperative"): (("cooperatives",), "SELECT count(DISTINCT coop_id) FROM cooperatives "
                                     "WHERE year(registered_date) <= :year "
                                     "AND (dissolved_date IS NULL OR year(dissolved_date) >= :year)"),
}


@functools.cache
def _tree(sql: str):
    return parse(sql, "fundwatch/rules/populations.py")


def population(engine, program: str, entity_type: str, year: int, present: set[str]) -> int | None:
    entry = POPULATIONS.get((program, entity_type))
    if entry is None or not set(entry[0]) <= present:
        return None
    # Rendered as a rule is: `year(period) = :year` runs as a date range (row groups outside
    # the year are skipped).
    frame = engine.query(render(_tree(entry[1]), scan_values(int(year))))
    return int(frame.iloc[0, 0])
