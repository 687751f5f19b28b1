"""Statistical outlier detection: the half of fundwatch that needs no rule written in advance.

    scores, report = score_outliers(ws.engine, 2023, set(ws.loaded_tables()), config.outliers)

Per programme and year: features relative to peer groups computed in SQL on the workspace
(fundwatch/detect/features/, documented in docs/features.md), an isolation forest (or another
PyOD detector) fitted on a sample and applied in batches, a 0-1 `outlier_score` calibrated
within the programme, and a plain explanation in English and Chinese for each flagged entity.
"""

from fundwatch.detect.detectors import preload
from fundwatch.detect.features import FEATURE_SETS
from fundwatch.detect.score import score_outliers
from fundwatch.detect.settings import DETECTORS, Settings, parse_settings

__all__ = ["score_outliers", "preload", "FEATURE_SETS", "DETECTORS", "Settings", "parse_settings"]
