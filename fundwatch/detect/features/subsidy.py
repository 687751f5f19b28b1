"""Subsidy and hardship-aid beneficiaries (persons): what each received against the other
recipients of the same programme in the same township.

Features are first computed per person and programme, compared with the programme's
recipients in the township (then the county, then the whole programme); a person takes,
for each feature, the programme where they stand out most. Person-level counts (programmes,
accounts, people sharing an account) are compared within the township.

Payments of programmes whose eligibility or rate rests on a protected trait (disability,
old age, ethnicity: see Settings.protected_programmes and protected_programme_words) are
left out entirely: an allowance that rises with age would otherwise make the oldest
recipients look abnormal.
"""

from __future__ import annotations

from fundwatch.detect.peers import directional_z, output_columns, relative, with_ctes, year_bounds
from fundwatch.detect.spec import Feature, FeatureSet, PeerLevel
from fundwatch.rules.render import literal

BY_PROGRAMME = ("programme_township", "programme_county", "programme")
BY_PLACE = ("township", "county", "all")
# fmt: off
UNIT_LEVELS = (
    PeerLevel("programme_township", ("program_code", "township"), "{0} recipients in township {1}",
              "乡镇{1}的{0}领取人"),
    PeerLevel("programme_county", ("program_code", "county"), "{0} recipients in county {1}", "区县{1}的{0}领取人"),
    PeerLevel("programme", ("program_code",), "all {0} recipients", "全部{0}领取人"),
)
PERSON_LEVELS = (
    PeerLevel("township", ("township",), "subsidy recipients in township {0}", "乡镇{0}的补贴领取人"),
    PeerLevel("county", ("county",), "subsidy recipients in county {0}", "区县{0}的补贴领取人"),
    PeerLevel("all", (), "all subsidy recipients", "全部补贴领取人"),
)

UNIT_FEATURES = (
    Feature("programme_payments", "payments from one programme in {year}", "{year}年单个项目领取笔数", "count",
            scale=1.0, levels=BY_PROGRAMME,
            source="subsidy_payments.program_code, period",
            description="Number of the person's payments in the year from one programme (one-off aid paid "
                        "five times stands out against a median of one)."),
    Feature("amount_per_payment", "amount per payment", "每笔金额", "yuan", scale=0.1, log=True,
            levels=BY_PROGRAMME,
            source="subsidy_payments.amount, basis_quantity",
            description="Mean amount of the person's payments from the programme that carry no "
                        "basis_quantity (the amount of a quantity-based payment follows from its quantity, "
                        "which basis_quantity compares)."),
    Feature("basis_quantity", "quantity claimed (e.g. mu of farmland)", "申报数量（如耕地亩数）", "mu",
            scale=0.1, log=True, levels=BY_PROGRAMME,
            covered_by=("subsidy.basis_outlier",), source="subsidy_payments.basis_quantity",
            description="Mean basis_quantity of the person's payments from the programme."),
)
PERSON_FEATURES = (
    Feature("programmes", "programmes received in {year}", "{year}年领取项目数", "count", scale=1.0,
            levels=BY_PLACE,
            source="subsidy_payments.program_code",
            description="Distinct programme codes the person was paid from in the year."),
    Feature("accounts", "bank accounts paid into", "收款账户数", "count", scale=1.0, levels=("all",),
            source="subsidy_payments.bank_account",
            description="Distinct bank_account values the person was paid into in the year."),
    Feature("account_households", "households paid into the same account", "共用收款账户的户数", "count",
            scale=1.0, levels=("all",),
            covered_by=("subsidy.shared_account",), source="subsidy_payments.bank_account, person_id; dibao_members, housing_tenancies, housing_members",
            description="The largest number of households paid into one of this person's accounts in the "
                        "year (1 = not shared). People on one dibao roster or one public-housing lease count "
                        "as one household: a head's card receiving the family's aid is not shared."),
)
# fmt: on
FEATURES = UNIT_FEATURES + PERSON_FEATURES
LEVELS = UNIT_LEVELS + PERSON_LEVELS


def trait_filter(settings) -> str:
    """SQL condition true for payments of programmes that are not trait-based."""
    parts = ["1 = 1"]
    if settings.protected_programmes:
        codes = ", ".join(literal(c).sql() for c in settings.protected_programmes)
        parts.append(f"program_code NOT IN ({codes})")
    for word in settings.protected_programme_words:
        parts.append(f"coalesce(program_name, '') NOT LIKE {literal('%' + word + '%').sql()}")
    return " AND ".join(parts)


def sql(year: int, settings) -> str:
    y0, y1 = year_bounds(year)
    ctes = [
        (
            "pay",
            f"""SELECT person_id, program_code, substr(region_code, 1, 9) AS township,
       substr(region_code, 1, 6) AS county, CAST(amount AS DOUBLE) AS amount, basis_quantity, bank_account
FROM subsidy_payments
WHERE period >= {y0} AND period < {y1} AND {trait_filter(settings)}""",
        ),
        (
            "unit",
            """SELECT person_id, program_code, max(township) AS township, max(county) AS county,
       sum(amount) AS programme_amount, CAST(count(*) AS DOUBLE) AS programme_payments,
       avg(CASE WHEN basis_quantity IS NULL THEN amount END) AS amount_per_payment,
       avg(basis_quantity) AS basis_quantity
FROM pay GROUP BY person_id, program_code""",
        ),
        (
            "home",
            """SELECT person_id, min(home) AS home FROM (
  SELECT person_id, 'D' || household_id AS home FROM dibao_members
  UNION ALL SELECT person_id, 'T' || tenancy_id AS home FROM housing_tenancies
  UNION ALL SELECT person_id, 'T' || tenancy_id AS home FROM housing_members) h GROUP BY person_id""",
        ),
        (
            "acct",
            """SELECT p.bank_account,
       count(DISTINCT h.home) + count(DISTINCT p.person_id) FILTER (WHERE h.home IS NULL) AS households
FROM pay p LEFT JOIN home h ON h.person_id = p.person_id
WHERE p.bank_account IS NOT NULL GROUP BY p.bank_account""",
        ),
        (
            "shared",
            """SELECT p.person_id, max(a.households) AS account_households
FROM pay p JOIN acct a ON a.bank_account = p.bank_account GROUP BY p.person_id""",
        ),
        (
            "person",
            """SELECT p.person_id, max(p.township) AS township, max(p.county) AS county,
       CAST(count(DISTINCT p.program_code) AS DOUBLE) AS programmes,
       CAST(count(DISTINCT p.bank_account) AS DOUBLE) AS accounts,
       CAST(coalesce(max(s.account_households), 1) AS DOUBLE) AS account_households
FROM pay p LEFT JOIN shared s ON s.person_id = p.person_id GROUP BY p.person_id""",
        ),
    ]
    unit_rel, unit = relative("u_", "unit", UNIT_LEVELS, UNIT_FEATURES, settings.min_peer_group)
    person_rel, person = relative("q_", "person", PERSON_LEVELS, PERSON_FEATURES, settings.min_peer_group)
    # For each programme-level feature, the person's programme where it deviates most. Most
    # people are paid by one programme: theirs is taken as it is, only the others are ranked.
    picks = [("unit_count", f"SELECT person_id, count(*) AS n FROM {unit} GROUP BY person_id")]
    picks += [
        (
            f"pick_{f.name}",
            f"""SELECT u.person_id, {", ".join(output_columns([f], "u"))}, 1 AS rn
FROM {unit} u JOIN unit_count c ON c.person_id = u.person_id AND c.n = 1
UNION ALL
SELECT u.person_id, {", ".join(output_columns([f], "u"))},
       row_number() OVER (PARTITION BY u.person_id
                          ORDER BY {directional_z(f)} DESC NULLS LAST, u.program_code) AS rn
FROM {unit} u JOIN unit_count c ON c.person_id = u.person_id AND c.n > 1""",
        )
        for f in UNIT_FEATURES
    ]
    # At risk: per programme, the amount above what a typical peer receives (the peers' median
    # payment, or the person's own mean payment for quantity-based ones, times the peers' median
    # number of payments), summed over the person's programmes.
    picks.append(
        (
            "risk",
            f"""SELECT person_id, sum(greatest(coalesce(programme_amount - coalesce(amount_per_payment_med,
         programme_amount / programme_payments) * programme_payments_med, 0), 0)) AS at_risk
FROM {unit} GROUP BY person_id""",
        )
    )
    joins = " ".join(
        f"LEFT JOIN pick_{f.name} ON pick_{f.name}.person_id = q.person_id AND pick_{f.name}.rn = 1"
        for f in UNIT_FEATURES
    )
    cols = [f"pick_{f.name}.{c}" for f in UNIT_FEATURES for c in output_columns([f])]
    cols += output_columns(PERSON_FEATURES, "q")
    select = (
        f"SELECT q.person_id AS entity_id, coalesce(risk.at_risk, 0) AS at_risk, {', '.join(cols)}\n"
        f"FROM {person} q {joins} LEFT JOIN risk ON risk.person_id = q.person_id"
    )
    return with_ctes(ctes + unit_rel + person_rel + picks, select)


FEATURE_SET = FeatureSet(
    program="subsidy", entity_type="person", noun_en="Recipient", noun_zh="补贴领取人",
    requires=("subsidy_payments",), optional=("dibao_members", "housing_tenancies", "housing_members"),
    features=FEATURES, levels=LEVELS, sql=sql,
    at_risk="Per programme, the person's payments in the year above the peers' median payment (the "
            "person's own mean payment where payments carry a quantity) x the peers' median number of "
            "payments; summed over the person's programmes.",
)  # fmt: skip
