"""Facts about loaded rows that an analyst should know but that are no reason to quarantine.

A post that ends before it starts is a typing error in some registry, but which of its two
dates is wrong cannot be told: the row loads as it is (the rules give such a span no days)
and the load report counts it, so that nobody reads "no hit" as "checked".
"""

from __future__ import annotations

from fundwatch.contract.tables import SPANS


def backwards_spans(engine, tables) -> dict[str, tuple[str, int]]:
    """For each of `tables` that has rows closing before they open: (what, how many rows)."""
    names = [t for t in sorted(tables) if t in SPANS]
    if not names:
        return {}
    counts = " UNION ALL ".join(
        f"SELECT '{t}' AS table_name, count(*) AS n FROM {t} WHERE {SPANS[t][1]} < {SPANS[t][0]}" for t in names
    )
    frame = engine.query(counts)
    return {
        t: (f"{SPANS[t][1]} before {SPANS[t][0]}", int(n))
        for t, n in zip(frame["table_name"], frame["n"], strict=True)
        if n
    }
