"""Turn one rule hit into one plain sentence from the rule's `summary` template.

Templates name columns in braces: "{entity_id} was paid {amount_at_risk} yuan ...". Only
plain names are allowed (no attribute or index access), so a template is pure data.
"""

from __future__ import annotations

import datetime as dt
import string
from decimal import Decimal

import pandas as pd

_FORMATTER = string.Formatter()


def template_fields(template: str) -> list[str]:
    return [f for _, f, _, _ in _FORMATTER.parse(template) if f is not None]


def check_template(template: str, columns: list[str]) -> list[str]:
    """Problems with a template given the query's output columns."""
    problems = []
    for f in template_fields(template):
        if not f.isidentifier():
            problems.append(f"{{{f}}} is not a plain column name")
        elif "*" not in columns and f not in columns:
            problems.append(f"{{{f}}} is not a column the query returns")
    return problems


def show(value) -> str:
    if value is None or value is pd.NaT or (not isinstance(value, list | tuple) and pd.isna(value)):
        return "—"
    if isinstance(value, Decimal | float):
        return f"{value:,.2f}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(show(v) for v in value)
    return str(value)


def render_summary(template: str, row: dict) -> str:
    return "".join(
        literal + (show(row.get(field)) if field is not None else "")
        for literal, field, _, _ in _FORMATTER.parse(template)
    )
