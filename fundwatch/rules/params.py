"""Typed rule parameters: defaults in the rule file, overrides in the county's config.

A value reaches SQL only as a literal built from a validated Python value of the declared
type (fundwatch/rules/render.py), never as text pasted into the query.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

PARAM_TYPES = ("int", "number", "money", "date", "string", "bool", "string_list")
_SAFE_STRING = re.compile(r"^[\w\-. ]{0,64}$", re.UNICODE)


def coerce(ptype: str, value, where: str):
    """`value` as the Python value of `ptype`, or ValueError naming `where`."""
    try:
        if ptype == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if ptype == "number":
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if ptype == "money":
            if isinstance(value, bool):
                raise ValueError
            return Decimal(str(value)).quantize(Decimal("0.01"))
        if ptype == "date":
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        if ptype == "bool":
            if not isinstance(value, bool):
                raise ValueError
            return value
        if ptype == "string":
            if not isinstance(value, str) or not _SAFE_STRING.match(value):
                raise ValueError
            return value
        if ptype == "string_list":
            if not isinstance(value, list) or not all(isinstance(v, str) and _SAFE_STRING.match(v) for v in value):
                raise ValueError
            return list(value)
    except (ValueError, TypeError, InvalidOperation):
        pass
    raise ValueError(f"{where}: {value!r} is not a valid {ptype}")
