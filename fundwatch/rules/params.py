"""Typed rule parameters: defaults in the rule file, overrides in the county's config.

A value reaches SQL only as a literal built from a validated Python value of the declared
type (fundwatch/rules/render.py), never as text pasted into the query.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import reprlib
from decimal import Decimal, InvalidOperation

PARAM_TYPES = ("int", "number", "money", "date", "string", "bool", "string_list")
_SAFE_STRING = re.compile(r"[\w\-. ]{0,64}", re.UNICODE)  # used with fullmatch: no quote, no line break
# A value is shown in an error cut short: a YAML alias bomb or a huge string must not be expanded.
_SHOW = reprlib.Repr()
_SHOW.maxstring, _SHOW.maxother, _SHOW.maxlist, _SHOW.maxdict, _SHOW.maxlevel = 80, 80, 5, 5, 2


def _safe_string(v) -> bool:
    return isinstance(v, str) and _SAFE_STRING.fullmatch(v) is not None


def coerce(ptype: str, value, where: str):
    """`value` as the Python value of `ptype`, or ValueError naming `where`."""
    try:
        if ptype == "int":
            if not isinstance(value, int | float | str) or isinstance(value, bool) or (
                isinstance(value, float) and not value.is_integer()
            ):
                raise ValueError
            return int(value)
        if ptype == "number":
            if not isinstance(value, int | float | str | Decimal) or isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not math.isfinite(number):  # nan and inf are no literal SQL knows
                raise ValueError
            return number
        if ptype == "money":
            if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
                raise ValueError
            money = Decimal(str(value)).quantize(Decimal("0.01"))
            if not money.is_finite():
                raise ValueError
            return money
        if ptype == "date":
            if isinstance(value, dt.date):
                return value
            if not isinstance(value, str):
                raise ValueError
            return dt.date.fromisoformat(value)
        if ptype == "bool":
            if not isinstance(value, bool):
                raise ValueError
            return value
        if ptype == "string":
            if not _safe_string(value):
                raise ValueError
            return value
        if ptype == "string_list":
            if not isinstance(value, list) or len(value) > 1000 or not all(_safe_string(v) for v in value):
                raise ValueError
            return list(value)
    except (ValueError, TypeError, InvalidOperation, OverflowError, RecursionError):
        pass
    raise ValueError(f"{where}: {_SHOW.repr(value)} is not a valid {ptype}")
