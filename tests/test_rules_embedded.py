"""Every rule file loads cleanly and passes its embedded tests (positives and near misses).

A broken file becomes a failing test named after it (`dibao.name::load`), so selecting a
programme with `-k dibao` cannot hide it.
"""

from pathlib import Path

import pytest

from fundwatch.rules import load_rules
from fundwatch.rules.catalogue import default_rules_dir
from fundwatch.rules.testing import run_test

RULESET = load_rules()
CASES = [(rule, test) for rule in RULESET for test in rule.tests]
FILES = sorted(default_rules_dir().glob("*/*.y*ml"))
ERRORS = {Path(e.path): e for e in RULESET.errors}


def test_catalogue_is_not_empty():
    assert len(RULESET) >= 30


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}.{p.stem}::load" for p in FILES])
def test_rule_file_loads(path):
    assert path not in ERRORS, str(ERRORS.get(path))


def test_every_error_belongs_to_a_rule_file():
    assert set(ERRORS) <= set(FILES), [str(e) for p, e in ERRORS.items() if p not in FILES]


@pytest.mark.parametrize(("rule", "test"), CASES, ids=[f"{r.id}::{t.name}" for r, t in CASES])
def test_embedded(rule, test):
    result = run_test(rule, RULESET.trees[rule.id], test)
    assert result.passed, result.message


@pytest.mark.parametrize("rule", list(RULESET), ids=[r.id for r in RULESET])
def test_rule_asserts_amounts(rule):
    # amount_at_risk feeds the case score, so a rule whose tests only check who is flagged
    # could report any amount unnoticed
    assert any(t.expect_amounts for t in rule.tests), f"{rule.id}: no embedded test has expect_amounts"
