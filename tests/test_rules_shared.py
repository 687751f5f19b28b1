"""rules/shared.yaml (fundwatch/rules/shared.py): what several rules share is said once, and a
rule that uses it reads, checks, runs and is versioned as if it were written in the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from fundwatch.config import Config
from fundwatch.errors import RuleError
from fundwatch.rules import load_rules
from fundwatch.rules.catalogue import default_rules_dir, read_rule_file
from fundwatch.rules.runner import run_rule
from fundwatch.rules.shared import read_shared
from fundwatch.rules.testing import fresh_engine, insert_rows

RULES = default_rules_dir()
SHARED = read_shared(RULES / "shared.yaml")
RENT_RULES = ["double_lease", "owns_property", "public_staff_income", "tenant_deceased", "third_party_payer",
              "vacant_sublet", "vehicle"]


def test_the_rent_standard_is_declared_once_and_every_housing_rule_that_prices_rent_uses_it():
    rules = load_rules()
    assert not rules.errors
    declared = SHARED.params["public_rent_share"]
    for name in RENT_RULES:
        rule = rules[f"housing.{name}"]
        text = rule.path.read_text(encoding="utf-8")
        param = rule.params["public_rent_share"]
        assert (param.type, param.default, param.description) == (declared["type"], declared["default"],
                                                                  declared["description"])
        assert "public_rent_share: shared" in text and "rental_subsidy(" in text
        assert ":public_rent_share" not in text  # the formula is the macro's only
    users = [p.stem for p in (RULES / "housing").glob("*.yaml") if "public_rent_share" in p.read_text(encoding="utf-8")]
    assert sorted(users) == RENT_RULES


def _own_folder(tmp_path: Path, rule_text: str | None = None, shared_text: str | None = None) -> Path:
    (tmp_path / "housing").mkdir()
    path = tmp_path / "housing" / "vehicle.yaml"
    path.write_text(rule_text or (RULES / "housing" / "vehicle.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    if shared_text is not None:
        (tmp_path / "shared.yaml").write_text(shared_text, encoding="utf-8")
    return path


def test_a_folder_without_shared_yaml_uses_the_installed_one_and_its_own_when_it_has_one(tmp_path):
    path = _own_folder(tmp_path)
    installed = read_rule_file(path)[0]
    assert installed.params["public_rent_share"].default == 0.7
    # The folder's own shared.yaml: another default, and the rule's version moves with the file.
    text = SHARED.text.replace("default: 0.7", "default: 0.5")
    (tmp_path / "shared.yaml").write_text(text, encoding="utf-8")
    own = read_rule_file(path)[0]
    assert own.params["public_rent_share"].default == 0.5 and own.version != installed.version


def test_the_macro_computes_what_the_formula_written_out_computes():
    """rental_subsidy(rent) = round(rent × (1 / share − 1), 2), here on the rule's own test data
    with a share the county might set: the expanded query gives the amounts of the formula."""
    rules = load_rules()
    rule, tree = rules["housing.vehicle"], rules.trees["housing.vehicle"]
    test = rule.tests[0]
    engine = fresh_engine()
    for table, rows in test.data.items():
        assert not insert_rows(engine.con, table, rows)
    params = {**Config().rule_params(rule), **test.params, "public_rent_share": 0.6}
    hits = run_rule(engine, rule, tree, test.year, params)
    assert len(hits)
    months = {r.entity_id: r.months for r in hits.itertuples()}
    rent = dict(engine.con.execute("SELECT tenancy_id, max(monthly_rent) FROM housing_tenancies GROUP BY ALL").fetchall())
    for r in hits.itertuples():
        assert r.amount_at_risk == pytest.approx(round(months[r.entity_id] * float(rent[r.entity_id]) * (1 / 0.6 - 1), 2))


@pytest.mark.parametrize("change, field, says", [
    (("rental_subsidy(count(*) * coalesce(max(pm.monthly_rent), 0))",
      "rental_subsidy(count(*), coalesce(max(pm.monthly_rent), 0))"), "query", "takes 1 argument(s) (rent), given 2"),
    (("public_rent_share: shared", "rent_share: shared"), "params.rent_share", "is not a parameter of shared.yaml"),
    (("  public_rent_share: shared\n", ""), "query", "undeclared parameter(s) :public_rent_share"),
])
def test_a_rule_that_misuses_shared_yaml_is_refused_naming_the_field(tmp_path, change, field, says):
    text = (RULES / "housing" / "vehicle.yaml").read_text(encoding="utf-8")
    assert change[0] in text
    path = _own_folder(tmp_path, text.replace(change[0], change[1]))
    with pytest.raises(RuleError) as e:
        read_rule_file(path)
    assert e.value.field == field and says in str(e.value)


def test_a_broken_shared_yaml_is_an_error_naming_it(tmp_path):
    path = _own_folder(tmp_path, shared_text="macros:\n  rental_subsidy: {args: [rent]}\n")
    with pytest.raises(RuleError, match=r"shared\.yaml: macros\.rental_subsidy: must be"):
        read_rule_file(path)


def test_the_installed_rules_ship_shared_yaml():
    data_files = (Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"share/fundwatch/rules" = ["rules/shared.yaml"]' in data_files
