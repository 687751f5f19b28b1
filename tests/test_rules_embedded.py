"""Every rule file loads cleanly and passes its embedded tests (positives and near misses)."""

import pytest

from fundwatch.rules import load_rules
from fundwatch.rules.testing import run_test

RULESET = load_rules()
CASES = [(rule, test) for rule in RULESET for test in rule.tests]


def test_catalogue_has_no_broken_files():
    assert not RULESET.errors, "\n".join(str(e) for e in RULESET.errors)


@pytest.mark.parametrize(("rule", "test"), CASES, ids=[f"{r.id}::{t.name}" for r, t in CASES])
def test_embedded(rule, test):
    result = run_test(rule, RULESET.trees[rule.id], test)
    assert result.passed, result.message
