"""Farmers' cooperatives: dividends and subsidies per member against cooperatives nearby.

The year is the fiscal year (coop_financials.year, coop_dividends.year). Peers: cooperatives
of the same township, then the county (first 6 digits of region_code), then all.
"""

from __future__ import annotations

from fundwatch.detect.peers import open_end, output_columns, relative, with_ctes, year_bounds
from fundwatch.detect.spec import Feature, FeatureSet, PeerLevel

LEVELS = (
    PeerLevel("township", ("township",), "cooperatives in township {0}", "乡镇{0}的合作社"),
    PeerLevel("county", ("county",), "cooperatives in county {0}", "区县{0}的合作社"),
    PeerLevel("all", (), "all cooperatives", "全部合作社"),
)

FEATURES = (
    Feature(
        "dividend_per_member",
        "dividend per member for {year}",
        "{year}年度人均分红",
        "yuan",
        scale=0.1,
        log=True,
        source="coop_dividends.amount, person_id (count); coop_financials.dividends_declared; coop_members",
        description="Dividends for the fiscal year (coop_dividends, else dividends_declared) / "
        "recipients (else members on the roster).",
    ),
    Feature(
        "dividend_to_surplus",
        "dividends / surplus",
        "分红占盈余比例",
        "share",
        scale=0.05,
        covered_by=("cooperative.dividend_over_surplus",), source="coop_dividends.amount; coop_financials.surplus (else revenue - cost)",
        description="Dividends for the year / the year's surplus, among cooperatives with a positive "
        "surplus that paid dividends.",
    ),
    Feature(
        "subsidy_per_member",
        "subsidy per member",
        "人均补贴",
        "yuan",
        scale=0.1,
        log=True,
        source="coop_financials.subsidies_received; coop_members.person_id (count), join_date",
        description="subsidies_received / members on the roster, among cooperatives that received any.",
    ),
    Feature(
        "subsidy_to_revenue",
        "subsidies / revenue",
        "补贴与营业收入之比",
        "ratio",
        scale=0.1,
        log=True,
        source="coop_financials.subsidies_received, revenue",
        description="subsidies_received / revenue, among cooperatives that received subsidies and "
        "had revenue.",
    ),
    Feature(
        "declared_to_roster",
        "declared members / members on the roster",
        "申报成员数与名册人数之比",
        "ratio",
        direction="both",
        scale=0.1,
        source="cooperatives.member_count_declared; coop_members.person_id (count), join_date",
        description="cooperatives.member_count_declared / distinct coop_members joined by the year end.",
    ),
    Feature(
        "top_share",
        "largest single member's share of dividends",
        "单一成员所得分红占比",
        "share",
        scale=0.05,
        covered_by=("cooperative.uniform_dividends",), source="coop_dividends.amount, person_id",
        description="The largest amount paid to one person for the year / all dividends for the year.",
    ),
    Feature(
        "recipients_per_account",
        "dividend recipients per bank account",
        "每个收款账户对应的分红人数",
        "ratio",
        scale=0.25,
        levels=("all",),
        covered_by=("cooperative.uniform_dividends",), source="coop_dividends.person_id, bank_account (counts)",
        description="Distinct recipients / distinct bank accounts their dividends went to.",
    ),
)


def sql(year: int, settings) -> str:
    y0, y1 = year_bounds(year)
    y = int(year)
    ctes = [
        (
            "coop",
            f"""SELECT coop_id, max(region_code) AS region_code, max(member_count_declared) AS declared_members
FROM cooperatives GROUP BY coop_id
HAVING min(registered_date) < {y1} AND ({open_end("dissolved_date")} IS NULL OR {open_end("dissolved_date")} >= {y0})""",
        ),
        (
            "fin",
            f"""SELECT coop_id, max(CAST(revenue AS DOUBLE)) AS revenue,
       max(CAST(coalesce(surplus, revenue - cost) AS DOUBLE)) AS surplus,
       max(CAST(subsidies_received AS DOUBLE)) AS subsidies, max(CAST(dividends_declared AS DOUBLE)) AS dividends_declared
FROM coop_financials WHERE year = {y} GROUP BY coop_id""",
        ),
        (
            "per_person",
            f"""SELECT coop_id, person_id, sum(CAST(amount AS DOUBLE)) AS amount
FROM coop_dividends WHERE year = {y} GROUP BY coop_id, person_id""",
        ),
        (
            "div",
            f"""SELECT coop_id, sum(CAST(amount AS DOUBLE)) AS dividends, count(DISTINCT person_id) AS recipients,
       count(DISTINCT bank_account) AS accounts
FROM coop_dividends WHERE year = {y} GROUP BY coop_id""",
        ),
        ("top", "SELECT coop_id, max(amount) AS top_amount FROM per_person GROUP BY coop_id"),
        (
            "roster",
            f"""SELECT coop_id, count(DISTINCT person_id) AS members FROM coop_members
WHERE join_date IS NULL OR join_date < {y1} GROUP BY coop_id""",
        ),
        (
            "base",
            """SELECT c.coop_id AS entity_id, substr(c.region_code, 1, 9) AS township,
       substr(c.region_code, 1, 6) AS county,
       coalesce(d.dividends, f.dividends_declared, 0) AS dividends,
       coalesce(d.recipients, r.members) AS recipients, r.members, coalesce(f.subsidies, 0) AS subsidies,
       CASE WHEN coalesce(d.dividends, f.dividends_declared, 0) > 0
            THEN coalesce(d.dividends, f.dividends_declared) / nullif(coalesce(d.recipients, r.members), 0) END
         AS dividend_per_member,
       CASE WHEN f.surplus > 0 AND coalesce(d.dividends, f.dividends_declared, 0) > 0
            THEN coalesce(d.dividends, f.dividends_declared) / f.surplus END AS dividend_to_surplus,
       CASE WHEN f.subsidies > 0 THEN f.subsidies / nullif(r.members, 0) END AS subsidy_per_member,
       CASE WHEN f.subsidies > 0 THEN f.subsidies / nullif(f.revenue, 0) END AS subsidy_to_revenue,
       c.declared_members / CAST(nullif(r.members, 0) AS DOUBLE) AS declared_to_roster,
       t.top_amount / nullif(d.dividends, 0) AS top_share,
       d.recipients / CAST(nullif(d.accounts, 0) AS DOUBLE) AS recipients_per_account
FROM coop c LEFT JOIN fin f ON f.coop_id = c.coop_id LEFT JOIN div d ON d.coop_id = c.coop_id
LEFT JOIN top t ON t.coop_id = c.coop_id LEFT JOIN roster r ON r.coop_id = c.coop_id
WHERE f.coop_id IS NOT NULL OR d.coop_id IS NOT NULL""",
        ),
    ]
    rel, name = relative("r_", "base", LEVELS, FEATURES, settings.min_peer_group)
    at_risk = """greatest(coalesce(dividends - dividend_per_member_med * recipients, 0), 0)
         + greatest(coalesce(subsidies - subsidy_per_member_med * members, 0), 0)"""
    return with_ctes(
        ctes + rel,
        f"SELECT entity_id, {at_risk} AS at_risk, {', '.join(output_columns(FEATURES))} FROM {name}",
    )


FEATURE_SET = FeatureSet(
    program="cooperative",
    entity_type="cooperative",
    noun_en="Cooperative",
    noun_zh="合作社",
    requires=("cooperatives",),
    any_of=("coop_financials", "coop_dividends"),
    optional=("coop_financials", "coop_dividends", "coop_members"),
    features=FEATURES,
    levels=LEVELS,
    sql=sql,
    at_risk="Dividends above the peer median per member x recipients, plus subsidies above the peer "
    "median per member x members.",
)
