"""What the statistical features may not use, and a check that they do not.

A detector that learns who is "unusual" from ethnicity, gender, age or disability would send
auditors after people for who they are. So:

- columns that carry or reveal such traits are never read: names (ethnicity, gender), the
  relation of a member to the household head (age, gender, family role);
- identifiers that encode traits are used only to tell entities apart: a resident ID holds
  the place of registration (digits 1-6), the birth date (7-14) and the gender (17), so a
  feature may compare, count, group by or join on it, but never take it apart, cast it or
  compute with it;
- programmes whose eligibility or rate rests on a trait (disability allowances, old-age
  allowances that rise with age, ethnic-minority programmes) are left out of the subsidy
  features (Settings.protected_programmes / protected_programme_words).

`violations(sql)` returns what a query does wrong; tests run it on every feature set's SQL.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

# Columns of the data contract that reveal a protected trait, and words that would name one
# in a column added later.
PROTECTED_COLUMNS = {"name", "relation", "entity_name"}
PROTECTED_WORDS = ("birth", "gender", "ethnic", "nation", "minzu", "disab", "handicap", "religio")  # prefixes
PROTECTED_PARTS = ("age", "ages", "sex", "dob")  # whole words of a column name
# Identifiers that encode birth date, gender and place of registration.
ID_COLUMNS = {"person_id", "head_id", "legal_rep_id", "approved_by"}
# What may be done with an identifier: pass it on unchanged (alias, pick one of a group, order,
# parenthesise) until it is compared for equality, counted, grouped, partitioned or selected.
PASS_THROUGH = (exp.Alias, exp.Max, exp.Min, exp.Distinct, exp.Paren, exp.Ordered, exp.Order)
ENDS_AS_KEY = (
    exp.EQ,
    exp.NEQ,
    exp.Is,
    exp.Count,
    exp.Select,
    exp.Join,
    exp.Where,
    exp.Group,
    exp.Window,
    exp.Union,
    exp.Subquery,
)


def _protected_name(name: str) -> bool:
    name = name.lower()
    if name in PROTECTED_COLUMNS:
        return True
    parts = name.split("_")
    return any(p in PROTECTED_PARTS or p.startswith(PROTECTED_WORDS) for p in parts)


def violations(sql: str, dialect: str = "duckdb") -> list[str]:
    """Every use of a protected column, and every use of an identifier other than as a key."""
    problems = []
    tree = sqlglot.parse_one(sql, read=dialect)
    for col in tree.find_all(exp.Column):
        name = col.name.lower()
        if _protected_name(name):
            problems.append(f"reads protected column {col.sql()}")
            continue
        if name not in ID_COLUMNS:
            continue
        node = col.parent
        while isinstance(node, PASS_THROUGH):
            node = node.parent
        if node is not None and not isinstance(node, ENDS_AS_KEY):
            problems.append(f"derives a value from identifier {col.sql()}: {node.sql()[:80]}")
    return problems
