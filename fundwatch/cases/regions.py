"""Where each case is: the area code of its entity, from the entity registry (fundwatch/entities.py)."""

from __future__ import annotations

import pandas as pd

from fundwatch.entities import ENTITY_TYPES


def attach_regions(engine, cases: pd.DataFrame, present: set[str]) -> pd.DataFrame:
    """`cases` with `region_code`: for each entity type, its lookups in order, each filling the
    cases the ones before it left empty."""
    cases = cases.copy()
    cases["region_code"] = pd.Series([None] * len(cases), dtype="object")
    if cases.empty:
        return cases
    for entity in ENTITY_TYPES.values():
        for lookup in entity.regions:
            todo = (cases["entity_type"] == entity.name) & cases["region_code"].isna()
            if not todo.any():
                break
            if not set(lookup.tables) <= set(present):
                continue
            with engine.registered("_fw_case_ids", cases.loc[todo, ["entity_id"]].drop_duplicates()):
                found = engine.query(lookup.sql)
            mapping = dict(zip(found["entity_id"], found["region_code"], strict=True))
            cases.loc[todo, "region_code"] = cases.loc[todo, "entity_id"].map(mapping)
    return cases
