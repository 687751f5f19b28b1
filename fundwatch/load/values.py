"""How each kind of value is cleaned, parsed and judged, as SQL over raw text.

Every loader reads a file into text columns first; these expressions turn one raw column
into (clean text, typed value, reason it is unusable). Reasons are short codes that the
quarantine table and load report show; `REASONS` explains each.
"""

from __future__ import annotations

from fundwatch.contract.aliases import ENUM_ALIASES
from fundwatch.contract.tables import ColumnSpec

REASONS = {
    "missing_required": "a required value is empty",
    "excel_mangled_id": "the value was turned into a number by Excel (e.g. 1.10105E+17); the original digits are lost",
    "legacy_id": "legacy 15-character resident ID; registries key on 18",
    "bad_id_format": "not 17 digits followed by a digit or X",
    "bad_check_digit": "the check character does not match (GB 11643 / GB 32100)",
    "bad_birth_date": "the birth date inside the ID does not exist",
    "unknown_birth_place": "the ID's birth-place code was not a county in its birth year",
    "bad_code_format": "not a unified social credit code (8 digits + 10 code characters)",
    "bad_date": "not a date that exists (expected YYYY-MM-DD, YYYY/M/D, YYYYMMDD, YYYY年M月D日 or an Excel serial)",
    "bad_period": "not a month (expected YYYY-MM, YYYYMM, YYYY/M or a date)",
    "bad_money": "not an amount in yuan (expected 1234.50, 1,234.50 or 1234.50元)",
    "bad_number": "not a number",
    "bad_integer": "not a whole number",
    "bad_year": "not a year between 1900 and 2100",
    "bad_region_code": "not a 6, 9 or 12 digit area code",
    "bad_enum": "not one of the allowed values",
    "bad_row_shape": "the line has a different number of fields than the header",
    "bad_quotes": "a quote is left open or text follows a closing quote; each line it swallowed is kept as it is",
    "line_too_long": "the line is longer than 64 MB",
}

_MANGLED = "'[0-9](\\.[0-9]+)?[eE]\\+?[0-9]+'"
_NULL_WORDS = ("null", "none", "nan", "n/a", "\\N")


_WHITESPACE = ("' '", "chr(9)", "chr(10)", "chr(12)", "chr(13)")  # what RE2's \s matches


def _strip_whitespace(x: str) -> str:
    # Most values hold no whitespace: a few byte searches skip the regex for them.
    has = " OR ".join(f"contains({x}, {w})" for w in _WHITESPACE)
    return f"CASE WHEN {has} THEN regexp_replace({x}, '\\s', '', 'g') ELSE {x} END"


def clean_sql(raw: str, spec: ColumnSpec, *, trimmed: bool = False) -> str:
    """Text with the noise every export adds removed; NULL when empty. `trimmed`: `raw` is
    already trim()med (a column of its own: inside a CASE, trim() would run once per use)."""
    # Plain comparisons: an IN list here is planned as one hash join per column. The words
    # are ASCII, at most 4 bytes: a longer value (any name in Chinese) is not one of them.
    t = raw if trimmed else f"trim({raw})"
    words = " OR ".join(f"lower({t}) = '{w}'" for w in _NULL_WORDS)
    base = f"CASE WHEN {t} = '' OR (strlen({t}) <= 4 AND ({words})) THEN NULL ELSE {t} END"
    if spec.kind in ("person_id", "credit_code"):
        return f"upper(replace(replace({base}, ' ', ''), '\u3000', ''))"
    if spec.kind in ("money", "number"):
        noise = "'[,，元¥￥\\s]'"
        return f"CASE WHEN regexp_matches({base}, {noise}) THEN nullif(regexp_replace({base}, {noise}, '', 'g'), '') ELSE {base} END"
    if spec.kind in ("region", "int", "year", "account"):
        return _strip_whitespace(base)
    if spec.kind == "enum":
        return f"lower({base})"
    return base


# Text of these shapes is what clean_sql(trim(text)) makes of it already (nothing to trim,
# no noise, not a NULL word, upper case): the loader skips trimming and cleaning for it. Only
# kinds whose cleaning costs more than this one pattern (IDs are upper-cased with spaces
# removed; money has its noise looked for by a pattern of its own). tests/test_load_values.py
# holds the claim.
CLEAN_SHAPES = {
    "person_id": "[0-9]{17}[0-9X]",
    "credit_code": "[0-9A-Z]{18}",
    "money": "-?[0-9]+(\\.[0-9]+)?",
    "number": "-?[0-9]+(\\.[0-9]+)?",
}


def already_clean_sql(raw: str, spec: ColumnSpec) -> str | None:
    """True when raw text `raw` is already clean (CLEAN_SHAPES); None for the other kinds."""
    pattern = CLEAN_SHAPES.get(spec.kind)
    return None if pattern is None else f"coalesce(regexp_full_match({raw}, '{pattern}'), false)"


def _date_sql(c: str) -> str:
    # Most exports write ISO dates, which a plain cast reads (also YYYY/MM/DD and a time part).
    # Otherwise unify separators (年月日 . -> -) and try the two shapes left, or an Excel serial.
    s = (
        f"regexp_replace(replace(replace(replace(replace({c}, '年', '-'), '月', '-'), '日', ''), '.', '-'),"
        f" '[ T][0-9:.]+$', '')"
    )
    slow = f"""CASE
        WHEN regexp_full_match({c}, '[0-9]{{8}}') THEN CAST(try_strptime({c}, '%Y%m%d') AS DATE)
        WHEN regexp_full_match({c}, '[0-9]{{5}}(\\.0+)?') THEN DATE '1899-12-30' + CAST(CAST({c} AS DOUBLE) AS INTEGER)
        ELSE CAST(try_strptime({s}, '%Y-%m-%d') AS DATE)
    END"""
    return f"coalesce(try_cast({c} AS DATE), {slow})"


def _period_sql(c: str) -> str:
    slow = f"""CASE
        WHEN regexp_full_match({c}, '[0-9]{{6}}') THEN CAST(try_strptime({c} || '01', '%Y%m%d') AS DATE)
        WHEN regexp_full_match({c}, '[0-9]{{4}}[/.年][0-9]{{1,2}}月?') THEN
            CAST(try_strptime(regexp_replace(replace({c}, '月', ''), '[/.年]', '-') || '-01', '%Y-%m-%d') AS DATE)
        ELSE CAST(date_trunc('month', {_date_sql(c)}) AS DATE)
    END"""
    return f"coalesce(try_cast({c} || '-01' AS DATE), {slow})"


DATE_RANGE = ("1900-01-01", "2100-12-31")


def bounded_sql(v: str, spec: ColumnSpec) -> str:
    """A parsed date or period outside 1900-2100 is a typo (2203 for 2023), not a date."""
    if spec.kind in ("date", "period"):
        return f"CASE WHEN {v} BETWEEN DATE '{DATE_RANGE[0]}' AND DATE '{DATE_RANGE[1]}' THEN {v} END"
    return v


def _enum_sql(c: str, spec: ColumnSpec) -> str:
    mapping = {v: v for v in spec.values}
    mapping.update(ENUM_ALIASES.get(spec.name, {}))
    whens = " ".join(f"WHEN '{k.lower()}' THEN '{v}'" for k, v in mapping.items())
    return f"CASE {c} {whens} END"


# Resident IDs and credit codes are judged by the loader itself (stage.py), with the checks of
# fundwatch.load.ids in columns of their own; value_sql and reason_sql do not know them.
_CHECKED_IN_STAGE = ("person_id", "credit_code")


def _not_an_id(spec: ColumnSpec) -> None:
    if spec.kind in _CHECKED_IN_STAGE:
        raise ValueError(f"{spec.name}: {spec.kind} values are checked by fundwatch.load.stage, not here")


def value_sql(c: str, spec: ColumnSpec) -> str:
    """The typed value of clean text `c`; NULL where it cannot be parsed. Not for IDs (stage.py)."""
    _not_an_id(spec)
    k = spec.kind
    if k == "date":
        return _date_sql(c)
    if k == "period":
        return _period_sql(c)
    if k == "money":
        # try_cast: 17 or more digits do not fit DECIMAL(18,2) (bad_money, not a crash).
        return f"CASE WHEN regexp_full_match({c}, '-?[0-9]+(\\.[0-9]+)?') THEN try_cast({c} AS DECIMAL(18,2)) END"
    if k == "number":
        return f"try_cast({c} AS DOUBLE)"
    if k == "int":
        return f"CASE WHEN regexp_full_match({c}, '-?[0-9]+(\\.0+)?') THEN try_cast(CAST({c} AS DOUBLE) AS BIGINT) END"
    if k == "year":
        return (
            f"CASE WHEN regexp_full_match({c}, '[0-9]{{4}}(\\.0+|年)?') "
            f"AND CAST(substr({c}, 1, 4) AS INTEGER) BETWEEN 1900 AND 2100 THEN CAST(substr({c}, 1, 4) AS INTEGER) END"
        )
    if k == "region":
        return f"CASE WHEN regexp_full_match({c}, '[0-9]{{6}}([0-9]{{3}}){{0,2}}') THEN {c} END"
    if k == "enum":
        return _enum_sql(c, spec)
    if k in ("key", "account"):
        return f"CASE WHEN NOT regexp_full_match({c}, {_MANGLED}) THEN {c} END"
    return c


_PARSE_FAILURE = {
    "date": "bad_date",
    "period": "bad_period",
    "money": "bad_money",
    "number": "bad_number",
    "int": "bad_integer",
    "year": "bad_year",
    "region": "bad_region_code",
    "enum": "bad_enum",
    "key": "excel_mangled_id",
    "account": "excel_mangled_id",
}


def reason_sql(c: str, v: str, spec: ColumnSpec) -> str:
    """Why clean text `c` with parsed value `v` cannot be used; NULL when it can. Not for IDs (stage.py)."""
    _not_an_id(spec)
    missing = f"WHEN {c} IS NULL THEN 'missing_required'" if spec.required else f"WHEN {c} IS NULL THEN NULL"
    detail = f"WHEN {v} IS NULL THEN '{_PARSE_FAILURE[spec.kind]}'" if spec.kind in _PARSE_FAILURE else ""
    return f"CASE {missing} {detail} END"
