"""What a sample of one header's values looks like: resident IDs, credit codes, dates, money...

Dates, periods, money, numbers, years and region codes are judged by the loader's own
parsers (fundwatch/load/values.py), run by DuckDB on the sample: a value "fits" a kind when
the load would accept it as that kind. IDs and credit codes are checked with python-stdnum,
the reference the loader's SQL checks are tested against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb
import pandas as pd
from stdnum.cn import ric, uscc

from fundwatch.contract.tables import ColumnSpec
from fundwatch.load.values import bounded_sql, clean_sql, value_sql

# The kinds whose parser is asked, one stand-in column each.
_PARSED_KINDS = ("date", "period", "money", "number", "int", "year", "region")
_PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50,
              51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
_FULL_DATE = re.compile(r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?([ T].*)?|\d{8}")
_EXCEL_SERIAL = re.compile(r"\d{5}(\.0+)?")
_ACCOUNT = re.compile(r"\d{12,25}")
_KEY = re.compile(r"[0-9A-Za-z\u4e00-\u9fff_\-/#.()（）]{2,60}")
_PERSON_NAME = re.compile(r"[\u4e00-\u9fff·]{2,5}")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_TWO_DECIMALS = re.compile(r"-?[\d,]+\.\d{2}元?")


@dataclass
class Shape:
    """Fractions (0-1) of the non-empty sampled values that fit each shape."""

    n: int  # non-empty values sampled
    fit: dict[str, float] = field(default_factory=dict)
    distinct: int = 0
    serial: bool = False  # integers, all different, increasing: a row number or serial key

    def __getitem__(self, key: str) -> float:
        return self.fit.get(key, 0.0)


def _stand_in(kind: str) -> ColumnSpec:
    return ColumnSpec("v", kind)


def _parsed_fractions(con, columns: dict[int, list[str]]) -> dict[int, dict[str, float]]:
    """For each column's values, the fraction each parser reads. One query for all of a
    file's columns: planning the parsers' SQL costs ~0.1 s a query, whatever the rows."""
    if not columns:
        return {}
    frame = pd.DataFrame({"pos": [pos for pos, vs in columns.items() for _ in vs],  # noqa: F841 - read by name
                          "v": [v for vs in columns.values() for v in vs]})
    parts = []
    for kind in _PARSED_KINDS:
        spec = _stand_in(kind)
        typed = bounded_sql(value_sql(clean_sql("v", spec), spec), spec)
        parts.append(f"avg(CASE WHEN ({typed}) IS NOT NULL THEN 1.0 ELSE 0.0 END) AS {kind}")
    rows = con.execute(f"SELECT pos, {', '.join(parts)} FROM frame GROUP BY pos").fetchall()
    return {pos: {k: float(x or 0.0) for k, x in zip(_PARSED_KINDS, row, strict=True)} for pos, *row in rows}


def enum_fit(con, values: list[str], spec: ColumnSpec) -> float:
    """The fraction of values the loader reads as one of the enum's values (or their aliases)."""
    if not values:
        return 0.0
    frame = pd.DataFrame({"v": values})  # noqa: F841
    typed = value_sql(clean_sql("v", spec), spec)
    return float(con.execute(f"SELECT avg(CASE WHEN ({typed}) IS NOT NULL THEN 1.0 ELSE 0.0 END) FROM frame")
                 .fetchone()[0] or 0.0)


def _share(values: list[str], test) -> float:
    return sum(1 for v in values if test(v)) / len(values)


def shapes_of(con: duckdb.DuckDBPyConnection, columns: dict[int, list[str]]) -> dict[int, Shape]:
    """The shape of each column's values (keyed as `columns`), parsed in one query."""
    parsed = _parsed_fractions(con, {pos: vs for pos, vs in columns.items() if vs})
    return {pos: _shape(values, parsed[pos]) if values else Shape(0) for pos, values in columns.items()}


def _shape(values: list[str], fit: dict[str, float]) -> Shape:
    fit["person_id"] = _share(values, lambda v: ric.is_valid(v.upper()))
    fit["credit_code"] = _share(values, lambda v: uscc.is_valid(v.upper()))
    # Region codes: the loader wants 6, 9 or 12 digits; a province first makes it a code, not a count.
    fit["region"] = min(fit["region"], _share(values, lambda v: v[:2].isdigit() and int(v[:2]) in _PROVINCES))
    fit["full_date"] = _share(values, lambda v: bool(_FULL_DATE.fullmatch(v)))
    fit["excel_serial"] = _share(values, lambda v: bool(_EXCEL_SERIAL.fullmatch(v)))
    fit["account"] = _share(values, lambda v: bool(_ACCOUNT.fullmatch(v.replace(" ", ""))))
    fit["key"] = _share(values, lambda v: bool(_KEY.fullmatch(v)) and any(c.isdigit() or c.isascii() for c in v))
    fit["person_name"] = _share(values, lambda v: bool(_PERSON_NAME.fullmatch(v)))
    fit["han"] = _share(values, lambda v: bool(_HAN.search(v)))
    fit["two_decimals"] = _share(values, lambda v: bool(_TWO_DECIMALS.fullmatch(v)))
    ints = [int(v) for v in values if v.isdigit() and len(v) < 18]
    serial = len(ints) == len(values) and len(ints) >= 3 and all(b > a for a, b in zip(ints, ints[1:], strict=False))
    return Shape(len(values), fit, len(set(values)), serial)


def kind_fit(shape: Shape, spec: ColumnSpec, enum: float = 0.0) -> tuple[float, str]:
    """How well the values fit column `spec` (0-1) and why, in words. A value that fits a
    narrower kind (an ID, a date) counts against a broad one (money, a key)."""
    if shape.n == 0:
        return 0.0, "no values to judge"
    s, n, k = shape, shape.n, spec.kind
    narrow = max(s["person_id"], s["credit_code"], s["full_date"], s["region"], s["account"], s["year"])

    def said(frac: float, what: str) -> str:
        return f"values look like {what} ({round(frac * n)}/{n})" if frac >= 0.5 else f"only {round(frac * n)}/{n} values read as {what}"

    if k == "person_id":
        return s["person_id"], said(s["person_id"], "resident IDs passing GB 11643")
    if k == "credit_code":
        return s["credit_code"], said(s["credit_code"], "credit codes passing GB 32100")
    if k == "date":
        # A five-digit number reads as an Excel serial date, but is as likely a sum of money.
        strict = max(0.0, s["date"] - s["excel_serial"]) + 0.4 * min(s["date"], s["excel_serial"])
        return strict, said(strict, "dates")
    if k == "period":
        months = max(0.0, s["period"] - s["full_date"])
        score = months + 0.6 * min(s["period"], s["full_date"])
        return score, said(months, "months (YYYY-MM)") if months >= 0.5 else said(score, "dates, read as their month")
    if k == "year":
        return s["year"], said(s["year"], "years")
    if k == "region":
        return s["region"], said(s["region"], "region codes (6/9/12 digits)")
    if k == "account":
        score = max(0.0, s["account"] - s["person_id"] - s["region"])
        return score, said(score, "bank account numbers")
    if k in ("money", "number", "int"):
        base = {"money": s["money"], "number": s["number"], "int": s["int"]}[k]
        score = base * (1 - narrow) * (0.5 if s.serial else 1.0)
        if k == "money":
            score *= 0.75 + 0.25 * s["two_decimals"]
        elif k == "number":
            score *= 0.85
        elif k == "int":
            score *= 1 - 0.3 * s["two_decimals"]
        what = {"money": "amounts of money", "number": "numbers", "int": "whole numbers"}[k]
        why = said(base, what) + (" (but unique and increasing: a serial)" if s.serial else "")
        return score, why + ("; but they look more like IDs, dates, codes or years" if narrow >= 0.5 else "")
    if k == "enum":
        return enum, (f"values are {spec.name} values ({round(enum * n)}/{n}, {s.distinct} distinct)"
                      if enum >= 0.5 else f"only {round(enum * n)}/{n} values are {spec.name} values")
    if k == "key":
        if s.serial:
            return 0.85, f"values are unique and increasing ({n}/{n}): a serial number"
        other = max(s["person_id"], s["credit_code"], s["full_date"], s["two_decimals"])
        score = s["key"] * (1 - other) * 0.7  # anything without spaces is key-like: weak evidence
        return score, said(s["key"], "codes or keys") + ("; but they look more like IDs, dates or money" if other >= 0.5 else "")
    # text: anything reads as text; names and Chinese words only hint
    if spec.name in ("name", "head_name") and s["person_name"] >= 0.5:
        return 0.6 * s["person_name"], said(s["person_name"], "personal names")
    if n >= 20 and s.distinct <= 12:  # few values: a category written as text (relation, usage)
        return 0.5, f"{s.distinct} distinct values in {n}: a category"
    score = 0.5 * s["han"] * (1 - narrow)
    return score, said(s["han"], "Chinese text")
