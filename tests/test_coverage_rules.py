"""The coverage rules (rules/coverage/, 应享未享) on the sample world: they list the planted missed
beneficiaries (recall at least 0.98), none of the planted look-alikes, and nobody the ground truth
does not name; each hit carries what the coverage list needs (months missed, money owed)."""

import json
from pathlib import Path

import pandas as pd
import pytest

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
TRUTH = pd.read_csv(SAMPLE / "ground_truth.csv", dtype=str, keep_default_na=False)
COVERAGE = TRUTH[TRUTH["program"] == "coverage"]
RULES = {"coverage.elderly_allowance", "coverage.no_back_pay", "coverage.severe_disability_nursing",
         "coverage.disability_living", "coverage.dibao_under_standard"}


@pytest.fixture(scope="module")
def hits(sample_loaded):
    ws = sample_loaded[0]
    frames = []
    for year in (2022, 2023, 2024):
        result = ws.scan(year, outliers=False, rescan=True)
        # outreach, not cases: the coverage rules' hits are in the coverage list, never in the hits
        assert not result.hits["rule_id"].str.startswith("coverage.").any()
        frames.append(result.coverage.assign(year=year))
    return pd.concat(frames, ignore_index=True)


def test_every_coverage_rule_has_planted_missed_beneficiaries_and_lookalikes():
    anomalies = COVERAGE[COVERAGE["kind"] == "anomaly"]
    assert set(anomalies["rule_id"]) == RULES
    assert len(anomalies) >= 12
    # every kind of look-alike of the issue is planted
    assert {"elderly_moved_out_before_80", "elderly_died_in_year", "nursing_certificate_revoked",
            "paid_under_merged_code", "elderly_turned_80_in_december", "nursing_issued_in_december"} <= set(
        COVERAGE.loc[COVERAGE["kind"] == "lookalike", "scenario"])


def test_recall_of_planted_missed_beneficiaries_and_no_lookalike(hits):
    found = set(zip(hits["rule_id"], hits["entity_id"], hits["year"], strict=True))
    anomalies = COVERAGE[COVERAGE["kind"] == "anomaly"]
    keys = [(r.rule_id, r.entity_id, int(r.year)) for r in anomalies.itertuples()]
    recall = sum(k in found for k in keys) / len(keys)
    assert recall >= 0.98, [k for k in keys if k not in found]
    lookalikes = COVERAGE[COVERAGE["kind"] == "lookalike"]
    listed = [(r.scenario, r.entity_id) for r in lookalikes.itertuples()
              if (r.rule_id, r.entity_id, int(r.year)) in found]
    assert len(lookalikes) >= 8 and not listed, listed
    # and nobody outside the truth: the background pays everyone the criteria name
    outside = hits[~hits["entity_id"].isin(TRUTH["entity_id"])]
    assert outside.empty, outside[["rule_id", "entity_id", "year"]].head(10)


def test_hits_carry_months_missed_and_the_money_owed(hits):
    assert set(hits["rule_id"]) == RULES
    for row in hits.itertuples():
        months = json.loads(row.evidence)["months_missed"]
        assert isinstance(months, int) and 1 <= months <= 12, row
        assert row.months_missed == months, row
        assert row.amount_owed > 0, row
