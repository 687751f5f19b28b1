"""Mask person IDs and bank accounts in what a notebook shows.

Notebooks get shared with their outputs, so every `_repr_html_` of this package masks by
default, like the exports do (fundwatch/report/mask.py). Columns that hold no personal data
but look like digit runs — a 12-digit region code, a credit code, a case id — are shown as
they are.
"""

from __future__ import annotations

import pandas as pd

from fundwatch.contract.tables import TABLES
from fundwatch.report.mask import mask_frame, mask_text

# Columns of cases, hits and evidence that are never personal data.
NOT_PERSONAL = frozenset(
    {
        "case_id",
        "run_id",
        "rule_id",
        "rule_version",
        "program",
        "programs",
        "program_code",
        "level",
        "status",
        "entity_type",
        "matched_on",
        "region_code",
        "other_region",
        "coop_id",
        "entity_code",
        "review_status",
    }
)
# Contract column kinds that never hold a person's ID or account.
_SAFE_KINDS = ("region", "credit_code", "enum", "date", "period", "money", "number", "int", "year")


def kept_columns(table: str | None = None) -> set[str]:
    """Columns shown unmasked: NOT_PERSONAL plus, for a contract table, its non-personal kinds.

    >>> "region_code" in kept_columns("dibao_households"), "head_id" in kept_columns("dibao_households")
    (True, False)
    """
    keep = set(NOT_PERSONAL)
    if table in TABLES:
        keep |= {c.name for c in TABLES[table].columns if c.kind in _SAFE_KINDS}
    return keep


def masked(frame: pd.DataFrame, table: str | None = None) -> pd.DataFrame:
    """A copy of `frame` with person IDs and bank accounts masked, for showing or sharing.

    >>> masked(result.cases.head())                       # 110105********002X
    >>> masked(ws.sql("SELECT * FROM vehicles").df(), "vehicles")
    """
    keep = [c for c in frame.columns if c in kept_columns(table)]
    out = mask_frame(frame.drop(columns=keep))
    for c in keep:
        out[c] = frame[c]
    if "entity_id" in frame and "entity_type" in frame:
        # Only a person's entity_id is personal; a credit code or household id stays readable.
        not_person = frame["entity_type"] != "person"
        out.loc[not_person, "entity_id"] = frame.loc[not_person, "entity_id"]
    return out[list(frame.columns)]


def mask_entity(entity_type: str, entity_id):
    """An entity id as shown: masked when it is a person's.

    >>> mask_entity("person", "110105198001010012"), mask_entity("household", "DB0000132")
    ('110105********0012', 'DB0000132')
    """
    return mask_text(str(entity_id)) if entity_type == "person" else entity_id


def mask_value(field: str, value):
    """One evidence value as shown: masked unless its field is non-personal.

    >>> mask_value("person_id", "110105198001010012"), mask_value("region_code", "522631102204")
    ('110105********0012', '522631102204')
    """
    if field in NOT_PERSONAL or value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [mask_value(field, v) for v in value]
    return mask_text(str(value))
