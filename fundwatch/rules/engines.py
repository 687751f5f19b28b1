"""Which engines a rule runs on.

A rule is written once, in DuckDB's dialect, and printed for each other engine by sqlglot
(fundwatch/engine/dialect.py, the one place where dialects differ). On an engine it is:

- "yes": the query translates with results unchanged;
- "no": its SQL uses a construct whose translation would change results, or the
  translation itself failed (it fails closed). The rule is then reported as not run, with
  the reason, by `rules list`, `rules test` and every scan: never run silently wrong.
"""

from __future__ import annotations

from fundwatch.engine import ENGINES
from fundwatch.engine.dialect import portability_problems
from fundwatch.rules.render import _sample_values, bind


def support(rule, tree, dialect: str) -> tuple[str, str]:
    """("yes" | "no", why) for running `rule` on an engine of `dialect`."""
    if dialect == "duckdb":
        return "yes", ""
    problems = portability_problems(bind(tree, _sample_values(rule)))
    if problems:
        why = "; ".join(problems)
        return "no", why if why.startswith("cannot translate") else "its SQL uses " + why
    return "yes", ""


def support_table(ruleset) -> dict[str, dict[str, str]]:
    """rule id -> engine -> "yes" / "no: why"."""
    out = {}
    for rule in ruleset:
        row = {}
        for dialect in ENGINES:
            state, why = support(rule, ruleset.trees[rule.id], dialect)
            row[dialect] = state if state != "no" else f"no: {why}" if why else "no"
        out[rule.id] = row
    return out
