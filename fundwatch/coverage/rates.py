"""Each township's coverage rate per coverage rule: eligible, paid, missed.

eligible: the entities the rule's `eligible` query returns, with any entity the rule lists that
the query left out (a listed entity is eligible by the rule's own criteria; run.json counts them
so the rule's author can fix the query). missed: the entities it lists (paid nothing, or less
than due). paid: eligible minus missed. coverage_rate: paid / eligible.
"""

from __future__ import annotations

import pandas as pd

from fundwatch.contract.outputs import COVERAGE_RATES


def township_of(region: pd.Series) -> pd.Series:
    """The 9-digit township code of each area code; empty where there is none of that depth."""
    codes = region.astype("string").str.strip()
    usable = codes.str.fullmatch(r"\d{9,}").fillna(False).astype(bool)
    return codes.str[:9].where(usable, "").fillna("").astype(object)


def coverage_rates(coverage: pd.DataFrame, eligible: pd.DataFrame, year: int) -> tuple[pd.DataFrame, dict]:
    """(the rates per rule and township, {rule_id: listed entities outside its eligible query}).

    `eligible` has rule_id, entity_id and township; `coverage` is the list (with township). Only
    rules with an eligible population are rated: `eligible` holds rows of those alone."""
    rated = set(eligible["rule_id"]) if not eligible.empty else set()
    listed = coverage[coverage["rule_id"].isin(rated)]
    keys = ["rule_id", "entity_id"]
    known = eligible[[*keys, "township"]]
    outside = listed.merge(known[keys], on=keys, how="left", indicator=True)
    outside = outside[outside["_merge"] == "left_only"]
    counted = pd.concat([known, outside[[*keys, "township"]]], ignore_index=True)
    if counted.empty:
        return pd.DataFrame(columns=COVERAGE_RATES.column_names), {}
    per = counted.groupby(["rule_id", "township"], sort=True).size().rename("eligible").reset_index()
    money = pd.to_numeric(listed["amount_owed"], errors="coerce").fillna(0.0).astype(float)
    months = pd.to_numeric(listed["months_missed"], errors="coerce").fillna(0).astype(int)
    miss = (listed.assign(_m=months, _a=money).groupby(["rule_id", "township"], sort=True)
            .agg(missed=("entity_id", "nunique"), months_missed=("_m", "sum"), amount_owed=("_a", "sum"))
            .reset_index())
    out = per.merge(miss, on=["rule_id", "township"], how="left")
    out["missed"] = out["missed"].fillna(0).astype(int)
    out["months_missed"] = out["months_missed"].fillna(0).astype(int)
    out["amount_owed"] = out["amount_owed"].fillna(0.0).round(2)
    out["paid"] = out["eligible"] - out["missed"]
    out["coverage_rate"] = (out["paid"] / out["eligible"]).round(4)
    out.insert(0, "year", int(year))
    counts = outside.groupby("rule_id").size().to_dict()
    return out[COVERAGE_RATES.column_names], {k: int(v) for k, v in counts.items()}


def township_totals(rates: pd.DataFrame) -> pd.DataFrame:
    """township, eligible, paid, missed, coverage_rate, amount_owed over every rated programme
    (an entity eligible for two programmes counts twice), lowest coverage first."""
    cols = ["township", "eligible", "paid", "missed", "coverage_rate", "months_missed", "amount_owed"]
    if rates is None or rates.empty:
        return pd.DataFrame(columns=cols)
    frame = rates.assign(amount_owed=pd.to_numeric(rates["amount_owed"], errors="coerce").astype(float))
    out = frame.groupby("township", sort=True)[["eligible", "paid", "missed", "months_missed", "amount_owed"]].sum()
    out = out.reset_index()
    out["coverage_rate"] = (out["paid"] / out["eligible"]).round(4)
    return out.sort_values(["coverage_rate", "missed", "township"], ascending=[True, False, True],
                           ignore_index=True)[cols]
