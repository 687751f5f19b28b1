"""How many entities a rule could have flagged: those with records of the scanned year in its
programme (the entity registry, fundwatch/entities.py, says which). A rule that fires on a
large share of them is called out as probably mis-tuned (cases/score.py judges the share)."""

from __future__ import annotations

import functools

from fundwatch.entities import population_lookup
from fundwatch.rules.render import parse, render, scan_values


@functools.cache
def _tree(sql: str):
    return parse(f"SELECT count(*) FROM ({sql}) AS population", "fundwatch/entities.py")


def population(engine, program: str, entity_type: str, year: int, present: set[str]) -> int | None:
    """The number of entities, or None when it cannot be known (no population for this
    programme and entity type, or its tables are not loaded)."""
    lookup = population_lookup(program, entity_type, present)
    if lookup is None:
        return None
    # Rendered as a rule is: `year(period) = :year` runs as a date range (row groups outside
    # the year are skipped).
    frame = engine.query(render(_tree(lookup.sql), scan_values(int(year))))
    return int(frame.iloc[0, 0])
