"""All the evidence behind one case, from every registry it touched.

`explain_case` starts from the case and its rule hits, collects the entities they name
(households, persons, tenancies, cooperatives, agencies, housing units, bank accounts),
widens once to the people of those households, leases and cooperatives, and reads the
relevant rows of every contract table. Every query takes the ids as bound parameters:
nothing from a case id or the data is pasted into SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from fundwatch.contract.tables import TABLES
from fundwatch.errors import FundwatchError
from fundwatch.notebook.evidence import KINDS, evidence_long, named_entities, with_evidence

# Per contract table: the rows that concern the case. $p persons, $h households, $t tenancies,
# $k cooperatives, $a agencies, $u housing units, $acc bank accounts, $year the case's year.
TABLE_FILTERS = {
    "dibao_households": "list_contains($h, household_id)",
    "dibao_members": "list_contains($h, household_id) OR list_contains($p, person_id)",
    "dibao_payments": "year(period) = $year AND (list_contains($h, household_id) OR list_contains($acc, bank_account))",
    "subsidy_payments": "year(period) = $year AND (list_contains($p, person_id) OR list_contains($a, agency_code) "
    "OR list_contains($acc, bank_account))",
    "fund_allocations": "list_contains($a, agency_code)",
    "housing_tenancies": "list_contains($t, tenancy_id) OR list_contains($p, person_id) OR list_contains($u, unit_id)",
    "housing_members": "list_contains($t, tenancy_id) OR list_contains($p, person_id)",
    "housing_rent": "year(period) = $year AND (list_contains($t, tenancy_id) OR list_contains($acc, payer_account))",
    "housing_utilities": "year(period) = $year AND list_contains($u, unit_id)",
    "cooperatives": "list_contains($k, coop_id) OR list_contains($p, legal_rep_id)",
    "coop_members": "list_contains($k, coop_id) OR list_contains($p, person_id)",
    "coop_financials": "list_contains($k, coop_id)",
    "coop_dividends": "year = $year AND (list_contains($k, coop_id) OR list_contains($p, person_id))",
    "civil_servants": "list_contains($p, person_id)",
    "deaths": "list_contains($p, person_id)",
    "vehicles": "list_contains($p, person_id)",
    "business_roles": "list_contains($p, person_id)",
    "properties": "list_contains($p, person_id)",
}
ORDER_BY = {
    "dibao_payments": "household_id, period, payment_id",
    "subsidy_payments": "person_id, period, payment_id",
    "housing_rent": "tenancy_id, period",
    "housing_utilities": "unit_id, period",
    "coop_financials": "coop_id, year",
    "coop_dividends": "coop_id, person_id",
}
PARAM_KINDS = {
    "p": "persons",
    "h": "households",
    "t": "tenancies",
    "k": "cooperatives",
    "a": "agencies",
    "u": "units",
    "acc": "accounts",
}

# The people behind the entities a case names: members of its households, tenants and
# co-residents of its leases (and their units), legal representatives of its cooperatives.
WIDEN = [
    ("persons", "SELECT DISTINCT person_id FROM dibao_members WHERE list_contains($h, household_id)"),
    ("persons", "SELECT DISTINCT head_id FROM dibao_households WHERE list_contains($h, household_id)"),
    ("persons", "SELECT DISTINCT person_id FROM housing_tenancies WHERE list_contains($t, tenancy_id)"),
    ("persons", "SELECT DISTINCT person_id FROM housing_members WHERE list_contains($t, tenancy_id)"),
    ("units", "SELECT DISTINCT unit_id FROM housing_tenancies WHERE list_contains($t, tenancy_id)"),
    ("persons", "SELECT DISTINCT legal_rep_id FROM cooperatives WHERE list_contains($k, coop_id)"),
]
_PARAM = re.compile(r"\$(\w+)")


@dataclass
class CaseExplanation:
    """One case with its hits and the registry rows behind it.

    `case` is the case row, `hits` its rule hits (`evidence` parsed into dicts), `records`
    the rows of each contract table that concern it (only tables with rows), `involved`
    the entities followed, `totals` each table's row count before `max_rows` cut it.
    The attributes hold the workspace's values; what the object *shows* (`_repr_html_`,
    `repr`) masks person IDs and accounts unless `unmask=True`.

    >>> exp = explain_case(ws, result, result.cases.case_id[0])
    >>> exp                                  # in Jupyter: a card, IDs masked
    >>> exp.records["vehicles"]              # the raw rows
    """

    case: pd.Series
    hits: pd.DataFrame
    records: dict[str, pd.DataFrame]
    involved: dict[str, list[str]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    unmask: bool = False

    @property
    def case_id(self) -> str:
        """The case's id.

        >>> exp.case_id
        'C2023-1a2b3c4d5e6f'
        """
        return str(self.case["case_id"])

    @property
    def evidence(self) -> pd.DataFrame:
        """The hits' evidence, one row per field: rule_id, entity_id, field, value.

        >>> exp.evidence.query("field == 'person_id'")
        """
        return evidence_long(self.hits)

    @property
    def registries(self) -> list[str]:
        """The contract tables that hold rows about this case.

        >>> exp.registries
        ['dibao_households', 'dibao_members', 'dibao_payments', 'civil_servants']
        """
        return list(self.records)

    def truncated(self, table: str) -> bool:
        """Whether `records[table]` was cut to max_rows.

        >>> explain_case(ws, result, case_id, max_rows=10).truncated("subsidy_payments")
        True
        """
        return self.totals.get(table, 0) > len(self.records.get(table, ()))

    def to_html(self, unmask: bool | None = None) -> str:
        """The card as HTML; IDs masked unless `unmask` (default: the object's `unmask`).

        >>> Path("case.html").write_text(exp.to_html(), encoding="utf-8")
        """
        from fundwatch.notebook.display import case_html

        return case_html(self, unmask=self.unmask if unmask is None else unmask)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        from fundwatch.notebook.mask import mask_entity

        entity = self.case["entity_id"]
        entity = entity if self.unmask else mask_entity(self.case["entity_type"], entity)
        tables = ", ".join(f"{t} ({self.totals.get(t, len(f))})" for t, f in self.records.items())
        return (
            f"CaseExplanation({self.case_id}, {self.case['entity_type']} {entity}, "
            f"{len(self.hits)} hit(s); records: {tables or 'none'})"
        )


def _case_from_result(result, case_id: str) -> tuple[pd.Series, pd.DataFrame]:
    cases = result.cases
    match = cases[cases["case_id"] == case_id] if "case_id" in cases else cases.iloc[0:0]
    if match.empty:
        raise FundwatchError(
            f"no case {case_id!r} in run {result.run_id} of {result.year} "
            f"({len(cases)} cases); case ids look like C{result.year}-1a2b3c4d5e6f"
        )
    hits = (
        result.hits[result.hits["case_id"] == case_id] if "case_id" in result.hits else result.hits.iloc[0:0]
    )
    return match.iloc[0], hits


def _case_from_workspace(ws, case_id: str) -> tuple[pd.Series, pd.DataFrame]:
    """The case as recorded by the latest run that ranked it."""
    found = ws.con.execute(
        """SELECT c.* FROM fw_cases c JOIN fw_runs r ON r.run_id = c.run_id
           WHERE c.case_id = ? AND c.status <> 'resolved'
           ORDER BY r.started_at DESC, r.run_id DESC LIMIT 1""",
        [case_id],
    ).df()
    if found.empty:
        raise FundwatchError(
            f"no case {case_id!r} in any run of this workspace "
            "(see `fundwatch cases`; case ids look like C2023-1a2b3c4d5e6f)"
        )
    case = found.iloc[0]
    hits = ws.con.execute(
        "SELECT * FROM fw_hits WHERE run_id = ? AND case_id = ? ORDER BY rule_id", [case["run_id"], case_id]
    ).df()
    return case, hits


def _query(ws, sql: str, values: dict) -> pd.DataFrame:
    """Run `sql` with its $names bound from `values` (id lists typed as VARCHAR[])."""
    used = set(_PARAM.findall(sql))
    bound = _PARAM.sub(
        lambda m: f"${m.group(1)}::VARCHAR[]" if m.group(1) in PARAM_KINDS else m.group(0), sql
    )
    return ws.con.execute(bound, {k: v for k, v in values.items() if k in used}).df()


def explain_case(ws, result, case_id: str, *, unmask: bool = False, max_rows: int = 500) -> CaseExplanation:
    """All the evidence behind one case, from every registry it touched.

    `result` is the ScanResult the case comes from, or None to take the case from the
    latest run recorded in the workspace. Each registry table keeps at most `max_rows`
    rows (`totals` has the full counts). Unknown case id: FundwatchError.

    >>> exp = explain_case(ws, result, "C2023-1a2b3c4d5e6f")
    >>> exp.registries
    ['dibao_households', 'dibao_members', 'dibao_payments', 'civil_servants', ...]
    >>> exp.records["civil_servants"]
    """
    if not isinstance(case_id, str) or not case_id.strip():
        raise FundwatchError(f"a case id is text like C2023-1a2b3c4d5e6f, got {case_id!r}")
    case_id = case_id.strip()
    case, hits = (
        _case_from_result(result, case_id) if result is not None else _case_from_workspace(ws, case_id)
    )
    year = int(case["year"])
    named = named_entities(case.to_dict(), hits)
    values = {key: sorted(named[kind]) for key, kind in PARAM_KINDS.items()}
    for kind, sql in WIDEN:
        rows = _query(ws, sql, values)
        named[kind] |= {str(v) for v in rows.iloc[:, 0].dropna()}
    values = {key: sorted(named[kind]) for key, kind in PARAM_KINDS.items()}
    values["year"] = year

    records, totals = {}, {}
    for table, where in TABLE_FILTERS.items():
        count = int(_query(ws, f"SELECT count(*) AS n FROM {table} WHERE {where}", values)["n"][0])
        if not count:
            continue
        cols = ", ".join(TABLES[table].column_names)
        order = ORDER_BY.get(table, cols)
        frame = _query(
            ws, f"SELECT {cols} FROM {table} WHERE {where} ORDER BY {order} LIMIT {int(max_rows)}", values
        )
        records[table], totals[table] = frame, count
    involved = {kind: sorted(named[kind]) for kind in KINDS if named[kind]}
    return CaseExplanation(case, with_evidence(hits), records, involved, totals, unmask)
