"""Where each case is: the area code of its household, person or cooperative (for per-township views)."""

from __future__ import annotations

import pandas as pd

# entity_type -> (tables needed, SQL giving entity_id, region_code)
LOOKUPS = {
    "household": (("dibao_households",), "SELECT household_id AS entity_id, max(region_code) AS region_code "
                                         "FROM dibao_households GROUP BY 1"),
    "cooperative": (("cooperatives",), "SELECT coop_id AS entity_id, max(region_code) AS region_code "
                                       "FROM cooperatives GROUP BY 1"),
    "person": (("subsidy_payments",), "SELECT person_id AS entity_id, max(region_code) AS region_code "
                                      "FROM subsidy_payments GROUP BY 1"),
    "person ": (("dibao_members", "dibao_households"),
                "SELECT m.person_id AS entity_id, max(h.region_code) AS region_code FROM dibao_members m "
                "JOIN dibao_households h ON h.household_id = m.household_id GROUP BY 1"),
}


def attach_regions(engine, cases: pd.DataFrame, present: set[str]) -> pd.DataFrame:
    cases = cases.copy()
    cases["region_code"] = pd.Series([None] * len(cases), dtype="object")
    if cases.empty:
        return cases
    for key, (tables, sql) in LOOKUPS.items():
        entity_type = key.strip()
        todo = (cases["entity_type"] == entity_type) & cases["region_code"].isna()
        if not todo.any() or not all(t in present for t in tables):
            continue
        engine.register("_fw_case_ids", cases.loc[todo, ["entity_id"]].drop_duplicates())
        found = engine.query(f"SELECT r.* FROM ({sql}) r JOIN _fw_case_ids c ON c.entity_id = r.entity_id")
        mapping = dict(zip(found["entity_id"], found["region_code"], strict=True))
        cases.loc[todo, "region_code"] = cases.loc[todo, "entity_id"].map(mapping)
    return cases
