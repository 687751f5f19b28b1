"""Calibration of time windows: the vacancy length that is normal in a county, and each
subsidy programme's payment window (a county written here, loaded from CSV)."""

from __future__ import annotations

import datetime as dt

import pytest

from fundwatch.calibrate.proposals import propose_rule
from fundwatch.config import Config
from fundwatch.rules import load_rules
from fundwatch.rules.runner import run_rules
from fundwatch.workspace import Workspace
from tests.conftest import make_id
from tests.test_calibrate import _write

YEAR = 2023
RULES = load_rules()
SEASONAL, SUBLET = [f"T{i:02d}" for i in range(10)], ["T90", "T91"]


def housing(folder) -> None:
    """Ten tenants away four months for seasonal work (rent paid, meters quiet), two units
    quiet for ten months: the sublets."""
    tenancies, rent, meters = [], [], []
    for n, tid in enumerate(SEASONAL + SUBLET):
        unit = f"U{tid[1:]}"
        quiet = range(3, 7) if tid in SEASONAL else range(2, 12)
        tenancies.append({"tenancy_id": tid, "unit_id": unit, "person_id": make_id(n), "start_date": "2021-01-01"})
        for month in range(1, 13):
            period = f"{YEAR}-{month:02d}"
            rent.append({"tenancy_id": tid, "period": period, "rent_due": "420.00", "rent_paid": "420.00"})
            busy = month not in quiet
            meters.append({"unit_id": unit, "period": period, "water_m3": 6 if busy else 0,
                           "electricity_kwh": 90 if busy else 2})
    _write(folder / "housing_tenancies.csv", tenancies)
    _write(folder / "housing_rent.csv", rent)
    _write(folder / "housing_utilities.csv", meters)


def subsidies(folder) -> None:
    """Programme GRAIN is paid 35 days after approval batch after batch, one batch 120 days;
    programme ELDER within 5 days."""
    rows = []
    for month in range(1, 8):
        for program, lag in (("GRAIN", 120 if month == 7 else 35), ("ELDER", 5)):
            for k in range(3):
                rows.append({"payment_id": f"{program}-{month}-{k}", "program_code": program,
                             "person_id": make_id(100 + k), "period": f"{YEAR}-{month:02d}", "amount": "100.00",
                             "approve_date": dt.date(YEAR, month, 1).isoformat(),
                             "pay_date": (dt.date(YEAR, month, 1) + dt.timedelta(days=lag)).isoformat(),
                             "agency_code": "MZJ"})
    _write(folder / "subsidy_payments.csv", rows)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("windows")
    housing(folder)
    subsidies(folder)
    w = Workspace()
    w.load(folder)
    yield w
    w.close()


def test_the_normal_vacancy_here_is_proposed_and_leaves_only_the_long_runs(ws):
    rule = RULES["housing.vacant_sublet"]
    (proposal,) = propose_rule(ws.engine, rule, YEAR, Config().rule_params(rule))
    assert (proposal.param, proposal.value, proposal.current) == ("min_months", 5, 3)
    assert any(line.strip().startswith("4 months") and "10 runs" in line for line in proposal.evidence)
    present = set(ws.loaded_tables())
    before, _ = run_rules(ws.engine, RULES, YEAR, present, Config(), rules=[rule])
    after, _ = run_rules(ws.engine, RULES, YEAR, present, Config(params={rule.id: {"min_months": 5}}), rules=[rule])
    assert set(before["entity_id"]) == set(SEASONAL + SUBLET)
    assert set(after["entity_id"]) == set(SUBLET)


def test_each_programmes_payment_window_is_shown(ws):
    rule = RULES["subsidy.late_disbursement"]
    (proposal,) = propose_rule(ws.engine, rule, YEAR, Config().rule_params(rule))
    window = "\n".join(proposal.evidence)
    assert "payment window" in window
    grain = next(line.split() for line in proposal.evidence if line.split()[:1] == ["GRAIN"])
    elder = next(line.split() for line in proposal.evidence if line.split()[:1] == ["ELDER"])
    # program_code, batches, payments, usual lag, shortest, longest
    assert grain[1] == "7" and float(grain[3]) == 35 and float(grain[5]) == 120
    assert elder[1] == "7" and float(elder[3]) == 5
    # One late batch of 14 is not the county's habit: the margin stays.
    assert not proposal.changed and "only moves higher" in proposal.why
