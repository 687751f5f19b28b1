"""On the bundled sample world, every planted rule-detectable anomaly is found by its rule,
no planted look-alike is flagged by the rule it imitates (reads the generator's ground truth),
and a person planted behind two programmes' hits makes one cross-programme case."""

from pathlib import Path

import pandas as pd
import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
TRUTH = pd.read_csv(SAMPLE / "ground_truth.csv", dtype=str, keep_default_na=False)
YEARS = sorted(int(y) for y in TRUTH["year"].unique())
# Cross-programme scenarios (fundwatch_sample/plant_cross.py): one truth row per programme's
# hit, all of a case sharing the scenario name and year.
CROSS = TRUTH[TRUTH["scenario"].str.startswith("cross_")]


@pytest.fixture(scope="module")
def scans(sample_loaded):
    ws = sample_loaded[0]  # the sample loaded once for the test run (tests/conftest.py)
    out = {}
    for year in YEARS:
        # A fresh scan: a stored run (given back when nothing changed) keeps only listed hits.
        result = ws.scan(year, outliers=False, rescan=True)
        assert not [o for o in result.outcomes if o.status == "error"], result.outcome_frame
        out[year] = result
    return out


@pytest.fixture(scope="module")
def hits_by_year(scans):
    """(rule, entity) of everything each rule found: the case list's hits and the coverage list
    (the coverage rules' findings are listed apart, README "Coverage")."""
    return {year: set(zip(r.hits["rule_id"], r.hits["entity_id"], strict=True))
            | set(zip(r.coverage["rule_id"], r.coverage["entity_id"], strict=True)) for year, r in scans.items()}


def test_truth_covers_every_rule_of_the_catalogue():
    from fundwatch.rules import load_rules

    planted = set(TRUTH.loc[TRUTH["kind"] == "anomaly", "rule_id"]) - {""}
    assert planted == {r.id for r in load_rules()}


@pytest.mark.parametrize("year", YEARS)
def test_every_planted_anomaly_is_found_by_its_rule(hits_by_year, year):
    rows = TRUTH[(TRUTH["kind"] == "anomaly") & (TRUTH["rule_id"] != "") & (TRUTH["year"].astype(int) == year)]
    missed = [f"{r.rule_id} {r.entity_id} ({r.scenario})" for r in rows.itertuples()
              if (r.rule_id, r.entity_id) not in hits_by_year[year]]
    assert len(rows) > 0 and not missed, missed


@pytest.mark.parametrize("year", YEARS)
def test_no_lookalike_is_flagged_by_the_rule_it_imitates(hits_by_year, year):
    rows = TRUTH[(TRUTH["kind"] == "lookalike") & (TRUTH["year"].astype(int) == year)]
    flagged = [f"{r.rule_id} {r.entity_id} ({r.scenario})" for r in rows.itertuples()
               if (r.rule_id, r.entity_id) in hits_by_year[year]]
    assert len(rows) > 0 and not flagged, flagged


@pytest.mark.parametrize("year", YEARS)
def test_rules_flag_nothing_outside_the_ground_truth(hits_by_year, year):
    # The background population is honest: any other hit is a false positive of a rule.
    known = set(zip(TRUTH["rule_id"], TRUTH["entity_id"], strict=True))
    planted_entities = set(TRUTH["entity_id"])
    extra = sorted((rule, entity) for rule, entity in hits_by_year[year]
                   if (rule, entity) not in known and entity not in planted_entities)
    assert not extra, extra[:20]


def test_rules_side_by_side_give_what_one_at_a_time_gives(monkeypatch, sample_loaded):
    """Rules run two at a time (a cursor each): the same hits in the same order, outcomes in
    the catalogue's order."""
    import fundwatch.rules.runner as runner
    from fundwatch.config import Config
    from fundwatch.rules import load_rules
    from tests.conftest import one_then_two_at_a_time

    ruleset = load_rules()
    ws = sample_loaded[0]  # rules only read the tables
    present = set(ws.loaded_tables())
    runs = one_then_two_at_a_time(monkeypatch, runner, "CONCURRENT_QUERIES",
                                  lambda: runner.run_rules(ws.engine, ruleset, YEARS[-1], present, Config()))
    (hits_one, outcomes_one), (hits_two, outcomes_two) = runs[1], runs[2]
    pd.testing.assert_frame_equal(hits_one, hits_two)
    assert [(o.rule_id, o.status, o.hits, o.share) for o in outcomes_one] == [
        (o.rule_id, o.status, o.hits, o.share) for o in outcomes_two]
    assert [o.rule_id for o in outcomes_two] == [r.id for r in ruleset]
    assert sum(o.hits for o in outcomes_two) > 0


def _people_of(entity_type: str, entity_id: str) -> set[str]:
    """The people behind a truth row's entity: a household's members, a lease's tenant and co-residents."""
    def read(table):
        return pd.read_csv(SAMPLE / f"{table}.csv", dtype=str, keep_default_na=False)

    if entity_type == "person":
        return {entity_id}
    if entity_type == "household":
        m = read("dibao_members")
        return set(m.person_id[m.household_id == entity_id])
    if entity_type == "tenancy":
        t, m = read("housing_tenancies"), read("housing_members")
        return set(t.person_id[t.tenancy_id == entity_id]) | set(m.person_id[m.tenancy_id == entity_id])
    raise AssertionError(f"no people for a {entity_type}")


def test_a_cross_programme_person_is_planted_in_the_readme_year():
    assert not CROSS.empty, "the sample world plants no person behind two programmes"
    for (scenario, year), rows in CROSS.groupby(["scenario", "year"]):
        assert rows["kind"].eq("anomaly").all() and rows["rule_id"].ne("").all(), scenario
        assert rows["program"].nunique() >= 2, (scenario, year, rows["program"].tolist())
    assert "2023" in set(CROSS["year"])


def test_cross_programme_person_forms_one_cross_case(scans):
    assert not CROSS.empty, "the sample world plants no person behind two programmes"
    planted = {}
    for (scenario, year), rows in CROSS.groupby(["scenario", "year"]):
        common = set.intersection(*(_people_of(r.entity_type, r.entity_id) for r in rows.itertuples()))
        assert len(common) == 1, (scenario, year, common)
        planted[(int(year), common.pop())] = rows
    for (year, person), rows in planted.items():
        cases = scans[year].cases
        mine = cases[(cases["entity_type"] == "person") & (cases["entity_id"] == person)]
        assert len(mine) == 1, (year, rows["scenario"].iat[0], mine)
        case = mine.iloc[0]
        assert case["program"] == "cross"
        assert set(case["rule_ids"].split(";")) == set(rows["rule_id"])
        assert set(case["programs"].split(";")) == set(rows["program"])
        # The programme entities' hits moved into the person's case: none is a case of its own.
        assert not cases["entity_id"].isin(rows["entity_id"]).any()
        hits = scans[year].hits
        theirs = hits[hits["entity_id"].isin(rows["entity_id"])]
        assert set(theirs["case_id"]) == {case["case_id"]}
    # And the scan makes no cross case the ground truth does not plant.
    found = {(year, e) for year, r in scans.items()
             for e in r.cases.loc[r.cases["program"] == "cross", "entity_id"]}
    assert found == set(planted)
