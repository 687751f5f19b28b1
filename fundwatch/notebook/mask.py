"""Mask person IDs and bank accounts in what a notebook shows.

Notebooks get shared with their outputs, so every `_repr_html_` of this package masks by
default, like the exports do, and by the same rules (fundwatch/report/mask.py): by what a
value is, the column it came from. Credit codes, region codes, case ids stay readable.
"""

from __future__ import annotations

import pandas as pd

from fundwatch.contract.tables import TABLES
from fundwatch.report.mask import (
    NOT_PERSONAL,
    SAFE_KINDS,
    mask_field,
    mask_frame,
    mask_personal,
    mask_text,
    quoted_values,
)


def kept_columns(table: str | None = None) -> set[str]:
    """Columns shown unmasked: NOT_PERSONAL plus, for a contract table, its non-personal kinds.

    >>> "region_code" in kept_columns("dibao_households"), "head_id" in kept_columns("dibao_households")
    (True, False)
    """
    keep = set(NOT_PERSONAL)
    if table in TABLES:
        keep |= {c.name for c in TABLES[table].columns if c.kind in SAFE_KINDS}
    return keep


def masked(frame: pd.DataFrame, table: str | None = None) -> pd.DataFrame:
    """A copy of `frame` with person IDs and bank accounts masked, for showing or sharing.

    >>> masked(result.cases.head())                       # 110105********002X
    >>> masked(ws.sql("SELECT * FROM vehicles").df(), "vehicles")
    """
    out = mask_frame(frame)
    for c in frame.columns:
        if c in kept_columns(table):
            out[c] = frame[c]
    return out


def mask_entity(entity_type: str, entity_id):
    """An entity id as shown: masked when it is a person's.

    >>> mask_entity("person", "110105198001010012"), mask_entity("household", "DB0000132")
    ('110105********0012', 'DB0000132')
    """
    return mask_personal(str(entity_id)) if entity_type == "person" else entity_id


def mask_value(field: str, value):
    """One evidence value as shown: masked by what its field holds.

    >>> mask_value("person_id", "110105198001010012"), mask_value("region_code", "522631102204")
    ('110105********0012', '522631102204')
    """
    return mask_field(field, value)


def mask_summary(summary, entity_type, entity_id, evidence=()):
    """A case's or hit's summary as shown, knowing what the values it quotes are: those of
    the entity and of the hits' `evidence` (dicts or JSON).

    >>> mask_summary("Cooperative 935226311965456506 paid 6228484026135056423", "cooperative",
    ...              "935226311965456506", [{"top_account": "6228484026135056423"}])
    'Cooperative 935226311965456506 paid ***************6423'
    """
    if not isinstance(summary, str):
        return summary
    keep, personal = quoted_values(evidence, entity_type, entity_id)
    return mask_text(summary, keep, personal)
