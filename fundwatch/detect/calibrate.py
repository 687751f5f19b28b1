"""From a detector's raw scores to a 0-1 outlier_score that means the same in every programme.

The score of an entity is the share of the programme's fit sample that scored lower (ties
count half): 0.95 = more abnormal than about 95% of its programme's entities. Raw scores of
different detectors and programmes are on different scales; these are not.
"""

from __future__ import annotations

import numpy as np


class Calibration:
    def __init__(self, fit_scores):
        self.sorted = np.sort(np.asarray(fit_scores, dtype=float))
        if not len(self.sorted):
            raise ValueError("cannot calibrate on no scores")

    def __call__(self, raw) -> np.ndarray:
        raw = np.asarray(raw, dtype=float)
        below = np.searchsorted(self.sorted, raw, side="left")
        at_or_below = np.searchsorted(self.sorted, raw, side="right")
        return (below + at_or_below) / (2.0 * len(self.sorted))
