"""The tables a scan writes, declared once, as the input tables are in contract/tables.py.

The workspace's DDL, the columns the case builder must produce, what the run store inserts
and the columns of cases.csv and rule_hits.csv all come from here. Columns are added to an
older workspace's tables when it is opened (`ensure`), never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutputColumn:
    name: str
    sql_type: str
    description: str
    csv: bool = False  # written to the table's CSV export (in declaration order)


@dataclass(frozen=True)
class OutputTable:
    name: str
    description: str
    columns: tuple[OutputColumn, ...]
    keyed_by_run: bool = True  # a run_id column first, set by the store
    one_row_per_run: bool = False  # run_id is the primary key

    @property
    def column_names(self) -> list[str]:
        """The columns a frame of this table carries (without run_id)."""
        return [c.name for c in self.columns]

    @property
    def csv_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.csv]

    def ddl(self) -> str:
        key = "VARCHAR PRIMARY KEY" if self.one_row_per_run else "VARCHAR"
        cols = [("run_id", key)] if self.keyed_by_run else []
        cols += [(c.name, c.sql_type) for c in self.columns]
        return f"CREATE TABLE IF NOT EXISTS {self.name} ({', '.join(f'{n} {t}' for n, t in cols)})"


def _c(name: str, sql_type: str, description: str, csv: bool = False) -> OutputColumn:
    return OutputColumn(name, sql_type, description, csv)


CASES = OutputTable("fw_cases", "one row per case of a run, best first; resolved cases unranked", (
    _c("rank", "INTEGER", "1 = look at this first", csv=True),
    _c("year", "INTEGER", "the year scanned", csv=True),
    _c("case_id", "VARCHAR", "stable: the same finding and year keep the same id on every run", csv=True),
    _c("entity_type", "VARCHAR", "person, household, tenancy, cooperative or agency", csv=True),
    _c("entity_id", "VARCHAR", "the entity the case is about", csv=True),
    _c("program", "VARCHAR", "dibao, subsidy, housing, cooperative or cross", csv=True),
    _c("risk_score", "DOUBLE", "0-100, higher is worse", csv=True),
    _c("rule_ids", "VARCHAR", "the rules that fired, ;-separated", csv=True),
    _c("outlier_score", "DOUBLE", "0-1 from the statistical detector, where it flagged the entity", csv=True),
    _c("amount_at_risk", "DECIMAL(18,2)", "yuan", csv=True),
    _c("summary", "VARCHAR", "one plain sentence naming the evidence", csv=True),
    _c("level", "VARCHAR", "the highest level of its rules; statistical for a detector-only case", csv=True),
    _c("signals", "INTEGER", "distinct rules that fired", csv=True),
    _c("programs", "VARCHAR", "programmes of its hits, ;-separated", csv=True),
    _c("status", "VARCHAR", "new, recurring or resolved (against the previous run of the year)", csv=True),
    _c("review_status", "VARCHAR", "the latest review of the case", csv=True),
    _c("region_code", "VARCHAR", "the area code of its entity", csv=True),
    _c("entities", "VARCHAR", "every entity the finding names, type:id;... (hits' entities first)", csv=True),
    _c("n_entities", "INTEGER", "how many entities the finding names", csv=True),
    _c("weights", "VARCHAR", "each rule's weight in this case, rule=weight;... (README: the risk score)", csv=True),
    _c("summary_zh", "VARCHAR", "the summary in Chinese"),
    _c("evidence_fingerprint", "VARCHAR", "a hash of its evidence: a review stays valid while it is unchanged"),
    _c("review_note", "VARCHAR", "e.g. evidence changed since review"),
))

HITS = OutputTable("fw_hits", "one row per rule hit of a run, with its case and evidence", (
    _c("case_id", "VARCHAR", "the case it belongs to (empty: folded into its mis-tuned rule's finding)", csv=True),
    _c("rule_id", "VARCHAR", "the rule", csv=True),
    _c("rule_version", "VARCHAR", "hash of the rule file", csv=True),
    _c("program", "VARCHAR", "the rule's programme", csv=True),
    _c("entity_type", "VARCHAR", "the rule's entity type", csv=True),
    _c("entity_id", "VARCHAR", "the entity flagged", csv=True),
    _c("year", "INTEGER", "the year scanned", csv=True),
    _c("level", "VARCHAR", "the rule's level", csv=True),
    _c("amount_at_risk", "DECIMAL(18,2)", "yuan", csv=True),
    _c("matched_on", "VARCHAR", "how the evidence was matched", csv=True),
    _c("evidence", "VARCHAR", "the rule's output columns as JSON", csv=True),
    _c("weight", "DOUBLE", "the hit's weight in the ranking", csv=True),
    _c("summary_en", "VARCHAR", "the hit's sentence"),
    _c("summary_zh", "VARCHAR", "the hit's sentence in Chinese"),
))

CASE_ENTITIES = OutputTable("fw_case_entities", "every entity a case names: its own, its hits', those involved", (
    _c("case_id", "VARCHAR", "the case"),
    _c("entity_type", "VARCHAR", "person, household, tenancy, cooperative or agency"),
    _c("entity_id", "VARCHAR", "the entity"),
    _c("role", "VARCHAR", "primary (the case's entity), flagged (a hit's entity) or involved (named in evidence)"),
))

RUNS = OutputTable("fw_runs", "one row per scan", (
    _c("year", "INTEGER", "the year scanned"),
    _c("started_at", "TIMESTAMP", "when it started"),
    _c("finished_at", "TIMESTAMP", "when it was recorded"),
    _c("rules_version", "VARCHAR", "hash of every rule's version"),
    _c("fundwatch_version", "VARCHAR", "fundwatch's version"),
    _c("n_cases", "INTEGER", "cases listed"),
    _c("run_json", "VARCHAR", "the run record (run.json)"),
), one_row_per_run=True)

REVIEWS = OutputTable("fw_reviews", "analysts' decisions, appended, never rewritten", (
    _c("case_id", "VARCHAR", "the case"),
    _c("year", "INTEGER", "its year"),
    _c("status", "VARCHAR", "in_progress, confirmed or cleared"),
    _c("note", "VARCHAR", "what was found"),
    _c("recovered", "DECIMAL(18,2)", "money recovered, yuan"),
    _c("author", "VARCHAR", "who decided"),
    _c("reviewed_at", "TIMESTAMP", "when"),
    _c("evidence_fingerprint", "VARCHAR", "the evidence the decision saw"),
    _c("rule_ids", "VARCHAR", "the case's rules then"),
), keyed_by_run=False)

# Who should be paid and is not (应享未享, README "Coverage"): hits of `program: coverage` rules are
# outreach, not investigation, and are listed here instead of in the case list.
COVERAGE = OutputTable("fw_coverage", "one row per person (or household) and programme owed a benefit, best first", (
    _c("rank", "INTEGER", "1 = most months missed (then most money owed)", csv=True),
    _c("year", "INTEGER", "the year scanned", csv=True),
    _c("outreach_id", "VARCHAR", "stable: the same entity, programme and year keep the same id on every run",
       csv=True),
    _c("rule_id", "VARCHAR", "the coverage rule: which programme the entity was not paid", csv=True),
    _c("title", "VARCHAR", "the programme missed, in words", csv=True),
    _c("entity_type", "VARCHAR", "person or household", csv=True),
    _c("entity_id", "VARCHAR", "who should be paid", csv=True),
    _c("region_code", "VARCHAR", "their area code (the rule's eligible population, else the entity registry)",
       csv=True),
    _c("township", "VARCHAR", "the first 9 digits of region_code: the township that does the outreach", csv=True),
    _c("months_missed", "INTEGER", "months of the year due and not paid (or paid below the tier)", csv=True),
    _c("amount_owed", "DECIMAL(18,2)", "yuan they should have had", csv=True),
    _c("summary", "VARCHAR", "one plain sentence naming the evidence", csv=True),
    _c("outreach_status", "VARCHAR", "the latest outreach state: reached, enrolled, not_eligible or refused",
       csv=True),
    _c("outreach_note", "VARCHAR", "what the outreach found", csv=True),
    _c("evidence", "VARCHAR", "the rule's output columns as JSON", csv=True),
    _c("title_zh", "VARCHAR", "the programme missed, in Chinese"),
    _c("summary_zh", "VARCHAR", "the summary in Chinese"),
    _c("rule_version", "VARCHAR", "hash of the rule file"),
))

COVERAGE_RATES = OutputTable("fw_coverage_rates", "per coverage rule and township: eligible, paid, missed", (
    _c("year", "INTEGER", "the year scanned", csv=True),
    _c("rule_id", "VARCHAR", "the coverage rule (one programme)", csv=True),
    _c("township", "VARCHAR", "first 9 digits of the region code; empty where unknown", csv=True),
    _c("eligible", "INTEGER", "entities the rule's `eligible` query returns, with those it lists", csv=True),
    _c("paid", "INTEGER", "eligible and not listed: paid what the rule says is due", csv=True),
    _c("missed", "INTEGER", "listed in coverage.csv: paid nothing, or less than due", csv=True),
    _c("coverage_rate", "DOUBLE", "paid / eligible", csv=True),
    _c("months_missed", "INTEGER", "months missed, added over the listed entities", csv=True),
    _c("amount_owed", "DECIMAL(18,2)", "yuan owed, added over the listed entities", csv=True),
))

OUTREACH = OutputTable("fw_outreach", "outreach states of coverage rows, appended, never rewritten", (
    _c("outreach_id", "VARCHAR", "the coverage row (stable across rescans)"),
    _c("year", "INTEGER", "its year"),
    _c("rule_id", "VARCHAR", "its coverage rule"),
    _c("township", "VARCHAR", "its township then"),
    _c("status", "VARCHAR", "reached, enrolled, not_eligible or refused"),
    _c("note", "VARCHAR", "what was found"),
    _c("author", "VARCHAR", "who recorded it"),
    _c("recorded_at", "TIMESTAMP", "when"),
), keyed_by_run=False)

OUTPUT_TABLES = (RUNS, CASES, HITS, CASE_ENTITIES, REVIEWS, COVERAGE, COVERAGE_RATES, OUTREACH)


def ensure(con, table: OutputTable) -> None:
    """Create `table`, or add the columns an older workspace's copy lacks."""
    con.execute(table.ddl())
    have = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table.name]).fetchall()}
    for c in table.columns:
        if c.name not in have:
            con.execute(f"ALTER TABLE {table.name} ADD COLUMN {c.name} {c.sql_type}")
