"""A rule hit's evidence: the JSON object each hit carries (its output columns), parsed."""

from __future__ import annotations

import json

import pandas as pd


def parse_evidence(value) -> dict:
    """The evidence of one hit as a dict ({} when missing or not JSON).

    >>> parse_evidence('{"person_id": "110105198001010012", "payments": 3}')
    {'person_id': '110105198001010012', 'payments': 3}
    """
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def with_evidence(hits: pd.DataFrame) -> pd.DataFrame:
    """A copy of `hits` whose `evidence` column holds dicts instead of JSON text.

    >>> with_evidence(result.hits).loc[0, "evidence"]["person_id"]
    """
    out = hits.copy()
    out["evidence"] = (
        [parse_evidence(v) for v in hits["evidence"]] if "evidence" in hits else [{}] * len(hits)
    )
    return out.reset_index(drop=True)
