"""Scoring the detector against a sample world's ground truth (benchmarks/detect_eval.py, tests).

Positives are the planted anomalies with an empty rule_id (only a statistical detector can see
them); negatives every other scored entity-year, except planted anomalies of any kind (they
are not normal either) and the other years of an entity planted as an anomaly in some year (a
lease charged too little rent stays so after the year it was planted in).
"""

from __future__ import annotations

import pandas as pd

from fundwatch.detect.calibrate import Calibration

KEY = ["program", "entity_type", "entity_id"]


def read_truth(path) -> pd.DataFrame:
    truth = pd.read_csv(path, dtype=str, keep_default_na=False)
    truth["year"] = truth["year"].astype(int)
    return truth


def label(scores: pd.DataFrame, truth: pd.DataFrame, year: int) -> pd.DataFrame:
    """`scores` of one year with `year` and `label`: 1 rule-less anomaly, 0 negative, -1 left out."""
    anomalies = truth[truth["kind"] == "anomaly"]
    this_year = anomalies[anomalies["year"] == year]
    positive = set(map(tuple, this_year.loc[this_year["rule_id"] == "", KEY].to_numpy()))
    left_out = set(map(tuple, anomalies[KEY].to_numpy())) - positive
    keys = map(tuple, scores[KEY].to_numpy())
    return scores.assign(year=year, label=[1 if k in positive else -1 if k in left_out else 0 for k in keys])


def auc(positive_scores, negative_scores) -> float:
    """ROC-AUC: the chance that a positive outscores a negative (ties count half)."""
    return float(Calibration(negative_scores)(positive_scores).mean())
