"""A coverage rule's eligible population: the denominator of its township coverage rates.

A coverage rule declares it under `eligible:` in its file: one SELECT returning `entity_id` and
`region_code` of every entity that meets the programme's criteria in the scanned year, paid or
not. It may read the CTEs of the rule's `query` (they are put in front of it), so the criteria
are written once: the query lists the eligible who were not paid, `eligible` all of them.
"""

from __future__ import annotations

import pandas as pd
from sqlglot import exp

from fundwatch.errors import RuleError
from fundwatch.rules.render import check_against_contract, parse, render, scan_values

RETURNS = ("entity_id", "region_code")
COLUMNS = ["rule_id", "entity_type", "entity_id", "region_code"]


def eligible_tree(rule, query_tree: exp.Expression) -> exp.Expression:
    """The `eligible` SELECT with the query's CTEs in front of its own."""
    try:
        tree = parse(rule.eligible, rule.path)
    except RuleError as e:
        raise RuleError(rule.path, "eligible", e.args[0] if e.args else str(e)) from None
    shared = query_tree.args.get("with_")
    if shared is not None:
        own = tree.args.get("with_")
        ctes = [c.copy() for c in shared.expressions] + (list(own.expressions) if own is not None else [])
        tree.set("with_", exp.With(expressions=ctes, recursive=shared.args.get("recursive")))
    return tree


def check_eligible(rule, query_tree: exp.Expression) -> None:
    """At load: `eligible` parses, reads only the rule's inputs, uses only its parameters,
    refers to contract columns and returns entity_id and region_code."""
    check_against_contract(eligible_tree(rule, query_tree), rule, field="eligible", returns=RETURNS)


def eligible_population(engine, ruleset, rules, year: int, present: set[str], config) -> tuple[pd.DataFrame, dict]:
    """(rule_id, entity_type, entity_id, region_code) of every eligible entity of `rules` (the
    coverage rules that ran), one row per rule and entity; and {rule_id: error} for the ones
    whose `eligible` query failed (their rates are not given, the list still is)."""
    frames, errors = [], {}
    for rule in rules:
        if not rule.eligible:
            continue
        values = {**config.rule_params(rule), **scan_values(int(year))}
        absent = {t for t in rule.optional_inputs if t not in present}
        try:
            found = engine.query(render(eligible_tree(rule, ruleset.trees[rule.id]), values, "duckdb", absent))
        except Exception as e:  # one broken query must not stop the scan; run.json says why
            if engine.out_of_memory(e):
                raise
            errors[rule.id] = f"{type(e).__name__}: {e}"
            continue
        if found.empty:
            continue
        one = pd.DataFrame({"entity_id": found["entity_id"].astype(str),
                            "region_code": found["region_code"].astype("object").where(found["region_code"].notna())})
        # One row per entity: a person registered twice keeps one area code (the largest, as the
        # entity registry chooses).
        one = one.sort_values("region_code", na_position="first").drop_duplicates("entity_id", keep="last")
        frames.append(one.assign(rule_id=rule.id, entity_type=rule.entity_type)[COLUMNS])
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    return out, errors
