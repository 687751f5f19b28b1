"""The detectors, all with PyOD's conventions: fit(X) sets decision_scores_ and threshold_
(from contamination); decision_function(X) scores new rows, higher = more abnormal.

`iforest` is PyOD's IForest (scikit-learn's isolation forest; fundwatch/detect/forest.py scores
it faster, with the same results); `ecod`, `hbos` and `copod`
are PyOD's; `ensemble` averages the four after calibrating each to its own fit scores.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading

import numpy as np

from fundwatch.detect.calibrate import Calibration


def threads() -> int:
    """Threads for fitting trees and scoring rows: the machine's cores, at most 8."""
    return max(1, min(os.cpu_count() or 1, 8))


_preload: threading.Thread | None = None
_preload_lock = threading.Lock()


def preload() -> None:
    """Start importing scikit-learn and PyOD (about two seconds) on a background thread, so
    that the import overlaps other work (the feature SQL, or a scan's rules); make_detector
    waits for it. Safe to call any number of times, from anywhere."""
    global _preload
    with _preload_lock:
        if _preload is None:
            _preload = threading.Thread(target=_import, name="fundwatch-preload", daemon=True)
            _preload.start()


def _import() -> None:
    with contextlib.suppress(Exception):  # make_detector's own import raises it where it is needed
        importlib.import_module("fundwatch.detect.forest")


def _wait_preload() -> None:
    # The detector's own import waits for the background one rather than racing it.
    if _preload is not None:
        _preload.join()


def make_detector(name: str, settings, n_rows: int):
    """A new, unfitted detector for `n_rows` fit rows."""
    _wait_preload()
    c = settings.contamination
    if name == "iforest":
        from fundwatch.detect.forest import IForest  # PyOD's, scoring distinct rows on threads

        m = settings.max_samples
        m = min(m, n_rows) if isinstance(m, int) else m  # a small programme: every tree sees every row
        return IForest(
            n_estimators=settings.n_estimators,
            max_samples=m,
            contamination=c,
            random_state=settings.random_state,
            n_jobs=threads(),  # the trees are built in parallel from seeds drawn first: same forest
        )
    if name == "ecod":
        from pyod.models.ecod import ECOD

        return ECOD(contamination=c)
    if name == "hbos":
        from pyod.models.hbos import HBOS

        return HBOS(contamination=c)
    if name == "copod":
        from pyod.models.copod import COPOD

        return COPOD(contamination=c)
    if name == "ensemble":
        return AverageEnsemble(
            [make_detector(n, settings, n_rows) for n in ("iforest", "ecod", "hbos", "copod")], c
        )
    raise ValueError(f"unknown detector {name!r}")


class AverageEnsemble:
    """Mean of the members' calibrated scores (each member's score -> its share of fit scores below)."""

    def __init__(self, members, contamination: float):
        self.members = members
        self.contamination = contamination

    def fit(self, X):
        self.calibrations_ = []
        for m in self.members:
            m.fit(X)
            self.calibrations_.append(Calibration(m.decision_scores_))
        self.decision_scores_ = np.mean(
            [cal(m.decision_scores_) for m, cal in zip(self.members, self.calibrations_, strict=True)], axis=0
        )
        self.threshold_ = float(np.percentile(self.decision_scores_, 100 * (1 - self.contamination)))
        return self

    def decision_function(self, X):
        return np.mean(
            [cal(m.decision_function(X)) for m, cal in zip(self.members, self.calibrations_, strict=True)],
            axis=0,
        )
