"""What a case can be about: every entity type, declared once.

Per entity type: the contract column that names it, the entities with records of a year (per
programme: a rule's population, the mis-tuned share's denominator and the "ran on nothing"
test), where it is (its region code, for township queues and views) and what a case of it is
merged with. Rules (rules/model.py), populations (rules/populations.py), regions
(cases/regions.py), finding merges (cases/merge.py) and the detector's feature sets
(detect/features) all read this registry; nothing else lists entity types.

SQL here is written once, in DuckDB's dialect kept to what Spark also runs, and rendered as
rule SQL is (rules/render.py): `:year` placeholders, `year(col) = :year` as a date range.
Region lookups read the ids to place from the registered frame `_fw_case_ids (entity_id)`.
"""

from __future__ import annotations

from dataclasses import dataclass

IDS = "(SELECT entity_id FROM _fw_case_ids)"


@dataclass(frozen=True)
class Lookup:
    """SQL that needs `tables` loaded. Alternatives are tried in order: the first whose tables
    are all loaded is used."""

    tables: tuple[str, ...]
    sql: str


@dataclass(frozen=True)
class EntityType:
    name: str
    key: str  # the contract column holding its id
    noun: dict[str, str]
    # programme -> alternatives returning `entity_id`: the entities with records of :year
    populations: dict[str, tuple[Lookup, ...]]
    # alternatives returning (entity_id, region_code) for the ids in _fw_case_ids
    regions: tuple[Lookup, ...] = ()
    # kinds of evidence (rules' `merge_on` kinds) by which a case of this type joins others
    merges_on: tuple[str, ...] = ()
    plural: str = ""  # the English plural, where it is not the noun + "s"

    @property
    def many(self) -> str:
        """The English plural: `3 people`, `2 tenancies`."""
        return self.plural or self.noun["en"] + "s"


# Without a ledger of the year, a registry's spans tell who existed in it (a fallback: the
# ledger, where loaded, is the record of the year).
_IN_FORCE = "year({start}) <= :year AND ({end} IS NULL OR year({end}) >= :year)"


def _ids(sql: str, *tables: str) -> Lookup:
    return Lookup(tables, sql)


# A population is the entities with records of the scanned year, in the programme's ledger: a
# year outside the data has none, and its rules say they ran on nothing instead of "clean".
ENTITY_TYPES: dict[str, EntityType] = {t.name: t for t in (
    EntityType(
        "person", "person_id", {"en": "person", "zh": "个人"},
        populations={
            "subsidy": (_ids("SELECT DISTINCT person_id AS entity_id FROM subsidy_payments WHERE year(period) = :year",
                             "subsidy_payments"),),
            # Members of households paid dibao in the year.
            "dibao": (_ids("SELECT DISTINCT m.person_id AS entity_id FROM dibao_members m JOIN dibao_payments p "
                           "ON p.household_id = m.household_id WHERE year(p.period) = :year",
                           "dibao_members", "dibao_payments"),
                      # Without the payments: members of households enrolled at some point of the year.
                      _ids("SELECT DISTINCT m.person_id AS entity_id FROM dibao_members m JOIN dibao_households h "
                           f"ON h.household_id = m.household_id WHERE {_IN_FORCE.format(start='h.start_date', end='h.end_date')}",
                           "dibao_members", "dibao_households")),
            # Tenants and co-residents of leases with rent charged in the year.
            "housing": (_ids("SELECT DISTINCT t.person_id AS entity_id FROM housing_tenancies t JOIN housing_rent r "
                             "ON r.tenancy_id = t.tenancy_id WHERE year(r.period) = :year "
                             "UNION SELECT DISTINCT m.person_id AS entity_id FROM housing_members m "
                             "JOIN housing_rent r ON r.tenancy_id = m.tenancy_id WHERE year(r.period) = :year",
                             "housing_tenancies", "housing_members", "housing_rent"),
                         _ids("SELECT DISTINCT t.person_id AS entity_id FROM housing_tenancies t JOIN housing_rent r "
                              "ON r.tenancy_id = t.tenancy_id WHERE year(r.period) = :year",
                              "housing_tenancies", "housing_rent"),
                         _ids("SELECT DISTINCT person_id AS entity_id FROM housing_tenancies "
                              f"WHERE {_IN_FORCE.format(start='start_date', end='end_date')}", "housing_tenancies")),
        },
        regions=(
            _ids("SELECT person_id AS entity_id, max(region_code) AS region_code FROM subsidy_payments "
                 f"WHERE person_id IN {IDS} AND region_code IS NOT NULL GROUP BY person_id", "subsidy_payments"),
            _ids("SELECT m.person_id AS entity_id, max(h.region_code) AS region_code FROM dibao_members m "
                 f"JOIN dibao_households h ON h.household_id = m.household_id WHERE m.person_id IN {IDS} "
                 "GROUP BY m.person_id", "dibao_members", "dibao_households"),
            # Someone paid by no programme (a coverage list's missed beneficiary): the household registry.
            _ids("SELECT person_id AS entity_id, max(region_code) AS region_code FROM residents "
                 f"WHERE person_id IN {IDS} AND region_code IS NOT NULL GROUP BY person_id", "residents"),
        ),
        merges_on=("person_id",),
        plural="people",
    ),
    EntityType(
        "household", "household_id", {"en": "household", "zh": "低保户"},
        populations={"dibao": (_ids("SELECT DISTINCT household_id AS entity_id FROM dibao_payments "
                                    "WHERE year(period) = :year", "dibao_payments"),)},
        regions=(_ids("SELECT household_id AS entity_id, max(region_code) AS region_code FROM dibao_households "
                      f"WHERE household_id IN {IDS} GROUP BY household_id", "dibao_households"),),
    ),
    EntityType(
        "tenancy", "tenancy_id", {"en": "tenancy", "zh": "公租房租户"}, plural="tenancies",
        populations={"housing": (_ids("SELECT DISTINCT tenancy_id AS entity_id FROM housing_rent "
                                      "WHERE year(period) = :year", "housing_rent"),
                                 _ids("SELECT DISTINCT tenancy_id AS entity_id FROM housing_tenancies "
                                      f"WHERE {_IN_FORCE.format(start='start_date', end='end_date')}",
                                      "housing_tenancies"))},
        # A lease has no area code of its own: its tenant's, as the person's is found.
        regions=(
            _ids("SELECT t.tenancy_id AS entity_id, max(s.region_code) AS region_code FROM housing_tenancies t "
                 f"JOIN subsidy_payments s ON s.person_id = t.person_id WHERE t.tenancy_id IN {IDS} "
                 "AND s.region_code IS NOT NULL GROUP BY t.tenancy_id", "housing_tenancies", "subsidy_payments"),
            _ids("SELECT t.tenancy_id AS entity_id, max(h.region_code) AS region_code FROM housing_tenancies t "
                 "JOIN dibao_members m ON m.person_id = t.person_id JOIN dibao_households h "
                 f"ON h.household_id = m.household_id WHERE t.tenancy_id IN {IDS} GROUP BY t.tenancy_id",
                 "housing_tenancies", "dibao_members", "dibao_households"),
        ),
    ),
    EntityType(
        "cooperative", "coop_id", {"en": "cooperative", "zh": "合作社"},
        populations={"cooperative": (
            _ids("SELECT DISTINCT coop_id AS entity_id FROM coop_financials WHERE year = :year "
                 "UNION SELECT DISTINCT coop_id AS entity_id FROM coop_dividends WHERE year = :year",
                 "coop_financials", "coop_dividends"),
            _ids("SELECT DISTINCT coop_id AS entity_id FROM coop_financials WHERE year = :year", "coop_financials"),
            _ids("SELECT DISTINCT coop_id AS entity_id FROM coop_dividends WHERE year = :year", "coop_dividends"),
            _ids("SELECT DISTINCT coop_id AS entity_id FROM cooperatives "
                 f"WHERE {_IN_FORCE.format(start='registered_date', end='dissolved_date')}", "cooperatives"),
        )},
        regions=(_ids("SELECT coop_id AS entity_id, max(region_code) AS region_code FROM cooperatives "
                      f"WHERE coop_id IN {IDS} GROUP BY coop_id", "cooperatives"),),
    ),
    EntityType(
        "agency", "agency_code", {"en": "agency", "zh": "发放单位"}, plural="agencies",
        populations={"subsidy": (_ids("SELECT DISTINCT agency_code AS entity_id FROM subsidy_payments "
                                      "WHERE year(period) = :year AND agency_code IS NOT NULL", "subsidy_payments"),)},
        # An agency serves a township: the township (9 digits) most of its payments went to.
        regions=(_ids("SELECT entity_id, arg_max(township, n) AS region_code FROM ("
                      "SELECT agency_code AS entity_id, substring(region_code, 1, 9) AS township, count(*) AS n "
                      f"FROM subsidy_payments WHERE agency_code IN {IDS} AND region_code IS NOT NULL "
                      "GROUP BY agency_code, substring(region_code, 1, 9)) t GROUP BY entity_id", "subsidy_payments"),),
    ),
)}

ENTITY_NAMES = tuple(ENTITY_TYPES)


def choose(alternatives: tuple[Lookup, ...], present: set[str]) -> Lookup | None:
    """The first alternative whose tables are all loaded."""
    return next((a for a in alternatives if set(a.tables) <= set(present)), None)


def population_lookup(program: str, entity_type: str, present: set[str]) -> Lookup | None:
    """The SQL of the entities of `entity_type` with records of :year in `program`, or None
    (no such population, or its tables are not loaded: unknown, not zero)."""
    entity = ENTITY_TYPES.get(entity_type)
    if entity is None:
        return None
    return choose(entity.populations.get(program, ()), present)
