"""Dibao (低保) households: what they were paid in the year against households like them.

The year is the calendar year in which a payment was made (pay_date, else its period), so
back-pay of earlier months made in the year counts in it. Amounts are compared with households
of the same size (in the township = first 9 digits of region_code, else the county, else
everywhere); counts of periods with the township's households; the rest with all households.
"""

from __future__ import annotations

from fundwatch.detect.peers import month_index, open_end, output_columns, relative, with_ctes, year_bounds
from fundwatch.detect.spec import Feature, FeatureSet, PeerLevel

# fmt: off
LEVELS = (
    PeerLevel("township_size", ("township", "household_size"), "size-{1} households in township {0}",
              "乡镇{0}的{1}人低保户"),
    PeerLevel("county_size", ("county", "household_size"), "size-{1} households in county {0}", "区县{0}的{1}人低保户"),
    PeerLevel("size", ("household_size",), "all size-{0} dibao households", "全部{0}人低保户"),
    PeerLevel("township", ("township",), "dibao households in township {0}", "乡镇{0}的低保户"),
    PeerLevel("county", ("county",), "dibao households in county {0}", "区县{0}的低保户"),
    PeerLevel("all", (), "all dibao households", "全部低保户"),
)
ALL = ("all",)
BY_SIZE = ("township_size", "county_size", "size", "all")  # amounts scale with the household's size
BY_PLACE = ("township", "county", "all")

FEATURES = (
    Feature("periods_paid", "periods paid in {year}", "{year}年发放期数", "count", scale=1.0, levels=BY_PLACE,
            source="dibao_payments.period, pay_date",
            description="Distinct months paid for by payments made in the year. Back-pay of months "
                        "before the year makes it exceed 12."),
    Feature("periods_outside_enrolment", "months paid outside the enrolment", "在保期外发放月数", "count",
            scale=1.0, levels=ALL,
            source="dibao_payments.period, pay_date; dibao_households.start_date, end_date",
            description="Payments made in the year for months before the enrolment's start month or "
                        "after its end date (dibao_households.start_date / end_date)."),
    Feature("backdated_periods", "payments made two or more months after their period",
            "滞后两个月以上发放的笔数", "count", scale=1.0, levels=ALL,
            source="dibao_payments.period, pay_date",
            description="Payments made in the year whose pay month is at least two months after the "
                        "month they pay for."),
    Feature("amount_paid", "amount paid in {year}", "{year}年发放金额", "yuan", scale=0.1, log=True,
            levels=BY_SIZE, source="dibao_payments.amount, pay_date",
            description="Sum of amounts paid in the year."),
    Feature("monthly_amount", "amount per period paid", "每期金额", "yuan", scale=0.1, log=True, levels=BY_SIZE,
            source="dibao_payments.amount, period, pay_date",
            description="amount_paid / periods_paid: the monthly benefit level."),
    Feature("monthly_per_member", "monthly amount per person on the roster", "按花名册人均每期金额", "yuan",
            scale=0.1, log=True, levels=BY_PLACE,
            source="dibao_payments.amount, period; dibao_members.person_id (count); dibao_households.household_size",
            description="monthly_amount / number of people in dibao_members (household_size when the "
                        "roster is not loaded). Peers: the township regardless of size."),
    Feature("size_above_roster", "declared household size above the roster", "申报人口超出花名册人数",
            "people", scale=1.0, levels=ALL,
            source="dibao_households.household_size; dibao_members.person_id (count)",
            description="household_size minus the number of distinct people in dibao_members; NULL "
                        "when the roster is not loaded."),
    Feature("payments_per_period", "payments per period", "每期发放笔数", "ratio", scale=0.25, levels=ALL,
            source="dibao_payments.payment_id, period",
            description="Payments / distinct periods: 1 normally, 2 when every month is paid twice."),
    Feature("accounts", "bank accounts paid into", "收款账户数", "count", scale=1.0, levels=ALL,
            source="dibao_payments.bank_account",
            description="Distinct bank_account values the household was paid into in the year."),
    Feature("account_households", "households sharing its bank account", "共用收款账户的户数", "count",
            scale=1.0, levels=ALL,
            covered_by=("dibao.shared_account",), source="dibao_payments.bank_account, household_id",
            description="The largest number of households paid into one of this household's accounts "
                        "in the year (1 = not shared)."),
)
# fmt: on


def sql(year: int, settings) -> str:
    y0, y1 = year_bounds(year)
    paid_on = "coalesce(pay_date, period)"
    ctes = [
        (
            "pay",
            f"""SELECT household_id, period, CAST(amount AS DOUBLE) AS amount, bank_account,
       {month_index(paid_on)} - {month_index("period")} AS lag_months
FROM dibao_payments WHERE {paid_on} >= {y0} AND {paid_on} < {y1}""",
        ),
        (
            "hh",
            # The span over all its enrolments (a household re-enrolled under the spouse stays open).
            f"""SELECT household_id, max(region_code) AS region_code, max(household_size) AS household_size,
       min(start_date) AS start_date, {open_end("end_date")} AS end_date
FROM dibao_households GROUP BY household_id""",
        ),
        (
            "roster",
            "SELECT household_id, count(DISTINCT person_id) AS roster_size FROM dibao_members GROUP BY household_id",
        ),
        (
            "acct",
            """SELECT bank_account, count(DISTINCT household_id) AS households
FROM pay WHERE bank_account IS NOT NULL GROUP BY bank_account""",
        ),
        (
            "shared",
            """SELECT p.household_id, max(a.households) AS account_households
FROM pay p JOIN acct a ON a.bank_account = p.bank_account GROUP BY p.household_id""",
        ),
        (
            "per",
            f"""SELECT p.household_id,
       count(DISTINCT p.period) AS periods_paid,
       CAST(count(*) AS DOUBLE) / count(DISTINCT p.period) AS payments_per_period,
       sum(p.amount) AS amount_paid,
       sum(p.amount) / count(DISTINCT p.period) AS monthly_amount,
       count(DISTINCT p.bank_account) AS accounts,
       sum(CASE WHEN p.lag_months >= 2 THEN 1 ELSE 0 END) AS backdated_periods,
       sum(CASE WHEN h.household_id IS NULL THEN NULL
                WHEN {month_index("p.period")} < {month_index("h.start_date")} THEN 1
                WHEN h.end_date IS NOT NULL AND p.period > h.end_date THEN 1 ELSE 0 END) AS periods_outside_enrolment
FROM pay p LEFT JOIN hh h ON h.household_id = p.household_id
GROUP BY p.household_id""",
        ),
        (
            "base",
            """SELECT per.household_id AS entity_id,
       substr(h.region_code, 1, 9) AS township, substr(h.region_code, 1, 6) AS county, h.household_size,
       CAST(per.periods_paid AS DOUBLE) AS periods_paid,
       CAST(per.periods_outside_enrolment AS DOUBLE) AS periods_outside_enrolment,
       CAST(per.backdated_periods AS DOUBLE) AS backdated_periods,
       per.amount_paid, per.monthly_amount,
       per.monthly_amount / nullif(coalesce(r.roster_size, h.household_size), 0) AS monthly_per_member,
       CAST(h.household_size - r.roster_size AS DOUBLE) AS size_above_roster,
       per.payments_per_period,
       CAST(per.accounts AS DOUBLE) AS accounts,
       CAST(coalesce(s.account_households, 1) AS DOUBLE) AS account_households,
       coalesce(r.roster_size, h.household_size) AS people
FROM per
LEFT JOIN hh h ON h.household_id = per.household_id
LEFT JOIN roster r ON r.household_id = per.household_id
LEFT JOIN shared s ON s.household_id = per.household_id""",
        ),
    ]
    rel, name = relative("r_", "base", LEVELS, FEATURES, settings.min_peer_group)
    # At risk, whichever is largest: the excess over the peers' amount; over the peers'
    # per-person amount for the people on the roster; the months paid outside the enrolment.
    at_risk = """greatest(coalesce(amount_paid - amount_paid_med, 0),
         coalesce((monthly_per_member - monthly_per_member_med) * people * periods_paid, 0),
         coalesce(periods_outside_enrolment * monthly_amount, 0), 0)"""
    return with_ctes(
        ctes + rel,
        f"SELECT entity_id, {at_risk} AS at_risk, {', '.join(output_columns(FEATURES))} FROM {name}",
    )


FEATURE_SET = FeatureSet(
    program="dibao",
    entity_type="household",
    noun_en="Household",
    noun_zh="低保户",
    requires=("dibao_payments",),
    optional=("dibao_households", "dibao_members"),
    features=FEATURES,
    levels=LEVELS,
    sql=sql,
    at_risk="The largest of: amount paid in the year above the peer median; monthly amount per roster "
    "member above the peer median x roster size x periods paid; months paid outside the enrolment x "
    "the monthly amount.",
)
