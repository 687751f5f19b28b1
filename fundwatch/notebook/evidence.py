"""Rule-hit evidence: the JSON each hit carries, parsed, and the entities it names."""

from __future__ import annotations

import re

import pandas as pd

from fundwatch.rules.evidence import with_evidence

# An 18-character resident ID (GB 11643 shape; the loader has already checked the digit).
PERSON_ID = re.compile(r"^\d{17}[\dX]$")

# Evidence fields that name an entity of each kind (see the rules' output columns).
EVIDENCE_KEYS = {
    "households": ("household_id", "other_household"),
    "tenancies": ("tenancy_id", "tenancy_a", "tenancy_b", "other_tenancy"),
    "cooperatives": ("coop_id",),
    "agencies": ("agency_code",),
    "units": ("unit_id",),
    "accounts": ("account", "bank_account", "payer_account", "top_account"),
}
# entity_type of a hit or case -> the kind of entity its entity_id is
ENTITY_KINDS = {
    "household": "households",
    "person": "persons",
    "tenancy": "tenancies",
    "cooperative": "cooperatives",
    "agency": "agencies",
}
KINDS = ("persons", "households", "tenancies", "cooperatives", "agencies", "units", "accounts")


def evidence_long(hits: pd.DataFrame) -> pd.DataFrame:
    """One row per (hit, evidence field): rule_id, entity_id, field, value.

    >>> evidence_long(result.hits.head(3))
    """
    rows = [
        {"rule_id": h["rule_id"], "entity_id": h["entity_id"], "field": k, "value": v}
        for h in with_evidence(hits).to_dict("records")
        for k, v in h["evidence"].items()
    ]
    return pd.DataFrame(rows, columns=["rule_id", "entity_id", "field", "value"])


def _values(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def named_entities(case: dict, hits: pd.DataFrame) -> dict[str, set[str]]:
    """The entities a case and its hits name, by kind (persons, households, tenancies, ...).

    >>> named_entities(case_row, case_hits)["persons"]
    """
    found: dict[str, set[str]] = {k: set() for k in KINDS}
    found[ENTITY_KINDS.get(case["entity_type"], "persons")].add(str(case["entity_id"]))
    for hit in with_evidence(hits).to_dict("records"):
        if hit.get("entity_type") in ENTITY_KINDS:
            found[ENTITY_KINDS[hit["entity_type"]]].add(str(hit["entity_id"]))
        for field, value in hit["evidence"].items():
            for v in _values(value):
                for kind, keys in EVIDENCE_KEYS.items():
                    if field in keys:
                        found[kind].add(v)
                if field not in EVIDENCE_KEYS["accounts"] and PERSON_ID.match(v):
                    found["persons"].add(v)
    return found
