"""The sample oracle (fundwatch_sample/oracle.py) against the rules on tiny hand-made inputs:
edge cases the generated worlds do not contain, where the oracle must still mean what the rule
means. Each case runs the rule and the oracle's SQL on the same rows (typed by the loader, as in
the rules' embedded tests)."""

from __future__ import annotations

import shutil

import pytest

from fundwatch.config import Config
from fundwatch.rules import load_rules
from fundwatch.rules.catalogue import default_rules_dir
from fundwatch.rules.runner import hits_frame, run_rule
from fundwatch.rules.testing import fresh_engine, insert_rows
from fundwatch_sample import oracle

RULESET = load_rules()


def rule_and_oracle(rule_id: str, data: dict, year: int, ruleset=RULESET) -> tuple[set, set]:
    """(entities the rule flags for `year`, entities the oracle flags for `year`) on the rows of `data`,
    both with the defaults of `ruleset`'s rule files."""
    rule = ruleset[rule_id]
    engine = fresh_engine()
    try:
        for table, rows in data.items():
            assert not insert_rows(engine.con, table, rows)
        hits = hits_frame(rule, run_rule(engine, rule, ruleset.trees[rule_id], year, Config().rule_params(rule)))
        oracle.create_views(engine.con)
        defaults = {r.id: {n: p.default for n, p in r.params.items()} for r in ruleset}
        found = engine.con.execute(oracle.query(rule_id, defaults)).fetchall()
    finally:
        engine.con.close()
    return set(hits.entity_id), {str(e) for e, y in found if int(y) == year}


def test_public_staff_member_dividend_without_pay_date_is_judged_on_the_year_end():
    # No pay_date: both read the dividend as paid on 2023-12-31 (docs/rule-catalogue.md, Dates).
    data = {
        "civil_servants": [
            {"person_id": "P1", "employer": "县财政局", "employer_type": "government", "start_date": "2010-01-01"},
            {"person_id": "P2", "employer": "县医院", "employer_type": "institution", "start_date": "2010-01-01",
             "end_date": "2023-12-31"},
            {"person_id": "P3", "employer": "县电力公司", "employer_type": "soe", "start_date": "2010-01-01",
             "end_date": "2023-12-30"},
            {"person_id": "P4", "employer": "县水利局", "employer_type": "government", "start_date": "2024-01-01"},
        ],
        "coop_dividends": [
            {"coop_id": "C1", "person_id": "P1", "year": 2023, "amount": "800.00"},
            {"coop_id": "C2", "person_id": "P2", "year": 2023, "amount": "800.00"},
            {"coop_id": "C3", "person_id": "P3", "year": 2023, "amount": "800.00"},
            {"coop_id": "C4", "person_id": "P4", "year": 2023, "amount": "800.00"},
            {"coop_id": "C5", "person_id": "P3", "year": 2023, "amount": "800.00", "pay_date": "2023-06-30"},
        ],
    }
    found, expected = rule_and_oracle("cooperative.public_staff_member", data, 2023)
    assert found == {"C1", "C2", "C5"}
    assert expected == found


COOPS = [
    # One row per cooperative: the post must share a day with the cooperative's days in the year.
    {"coop_id": "C1", "name": "富民种植合作社", "registered_date": "2019-04-01", "dissolved_date": "2023-03-01",
     "legal_rep_id": "P1"},
    {"coop_id": "C2", "name": "兴农养殖合作社", "registered_date": "2023-11-01", "legal_rep_id": "P2"},
    {"coop_id": "C3", "name": "丰收果蔬合作社", "registered_date": "2019-04-01", "dissolved_date": "2023-03-01",
     "legal_rep_id": "P3"},
    # Two rows under one coop_id (e.g. a re-registration): the rule judges the code once, with the
    # earliest registered_date, the earliest dissolved_date and the smallest legal_rep_id.
    {"coop_id": "C4", "name": "绿源茶叶合作社", "registered_date": "2015-04-01", "dissolved_date": "2021-06-01",
     "legal_rep_id": "P4"},
    {"coop_id": "C4", "name": "绿源茶叶合作社", "registered_date": "2022-03-01", "legal_rep_id": "P4"},
    {"coop_id": "C5", "name": "金穗粮食合作社", "registered_date": "2019-04-01", "legal_rep_id": "P6"},
    {"coop_id": "C5", "name": "金穗粮食合作社", "registered_date": "2019-04-01", "legal_rep_id": "P5"},
]
POSTS = [
    {"person_id": "P1", "employer": "县农业农村局", "employer_type": "government", "position": "科员",
     "start_date": "2023-02-28"},
    {"person_id": "P2", "employer": "东村村委会", "employer_type": "village_cadre", "position": "村主任",
     "start_date": "2018-01-01", "end_date": "2023-10-31"},
    {"person_id": "P3", "employer": "县林业局", "employer_type": "government", "position": "科员",
     "start_date": "2023-03-01"},
    {"person_id": "P4", "employer": "县林业局", "employer_type": "government", "position": "科员",
     "start_date": "2012-07-01"},
    {"person_id": "P6", "employer": "镇财政所", "employer_type": "institution", "position": "会计",
     "start_date": "2012-07-01"},
]


def test_official_legal_rep_post_must_overlap_the_cooperatives_days_in_the_year():
    found, expected = rule_and_oracle(
        "cooperative.official_legal_rep", {"cooperatives": COOPS, "civil_servants": POSTS}, 2023
    )
    assert found == {"C1"}
    assert expected == found


LEASES = {
    "housing_tenancies": [
        # P20's old lease has no end_date; its unit U20 was let again from 2023-04-01, so the old
        # lease's last day is 2023-03-31: 31 days alongside the new lease (a handover, allowed).
        {"tenancy_id": "T20", "unit_id": "U20", "person_id": "P20", "start_date": "2020-01-01",
         "monthly_rent": "500.00"},
        {"tenancy_id": "T21", "unit_id": "U20", "person_id": "P21", "start_date": "2023-04-01",
         "monthly_rent": "500.00"},
        {"tenancy_id": "T22", "unit_id": "U22", "person_id": "P20", "start_date": "2023-03-01",
         "monthly_rent": "300.00"},
        # One day more: 32 days, a double lease.
        {"tenancy_id": "T23", "unit_id": "U23", "person_id": "P23", "start_date": "2020-01-01",
         "monthly_rent": "500.00"},
        {"tenancy_id": "T24", "unit_id": "U23", "person_id": "P24", "start_date": "2023-04-01",
         "monthly_rent": "500.00"},
        {"tenancy_id": "T25", "unit_id": "U25", "person_id": "P23", "start_date": "2023-02-28",
         "monthly_rent": "300.00"},
    ],
}


@pytest.mark.parametrize("year", [2022, 2023])
def test_double_lease_old_lease_ends_the_day_before_its_unit_is_let_again(year):
    found, expected = rule_and_oracle("housing.double_lease", LEASES, year)
    assert found == ({"P23"} if year == 2023 else set())
    assert expected == found


def test_the_oracle_reads_its_parameters_from_the_rule_files(tmp_path):
    # A county allowing 40 days of handover: P23's 32 days alongside the new lease no longer count,
    # for the rule and the oracle alike, with only the rule file's default changed.
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    path = rules / "housing" / "double_lease.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("    default: 31\n") == 1
    path.write_text(text.replace("    default: 31\n", "    default: 40\n"), encoding="utf-8")
    copy = load_rules(rules)
    assert copy["housing.double_lease"].params["handover_days"].default == 40

    found, expected = rule_and_oracle("housing.double_lease", LEASES, 2023, copy)
    assert found == expected == set()
    assert "> 40" in oracle.query("housing.double_lease", oracle.rule_defaults(rules))
    assert "> 31" in oracle.query("housing.double_lease")


def test_every_oracle_query_names_only_parameters_its_rule_declares():
    defaults = oracle.rule_defaults()
    assert set(oracle.RULES) == set(defaults)
    for rule_id in oracle.RULES:
        assert ":" not in oracle.query(rule_id, defaults).replace("::", ""), rule_id
    with pytest.raises(LookupError, match=r"query of housing.double_lease names :handover_days, which its rule "
                                          r"file does not declare \(its parameters: none\)"):
        oracle.query("housing.double_lease", {"housing.double_lease": {}})


def test_coverage_elderly_allowance_grace_days_end_on_the_same_birthday():
    # grace_days = 62: 80 on 29 October 2023 is 63 days before the year end (due from November),
    # on 30 October exactly 62 (not yet), on 1 November the month itself is due but within the grace.
    born = {"E1": "1943-10-29", "E2": "1943-10-30", "E3": "1943-11-01", "E4": "1935-01-01"}
    data = {
        "residents": [{"person_id": p, "birth_date": b, "region_code": "522631101201", "status": "resident"}
                      for p, b in born.items()],
        "subsidy_payments": [{"payment_id": "1", "program_code": "ELDERLY", "person_id": "E4",
                              "period": "2023-01", "amount": "50.00"}],
    }
    by_rule, by_oracle = rule_and_oracle("coverage.elderly_allowance", data, 2023)
    assert by_rule == by_oracle == {"E1", "E4"}  # E4: paid below the 100 yuan of the 80+ tier


def test_coverage_dibao_under_standard_takes_the_dead_off_the_size():
    data = {
        "dibao_households": [{"household_id": "H1", "head_id": "A1", "region_code": "522631101201",
                              "start_date": "2020-01-01", "household_size": "2"},
                             {"household_id": "H2", "head_id": "A2", "region_code": "522631101201",
                              "start_date": "2020-01-01", "household_size": "2"}],
        "dibao_members": [{"household_id": h, "person_id": p, "relation": r}
                          for h, p, r in (("H1", "A1", "head"), ("H1", "B1", "child"),
                                          ("H2", "A2", "head"), ("H2", "B2", "child"))],
        "deaths": [{"person_id": "B1", "death_date": "2023-02-10"}],
        "dibao_payments": [{"payment_id": str(i), "household_id": h, "period": "2023-05", "amount": "800.00"}
                           for i, h in enumerate(("H1", "H2"), 1)],
    }
    by_rule, by_oracle = rule_and_oracle("coverage.dibao_under_standard", data, 2023)
    assert by_rule == by_oracle == {"H2"}  # H1 is one person since February: 800 is its due
