"""Every table of ../shared/data-contract.md, declared once.

These specs drive the workspace schema, the loaders, value validation, header mapping
and the generated contract documentation (`fundwatch contract`). Nothing else in the
code base lists columns of input tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Value kinds and the SQL type each is stored as. The parsing rules for each kind live in
# fundwatch/load/values.py.
SQL_TYPES = {
    "person_id": "VARCHAR",  # 18-char resident ID, GB 11643 check digit
    "credit_code": "VARCHAR",  # 18-char unified social credit code, GB 32100
    "region": "VARCHAR",  # 6, 9 or 12 digit statistical area code
    "key": "VARCHAR",  # an identifier with no checksum (household_id, plate_no, ...)
    "text": "VARCHAR",
    "account": "VARCHAR",  # bank account number
    "enum": "VARCHAR",
    "date": "DATE",
    "period": "DATE",  # stored as the first day of the month; written YYYY-MM
    "money": "DECIMAL(18,2)",
    "number": "DOUBLE",
    "int": "BIGINT",
    "year": "INTEGER",
}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str
    required: bool = False
    description: str = ""
    values: tuple[str, ...] = ()  # allowed canonical values of an enum
    aliases: tuple[str, ...] = ()  # headers real exports use for this column

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


@dataclass(frozen=True)
class TableSpec:
    name: str
    group: str
    description: str
    columns: tuple[ColumnSpec, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    def ddl(self, qualified_name: str | None = None) -> str:
        cols = ",\n  ".join(f"{c.name} {c.sql_type}" for c in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {qualified_name or self.name} (\n  {cols}\n)"


def C(name, kind, required=False, description="", values=(), aliases=()):  # noqa: N802 - a table-like constructor
    return ColumnSpec(name, kind, required, description, tuple(values), tuple(aliases))


def T(name, group, description, *columns):  # noqa: N802
    return TableSpec(name, group, description, tuple(columns))


EMPLOYER_TYPES = ("government", "institution", "village_cadre", "soe")
ROLES = ("legal_rep", "shareholder", "executive")
USAGES = ("residential", "commercial", "other")
DIBAO_RELATIONS = ("head", "spouse", "child", "parent", "other")
RESIDENT_STATUSES = ("resident", "moved_out")
DISABILITY_CATEGORIES = ("visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple")
# An enum, not an int: 一级..四级 are normalised to 1-4 (contract/aliases.py) and a grade 5 is
# quarantined as bad_enum instead of loaded.
DISABILITY_GRADES = ("1", "2", "3", "4")

_TABLES = (
    # --- reference registries -------------------------------------------------------
    T(
        "civil_servants",
        "registries",
        "publicly funded staff (财政供养人员) and village cadres",
        C("person_id", "person_id", True, "resident ID"),
        C("name", "text"),
        C("employer", "text"),
        C(
            "employer_type",
            "enum",
            values=EMPLOYER_TYPES,
            description="`village_cadre` is a village cadre (村干部), not a civil servant",
        ),
        C("position", "text"),
        C("start_date", "date", True),
        C("end_date", "date", description="empty = still employed"),
        C("monthly_salary", "money"),
    ),
    T(
        "deaths",
        "registries",
        "death and cremation registrations",
        C("person_id", "person_id", True),
        C("name", "text"),
        C("death_date", "date", True),
    ),
    T(
        "vehicles",
        "registries",
        "motor vehicle registrations",
        C("person_id", "person_id", True),
        C("plate_no", "key"),
        C("vehicle_type", "text"),
        C("registration_date", "date", True),
        C("deregistration_date", "date"),
        C("purchase_price", "money"),
    ),
    T(
        "business_roles",
        "registries",
        "market-entity registrations",
        C("person_id", "person_id", True),
        C("entity_code", "credit_code", True),
        C("entity_name", "text"),
        C("role", "enum", values=ROLES),
        C("registered_capital", "money", description="yuan"),
        C("start_date", "date"),
        C("end_date", "date"),
    ),
    T(
        "properties",
        "registries",
        "real-estate registrations",
        C("person_id", "person_id", True),
        C("property_id", "key"),
        C("region_code", "region"),
        C("area_m2", "number"),
        C("usage", "enum", values=USAGES),
        C("registration_date", "date", True),
        C("deregistration_date", "date"),
    ),
    # For who should be paid and is not (应享未享): the household registry and disability certificates.
    T(
        "residents",
        "registries",
        "the household registry (户籍), for who should be paid and is not (应享未享)",
        C("person_id", "person_id", True),
        C("name", "text"),
        C("birth_date", "date", True),
        C("region_code", "region", True),
        C("hukou_household_id", "key", description="户号"),
        C("status", "enum", values=RESIDENT_STATUSES, description="`moved_out` = 户籍迁出"),
        C("moved_out_date", "date"),
    ),
    T(
        "disability_certificates",
        "registries",
        "disability certificates (残疾人证)",
        C("person_id", "person_id", True),
        C("category", "enum", True, values=DISABILITY_CATEGORIES),
        C("grade", "enum", True, "1-4, 1 most severe", values=DISABILITY_GRADES),
        C("issue_date", "date", True),
        C("revoked_date", "date", description="empty = still valid"),
    ),
    # --- low-income benefit (低保) -----------------------------------------------------
    T(
        "dibao_households",
        "dibao",
        "enrolled households",
        C("household_id", "key", True),
        C("head_id", "person_id", True),
        C("region_code", "region", True),
        C("start_date", "date", True),
        C("end_date", "date"),
        C("household_size", "int"),
        C("declared_monthly_income", "money"),
        C("approved_by", "person_id", description="person_id of the approving official"),
    ),
    T(
        "dibao_members",
        "dibao",
        "who is in each household",
        C("household_id", "key", True),
        C("person_id", "person_id", True),
        C("name", "text"),
        C("relation", "enum", values=DIBAO_RELATIONS),
    ),
    T(
        "dibao_payments",
        "dibao",
        "monthly payments",
        C("payment_id", "key", True),
        C("household_id", "key", True),
        C("period", "period", True),
        C("amount", "money", True),
        C("pay_date", "date"),
        C("bank_account", "account"),
    ),
    # --- subsidies and hardship aid ------------------------------------------------------
    T(
        "subsidy_payments",
        "subsidy",
        "one disbursement",
        C("payment_id", "key", True),
        C("program_code", "key", True),
        C("program_name", "text"),
        C("person_id", "person_id", True),
        C("name", "text"),
        C("region_code", "region"),
        C("period", "period", True),
        C("amount", "money", True),
        C("basis_quantity", "number", description="e.g. mu of farmland"),
        C("unit_rate", "money", description="yuan per unit of basis_quantity"),
        C("apply_date", "date"),
        C("approve_date", "date"),
        C("pay_date", "date"),
        C("bank_account", "account"),
        C("agency_code", "key"),
    ),
    T(
        "fund_allocations",
        "subsidy",
        "money received by a disbursing agency",
        C("allocation_id", "key", True),
        C("agency_code", "key", True),
        C("program_code", "key", True),
        C("amount", "money", True),
        C("received_date", "date", True),
    ),
    # --- public rental housing (公租房) --------------------------------------------------
    T(
        "housing_tenancies",
        "housing",
        "leases",
        C("tenancy_id", "key", True),
        C("unit_id", "key", True),
        C("person_id", "person_id", True, "tenant"),
        C("start_date", "date", True),
        C("end_date", "date"),
        C("household_size", "int"),
        C("monthly_rent", "money"),
        C("declared_monthly_income", "money"),
    ),
    T(
        "housing_members",
        "housing",
        "co-residents on the lease (may list the tenant too)",
        C("tenancy_id", "key", True),
        C("person_id", "person_id", True),
        C("relation", "text"),
    ),
    T(
        "housing_rent",
        "housing",
        "rent ledger",
        C("tenancy_id", "key", True),
        C("period", "period", True),
        C("rent_due", "money", True),
        C("rent_paid", "money"),
        C("paid_date", "date"),
        C("payer_account", "account"),
    ),
    T(
        "housing_utilities",
        "housing",
        "meter readings, for vacancy and sublet signals",
        C("unit_id", "key", True),
        C("period", "period", True),
        C("water_m3", "number"),
        C("electricity_kwh", "number"),
    ),
    # --- farmers' cooperatives (专业合作社) ------------------------------------------------
    T(
        "cooperatives",
        "cooperative",
        "registered cooperatives",
        C("coop_id", "credit_code", True),
        C("name", "text", True),
        C("region_code", "region"),
        C("registered_date", "date", True),
        C("dissolved_date", "date"),
        C("legal_rep_id", "person_id"),
        C("member_count_declared", "int"),
    ),
    T(
        "coop_members",
        "cooperative",
        "membership",
        C("coop_id", "credit_code", True),
        C("person_id", "person_id", True),
        C("join_date", "date"),
        C("shares", "number"),
    ),
    T(
        "coop_financials",
        "cooperative",
        "annual accounts",
        C("coop_id", "credit_code", True),
        C("year", "year", True),
        C("revenue", "money"),
        C("cost", "money"),
        C("surplus", "money", description="revenue - cost, excluding subsidies"),
        C("subsidies_received", "money"),
        C("dividends_declared", "money"),
    ),
    T(
        "coop_dividends",
        "cooperative",
        "dividend payouts to members",
        C("coop_id", "credit_code", True),
        C("person_id", "person_id", True),
        C("year", "year", True, "the fiscal year paid for"),
        C("amount", "money", True),
        C("pay_date", "date"),
        C("bank_account", "account"),
    ),
)

TABLES: dict[str, TableSpec] = {t.name: t for t in _TABLES}

# The date columns that open and close each table's spans of time (a post, a role, an enrolment,
# a lease, an ownership, a cooperative's life). A row that closes before it opens is loaded as it
# is and counted in the load report (fundwatch/load/checks.py); the rules give it no days.
SPANS: dict[str, tuple[str, str]] = {
    "civil_servants": ("start_date", "end_date"),
    "vehicles": ("registration_date", "deregistration_date"),
    "business_roles": ("start_date", "end_date"),
    "properties": ("registration_date", "deregistration_date"),
    "dibao_households": ("start_date", "end_date"),
    "housing_tenancies": ("start_date", "end_date"),
    "cooperatives": ("registered_date", "dissolved_date"),
}


def table(name: str) -> TableSpec:
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; the contract has: {', '.join(TABLES)}") from None
