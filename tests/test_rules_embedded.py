"""Every rule file loads cleanly and passes its embedded tests (positives and near misses).

A broken file becomes a failing test named after it (`dibao.name::load`), so selecting a
programme with `-k dibao` cannot hide it.
"""

from pathlib import Path

import pytest

from fundwatch.rules import load_rules
from fundwatch.rules.testing import run_test

RULESET = load_rules()
CASES = [(rule, test) for rule in RULESET for test in rule.tests]
BROKEN = [(f"{Path(e.path).parent.name}.{Path(e.path).stem}", e) for e in RULESET.errors]


def test_catalogue_is_not_empty():
    assert len(RULESET) >= 30


@pytest.mark.parametrize("error", [e for _, e in BROKEN], ids=[f"{name}::load" for name, _ in BROKEN])
def test_rule_file_loads(error):
    pytest.fail(str(error))


@pytest.mark.parametrize(("rule", "test"), CASES, ids=[f"{r.id}::{t.name}" for r, t in CASES])
def test_embedded(rule, test):
    result = run_test(rule, RULESET.trees[rule.id], test)
    assert result.passed, result.message
