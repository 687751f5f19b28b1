"""Values the loader takes as already clean are what cleaning would have made of them."""

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwatch.contract.tables import ColumnSpec
from fundwatch.load.stage import _trim_sql
from fundwatch.load.values import CLEAN_SHAPES, already_clean_sql, clean_sql, reason_sql, value_sql

CON = duckdb.connect()


def _near(pattern: str):
    """Text of the shape, and the same text with noise cleaning would remove or change."""
    shaped = st.from_regex(pattern, fullmatch=True)
    noise = st.sampled_from([" ", "\u3000", ",", "元", "x", "\t", "nan", "-", "."])
    return st.one_of(
        shaped,
        st.tuples(shaped, noise, st.booleans()).map(lambda t: t[1] + t[0] if t[2] else t[0] + t[1]),
        st.sampled_from(["", "null", "NaN", "none", "n/a", "\\N", " 5", "5 "]),
    )


@pytest.mark.parametrize("kind", sorted(CLEAN_SHAPES))
@settings(max_examples=150, deadline=None, derandomize=True)
@given(data=st.data())
def test_text_of_a_clean_shape_is_left_as_cleaning_would_leave_it(kind, data):
    spec = ColumnSpec("v", kind)
    text = data.draw(_near(CLEAN_SHAPES[kind]))
    shaped, cleaned = CON.execute(
        f"SELECT {already_clean_sql('v', spec)}, {clean_sql(_trim_sql('v'), spec)} FROM (SELECT ?::VARCHAR AS v)",
        [text],
    ).fetchall()[0]
    if shaped:
        assert cleaned == text


@pytest.mark.parametrize("kind", sorted(CLEAN_SHAPES))
@settings(max_examples=100, deadline=None, derandomize=True)
@given(data=st.data())
def test_text_of_the_shape_is_recognised(kind, data):
    """The SQL pattern takes what Python's takes: the claim above is exercised, not vacuous."""
    spec = ColumnSpec("v", kind)
    text = data.draw(st.from_regex(CLEAN_SHAPES[kind], fullmatch=True))
    shaped, cleaned = CON.execute(
        f"SELECT {already_clean_sql('v', spec)}, {clean_sql(_trim_sql('v'), spec)} FROM (SELECT ?::VARCHAR AS v)",
        [text],
    ).fetchall()[0]
    assert shaped and cleaned == text


@pytest.mark.parametrize("kind", ["person_id", "credit_code"])
def test_ids_are_not_typed_here(kind):
    """stage.py checks IDs in columns of its own; value_sql and reason_sql refuse them rather
    than pass an ID unchecked."""
    spec = ColumnSpec("v", kind)
    with pytest.raises(ValueError, match="checked by fundwatch.load.stage"):
        value_sql("v", spec)
    with pytest.raises(ValueError, match="checked by fundwatch.load.stage"):
        reason_sql("v", "p", spec)
