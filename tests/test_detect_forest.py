"""fundwatch/detect/forest.py: PyOD's IForest scored on distinct rows and threads, same results."""

import numpy as np
import pytest
from pyod.models.iforest import IForest as PyODIForest

from fundwatch.detect import forest
from fundwatch.detect.detectors import make_detector, preload
from fundwatch.detect.settings import Settings


def test_unique_rows_gives_back_every_row():
    x = np.array([[0.0, 1.0], [2.0, np.nan], [0.0, 1.0], [-0.0, 1.0], [2.0, np.nan], [3.0, 3.0]])
    u, inverse = forest.unique_rows(x)
    assert len(u) == 3  # 0.0 and -0.0 compare equal, as in a tree's test; NaN rows group together
    np.testing.assert_array_equal(u[inverse], np.where(x == 0, 0.0, x))
    assert list(inverse) == [0, 1, 0, 0, 1, 2]  # distinct rows in order: (0, 1), (2, NaN), (3, 3)


def _data(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal((n, 4)), 1)
    x[rng.random((n, 4)) < 0.5] = 0.0  # many entities at their peers' median: repeated rows
    x[: n // 50] *= 8  # and a few far out
    return x


@pytest.mark.parametrize("n", [300, 12_000])  # 12,000 rows hold more than PARALLEL_ROWS distinct ones
def test_fit_and_scores_are_pyods_to_the_bit(n):
    x, new = _data(n, 1), _data(n, 2)
    assert len(forest.unique_rows(x)[0]) < n
    params = dict(n_estimators=40, max_samples=1.0, contamination=0.02, random_state=42, n_jobs=2)
    ours, theirs = forest.IForest(**params).fit(x), PyODIForest(**params).fit(x)
    if n > 10_000:
        assert len(forest.unique_rows(x.astype(np.float32))[0]) >= forest.PARALLEL_ROWS
    np.testing.assert_array_equal(ours.decision_scores_, theirs.decision_scores_)
    assert ours.threshold_ == theirs.threshold_ and ours.detector_.offset_ == theirs.detector_.offset_
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_array_equal(ours.decision_function(new), theirs.decision_function(new))
    np.testing.assert_array_equal(ours.decision_function(new[:1]), theirs.decision_function(new[:1]))


def test_preload_then_make_detector():
    preload()
    preload()  # a second call starts nothing new
    det = make_detector("iforest", Settings(n_estimators=5), 100)
    assert isinstance(det, forest.IForest)
    assert det.fit(_data(100, 3)).decision_function(_data(10, 4)).shape == (10,)
