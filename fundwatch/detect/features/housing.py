"""Public rental housing tenancies: rent, payers and meter readings against similar households.

A tenancy is in the year when its lease overlaps the year. Meter readings are per unit;
a reading counts for the tenancy whose lease covers its month. Peers: tenancies of the same
household size, then all tenancies.
"""

from __future__ import annotations

from fundwatch.detect.peers import month_index, open_end, output_columns, relative, with_ctes, year_bounds
from fundwatch.detect.spec import Feature, FeatureSet, PeerLevel

LEVELS = (
    PeerLevel("size", ("household_size",), "size-{0} households in public housing", "公租房{0}人户"),
    PeerLevel("all", (), "all public-housing tenancies", "全部公租房租户"),
)
ALL = ("all",)
IDLE = "coalesce(u.water_m3, 0) < 0.5 AND coalesce(u.electricity_kwh, 0) < 10"  # a month with next to no use

FEATURES = (
    Feature(
        "water_per_month",
        "water used per month",
        "月均用水量",
        "m3",
        direction="both",
        scale=0.1,
        log=True,
        source="housing_utilities.water_m3, period; housing_tenancies.unit_id, start_date, end_date",
        description="Mean water_m3 of the unit's readings in the lease's months of the year, idle months "
        "(idle_months) left out. Far below peers suggests a unit rarely lived in, far above a sublet or "
        "other use.",
    ),
    Feature(
        "electricity_per_month",
        "electricity used per month",
        "月均用电量",
        "kwh",
        direction="both",
        scale=0.1,
        log=True,
        source="housing_utilities.electricity_kwh, period; housing_tenancies.unit_id, start_date, end_date",
        description="Mean electricity_kwh of the unit's readings in the lease's months of the year, idle "
        "months (idle_months) left out.",
    ),
    Feature(
        "idle_months",
        "months with next to no water or power",
        "几乎无水电使用的月数",
        "count",
        scale=1.0,
        levels=ALL,
        covered_by=("housing.vacant_sublet",), source="housing_utilities.water_m3, electricity_kwh",
        description="Months with water_m3 < 0.5 and electricity_kwh < 10.",
    ),
    Feature(
        "monthly_rent",
        "monthly rent charged",
        "月租金",
        "yuan",
        direction="low",
        scale=0.1,
        log=True,
        source="housing_tenancies.monthly_rent; housing_rent.rent_due",
        description="monthly_rent of the lease (else the mean rent_due of the year's ledger).",
    ),
    Feature(
        "paid_share",
        "share of rent due that was paid",
        "实缴租金占应缴比例",
        "share",
        direction="both",
        scale=0.05,
        levels=ALL,
        source="housing_rent.rent_due, rent_paid",
        description="sum(rent_paid) / sum(rent_due) over the year's ledger.",
    ),
    Feature(
        "payer_accounts",
        "accounts paying the rent",
        "缴租账户数",
        "count",
        scale=1.0,
        levels=ALL,
        covered_by=("housing.third_party_payer",), source="housing_rent.payer_account",
        description="Distinct payer_account values in the year's ledger.",
    ),
    Feature(
        "account_tenancies",
        "tenancies paid from the same account",
        "同一账户缴租的租约数",
        "count",
        scale=1.0,
        levels=ALL,
        covered_by=("housing.third_party_payer",), source="housing_rent.payer_account, tenancy_id",
        description="The largest number of tenancies paid from one of this tenancy's payer accounts.",
    ),
    Feature(
        "size_vs_roster",
        "declared household size minus people on the lease",
        "申报人口与租约登记人数之差",
        "people",
        direction="both",
        scale=1.0,
        levels=ALL,
        source="housing_tenancies.household_size; housing_members.person_id (count)",
        description="household_size minus distinct people in housing_members plus the tenant.",
    ),
)


def sql(year: int, settings) -> str:
    y0, y1 = year_bounds(year)
    ctes = [
        (
            "ten",
            f"""SELECT tenancy_id, max(unit_id) AS unit_id, max(person_id) AS tenant, max(household_size) AS household_size,
       max(CAST(monthly_rent AS DOUBLE)) AS monthly_rent, min(start_date) AS start_date, {open_end("end_date")} AS end_date
FROM housing_tenancies GROUP BY tenancy_id
HAVING min(start_date) < {y1} AND ({open_end("end_date")} IS NULL OR {open_end("end_date")} >= {y0})""",
        ),
        (
            "rent",
            f"""SELECT tenancy_id, sum(CAST(rent_due AS DOUBLE)) AS due, sum(CAST(coalesce(rent_paid, 0) AS DOUBLE)) AS paid,
       avg(CAST(rent_due AS DOUBLE)) AS mean_due, count(DISTINCT payer_account) AS payer_accounts
FROM housing_rent WHERE period >= {y0} AND period < {y1} GROUP BY tenancy_id""",
        ),
        (
            "payer",
            f"""SELECT payer_account, count(DISTINCT tenancy_id) AS tenancies
FROM housing_rent WHERE period >= {y0} AND period < {y1} AND payer_account IS NOT NULL GROUP BY payer_account""",
        ),
        (
            "shared",
            f"""SELECT r.tenancy_id, max(p.tenancies) AS account_tenancies
FROM housing_rent r JOIN payer p ON p.payer_account = r.payer_account
WHERE r.period >= {y0} AND r.period < {y1} GROUP BY r.tenancy_id""",
        ),
        (
            "util",
            # Use per month counts the months the unit was lived in: idle months are idle_months'
            # (and housing.vacant_sublet's) evidence, and would otherwise also drag the means down, so
            # that two idle months made a low-use outlier that no rule covers.
            f"""SELECT t.tenancy_id,
       avg(CASE WHEN {IDLE} THEN NULL ELSE u.water_m3 END) AS water_per_month,
       avg(CASE WHEN {IDLE} THEN NULL ELSE u.electricity_kwh END) AS electricity_per_month,
       sum(CASE WHEN {IDLE} THEN 1 ELSE 0 END) AS idle_months
FROM ten t JOIN housing_utilities u ON u.unit_id = t.unit_id
WHERE u.period >= {y0} AND u.period < {y1}
  AND {month_index("u.period")} >= {month_index("t.start_date")}
  AND (t.end_date IS NULL OR u.period <= t.end_date)
GROUP BY t.tenancy_id""",
        ),
        (
            "people",
            """SELECT tenancy_id, count(DISTINCT person_id) AS listed FROM (
  SELECT tenancy_id, person_id FROM housing_members
  UNION SELECT tenancy_id, tenant AS person_id FROM ten) x GROUP BY tenancy_id""",
        ),
        (
            "base",
            """SELECT t.tenancy_id AS entity_id, t.household_size,
       u.water_per_month, u.electricity_per_month, CAST(u.idle_months AS DOUBLE) AS idle_months,
       coalesce(t.monthly_rent, r.mean_due) AS monthly_rent,
       r.paid / nullif(r.due, 0) AS paid_share,
       CAST(r.payer_accounts AS DOUBLE) AS payer_accounts,
       CAST(s.account_tenancies AS DOUBLE) AS account_tenancies,
       CAST(t.household_size - pp.listed AS DOUBLE) AS size_vs_roster,
       coalesce(r.due, 0) AS due, coalesce(r.paid, 0) AS paid,
       CAST(coalesce(r.due / nullif(r.mean_due, 0), 0) AS DOUBLE) AS rent_months
FROM ten t LEFT JOIN rent r ON r.tenancy_id = t.tenancy_id LEFT JOIN util u ON u.tenancy_id = t.tenancy_id
LEFT JOIN shared s ON s.tenancy_id = t.tenancy_id LEFT JOIN people pp ON pp.tenancy_id = t.tenancy_id""",
        ),
    ]
    rel, name = relative("r_", "base", LEVELS, FEATURES, settings.min_peer_group)
    at_risk = "greatest(due - paid, coalesce((monthly_rent_med - monthly_rent) * rent_months, 0), 0)"
    return with_ctes(
        ctes + rel,
        f"SELECT entity_id, {at_risk} AS at_risk, {', '.join(output_columns(FEATURES))} FROM {name}",
    )


FEATURE_SET = FeatureSet(
    program="housing",
    entity_type="tenancy",
    noun_en="Tenancy",
    noun_zh="公租房租约",
    requires=("housing_tenancies",),
    any_of=("housing_rent", "housing_utilities"),
    optional=("housing_rent", "housing_utilities", "housing_members"),
    features=FEATURES,
    levels=LEVELS,
    sql=sql,
    at_risk="The larger of: rent due in the year and not paid; rent below the peer median x months "
    "charged. Unusual water or power use carries no money figure (the value of the housing "
    "subsidy is not in the data).",
)
