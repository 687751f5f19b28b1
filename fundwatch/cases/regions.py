"""Where each case is: the area code of its household, person or cooperative (for per-township views)."""

from __future__ import annotations

import pandas as pd

# entity_type -> (tables needed, SQL giving entity_id, region_code for the ids in _fw_case_ids).
# The ids are filtered before grouping: only the cases' entities are read, not every payment.
IDS = "(SELECT entity_id FROM _fw_case_ids)"
LOOKUPS = {
    "household": (("dibao_households",), "SELECT household_id AS entity_id, max(region_code) AS region_code "
                                         f"FROM dibao_households WHERE household_id IN {IDS} GROUP BY 1"),
    "cooperative": (("cooperatives",), "SELECT coop_id AS entity_id, max(region_code) AS region_code "
                                       f"FROM cooperatives WHERE coop_id IN {IDS} GROUP BY 1"),
    "person": (("subsidy_payments",), "SELECT person_id AS entity_id, max(region_code) AS region_code "
                                      f"FROM subsidy_payments WHERE person_id IN {IDS} GROUP BY 1"),
    "person ": (("dibao_members", "dibao_households"),
                "SELECT m.person_id AS entity_id, max(h.region_code) AS region_code FROM dibao_members m "
                f"JOIN dibao_households h ON h.household_id = m.household_id WHERE m.person_id IN {IDS} GROUP BY 1"),
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
        with engine.registered("_fw_case_ids", cases.loc[todo, ["entity_id"]].drop_duplicates()):
            found = engine.query(sql)
        mapping = dict(zip(found["entity_id"], found["region_code"], strict=True))
        cases.loc[todo, "region_code"] = cases.loc[todo, "entity_id"].map(mapping)
    return cases
