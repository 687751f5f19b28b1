"""The vectorised SQL checks of resident IDs and credit codes agree with python-stdnum."""

import random

import duckdb
import pandas as pd
import pytest
from stdnum.cn import ric, uscc

from fundwatch.load.ids import (
    USCC_ALPHABET,
    county_codes,
    install_reference_tables,
    merge_spans,
    ric_digits_sql,
    ric_place_sql,
    ric_reason_sql,
    uscc_reason_sql,
)


def _valid_ric(rng, codes):
    code = rng.choice(codes)
    body = f"{code}{rng.randint(1940, 2015)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


def _mutate(rng, s, alphabet):
    kind = rng.randrange(6)
    i = rng.randrange(len(s))
    if kind == 0:  # one character changed
        return s[:i] + rng.choice(alphabet) + s[i + 1:]
    if kind == 1:  # two neighbours swapped
        i = min(i, len(s) - 2)
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    if kind == 2:  # dropped or extra character
        return s[:i] + s[i + 1:] if rng.random() < 0.5 else s[:i] + rng.choice(alphabet) + s[i:]
    if kind == 3:  # impossible birth date (month 13, day 31 in a 30-day month, Feb 30)
        return s[:10] + rng.choice(["1301", "0431", "0230", "0000"]) + s[14:]
    if kind == 4:  # birth-place code that is not a county, or a retired one
        return rng.choice(["999999", "110000", "110103", "000000", "710000"]) + s[6:]
    return s[:17] + rng.choice("0123456789X")  # random check character


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    install_reference_tables(c)
    yield c
    c.close()


def ric_reasons(con, ids: list[str]) -> list[tuple[str, str | None]]:
    """(id, reason) for each of `ids`, checked as the loader checks it (stage.py): the digits
    as one number and the county's years (an ENUM lookup) in columns of their own."""
    con.register("ric_ids", pd.DataFrame({"v": ids}))
    try:
        return con.execute(
            f"""SELECT v, {ric_reason_sql('v', 'n', 'place')}
            FROM (SELECT v, {ric_digits_sql('v')} AS n, {ric_place_sql(con, 'v')} AS place FROM ric_ids) f"""
        ).fetchall()
    finally:
        con.unregister("ric_ids")


def test_resident_id_check_equals_python_stdnum(con):
    rng = random.Random(11643)
    codes = county_codes()["code"].tolist()
    valid = [_valid_ric(rng, codes) for _ in range(5000)]
    ids = valid + [_mutate(rng, rng.choice(valid), "0123456789X") for _ in range(15000)]
    sql_ok = {v: reason is None for v, reason in ric_reasons(con, ids)}
    ref_ok = {v: ric.is_valid(v) for v in ids}
    disagree = [(v, sql_ok[v], r) for v, r in ref_ok.items() if sql_ok[v] != r]
    assert not disagree, disagree[:10]
    # Both outcomes are well represented, so the comparison means something.
    assert 1500 < sum(ref_ok.values()) < 16000


def test_resident_id_check_as_the_loader_runs_it_equals_python_stdnum(con):
    """The loader's form of the check (digits as one number, the county's years looked up
    through an ENUM of the codes), for birth years on both sides of every county's range
    boundaries."""
    rng = random.Random(32)
    ids = []
    for code, start, end in county_codes().itertuples(index=False):
        years = {1990}
        for bound in (start, end):
            if not pd.isna(bound):
                years |= {int(bound) - 1, int(bound), int(bound) + 1}
        for year in years:
            body = f"{code}{year:04d}0615{rng.randint(0, 999):03d}"
            ids.append(body + ric.calc_check_digit(body + "0"))
    ids += [_mutate(rng, rng.choice(ids), "0123456789X") for _ in range(5000)]
    rows = ric_reasons(con, ids)
    assert len(rows) == len(ids)
    sql_ok = {v: reason is None for v, reason in rows}
    disagree = [(v, sql_ok[v]) for v in set(ids) if sql_ok[v] != ric.is_valid(v)]
    assert not disagree, disagree[:10]
    assert 0 < sum(sql_ok.values()) < len(sql_ok)


def test_merged_spans_hold_the_same_years():
    rows = [("1", None, 1982), ("1", 1982, 1994), ("1", 2000, None), ("2", 1981, 2018), ("2", 2018, None), ("3", None, None)]
    assert merge_spans(rows) == [("1", None, 1994), ("1", 2000, None), ("2", 1981, None), ("3", None, None)]


def test_credit_code_check_equals_python_stdnum(con):
    rng = random.Random(32100)
    valid = []
    for _ in range(3000):
        body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
        valid.append(body + uscc.calc_check_digit(body))
    codes = valid + [_mutate(rng, rng.choice(valid), USCC_ALPHABET + "IOSVZ") for _ in range(9000)]
    frame = pd.DataFrame({"v": codes})  # noqa: F841
    sql_ok = dict(con.execute(f"SELECT v, {uscc_reason_sql('v')} IS NULL FROM frame").fetchall())
    ref_ok = {v: uscc.is_valid(v) for v in codes}
    disagree = [(v, sql_ok[v], r) for v, r in ref_ok.items() if sql_ok[v] != r]
    assert not disagree, disagree[:10]
    assert 2500 < sum(ref_ok.values()) < 9000


@pytest.mark.parametrize(("value", "reason"), [
    ("1.10105E+17", "excel_mangled_id"),
    ("110105198001011.0", "excel_mangled_id"),
    ("110105800101123", "legacy_id"),
    ("11010519800101123", "bad_id_format"),
    ("11010519800101123Y", "bad_id_format"),
])
def test_resident_id_reasons(con, value, reason):
    assert ric_reasons(con, [value]) == [(value, reason)]
