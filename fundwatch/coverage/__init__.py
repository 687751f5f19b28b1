"""Who should be paid and is not (应享未享): the coverage list beside the case list.

Hits of `program: coverage` rules are outreach, not investigation: a scan keeps them out of the
case list and lists them here, one row per entity and programme, ranked by months missed and
money owed (list.py), with each township's coverage rate against the rules' declared eligible
populations (eligible.py, rates.py). Outreach states recorded on a row survive rescans
(outreach.py).
"""

COVERAGE_PROGRAM = "coverage"
