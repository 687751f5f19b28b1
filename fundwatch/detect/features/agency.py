"""Disbursing agencies: when they pay out the money they receive, against the other agencies.

An agency is an agency_code of subsidy_payments (and fund_allocations). Its peers are all
agencies paying in the year; a county has few, so min_peer_group decides whether there are
enough to compare at all. Payments are placed in the year they were made (pay_date, else
their period).
"""

from __future__ import annotations

from fundwatch.detect.peers import output_columns, relative, with_ctes, year_bounds
from fundwatch.detect.spec import Feature, FeatureSet, PeerLevel

LEVELS = (PeerLevel("all", (), "all disbursing agencies", "全部发放机构"),)

FEATURES = (
    Feature(
        "december_share",
        "share of the year's payments made in December",
        "12月发放金额占全年比例",
        "share",
        scale=0.05,
        covered_by=("subsidy.year_end_spike",), source="subsidy_payments.amount, pay_date (else period)",
        description="Amount paid in December / amount paid in the year (year-end spending rush).",
    ),
    Feature(
        "idle_days",
        "days allocations waited before the first payment",
        "拨款到位至首次发放的天数",
        "days",
        scale=7.0,
        covered_by=("subsidy.idle_allocation",), source="fund_allocations.amount, received_date; subsidy_payments.pay_date",
        description="Amount-weighted mean, over allocations received in the year, of days from "
        "received_date to the agency's first payment of that programme on or after it "
        "(to 31 December when there is none). Needs fund_allocations.",
    ),
    Feature(
        "spend_ratio",
        "paid out / allocated in the year",
        "全年发放额与拨款额之比",
        "ratio",
        direction="both",
        scale=0.1,
        source="subsidy_payments.amount; fund_allocations.amount",
        description="Amount paid in the year / amount received in the year. Needs fund_allocations.",
    ),
    Feature(
        "approval_to_payment_days",
        "days from approval to payment",
        "审批至发放天数",
        "days",
        scale=3.0,
        covered_by=("subsidy.late_disbursement",), source="subsidy_payments.approve_date, pay_date",
        description="Median days from approve_date to pay_date of the agency's payments.",
    ),
    Feature(
        "payments_per_person",
        "payments per recipient",
        "人均发放笔数",
        "ratio",
        scale=0.25,
        source="subsidy_payments.payment_id, person_id (count)",
        description="Payments / distinct recipients in the year.",
    ),
)


def sql(year: int, settings) -> str:
    y0, y1 = year_bounds(year)
    paid_on = "coalesce(pay_date, period)"
    ctes = [
        (
            "pay",
            f"""SELECT agency_code, program_code, person_id, CAST(amount AS DOUBLE) AS amount,
       {paid_on} AS paid_on, date_diff('day', approve_date, pay_date) AS approval_to_payment_days
FROM subsidy_payments
WHERE agency_code IS NOT NULL AND {paid_on} >= {y0} AND {paid_on} < {y1}""",
        ),
        (
            "alloc",
            f"""SELECT allocation_id, agency_code, program_code, CAST(amount AS DOUBLE) AS amount, received_date
FROM fund_allocations WHERE received_date >= {y0} AND received_date < {y1}""",
        ),
        (
            "first_pay",
            """SELECT a.allocation_id, min(p.paid_on) AS first_paid
FROM alloc a LEFT JOIN pay p
  ON p.agency_code = a.agency_code AND p.program_code = a.program_code AND p.paid_on >= a.received_date
GROUP BY a.allocation_id""",
        ),
        (
            "idle",
            f"""SELECT a.agency_code, sum(a.amount) AS allocated,
       sum(a.amount * date_diff('day', a.received_date, coalesce(f.first_paid, DATE '{int(year):04d}-12-31')))
         / nullif(sum(a.amount), 0) AS idle_days
FROM alloc a JOIN first_pay f ON f.allocation_id = a.allocation_id GROUP BY a.agency_code""",
        ),
        (
            "paid",
            """SELECT agency_code, sum(amount) AS paid,
       sum(CASE WHEN month(paid_on) = 12 THEN amount ELSE 0 END) AS december_paid,
       CAST(median(approval_to_payment_days) AS DOUBLE) AS approval_to_payment_days,
       CAST(count(*) AS DOUBLE) / count(DISTINCT person_id) AS payments_per_person
FROM pay GROUP BY agency_code""",
        ),
        ("agencies", "SELECT agency_code FROM paid UNION SELECT agency_code FROM idle"),
        (
            "base",
            """SELECT a.agency_code AS entity_id, coalesce(p.paid, 0) AS paid, coalesce(p.december_paid, 0) AS december_paid,
       coalesce(i.allocated, 0) AS allocated,
       p.december_paid / nullif(p.paid, 0) AS december_share,
       i.idle_days,
       coalesce(p.paid, 0) / nullif(i.allocated, 0) AS spend_ratio,
       p.approval_to_payment_days, p.payments_per_person
FROM agencies a LEFT JOIN paid p ON p.agency_code = a.agency_code LEFT JOIN idle i ON i.agency_code = a.agency_code""",
        ),
    ]
    rel, name = relative("r_", "base", LEVELS, FEATURES, settings.min_peer_group)
    at_risk = "greatest(coalesce(december_paid - december_share_med * paid, 0), allocated - paid, 0)"
    return with_ctes(
        ctes + rel,
        f"SELECT entity_id, {at_risk} AS at_risk, {', '.join(output_columns(FEATURES))} FROM {name}",
    )


FEATURE_SET = FeatureSet(
    program="subsidy",
    entity_type="agency",
    noun_en="Agency",
    noun_zh="发放机构",
    requires=("subsidy_payments",),
    optional=("fund_allocations",),
    features=FEATURES,
    levels=LEVELS,
    sql=sql,
    at_risk="The larger of: December payments above the peers' median December share of the agency's "
    "year; money allocated in the year and not paid out in it.",
)
