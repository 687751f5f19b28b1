"""A year the data holds no records of checks nothing, and says so (issue 22 item 2).

On the bundled sample (payments, rent, utilities and accounts of 2022-2024), a scan of 2019 or
2030 must not call a housing or cooperative rule clean because leases or memberships exist in
that year, and must list no case: there is no ledger record of the year to judge.
"""

from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture(scope="module")
def sample_ws(sample_loaded):
    return sample_loaded[0]  # the sample loaded once for the test run (tests/conftest.py)


@pytest.mark.parametrize("year", [2019, 2030])
def test_a_year_without_records_runs_on_nothing_and_lists_no_case(sample_ws, year):
    result = sample_ws.scan(year=year)
    states = {o.rule_id: o.state for o in result.outcomes}
    assert {s for s in states.values()} <= {"ran on nothing", "skipped"}, states
    for prefix in ("housing.", "cooperative."):
        assert all(s == "ran on nothing" for r, s in states.items() if r.startswith(prefix)), states
    assert result.cases.empty, result.cases[["entity_type", "entity_id", "rule_ids", "summary"]]


def test_a_year_with_records_judges_its_populations_by_them(sample_ws):
    result = sample_ws.scan(year=2023, outliers=False)
    pops = {o.rule_id: o.population for o in result.outcomes}
    # Leases with rent charged in 2023, cooperatives with 2023 accounts or dividends.
    rent = sample_ws.sql("SELECT count(DISTINCT tenancy_id) FROM housing_rent WHERE year(period) = 2023").fetchall()[0][0]
    coops = sample_ws.sql("SELECT count(*) FROM (SELECT coop_id FROM coop_financials WHERE year = 2023 UNION "
                          "SELECT coop_id FROM coop_dividends WHERE year = 2023)").fetchall()[0][0]
    assert pops["housing.arrears"] == rent and pops["cooperative.shell"] == coops
    agencies = sample_ws.sql("SELECT count(DISTINCT agency_code) FROM subsidy_payments "
                             "WHERE year(period) = 2023").fetchall()[0][0]
    assert pops["subsidy.year_end_spike"] == agencies
