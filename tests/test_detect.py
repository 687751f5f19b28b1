"""The statistical detector on small synthetic programmes with planted outliers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from fundwatch.cases.build import build_cases
from fundwatch.cases.score import Scoring
from fundwatch.detect import DETECTORS, FEATURE_SETS, Settings, parse_settings, score_outliers
from fundwatch.detect.calibrate import Calibration
from fundwatch.detect.evaluate import auc as evaluate_auc
from fundwatch.detect.model import fit_model
from fundwatch.detect.protected import violations
from fundwatch.detect.score import COLUMNS, feature_sql
from fundwatch.detect.synthetic import dibao_world, insert, resident_id, subsidy_world
from fundwatch.errors import ConfigError
from fundwatch.workspace import Workspace

FAST = {"n_estimators": 60, "random_state": 7, "contamination": 0.03}
YEAR = 2023


def world(maker, **kw):
    tables, planted = maker(**kw)
    ws = Workspace()
    return ws, insert(ws.engine, tables), planted


@pytest.fixture(scope="module")
def dibao():
    ws, present, planted = world(dibao_world, seed=0)
    scores, report = score_outliers(ws.engine, YEAR, present, FAST)
    yield ws, present, planted, scores, report
    ws.close()


@pytest.fixture(scope="module")
def subsidy():
    ws, present, planted = world(subsidy_world, seed=0)
    scores, report = score_outliers(ws.engine, YEAR, present, FAST)
    yield ws, present, planted, scores, report
    ws.close()


def auc(scores: pd.DataFrame, positives) -> float:
    return roc_auc_score(scores["entity_id"].isin(set(positives)), scores["outlier_score"])


def by_id(scores: pd.DataFrame) -> pd.DataFrame:
    return scores.set_index("entity_id")


# --- planted outliers come first -----------------------------------------------------------
def test_planted_dibao_outliers_rank_at_the_top(dibao):
    _, _, planted, scores, report = dibao
    everyone = [h for v in planted.values() for h in v]
    assert auc(scores, everyone) >= 0.97  # measured 1.0 (seeds 0-4: >= 0.99)
    flagged = set(scores.loc[scores["flagged"], "entity_id"])
    assert len(flagged & set(everyone)) >= 7 and set(planted["backdated"]) <= flagged  # 9 flagged, 8 planted
    assert {r["program"]: r["status"] for r in report}["dibao"] == "scored"


def test_planted_subsidy_outliers_rank_at_the_top(subsidy):
    _, _, planted, scores, _ = subsidy
    assert auc(scores, planted["hardship_6x"] + planted["hardship_5x"]) >= 0.95  # measured 0.99
    assert by_id(scores).loc[planted["hardship_6x"], "flagged"].all()


@pytest.mark.parametrize("detector", DETECTORS)
def test_every_detector_finds_the_planted_outliers(detector):
    ws, present, planted = world(dibao_world, seed=1, n=200)
    scores, _ = score_outliers(
        ws.engine, YEAR, present, {**FAST, "detector": detector, "contamination": 0.05}
    )
    assert auc(scores, [h for v in planted.values() for h in v]) >= 0.9
    assert scores["outlier_score"].between(0, 1).all()
    assert 0 < scores["flagged"].sum() <= 0.1 * len(scores)


# --- reproducible ----------------------------------------------------------------------------
def test_same_data_and_seed_give_identical_scores(dibao):
    ws, present, _, scores, _ = dibao
    again, _ = score_outliers(ws.engine, YEAR, present, FAST)
    pd.testing.assert_frame_equal(scores, again)
    other, _ = score_outliers(ws.engine, YEAR, present, {**FAST, "random_state": 8})
    assert not np.array_equal(scores["outlier_score"].to_numpy(), other["outlier_score"].to_numpy())


def test_batches_and_fit_sample_do_not_change_scores_beyond_the_sample():
    ws, present, _ = world(subsidy_world, seed=2, n=1300)
    small = {**FAST, "batch_size": 1000, "fit_sample": 300}
    one, _ = score_outliers(ws.engine, YEAR, present, {**small, "batch_size": 100_000})
    two, report = score_outliers(ws.engine, YEAR, present, small)
    pd.testing.assert_frame_equal(one, two)  # two batches score exactly like one
    assert {r["entity_type"]: r["entities"] for r in report}["person"] == 1300
    full, _ = score_outliers(ws.engine, YEAR, present, {**FAST, "fit_sample": 20_000})
    assert not np.array_equal(full["outlier_score"].to_numpy(), two["outlier_score"].to_numpy())


def test_no_frame_stays_registered_on_the_workspace_after_scoring(monkeypatch):
    # One set at a time, so that every set runs on the workspace's own connection. The frames
    # of the fit rows and of the explained rows are queryable for their queries only.
    monkeypatch.setattr("fundwatch.detect.score.CONCURRENT_SETS", 1)
    ws, present, _ = world(subsidy_world, seed=2, n=1300)
    scores, _ = score_outliers(ws.engine, YEAR, present, {**FAST, "fit_sample": 300})
    assert scores["flagged"].any()
    assert ws.con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall() == []


def test_a_deviation_too_rare_for_the_random_fit_sample_is_still_seen(monkeypatch):
    tables, planted = dibao_world(n=1500, seed=3)
    pay = tables["dibao_payments"]
    twice = pay[pay["household_id"] == "H00007"]  # one household in 1500 paid every month twice
    tables["dibao_payments"] = pd.concat([pay, twice.assign(payment_id=twice["payment_id"] + "D")])
    ws = Workspace()
    present = insert(ws.engine, tables)
    model_rows = {}

    def spy(engine, table, fs, n, s):
        model = fit_model(engine, table, fs, n, s)
        model_rows[fs.key] = model.fit_rows
        return model

    monkeypatch.setattr("fundwatch.detect.score.fit_model", spy)
    scores, _ = score_outliers(ws.engine, YEAR, present, {**FAST, "fit_sample": 200})
    assert 200 < model_rows["dibao/household"] <= 250  # the random 200 plus the extremes of each feature
    s = by_id(scores)
    assert s.loc["H00007", "flagged"] and "payments per period 2" in s.loc["H00007", "explanation"]
    assert s.loc[planted["backdated"], "flagged"].all()


# --- explanations ----------------------------------------------------------------------------
def test_explanations_name_the_planted_feature_with_value_and_peer_median(dibao, subsidy):
    s = by_id(dibao[3])
    for h in dibao[2]["backdated"]:
        en, zh = s.loc[h, "explanation"], s.loc[h, "explanation_zh"]
        assert en.startswith(f"Household {h} stands out")
        assert "periods paid in 2023 18 (median 12 for dibao households in township 33012210" in en
        assert "2023年发放期数18" in zh and "中位数12" in zh
    amount = [h for h in dibao[2]["amount"] if s.loc[h, "flagged"]]
    assert len(amount) >= 2
    for h in amount:
        assert (
            "amount per period paid" in s.loc[h, "explanation"]
            or "amount paid in 2023" in s.loc[h, "explanation"]
        )
        assert "× the median of" in s.loc[h, "explanation"] and "倍" in s.loc[h, "explanation_zh"]
    t = by_id(subsidy[3])
    for p in subsidy[2]["hardship_6x"]:
        assert (
            "amount per payment" in t.loc[p, "explanation"]
            and "HARDSHIP recipients in township" in t.loc[p, "explanation"]
        )
        assert "每笔金额" in t.loc[p, "explanation_zh"]
    for p in subsidy[2]["hardship_5x"]:
        assert "payments from one programme in 2023 5 (median 1" in t.loc[p, "explanation"]


def test_only_flagged_entities_carry_an_explanation(dibao):
    scores = dibao[3]
    assert scores.loc[scores["flagged"], "explanation"].notna().all()
    assert scores.loc[~scores["flagged"], "explanation"].isna().all()


# --- the output contract ---------------------------------------------------------------------
def test_one_row_per_scored_entity_with_the_promised_columns(dibao):
    scores, report = dibao[3], dibao[4]
    assert list(scores.columns) == COLUMNS
    assert scores["entity_id"].is_unique and len(scores) == 300
    assert set(scores["entity_type"]) == {"household"} and set(scores["program"]) == {"dibao"}
    assert scores["outlier_score"].between(0, 1).all() and (scores["amount_at_risk"] >= 0).all()
    assert scores["flagged"].dtype == bool
    # At most contamination 0.03 of 300 households: those above the threshold with a feature
    # notably far from its peers (an entity at its peers' medians is never flagged).
    assert scores["flagged"].sum() == {r["program"]: r["flagged"] for r in report}["dibao"]
    assert 6 <= scores["flagged"].sum() <= 9
    # The planted 5x amounts carry their excess over the peers as money at risk.
    s = by_id(scores)
    assert (s.loc[dibao[2]["amount"], "amount_at_risk"] > 5_000).all()
    monthly = dibao[0].engine.query("SELECT household_id, max(amount) AS m FROM dibao_payments GROUP BY 1")
    monthly = monthly.set_index("household_id")["m"].astype(float)
    for h in dibao[2]["backdated"]:  # six months paid before the enrolment
        assert s.loc[h, "amount_at_risk"] >= 6 * monthly[h] - 0.01
    assert s["amount_at_risk"].median() < 1_000


def test_scores_feed_the_case_list(dibao):
    scores = dibao[3]
    both = scores.loc[scores["flagged"], "entity_id"].iloc[0]
    rule_only = scores.loc[~scores["flagged"], "entity_id"].iloc[0]
    hits = pd.DataFrame(
        [
            {
                "rule_id": "dibao.x",
                "rule_version": "1",
                "program": "dibao",
                "entity_type": "household",
                "entity_id": e,
                "year": YEAR,
                "level": "high",
                "amount_at_risk": 100.0,
                "matched_on": "household_id",
                "evidence": "{}",
                "summary_en": "Rule fired.",
                "summary_zh": "规则命中。",
            }
            for e in (both, rule_only)
        ]
    )
    _built = build_cases(hits, scores, YEAR, Scoring(), key=b"test")
    cases = _built.cases
    c = cases.set_index("entity_id")
    assert len(cases) == scores["flagged"].sum() + 1
    assert "Also statistically unusual: Household" in c.loc[both, "summary"]
    assert c.loc[rule_only, "summary"] == "Rule fired." and c.loc[rule_only, "outlier_score"] < 0.98
    stat = cases[cases["rule_ids"] == ""]
    assert len(stat) == scores["flagged"].sum() - 1 and stat["summary"].str.contains("stands out").all()


def test_calibrated_score_is_the_share_of_fit_scores_below():
    cal = Calibration([1.0, 2.0, 3.0, 4.0])
    assert cal([0.5, 2.5, 4.0, 9.0]).tolist() == [0.0, 0.5, 0.875, 1.0]
    assert evaluate_auc([2.0, 5.0], [1.0, 2.0, 3.0]) == pytest.approx(
        (0.5 + 1.0) / 2
    )  # 2 beats 1, ties 2: 1.5/3


# --- too small, empty, missing -----------------------------------------------------------------
def test_empty_and_one_row_programmes_do_not_crash_and_get_no_score():
    ws = Workspace()
    scores, report = score_outliers(ws.engine, YEAR, {"dibao_payments"}, FAST)
    assert scores.empty and list(scores.columns) == COLUMNS
    assert {r["program"]: r["status"] for r in report}["dibao"] == "too_few"
    tables, _ = dibao_world(n=1, seed=3)
    present = insert(ws.engine, tables)
    scores, report = score_outliers(ws.engine, YEAR, present, FAST)
    assert scores.empty
    status = {r["program"]: r for r in report}["dibao"]
    assert status["status"] == "too_few" and "1 without usable features" in status["reason"]
    # Every feature of the lone household is missing, not judged against itself.
    row = ws.engine.query(feature_sql(FEATURE_SETS[0], YEAR, Settings(), present))
    assert row.filter(like="_z").isna().all(axis=None) and row.filter(like="_peer").isna().all(axis=None)


def test_a_lone_household_is_compared_with_a_wider_peer_group(dibao):
    ws, present = dibao[0], dibao[1]
    tables, _ = dibao_world(n=1, seed=4)
    for t in tables.values():
        if "household_id" in t:
            t["household_id"] = "LONE"
    tables["dibao_households"]["region_code"] = "330122199001"  # a township of its own
    tables["dibao_households"]["household_size"] = 2
    tables["dibao_payments"]["payment_id"] = "LONE" + tables["dibao_payments"]["payment_id"]
    insert(ws.engine, tables)
    try:
        f = ws.engine.query(feature_sql(FEATURE_SETS[0], YEAR, Settings(), present)).set_index("entity_id")
        assert f.loc["LONE", "amount_paid_peer"] == "county_size|330122|2"
        assert f.loc["LONE", "periods_paid_peer"] == "county|330122"
        assert f.loc["LONE", "amount_paid_z"] == pytest.approx(f.loc["LONE", "amount_paid_z"])  # a number
        # A group of exactly min_peer_group households is its own peer group.
        sizes = f.groupby("amount_paid_peer").size()
        assert sizes.index.str.startswith("township_size").any()
    finally:
        for t in tables:
            ws.engine.execute(f"DELETE FROM {t} WHERE household_id = 'LONE'")


def test_peer_groups_smaller_than_min_peer_group_leave_features_missing():
    ws, present, _ = world(dibao_world, seed=5, n=40)
    scores, report = score_outliers(ws.engine, YEAR, present, {**FAST, "min_peer_group": 41})
    assert scores.empty and {r["program"]: r["status"] for r in report}["dibao"] == "too_few"
    f = ws.engine.query(feature_sql(FEATURE_SETS[0], YEAR, parse_settings({"min_peer_group": 41}), present))
    assert f.filter(like="_med").isna().all(axis=None)


def test_missing_tables_and_switched_off_detection_are_reported_not_raised(dibao):
    ws, present = dibao[0], dibao[1]
    _, report = score_outliers(ws.engine, YEAR, present, FAST)
    status = {(r["program"], r["entity_type"]): r for r in report}
    assert status[("housing", "tenancy")]["status"] == "skipped"
    assert (
        status[("housing", "tenancy")]["reason"]
        == "missing housing_tenancies, housing_rent or housing_utilities"
    )
    assert all(
        set(r) == {"program", "entity_type", "status", "entities", "flagged", "reason", "seconds"}
        for r in report
    )
    scores, report = score_outliers(ws.engine, YEAR, present, {"enabled": False})
    assert scores.empty and all(r["status"] == "skipped" and "turned off" in r["reason"] for r in report)


# --- protected traits --------------------------------------------------------------------------
def test_no_feature_reads_a_protected_trait_or_takes_an_id_apart():
    for fs in FEATURE_SETS:
        for s in (Settings(), Settings(protected_programmes=("X",), min_peer_group=3)):
            assert violations(fs.sql(YEAR, s)) == [], fs.key
    # The check itself catches what it is there to catch.
    assert violations("SELECT substr(person_id, 7, 8) AS born FROM dibao_members")
    assert violations("SELECT count(*) FROM x GROUP BY CAST(right(head_id, 2) AS INT) % 2")
    assert violations("SELECT person_id FROM x WHERE person_id LIKE '______1950%'")
    assert violations("SELECT relation, name FROM dibao_members")
    assert violations("SELECT birth_date, ethnicity, age FROM x")
    assert not violations("SELECT count(DISTINCT p.person_id) FROM x p JOIN y ON y.person_id = p.person_id")


def _remap_ids(tables: dict, seed: int) -> tuple[dict, dict]:
    """Every resident ID replaced by one with another birth date, gender and area (consistently)."""
    rng = np.random.default_rng(seed)
    ids = sorted({v for t in tables.values() for c in ("person_id", "head_id") if c in t for v in t[c]})
    new = {
        old: resident_id(
            i,
            dt.date(1930, 1, 1) + dt.timedelta(days=int(rng.integers(0, 30000))),
            bool(rng.random() < 0.5),
            county=str(rng.choice(["110105", "520102", "650102"])),
        )
        for i, old in enumerate(ids)
    }
    out = {}
    for name, t in tables.items():
        t = t.copy()
        for c in ("person_id", "head_id"):
            if c in t:
                t[c] = t[c].map(new)
        out[name] = t
    return out, new


def test_birth_date_gender_and_area_digits_of_ids_do_not_change_any_score():
    tables, _ = subsidy_world(seed=6, n=400)
    ws = Workspace()
    before, _ = score_outliers(ws.engine, YEAR, insert(ws.engine, tables), FAST)
    remapped, new = _remap_ids(tables, seed=9)
    ws2 = Workspace()
    after, _ = score_outliers(ws2.engine, YEAR, insert(ws2.engine, remapped), FAST)
    # The new IDs sort in another order, so rows are fitted and scored in another order too.
    assert [new[i] for i in before["entity_id"]] != sorted(new.values())
    b = before.assign(entity_id=before["entity_id"].map(new)).set_index("entity_id").sort_index()
    a = after.set_index("entity_id").sort_index()
    pd.testing.assert_series_equal(b["outlier_score"], a["outlier_score"])
    pd.testing.assert_series_equal(b["flagged"], a["flagged"])


def test_payments_of_trait_based_programmes_change_no_score():
    tables, _ = subsidy_world(seed=6, n=400)
    pay = tables["subsidy_payments"]
    ws = Workspace()
    with_elderly, _ = score_outliers(ws.engine, YEAR, insert(ws.engine, tables), FAST)
    ws2 = Workspace()
    only = {"subsidy_payments": pay[pay["program_code"] != "ELDERLY"]}
    without, _ = score_outliers(ws2.engine, YEAR, insert(ws2.engine, only), FAST)
    pd.testing.assert_frame_equal(with_elderly, without)
    # By code too, when the programme's name does not say what it is.
    renamed = {
        "subsidy_payments": pay.assign(
            program_name=pay["program_name"].where(pay["program_code"] != "ELDERLY")
        )
    }
    ws3 = Workspace()
    by_code, _ = score_outliers(
        ws3.engine, YEAR, insert(ws3.engine, renamed), {**FAST, "protected_programmes": ["ELDERLY"]}
    )
    pd.testing.assert_frame_equal(without, by_code)
    ws4 = Workspace()
    unprotected, _ = score_outliers(ws4.engine, YEAR, insert(ws4.engine, renamed), FAST)
    assert not unprotected["outlier_score"].equals(without["outlier_score"])


# --- settings -------------------------------------------------------------------------------
def test_settings_are_validated_all_at_once():
    with pytest.raises(ConfigError) as e:
        parse_settings(
            {
                "contamination": 0.9,
                "n_estimators": "many",
                "detector": "lof",
                "colour": "red",
                "min_peer_group": 1,
                "max_samples": 0,
                "random_state": True,
            }
        )
    msg = str(e.value)
    for part in (
        "contamination must be a number in (0, 0.5], got 0.9",
        "n_estimators must be a whole number",
        "detector must be one of iforest, ecod, hbos, copod, ensemble, got 'lof'",
        "unknown setting 'colour'",
        "min_peer_group must be a whole number >= 2",
        "max_samples must be",
        "random_state must be a whole number",
    ):
        assert part in msg
    assert msg.count("[outliers]") == 7
    with pytest.raises(ConfigError, match="protected_programmes must be a list"):
        parse_settings({"protected_programmes": "ELDERLY"})
    with pytest.raises(ConfigError, match="must be a table"):
        score_outliers(None, YEAR, set(), ["contamination", 0.1])
    s = parse_settings(
        {
            "contamination": 0.05,
            "n_estimators": 10,
            "max_samples": 0.5,
            "detector": "ecod",
            "protected_programmes": [" ELDERLY "],
        }
    )
    assert (s.contamination, s.n_estimators, s.max_samples, s.detector, s.protected_programmes) == (
        0.05,
        10,
        0.5,
        "ecod",
        ("ELDERLY",),
    )
    assert parse_settings(None) == Settings()


def test_a_household_re_enrolled_under_the_spouse_is_not_paid_outside_its_enrolment(dibao):
    """Two enrolments, the first closed in April and the second open: every month is inside one.
    max(end_date) skipped the open one and counted May-December as paid outside (a look-alike
    became a statistical case)."""
    ws, present = dibao[0], dibao[1]
    tables, _ = dibao_world(n=1, seed=6)
    for t in tables.values():
        if "household_id" in t:
            t["household_id"] = "REENROL"
    tables["dibao_payments"]["payment_id"] = "RE" + tables["dibao_payments"]["payment_id"]
    first = tables["dibao_households"].copy()
    first["start_date"], first["end_date"] = dt.date(2015, 1, 1), dt.date(YEAR, 4, 30)
    second = tables["dibao_households"].copy()
    second["start_date"], second["end_date"] = dt.date(YEAR, 5, 1), None
    tables["dibao_households"] = pd.concat([first, second], ignore_index=True)
    insert(ws.engine, tables)
    try:
        f = ws.engine.query(feature_sql(FEATURE_SETS[0], YEAR, Settings(), present)).set_index("entity_id")
        assert f.loc["REENROL", "periods_paid"] >= 8
        assert f.loc["REENROL", "periods_outside_enrolment"] == 0
    finally:
        for t in tables:
            ws.engine.execute(f"DELETE FROM {t} WHERE household_id = 'REENROL'")
