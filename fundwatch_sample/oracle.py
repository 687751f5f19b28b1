"""A literal reading of every catalogue rule, in plain DuckDB SQL, to check the sample world.

Not the product's rules (those live in rules/): a second, deliberately simple implementation
of what each rule means, used by the tests to prove that every planted
anomaly is findable, that no look-alike trips its rule and that the background raises no
hit at all. `check(data_dir)` returns the three lists; all should be empty but the first.
Each rule yields (rule_id, entity_id, year), the year being the one its evidence falls in:
the period for payments and rent, the fiscal year for cooperatives, the year an allocation
was received, the year of dissolution, the years two enrolments or leases overlap.

A `:name` in a query is the rule's parameter of that name, read from its rule file's `default:`
(`query`): the values are said once, there; what the oracle does with them is its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

from fundwatch.contract import TABLES

# A period is 'YYYY-MM' text as read from the CSVs, or a DATE as the loader types it (tests/test_oracle.py).
_VIEWS = """
CREATE VIEW pay AS SELECT *, CAST(left(CAST(period AS VARCHAR), 7) || '-01' AS DATE) AS ps, year(CAST(left(CAST(period AS VARCHAR), 7) || '-01' AS DATE)) AS y,
  coalesce(pay_date, CAST(left(CAST(period AS VARCHAR), 7) || '-01' AS DATE)) AS pd FROM dibao_payments;
CREATE VIEW pm AS SELECT pay.*, m.person_id FROM pay JOIN dibao_members m USING (household_id);
CREATE VIEW sp AS SELECT *, CAST(left(CAST(period AS VARCHAR), 7) || '-01' AS DATE) AS ps, year(CAST(left(CAST(period AS VARCHAR), 7) || '-01' AS DATE)) AS y FROM subsidy_payments;
CREATE VIEW rent AS SELECT *, CAST(left(CAST(period AS VARCHAR), 7) || '-01' AS DATE) AS ps,
  CAST(CAST(left(CAST(period AS VARCHAR), 7) || '-01' AS DATE) + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS pe,
  year(CAST(left(CAST(period AS VARCHAR), 7) || '-01' AS DATE)) AS y FROM housing_rent;
CREATE VIEW lp AS SELECT tenancy_id, person_id FROM housing_tenancies UNION SELECT tenancy_id, person_id FROM housing_members;
CREATE VIEW rl AS SELECT rent.*, lp.person_id FROM rent JOIN lp USING (tenancy_id);
CREATE VIEW hhp AS SELECT m.person_id, h.* FROM dibao_members m JOIN dibao_households h USING (household_id);
CREATE VIEW nextlet AS SELECT t.tenancy_id, min(n.start_date) AS next_start FROM housing_tenancies t
  JOIN housing_tenancies n ON n.unit_id = t.unit_id AND n.start_date > t.start_date AND n.tenancy_id <> t.tenancy_id GROUP BY 1;
CREATE VIEW yr AS SELECT DISTINCT y FROM (SELECT y FROM sp UNION SELECT y FROM pay);
CREATE VIEW mon AS SELECT y, make_date(y, n, 1) AS ms FROM yr, range(1, 13) t(n);
CREATE VIEW gone AS SELECT person_id, min(coalesce(moved_out_date, DATE '1900-01-01')) AS mo FROM residents
  WHERE status = 'moved_out' OR moved_out_date IS NOT NULL GROUP BY 1;
CREATE VIEW hpeople AS SELECT household_id, person_id FROM dibao_members UNION SELECT household_id, head_id FROM dibao_households;
CREATE VIEW leases AS SELECT lp.person_id, t.tenancy_id, t.unit_id, t.start_date,
  least(coalesce(t.end_date, DATE '2099-12-31'), coalesce(x.next_start - 1, DATE '2099-12-31')) AS end_date
  FROM lp JOIN housing_tenancies t USING (tenancy_id) LEFT JOIN nextlet x USING (tenancy_id);
"""
STAFF = "('government', 'institution', 'soe')"
# Dates, as in docs/rule-catalogue.md: an end_date is the last day in the role (inclusive); a
# deregistration_date or dissolved_date is the first day without (exclusive); dead from death_date.
ACTIVE = "{a}.start_date <= {d} AND ({a}.end_date IS NULL OR {a}.end_date >= {d})"

# Residents due the elderly allowance in month ms of year y at the rate of their age on ms:
# reached min_age before ms, not in the grace weeks of the year, alive at the year end, not moved
# out before min_age nor before ms; `paid` is what the codes paid per person and month. GRACE:
# reached the age more than grace_days before the year end (no_back_pay judges only the paid).
ELDERLY_DUE = """due AS (SELECT r.person_id, m.y, m.ms,
          CASE WHEN m.ms >= r.birth_date + to_years(:top_age) THEN :top_rate
               WHEN m.ms >= r.birth_date + to_years(:mid_age) THEN :mid_rate ELSE :base_rate END AS rate
        FROM residents r JOIN mon m ON m.ms >= r.birth_date + to_years(:min_age)
        LEFT JOIN gone g ON g.person_id = r.person_id
        WHERE GRACE AND (g.mo IS NULL OR (g.mo > r.birth_date + to_years(:min_age) AND m.ms < g.mo))
          AND NOT EXISTS (SELECT 1 FROM deaths d WHERE d.person_id = r.person_id AND d.death_date <= make_date(m.y, 12, 31))),
      paid AS (SELECT person_id, y, ps AS ms, sum(amount) AS amt FROM sp WHERE list_contains(:program_codes, program_code)
        GROUP BY ALL HAVING sum(amount) > 0)"""

_GRACE = "date_diff('day', r.birth_date + to_years(:min_age), make_date(m.y, 12, 31)) > :grace_days"

RULES = {
    "dibao.public_staff": f"""SELECT DISTINCT household_id, y FROM pm JOIN civil_servants c USING (person_id)
        WHERE c.employer_type IN {STAFF} AND {ACTIVE.format(a="c", d="pm.pd")}""",
    "dibao.village_cadre": f"""SELECT DISTINCT household_id, y FROM pm JOIN civil_servants c USING (person_id)
        WHERE c.employer_type = 'village_cadre' AND {ACTIVE.format(a="c", d="pm.pd")}""",
    "dibao.paid_after_death": """WITH one AS (SELECT household_id FROM dibao_members GROUP BY 1 HAVING count(*) = 1),
        watched AS (SELECT household_id, head_id AS person_id FROM dibao_households
          UNION SELECT m.household_id, m.person_id FROM dibao_members m JOIN one USING (household_id))
        SELECT DISTINCT p.household_id, p.y FROM pay p JOIN watched USING (household_id) JOIN deaths d USING (person_id)
        WHERE p.ps > date_trunc('month', d.death_date)""",
    "dibao.member_deceased": """WITH md AS (SELECT m.household_id, date_trunc('month', d.death_date) AS dm FROM dibao_members m
          JOIN dibao_households h USING (household_id) JOIN deaths d USING (person_id) WHERE m.person_id <> h.head_id),
        base AS (SELECT md.household_id, md.dm, arg_max(p.amount, p.ps) AS amt FROM md JOIN pay p USING (household_id)
          WHERE p.ps <= md.dm GROUP BY ALL)
        SELECT DISTINCT p.household_id, p.y FROM base JOIN pay p USING (household_id)
        WHERE p.ps >= base.dm + to_months(:grace_months + 1) AND p.amount = base.amt""",
    "dibao.vehicle": """SELECT DISTINCT household_id, y FROM pm JOIN vehicles v USING (person_id)
        WHERE v.purchase_price > :price_threshold AND v.registration_date <= pm.pd
          AND (v.deregistration_date IS NULL OR v.deregistration_date > pm.pd)""",
    "dibao.business_role": """SELECT DISTINCT household_id, y FROM pm JOIN business_roles r USING (person_id)
        WHERE coalesce(r.start_date, DATE '1900-01-01') <= pm.pd AND (r.end_date IS NULL OR r.end_date >= pm.pd)""",
    "dibao.multiple_properties": """SELECT DISTINCT household_id, y FROM (SELECT pm.payment_id, pm.household_id, pm.y, count(*) AS n
        FROM pm JOIN properties pr USING (person_id) WHERE pr.usage = 'residential' AND pr.registration_date <= pm.pd
          AND (pr.deregistration_date IS NULL OR pr.deregistration_date > pm.pd) GROUP BY ALL) WHERE n > :max_residential""",
    "dibao.duplicate_enrolment": """SELECT DISTINCT a.person_id, yr.y FROM hhp a JOIN hhp b ON a.person_id = b.person_id
          AND a.household_id < b.household_id, (SELECT range AS y FROM range(2022, 2025)) yr
        WHERE greatest(a.start_date, b.start_date) <= make_date(yr.y, 12, 31)
          AND least(coalesce(a.end_date, DATE '2099-12-31'), coalesce(b.end_date, DATE '2099-12-31')) >= make_date(yr.y, 1, 1)
          AND greatest(a.start_date, b.start_date) <= least(coalesce(a.end_date, DATE '2099-12-31'), coalesce(b.end_date, DATE '2099-12-31'))""",
    "dibao.shared_account": """WITH acc AS (SELECT DISTINCT bank_account, household_id, y FROM pay WHERE bank_account IS NOT NULL)
        SELECT DISTINCT a.household_id, a.y FROM acc a JOIN acc b ON a.bank_account = b.bank_account AND a.y = b.y
          AND a.household_id <> b.household_id
        WHERE NOT EXISTS (SELECT 1 FROM dibao_members m1 JOIN dibao_members m2 USING (person_id)
          WHERE m1.household_id = a.household_id AND m2.household_id = b.household_id)""",
    # The sample world pays one standard everywhere (fundwatch_sample/dibao.py); were a county's
    # urban and rural standards to differ, the oracle reads the larger.
    "dibao.over_standard": """SELECT DISTINCT household_id, y FROM (SELECT household_id, period, y, sum(amount) AS amt FROM pay GROUP BY ALL)
        JOIN dibao_households h USING (household_id) WHERE amt > greatest(:urban_standard, :rural_standard) * h.household_size - coalesce(h.declared_monthly_income, 0) + 1""",
    "dibao.approver_member": """SELECT DISTINCT h.household_id, p.y FROM dibao_households h
        JOIN dibao_members m ON m.household_id = h.household_id AND m.person_id = h.approved_by JOIN pay p ON p.household_id = h.household_id""",
    "subsidy.duplicate_payment": """SELECT DISTINCT person_id, y FROM sp GROUP BY person_id, program_code, period, y HAVING count(*) > 1""",
    "subsidy.over_entitlement": """SELECT DISTINCT person_id, y FROM sp
        WHERE basis_quantity IS NOT NULL AND unit_rate IS NOT NULL AND amount > basis_quantity * unit_rate + 0.01""",
    "subsidy.basis_outlier": """SELECT DISTINCT person_id, y FROM (SELECT *, median(basis_quantity) OVER (PARTITION BY region_code, program_code, y) AS med
        FROM sp WHERE basis_quantity IS NOT NULL) WHERE basis_quantity > :ratio * med""",
    "subsidy.paid_after_death": """SELECT DISTINCT person_id, y FROM sp JOIN deaths d USING (person_id) WHERE sp.ps > date_trunc('month', d.death_date) + to_months(:grace_months)""",
    "subsidy.unapproved": """SELECT DISTINCT person_id, y FROM sp WHERE approve_date IS NULL OR pay_date < approve_date""",
    # A batch is an agency's payments of one programme on one pay_date; late when a payment's delay
    # exceeds the window and the median lag of the programme's other batches by more than it.
    "subsidy.late_disbursement": """WITH t AS (SELECT coalesce(agency_code, '') AS ag, program_code, pay_date, y,
          pay_date - approve_date AS days FROM sp WHERE amount > 0 AND pay_date IS NOT NULL AND approve_date IS NOT NULL),
        b AS (SELECT ag, program_code, pay_date, y, median(days) AS lag FROM t GROUP BY ALL),
        u AS (SELECT b.ag, b.program_code, b.pay_date, coalesce(median(o.lag), 0) AS usual FROM b LEFT JOIN b o
          ON o.program_code = b.program_code AND o.y = b.y AND (o.ag <> b.ag OR o.pay_date <> b.pay_date) GROUP BY ALL)
        SELECT DISTINCT t.ag, t.y FROM t JOIN u USING (ag, program_code, pay_date)
        WHERE t.days > :deadline_days AND t.days - u.usual > :deadline_days""",
    "subsidy.shared_account": """WITH hk AS (SELECT person_id, 'D' || household_id AS k FROM dibao_members UNION SELECT person_id, 'T' || tenancy_id FROM lp),
        b AS (SELECT DISTINCT bank_account, person_id, y FROM sp WHERE bank_account IS NOT NULL),
        g AS (SELECT bank_account, y, count(DISTINCT b.person_id) AS np, count(DISTINCT coalesce(hk.k, 'P' || b.person_id)) AS nk
          FROM b LEFT JOIN hk USING (person_id) GROUP BY ALL)
        SELECT DISTINCT b.person_id, b.y FROM b JOIN g USING (bank_account, y) WHERE np >= :min_households AND nk >= 2""",
    "subsidy.year_end_spike": """SELECT agency_code, year(pay_date) AS y FROM subsidy_payments WHERE pay_date IS NOT NULL
        GROUP BY ALL HAVING sum(CASE WHEN month(pay_date) = 12 THEN amount ELSE 0 END) > :max_share * sum(amount)""",
    "subsidy.idle_allocation": """WITH a AS (SELECT agency_code, program_code, allocation_id, received_date,
          sum(amount) OVER (PARTITION BY agency_code, program_code ORDER BY received_date, allocation_id) AS cum FROM fund_allocations),
        p AS (SELECT agency_code, program_code, pay_date,
          sum(amount) OVER (PARTITION BY agency_code, program_code ORDER BY pay_date, payment_id) AS cum FROM subsidy_payments WHERE pay_date IS NOT NULL),
        d AS (SELECT a.agency_code, a.received_date, min(p.pay_date) AS done FROM a LEFT JOIN p ON p.agency_code = a.agency_code
          AND p.program_code = a.program_code AND p.cum >= a.cum GROUP BY a.agency_code, a.program_code, a.allocation_id, a.received_date)
        SELECT DISTINCT agency_code, year(received_date) FROM d
        WHERE coalesce(done, DATE '2099-12-31') > received_date + :deadline_days
          AND received_date + :deadline_days <= DATE '2024-12-31'""",
    "housing.owns_property": """SELECT DISTINCT tenancy_id, y FROM rl JOIN properties pr USING (person_id) WHERE pr.usage = 'residential'
        AND pr.registration_date <= rl.pe AND (pr.deregistration_date IS NULL OR pr.deregistration_date > rl.ps)""",
    "housing.vehicle": """SELECT DISTINCT tenancy_id, y FROM rl JOIN vehicles v USING (person_id) WHERE v.purchase_price > :price_threshold
        AND v.registration_date <= rl.pe AND (v.deregistration_date IS NULL OR v.deregistration_date > rl.ps)""",
    "housing.public_staff_income": f"""SELECT DISTINCT tenancy_id, y FROM rl JOIN civil_servants c USING (person_id)
        WHERE c.employer_type IN {STAFF} AND c.monthly_salary > :income_limit AND c.start_date <= rl.pe AND (c.end_date IS NULL OR c.end_date >= rl.ps)""",
    "housing.arrears": """WITH u AS (SELECT tenancy_id, y, year(ps) * 12 + month(ps) AS m FROM rent WHERE coalesce(rent_paid, 0) < rent_due),
        g AS (SELECT *, m - row_number() OVER (PARTITION BY tenancy_id ORDER BY m) AS grp FROM u)
        SELECT DISTINCT tenancy_id, y FROM (SELECT *, count(*) OVER (PARTITION BY tenancy_id, grp) AS n FROM g) WHERE n >= :min_months""",
    "housing.vacant_sublet": """WITH u AS (SELECT r.tenancy_id, r.y, year(r.ps) * 12 + month(r.ps) AS m FROM rent r
          JOIN housing_tenancies t USING (tenancy_id) JOIN housing_utilities x ON x.unit_id = t.unit_id AND x.period = r.period
          WHERE r.rent_paid >= r.rent_due AND x.water_m3 < :max_water_m3 AND x.electricity_kwh < :max_electricity_kwh),
        g AS (SELECT *, m - row_number() OVER (PARTITION BY tenancy_id ORDER BY m) AS grp FROM u)
        SELECT DISTINCT tenancy_id, y FROM (SELECT *, count(*) OVER (PARTITION BY tenancy_id, grp) AS n FROM g) WHERE n >= :min_months""",
    "housing.third_party_payer": """WITH own AS (SELECT DISTINCT bank_account AS acct, person_id FROM subsidy_payments
          UNION SELECT DISTINCT p.bank_account, h.head_id FROM dibao_payments p JOIN dibao_households h USING (household_id)
          UNION SELECT DISTINCT bank_account, person_id FROM coop_dividends),
        r AS (SELECT tenancy_id, period, y, payer_account FROM rent WHERE payer_account IS NOT NULL)
        SELECT DISTINCT r.tenancy_id, r.y FROM r WHERE r.payer_account IN (SELECT acct FROM own) AND NOT EXISTS (
          SELECT 1 FROM own JOIN lp ON lp.person_id = own.person_id WHERE own.acct = r.payer_account AND lp.tenancy_id = r.tenancy_id)
        UNION SELECT DISTINCT r1.tenancy_id, r1.y FROM r r1 JOIN r r2 ON r1.payer_account = r2.payer_account
          AND r1.period = r2.period AND r1.tenancy_id <> r2.tenancy_id""",
    # A lease's last day is its end_date, or the day before its unit was let again; leases of two
    # units overlapping more than handover_days, counted up to the year's end.
    "housing.double_lease": """SELECT DISTINCT a.person_id, yr.y FROM leases a JOIN leases b ON a.person_id = b.person_id
          AND a.tenancy_id < b.tenancy_id AND a.unit_id <> b.unit_id, (SELECT range AS y FROM range(2022, 2025)) yr
        WHERE greatest(a.start_date, b.start_date) <= make_date(yr.y, 12, 31) AND least(a.end_date, b.end_date) >= make_date(yr.y, 1, 1)
          AND least(a.end_date, b.end_date, make_date(yr.y, 12, 31)) - greatest(a.start_date, b.start_date) + 1 > :handover_days""",
    "housing.tenant_deceased": """SELECT DISTINCT r.tenancy_id, r.y FROM rent r JOIN housing_tenancies t USING (tenancy_id)
        JOIN deaths d ON d.person_id = t.person_id WHERE r.ps > date_trunc('month', d.death_date)""",
    "cooperative.shell": """SELECT DISTINCT coop_id, year FROM coop_financials
        WHERE coalesce(revenue, 0) = 0 AND coalesce(cost, 0) = 0 AND subsidies_received > 0""",
    "cooperative.dividend_over_surplus": """SELECT DISTINCT d.coop_id, d.year FROM (SELECT coop_id, year, sum(amount) AS paid FROM coop_dividends GROUP BY ALL) d
        JOIN coop_financials f USING (coop_id, year) WHERE d.paid > greatest(coalesce(f.surplus, f.revenue - f.cost), 0) + 1""",
    "cooperative.uniform_dividends": """WITH d AS (SELECT d.*, m.shares FROM coop_dividends d LEFT JOIN coop_members m USING (coop_id, person_id)),
        flat AS (SELECT coop_id, year FROM d GROUP BY ALL
          HAVING count(DISTINCT person_id) >= :min_members AND count(DISTINCT amount) = 1 AND count(DISTINCT shares) > 1),
        acc AS (SELECT coop_id, year, bank_account, sum(amount) AS a FROM d GROUP BY ALL),
        top AS (SELECT coop_id, year, sum(a) FILTER (WHERE rk <= 2) / sum(a) AS top2, count(*) AS n FROM
          (SELECT *, row_number() OVER (PARTITION BY coop_id, year ORDER BY a DESC) AS rk FROM acc) GROUP BY ALL),
        people AS (SELECT coop_id, year, count(DISTINCT person_id) AS np FROM d GROUP BY ALL)
        SELECT * FROM flat UNION SELECT top.coop_id, top.year FROM top JOIN people USING (coop_id, year) WHERE np >= :min_members AND top2 > :pooled_share""",
    "cooperative.deceased_member": """SELECT DISTINCT d.coop_id, d.year FROM coop_dividends d JOIN deaths x USING (person_id)
        WHERE x.death_date < make_date(d.year, 1, 1)""",
    "cooperative.public_staff_member": f"""SELECT DISTINCT d.coop_id, d.year FROM coop_dividends d JOIN civil_servants c USING (person_id)
        WHERE c.employer_type IN {STAFF} AND {ACTIVE.format(a="c", d="coalesce(d.pay_date, make_date(d.year, 12, 31))")}""",
    "cooperative.dissolved_after_subsidy": """SELECT DISTINCT c.coop_id, year(c.dissolved_date) FROM cooperatives c JOIN coop_financials f USING (coop_id)
        WHERE f.subsidies_received > 0 AND c.dissolved_date BETWEEN make_date(f.year, 1, 1)
          AND CAST(make_date(f.year, 12, 31) + to_months(:months_after) AS DATE)""",
    # One judgement per coop_id, as the rule makes it (earliest registered_date and dissolved_date,
    # smallest legal_rep_id); the post must share a day with the cooperative's days in the year.
    "cooperative.official_legal_rep": """WITH c AS (SELECT coop_id, min(legal_rep_id) AS rep, min(registered_date) AS reg,
          min(dissolved_date) AS dis FROM cooperatives WHERE legal_rep_id IS NOT NULL GROUP BY coop_id)
        SELECT DISTINCT c.coop_id, yr.y FROM c JOIN civil_servants s ON s.person_id = c.rep,
          (SELECT range AS y FROM range(2022, 2025)) yr
        WHERE greatest(c.reg, s.start_date, make_date(yr.y, 1, 1))
          <= least(coalesce(c.dis - 1, DATE '2099-12-31'), coalesce(s.end_date, DATE '2099-12-31'), make_date(yr.y, 12, 31))""",
    # Coverage (应享未享): who met a programme's criteria in year y and was not paid. Months are
    # judged on their first day (ms); a programme's codes are the rule's list default.
    "coverage.elderly_allowance": f"""WITH {ELDERLY_DUE.replace("GRACE", _GRACE)}
        SELECT DISTINCT d.person_id, d.y FROM due d LEFT JOIN paid p ON p.person_id = d.person_id AND p.ms = d.ms
        WHERE NOT EXISTS (SELECT 1 FROM paid q WHERE q.person_id = d.person_id AND q.y = d.y) OR p.amt < d.rate""",
    "coverage.no_back_pay": f"""WITH {ELDERLY_DUE.replace("GRACE", "TRUE")},
        f AS (SELECT person_id, y, min(ms) AS first_paid, sum(amt) AS total FROM paid GROUP BY ALL),
        w AS (SELECT d.person_id, d.y, min(d.ms) AS first_due, f.first_paid, f.total,
                sum(d.rate) FILTER (WHERE d.ms < f.first_paid) AS before,
                sum(d.rate) FILTER (WHERE p.amt IS NOT NULL) AS matched
              FROM due d JOIN f USING (person_id, y) LEFT JOIN paid p ON p.person_id = d.person_id AND p.ms = d.ms GROUP BY ALL)
        SELECT person_id, y FROM w WHERE date_diff('month', first_due, first_paid) > :max_wait_months
          AND coalesce(before, 0) > greatest(total - coalesce(matched, 0), 0)""",
    "coverage.severe_disability_nursing": """SELECT DISTINCT c.person_id, m.y FROM disability_certificates c JOIN mon m
          ON m.ms >= c.issue_date AND (c.revoked_date IS NULL OR m.ms < c.revoked_date)
        LEFT JOIN gone g ON g.person_id = c.person_id
        WHERE list_contains(:grades, c.grade) AND date_diff('day', c.issue_date, make_date(m.y, 12, 31)) > :grace_days
          AND (g.mo IS NULL OR (g.mo > c.issue_date AND m.ms < g.mo))
          AND NOT EXISTS (SELECT 1 FROM deaths d WHERE d.person_id = c.person_id AND d.death_date <= make_date(m.y, 12, 31))
          AND NOT EXISTS (SELECT 1 FROM sp WHERE sp.person_id = c.person_id AND sp.y = m.y
                          AND list_contains(:program_codes, sp.program_code) AND sp.amount > 0)""",
    "coverage.disability_living": """SELECT h.person_id, p.y FROM (SELECT DISTINCT household_id, ps, y FROM pay WHERE amount > 0) p
        JOIN hpeople h USING (household_id)
        JOIN disability_certificates c ON c.person_id = h.person_id AND p.ps >= c.issue_date
          AND (c.revoked_date IS NULL OR p.ps < c.revoked_date)
        LEFT JOIN gone g ON g.person_id = h.person_id
        WHERE (g.mo IS NULL OR p.ps < g.mo)
          AND NOT EXISTS (SELECT 1 FROM deaths d WHERE d.person_id = h.person_id AND d.death_date <= make_date(p.y, 12, 31))
          AND NOT EXISTS (SELECT 1 FROM sp WHERE sp.person_id = h.person_id AND sp.y = p.y
                          AND list_contains(:program_codes, sp.program_code) AND sp.amount > 0)
        GROUP BY ALL HAVING date_diff('day', min(p.ps), make_date(p.y, 12, 31)) > :grace_days""",
    # The standard is the larger of the two, as for over_standard; the dead are off the size.
    "coverage.dibao_under_standard": """WITH m AS (SELECT household_id, ps, y, sum(amount) AS amt FROM pay GROUP BY ALL),
        e AS (SELECT m.*, h.household_size, coalesce(h.declared_monthly_income, 0) AS income FROM m JOIN dibao_households h USING (household_id)
          QUALIFY row_number() OVER (PARTITION BY m.household_id, m.ps ORDER BY h.start_date <= m.ps DESC, h.start_date DESC) = 1),
        dead AS (SELECT e.household_id, e.ps, count(DISTINCT d.person_id) AS n FROM e JOIN hpeople USING (household_id)
          JOIN deaths d USING (person_id) WHERE d.death_date < e.ps GROUP BY ALL)
        SELECT DISTINCT e.household_id, e.y FROM e LEFT JOIN dead USING (household_id, ps)
        WHERE e.amt < greatest(greatest(:urban_standard, :rural_standard) * (e.household_size - coalesce(dead.n, 0)) - e.income, 0)
                      * (1 - :shortfall_share) - :tolerance""",
}


def connect(data_dir) -> duckdb.DuckDBPyConnection:
    """An in-memory database with every table of the directory, typed per the contract."""
    con = duckdb.connect()
    d = Path(data_dir)
    for name, spec in TABLES.items():
        pq, csv = d / f"{name}.parquet", d / f"{name}.csv"
        if pq.exists():
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{pq}')")
        else:
            # Periods are read as the text they are written as (YYYY-MM); the SQL below parses them.
            cols = ", ".join(
                f"'{c.name}': '{'VARCHAR' if c.kind == 'period' else c.sql_type}'" for c in spec.columns
            )
            con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_csv('{csv}', header = true, columns = {{{cols}}})"
            )
    create_views(con)
    return con


def create_views(con) -> None:
    """The helper views the queries above read, over the contract tables already in `con`."""
    for stmt in _VIEWS.strip().split(";\n"):
        if stmt.strip():
            con.execute(stmt)


def rule_defaults(rules_dir=None) -> dict[str, dict]:
    """rule id -> parameter -> its default, from the rule files (default: the catalogue's)."""
    from fundwatch.rules import load_rules

    return {r.id: {n: p.default for n, p in r.params.items()} for r in load_rules(rules_dir)}


def query(rule_id: str, defaults: dict | None = None) -> str:
    """The oracle's SQL for `rule_id`, each `:name` replaced by that parameter's default."""
    defaults = rule_defaults() if defaults is None else defaults

    def literal(m: re.Match) -> str:
        name = m.group(1)
        if name not in defaults.get(rule_id, {}):
            raise LookupError(f"the oracle's query of {rule_id} names :{name}, which its rule file does not "
                              f"declare (its parameters: {', '.join(defaults.get(rule_id, {})) or 'none'})")
        value = defaults[rule_id][name]
        return str(value).lower() if isinstance(value, bool) else str(value)

    return re.sub(r"(?<![:\w]):([a-z_][a-z0-9_]*)", literal, RULES[rule_id])


def hits(data_dir) -> pd.DataFrame:
    defaults = rule_defaults()
    con = connect(data_dir)
    frames = []
    for rule in RULES:
        df = con.execute(query(rule, defaults)).df()
        df.columns = ["entity_id", "year"]
        df.insert(0, "rule_id", rule)
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["year"] = out.year.astype(int)
    return out


def check(data_dir) -> tuple[list, list, list]:
    """(anomalies not found, look-alikes flagged, background hits) against ground_truth.csv."""
    h = hits(data_dir)
    truth = pd.read_csv(Path(data_dir) / "ground_truth.csv", dtype=str, keep_default_na=False)
    truth["year"] = truth.year.astype(int)
    hit_keys = set(zip(h.rule_id, h.entity_id, h.year, strict=True))
    hit_any = set(zip(h.rule_id, h.entity_id, strict=True))
    anomalies = truth[(truth.kind == "anomaly") & (truth.rule_id != "")]
    missed = [
        r
        for r in zip(anomalies.rule_id, anomalies.entity_id, anomalies.year, anomalies.scenario, strict=True)
        if r[:3] not in hit_keys
    ]
    looks = truth[truth.kind == "lookalike"]
    flagged = [
        r
        for r in zip(looks.rule_id, looks.entity_id, looks.year, looks.scenario, strict=True)
        if r[:2] in hit_any
    ]
    planted = set(zip(anomalies.rule_id, anomalies.entity_id, anomalies.year, strict=True))
    background = sorted(k for k in hit_keys if k not in planted)
    return missed, flagged, background
