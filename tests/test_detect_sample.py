"""The detector on a small generated sample world: it finds the planted anomalies no rule states."""

from __future__ import annotations

import pandas as pd
import pytest

from fundwatch.detect import score_outliers
from fundwatch.detect.evaluate import auc, label, read_truth
from fundwatch.workspace import Workspace
from fundwatch_sample import generate_world

YEARS = (2022, 2023, 2024)
# Measured at scale 0.1 with the default settings: pooled ROC-AUC 0.979-0.994 over seeds 1-8
# (seed 7: 0.987, 8 positives among ~3,000 entity-years); the floor leaves room for changes
# in the generator and the forest's noise.
AUC_FLOOR = 0.93


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    out = tmp_path_factory.mktemp("world")
    generate_world(out, scale=0.1, seed=7)
    truth = read_truth(out / "ground_truth.csv")
    with Workspace() as ws:
        ws.load(out)
        present = set(ws.loaded_tables())
        runs = {year: score_outliers(ws.engine, year, present) for year in YEARS}
    return truth, runs


def labelled(truth: pd.DataFrame, runs: dict) -> pd.DataFrame:
    frame = pd.concat([label(scores, truth, year) for year, (scores, _) in runs.items()], ignore_index=True)
    return frame[frame["label"] >= 0]


def test_rule_less_anomalies_of_the_sample_world_rank_high(scored):
    truth, runs = scored
    frame = labelled(truth, runs)
    rule_less = truth[(truth["kind"] == "anomaly") & (truth["rule_id"] == "")]
    assert frame["label"].sum() == len(rule_less) >= 6  # every one of them was scored
    s = frame["outlier_score"]
    assert auc(s[frame["label"] == 1], s[frame["label"] == 0]) >= AUC_FLOOR
    assert set(frame.loc[frame["label"] == 1, "program"]) == {"dibao", "subsidy", "housing", "cooperative"}


def test_every_programme_of_the_sample_world_is_scored(scored):
    _, runs = scored
    for year, (scores, report) in runs.items():
        status = {(r["program"], r["entity_type"]): r["status"] for r in report}
        for key in [
            ("dibao", "household"),
            ("subsidy", "person"),
            ("housing", "tenancy"),
            ("cooperative", "cooperative"),
        ]:
            assert status[key] == "scored", (year, key)
        flagged = scores[scores["flagged"]]
        assert flagged["explanation"].str.contains("stands out from its peers").all()
        assert flagged["explanation_zh"].str.contains("与同类相比异常").all()


def test_feature_sets_side_by_side_score_what_one_at_a_time_scores(tmp_path, monkeypatch):
    """Feature sets run two at a time (a cursor each): the same scores and explanations, and
    the status report in the feature sets' order."""
    import fundwatch.detect.score as score
    from fundwatch.detect.features import FEATURE_SETS
    from tests.conftest import one_then_two_at_a_time

    generate_world(tmp_path, scale=0.1, seed=3)
    with Workspace() as ws:
        ws.load(tmp_path)
        present = set(ws.loaded_tables())
        runs = one_then_two_at_a_time(monkeypatch, score, "CONCURRENT_SETS",
                                      lambda: score_outliers(ws.engine, 2023, present))
        # No feature table is left behind by either run.
        assert not ws.con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'fw_detect_%'").fetchall()
    (one, report_one), (two, report_two) = runs[1], runs[2]
    assert len(one) > 0 and one["flagged"].any()
    pd.testing.assert_frame_equal(one, two)
    assert [(r["program"], r["entity_type"], r["status"], r["entities"]) for r in report_one] == [
        (r["program"], r["entity_type"], r["status"], r["entities"]) for r in report_two
    ]
    assert [(r["program"], r["entity_type"]) for r in report_two] == [(f.program, f.entity_type) for f in FEATURE_SETS]
