"""Generate the contract's documentation from the table specs (`fundwatch contract`)."""

from __future__ import annotations

from fundwatch.contract.aliases import COLUMN_ALIASES, TABLE_ALIASES
from fundwatch.contract.tables import TABLES


def contract_markdown() -> str:
    lines = ["# Input tables (generated from fundwatch/contract/tables.py)", ""]
    group = None
    for spec in TABLES.values():
        if spec.group != group:
            group = spec.group
            lines += [f"## {group}", ""]
        lines += [f"### {spec.name}", "", spec.description, "",
                  "| column | required | kind | stored as | also accepted headers |", "| --- | --- | --- | --- | --- |"]
        for c in spec.columns:
            aliases = (*TABLE_ALIASES.get(spec.name, {}).get(c.name, ()), *COLUMN_ALIASES.get(c.name, ()))
            kind = c.kind + (f" ({', '.join(c.values)})" if c.values else "")
            lines.append(f"| {c.name} | {'yes' if c.required else ''} | {kind} | {c.sql_type} | {', '.join(aliases)} |")
        lines.append("")
    return "\n".join(lines)
