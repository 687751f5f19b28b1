"""Fitting a detector to one programme's entities, and scoring any of them with it.

The fit set is every scorable entity when there are at most `fit_sample`; otherwise a random
sample of `fit_sample` entities (the norm) plus, for each feature, up to a few dozen of the
entities furthest out on it (|z| >= EXTREME_Z). The extremes make sure the trees have seen
every kind of deviation the programme holds: a value carried by one entity in a million
would otherwise be absent from a random sample, the feature would look constant, and an
isolation forest could never split on it. Calibration and the flagging threshold use the
random sample alone, so that outlier_score keeps meaning "share of the programme below".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fundwatch.detect.calibrate import Calibration
from fundwatch.detect.detectors import make_detector
from fundwatch.detect.peers import directional_z

FIT_ROWS = "fw_detect_fit_rows"
EXTREME_Z = 3.0
EXTREME_SHARE = 0.05  # of fit_sample, spread over the features


def directional(z: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Deviation that counts as abnormal: z for "high", -z for "low", z for "both"; else 0. NaN -> 0."""
    z = np.nan_to_num(np.asarray(z, dtype=float), nan=0.0)
    return np.where(
        directions == "high", np.maximum(z, 0.0), np.where(directions == "low", np.maximum(-z, 0.0), z)
    )


def transform(z: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """The detector's input: the directional z-score, compressed as sign * ln(1 + |z|).

    A missing feature (no value or no usable peer group) is imputed as 0: at the peers' median.
    """
    d = directional(z, directions)
    return np.sign(d) * np.log1p(np.abs(d))


@dataclass
class Model:
    directions: np.ndarray
    keep: np.ndarray  # features that vary in the fit set
    detector: object = None  # None: no feature varies, nobody stands out
    calibration: Calibration | None = None
    threshold: float = np.inf
    fit_rows: int = 0

    def score(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(outlier_score in 0-1, flagged) for rows of robust z-scores."""
        if self.detector is None:
            return np.zeros(len(z)), np.zeros(len(z), dtype=bool)
        # The isolation forest scores distinct rows, on threads (fundwatch/detect/forest.py).
        raw = self.detector.decision_function(transform(z, self.directions)[:, self.keep])
        return self.calibration(raw), raw > self.threshold


def _rows(engine, table: str, zcols: list[str], rows: np.ndarray) -> np.ndarray:
    with engine.registered(FIT_ROWS, pd.DataFrame({"fw_row": rows.astype(np.int64)})):
        frame = engine.query(f"SELECT {', '.join(zcols)} FROM {table} t JOIN {FIT_ROWS} r ON r.fw_row = t.fw_row")
    return frame[zcols].to_numpy(dtype=float, na_value=np.nan)


def _extremes(engine, table: str, fs, n: int, s) -> np.ndarray:
    """Row numbers of the entities furthest out on each feature (|z| >= EXTREME_Z)."""
    k = max(1, int(s.fit_sample * EXTREME_SHARE) // len(fs.features))
    parts = []
    for f in fs.features:
        d = directional_z(f)
        parts.append(
            f"SELECT fw_row FROM (SELECT fw_row FROM {table} WHERE fw_row <= {n} AND {d} >= {EXTREME_Z} "
            f"ORDER BY {d} DESC, fw_row LIMIT {k}) x_{f.name}"
        )
    return engine.query(" UNION ".join(parts))["fw_row"].to_numpy(dtype=np.int64)


def fit_model(engine, table: str, fs, n: int, s) -> Model:
    """Fit `s.detector` on the first n rows of `table` (the scorable entities), or a sample of them."""
    zcols = [f"{f.name}_z" for f in fs.features]
    directions = np.array([f.direction for f in fs.features])
    if n > s.fit_sample:
        sample = (
            np.sort(np.random.default_rng(s.random_state).choice(n, size=s.fit_sample, replace=False)) + 1
        )
        extra = np.setdiff1d(_extremes(engine, table, fs, n, s), sample)
        z_norm, z_extra = _rows(engine, table, zcols, sample), _rows(engine, table, zcols, extra)
    else:
        frame = engine.query(f"SELECT {', '.join(zcols)} FROM {table} WHERE fw_row <= {n}")
        z_norm, z_extra = frame[zcols].to_numpy(dtype=float, na_value=np.nan), np.empty((0, len(zcols)))
    X_norm, X_extra = transform(z_norm, directions), transform(z_extra, directions)
    X = np.vstack([X_norm, X_extra])
    # Rows in the order of their values, not of their ids: the fitted model depends on the
    # entities' features only, never on how their identifiers sort.
    order = np.lexsort(X.T[::-1])
    X = X[order]
    keep = X.max(axis=0) > X.min(axis=0)
    model = Model(directions, keep, fit_rows=len(X))
    if not keep.any():
        return model
    model.detector = make_detector(s.detector, s, len(X)).fit(X[:, keep])
    # Calibrate on the random sample only (the extremes would shift every score down).
    if not len(X_extra):
        norm_raw = model.detector.decision_scores_
    elif s.detector == "iforest":
        # The fit scored every fit row already, each on its own: the sample's rows, picked out
        # of them, are what scoring the sample again would give.
        position = np.empty_like(order)
        position[order] = np.arange(len(order))
        norm_raw = model.detector.decision_scores_[position[: len(X_norm)]]
    else:  # ECOD and COPOD score a row against the rows it comes with
        norm_raw = model.detector.decision_function(X_norm[:, keep])
    model.calibration = Calibration(norm_raw)
    model.threshold = float(np.percentile(norm_raw, 100 * (1 - s.contamination)))
    return model
