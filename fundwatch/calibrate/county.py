"""The county of the loaded data: the 6-digit prefix most of its region codes share."""

from __future__ import annotations

TABLES_WITH_REGION = ("dibao_households", "subsidy_payments", "residents", "cooperatives", "properties")


def county_code(engine, present: set[str]) -> str | None:
    """The most common first six digits of region_code across the loaded tables, or None."""
    parts = [f"SELECT substring(region_code, 1, 6) AS county FROM {t} WHERE length(region_code) >= 6"
             for t in TABLES_WITH_REGION if t in present]
    if not parts:
        return None
    frame = engine.query(f"SELECT county, count(*) AS n FROM ({' UNION ALL '.join(parts)}) "
                         "GROUP BY county ORDER BY n DESC, county LIMIT 1")
    return None if frame.empty else str(frame.iloc[0, 0])
