"""subsidy.late_disbursement against a plain-Python reading of its description, on random batches.

The rule computes each batch's median delay from counts of distinct delays (to keep three years of
payments out of memory); statistics.median here is the independent statement of what it means."""

from __future__ import annotations

import json
import statistics
from datetime import date, timedelta

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundwatch.config import Config
from fundwatch.detect.synthetic import insert
from fundwatch.rules import load_rules
from fundwatch.rules.runner import run_rules
from fundwatch.workspace import Workspace
from tests.conftest import make_id

RULES = load_rules()
RULE = RULES.rules["subsidy.late_disbursement"]
DEADLINE = RULE.params["deadline_days"].default

batch = st.tuples(st.sampled_from(["A1", "A2"]), st.sampled_from(["P1", "P2"]), st.integers(2022, 2024),
                  st.integers(1, 12), st.lists(st.sampled_from([0, 3, 10, 35, 36, 80, 150]), min_size=1, max_size=7))


def expected(batches) -> set[tuple[str, str, date]]:
    """Late batches of 2023 as the description says: a payment is late when its delay exceeds the
    deadline and exceeds by more than it the median lag of the programme's other batches (any
    year; 0 when none)."""
    lags = {}
    for agency, program, year, month, delays in batches:
        lags.setdefault((agency, program, date(year, month, 28)), []).extend(delays)
    out = set()
    for (agency, program, paid), delays in lags.items():
        if paid.year != 2023:
            continue
        others = [statistics.median(d) for (a, p, when), d in lags.items()
                  if p == program and (a, when) != (agency, paid)]
        usual = statistics.median(others) if others else 0
        if any(d > DEADLINE and d - usual > DEADLINE for d in delays):
            out.add((agency, program, paid))
    return out


@given(st.lists(batch, min_size=1, max_size=12, unique_by=lambda b: (b[0], b[1], b[2], b[3])))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_rule_flags_the_batches_its_description_names(batches):
    rows, n = [], 0
    for agency, program, year, month, delays in batches:
        paid = date(year, month, 28)
        for d in delays:
            n += 1
            rows.append({"payment_id": f"X{n}", "program_code": program, "person_id": make_id(n),
                         "period": date(year, month, 1), "amount": 100.0, "approve_date": paid - timedelta(days=d),
                         "pay_date": paid, "agency_code": agency})
    with Workspace() as ws:
        present = insert(ws.engine, {"subsidy_payments": pd.DataFrame(rows)})
        hits, _ = run_rules(ws.engine, RULES, 2023, present, Config(), rules=[RULE])
    evidence = [json.loads(e) for e in hits["evidence"]]
    got = {(h.entity_id, e["program_code"], date.fromisoformat(str(e["pay_date"])[:10]))
           for h, e in zip(hits.itertuples(), evidence, strict=True)}
    assert got == expected(batches)
