"""The rule engine: validation of rule files, safe loading, outcomes, params and config."""

import shutil
from pathlib import Path

import pytest

from fundwatch.cli import main
from fundwatch.config import Config, load_config
from fundwatch.errors import ConfigError
from fundwatch.rules import load_rules
from fundwatch.rules.runner import run_rules
from fundwatch.rules.testing import fresh_engine, insert_rows

EXAMPLE = Path(__file__).resolve().parent.parent / "rules" / "dibao" / "public_staff.yaml"


@pytest.fixture
def rules_dir(tmp_path):
    d = tmp_path / "rules" / "dibao"
    d.mkdir(parents=True)
    shutil.copy(EXAMPLE, d / "public_staff.yaml")
    return tmp_path / "rules"


def write_variant(rules_dir, name, old, new):
    text = EXAMPLE.read_text(encoding="utf-8").replace("id: dibao.public_staff", f"id: dibao.{name}")
    assert old in text
    (rules_dir / "dibao" / f"{name}.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(("old", "new", "field", "message"), [
    ("level: critical", "level: severe", "level", "must be one of"),
    ("status: stable", "status: stable\nseverity: 3", "severity", "unknown field"),
    ("JOIN staff s ON", "JOIN staff s ONN", "query", "does not parse"),
    ("c.employer_type IN", "c.employer_kind IN", "query", "employer_kind"),
    ("FROM dibao_payments p", "FROM dibao_payments p JOIN deaths d ON d.person_id = p.household_id", "query",
     "not in `inputs`"),
    ("WHERE year(p.period) = :year", "WHERE year(p.period) = :year AND p.amount > :limit", "query", ":limit"),
    ("{payments} payments", "{nonexistent} payments", "summary.en", "not a column the query returns"),
    ("    expect_not: [H6]", "    expect_not: []", "tests[2]", "must name entities"),
    ("matched_on: person_id", "matched_on: person_id\nmerge_on: {person_id: member_id}", "merge_on.person_id",
     "does not return"),
    ("matched_on: person_id", "matched_on: person_id\nfinding: [employer_name]", "finding", "does not return"),
    ("matched_on: person_id", "matched_on: person_id\ninvolves: {account: person_id}", "involves",
     "must map an entity type"),
    ("matched_on: person_id", "matched_on: person_id\nmeasure: {column: payments, worse: more}", "measure.worse",
     "higher or lower"),
    ("matched_on: person_id", "matched_on: person_id\nmeasure: {column: payments, param: limit}", "measure.param",
     "parameter of the rule"),
])
def test_broken_rule_file_is_reported_with_file_and_field_and_others_still_load(rules_dir, old, new, field, message):
    write_variant(rules_dir, "broken", old, new)
    ruleset = load_rules(rules_dir)
    assert list(ruleset.rules) == ["dibao.public_staff"]
    assert len(ruleset.errors) == 1
    err = ruleset.errors[0]
    assert err.path.endswith("broken.yaml") and err.field == field and message in str(err)


def test_finding_fields_are_read_from_the_rule_file(rules_dir):
    write_variant(rules_dir, "with_finding", "matched_on: person_id",
                  "matched_on: person_id\nfinding: [employer]\nmerge_on: {person_id: person_id}\n"
                  "involves: {person: person_id}\nmeasure: {column: payments, worse: higher}")
    rule = load_rules(rules_dir)["dibao.with_finding"]
    assert rule.finding == ("employer",) and rule.merge_on == {"person_id": "person_id"}
    assert rule.involves == {"person": "person_id"}
    assert (rule.measure.column, rule.measure.worse, rule.measure.param) == ("payments", "higher", None)


def test_rule_without_tests_is_broken(rules_dir):
    text = EXAMPLE.read_text(encoding="utf-8").replace("id: dibao.public_staff", "id: dibao.notests")
    (rules_dir / "dibao" / "notests.yaml").write_text(text[: text.index("tests:")], encoding="utf-8")
    assert [e.field for e in load_rules(rules_dir).errors] == ["tests"]


def test_rule_without_a_near_miss_is_broken(rules_dir):
    text = EXAMPLE.read_text(encoding="utf-8").replace("id: dibao.public_staff", "id: dibao.nonearmiss")
    text = text[: text.index("  - name: staff hired only after")].replace("expect_not: [H2, H3]", "expect_not: []")
    (rules_dir / "dibao" / "nonearmiss.yaml").write_text(text, encoding="utf-8")
    errors = load_rules(rules_dir).errors
    assert [e.field for e in errors] == ["tests"] and "near-miss" in str(errors[0])


def test_yaml_cannot_run_python(rules_dir, tmp_path):
    marker = tmp_path / "pwned"
    payload = f"!!python/object/apply:os.system ['touch {marker}']"
    write_variant(rules_dir, "evil", "status: stable", f"status: {payload}")
    ruleset = load_rules(rules_dir)
    assert not marker.exists()
    assert [e.field for e in ruleset.errors] == ["(yaml)"]


def test_rules_test_cli_fails_on_a_failing_or_broken_rule(rules_dir, capsys):
    assert main(["rules", "test", "--rules", str(rules_dir)]) == 0
    write_variant(rules_dir, "wrong", "AND (c.end_date IS NULL OR c.end_date >= coalesce(p.pay_date, p.period))", "")
    assert main(["rules", "test", "--rules", str(rules_dir)]) == 1
    assert "FAIL dibao.wrong :: a civil servant's household is paid — flagged but must not be: H2" in capsys.readouterr().out


def _engine_with_staff(staff=3, households=30):
    engine = fresh_engine()
    assert not insert_rows(engine.con, "civil_servants", [
        {"person_id": f"P{i}", "employer_type": "government", "start_date": "2015-01-01"} for i in range(staff)])
    assert not insert_rows(engine.con, "dibao_members", [
        {"household_id": f"H{i}", "person_id": f"P{i}" if i < staff else f"Q{i}"} for i in range(households)])
    assert not insert_rows(engine.con, "dibao_payments", [
        {"payment_id": str(i), "household_id": f"H{i}", "period": "2023-01", "amount": "100"}
        for i in range(households)])
    return engine


def test_outcomes_found_clean_skipped_and_mis_tuned(rules_dir):
    ruleset = load_rules(rules_dir)
    engine = _engine_with_staff(staff=10)
    present = {"civil_servants", "dibao_members", "dibao_payments"}
    hits, outcomes = run_rules(engine, ruleset, 2023, present, Config())
    assert [(o.status, o.hits) for o in outcomes] == [("found", 10)]
    # 10 of 30 households: above 5% with 95% confidence.
    assert outcomes[0].share == pytest.approx(1 / 3) and outcomes[0].mis_tuned
    assert "probably mis-tuned" in outcomes[0].describe()
    # 3 of 30 (10%) could be 5% or less by chance (Wilson interval's lower end 3.5%): not called out.
    _, outcomes = run_rules(_engine_with_staff(staff=3), ruleset, 2023, present, Config())
    assert outcomes[0].share == pytest.approx(0.1) and not outcomes[0].mis_tuned
    assert hits.iloc[0]["matched_on"] == "person_id" and "P0" in hits.iloc[0]["summary_en"]
    _, outcomes = run_rules(engine, ruleset, 2023, present, Config(mis_tuned_share=0.3))
    assert not outcomes[0].mis_tuned
    # Two hits among twenty is a large share of a small population, not a tuning problem.
    _, outcomes = run_rules(_engine_with_staff(staff=2, households=20), ruleset, 2023, present, Config())
    assert outcomes[0].share == pytest.approx(0.1) and not outcomes[0].mis_tuned
    _, outcomes = run_rules(engine, ruleset, 2022, present, Config())
    assert outcomes[0].status == "clean"
    _, outcomes = run_rules(engine, ruleset, 2023, present - {"civil_servants"}, Config())
    assert outcomes[0].status == "skipped" and outcomes[0].missing == ["civil_servants"]
    assert "could not run" in outcomes[0].describe()


def test_dibao_people_count_in_a_year_only_if_their_household_was_enrolled_then():
    from fundwatch.rules.populations import population

    engine = fresh_engine()
    assert not insert_rows(engine.con, "dibao_households", [
        {"household_id": "H1", "head_id": "P1", "region_code": "522631", "start_date": "2019-05-01",
         "end_date": "2021-06-30"},
        {"household_id": "H2", "head_id": "P3", "region_code": "522631", "start_date": "2022-03-01"}])
    assert not insert_rows(engine.con, "dibao_members", [
        {"household_id": "H1", "person_id": "P1"}, {"household_id": "H1", "person_id": "P2"},
        {"household_id": "H2", "person_id": "P3"}, {"household_id": "H2", "person_id": "P2"}])
    present = {"dibao_households", "dibao_members"}
    counts = {y: population(engine, "dibao", "person", y, present) for y in (2018, 2020, 2021, 2022, 2023)}
    assert counts == {2018: 0, 2020: 2, 2021: 2, 2022: 2, 2023: 2}
    assert population(engine, "dibao", "person", 2023, {"dibao_members"}) is None  # enrolments not loaded


def test_a_rule_out_of_memory_beside_another_query_runs_again_alone(rules_dir, monkeypatch, capsys):
    import duckdb

    import fundwatch.rules.runner as runner

    calls = []

    def short_of_memory_once(engine, rule, *args):
        calls.append(rule.id)
        if len(calls) == 1:  # beside the population query: DuckDB's own exception
            raise duckdb.OutOfMemoryException("Out of Memory Error: failed to pin block of size 256.0 KiB")
        return real(engine, rule, *args)

    real = runner.run_rule
    monkeypatch.setattr(runner, "run_rule", short_of_memory_once)
    ruleset = load_rules(rules_dir)
    present = {"civil_servants", "dibao_members", "dibao_payments"}
    _, outcomes = run_rules(_engine_with_staff(), ruleset, 2023, present, Config())
    assert [(o.status, o.hits) for o in outcomes] == [("found", 3)]  # not an error outcome
    assert calls == ["dibao.public_staff", "dibao.public_staff"]
    assert "dibao.public_staff ran out of memory beside another" in capsys.readouterr().err


def test_optional_input_not_loaded_is_read_as_empty(rules_dir):
    text = EXAMPLE.read_text(encoding="utf-8").replace("id: dibao.public_staff", "id: dibao.optional")
    text = text.replace("matched_on: person_id", "optional_inputs: [deaths]\nmatched_on: person_id")
    text = text.replace("WHERE year(p.period) = :year",
                        "WHERE year(p.period) = :year AND m.person_id NOT IN (SELECT person_id FROM deaths)")
    (rules_dir / "dibao" / "optional.yaml").write_text(text, encoding="utf-8")
    ruleset = load_rules(rules_dir)
    assert not ruleset.errors
    engine = _engine_with_staff()
    assert not insert_rows(engine.con, "deaths", [{"person_id": "P0", "death_date": "2020-01-01"}])
    base = {"civil_servants", "dibao_members", "dibao_payments"}
    rules = [ruleset["dibao.optional"]]
    _, with_deaths = run_rules(engine, ruleset, 2023, base | {"deaths"}, Config(), rules=rules)
    _, without = run_rules(engine, ruleset, 2023, base, Config(), rules=rules)
    # Loaded, the deaths table removes P0's household; not loaded, it is read as empty (stale rows ignored).
    assert (with_deaths[0].status, with_deaths[0].hits) == ("found", 2)
    assert (without[0].status, without[0].hits) == ("found", 3)


def test_expect_amounts_are_checked(rules_dir):
    from fundwatch.rules.testing import run_test

    text = EXAMPLE.read_text(encoding="utf-8").replace("id: dibao.public_staff", "id: dibao.amounts")
    ok = text.replace("    expect: [H1]\n", "    expect: [H1]\n    expect_amounts: {H1: 1300.00}\n", 1)
    (rules_dir / "dibao" / "amounts.yaml").write_text(ok, encoding="utf-8")
    ruleset = load_rules(rules_dir)
    rule = ruleset["dibao.amounts"]
    assert run_test(rule, ruleset.trees[rule.id], rule.tests[0]).passed
    wrong = text.replace("    expect: [H1]\n", "    expect: [H1]\n    expect_amounts: {H1: 650.00}\n", 1)
    (rules_dir / "dibao" / "amounts.yaml").write_text(wrong, encoding="utf-8")
    ruleset = load_rules(rules_dir)
    result = run_test(ruleset["dibao.amounts"], ruleset.trees["dibao.amounts"], ruleset["dibao.amounts"].tests[0])
    assert not result.passed and "amount_at_risk 1300.0 != 650.0" in result.message


def test_config_params_are_typed_and_injection_fails_harmlessly(tmp_path, rules_dir):
    rule_file = rules_dir / "dibao" / "limit.yaml"
    text = EXAMPLE.read_text(encoding="utf-8").replace("id: dibao.public_staff", "id: dibao.limit")
    text = text.replace("matched_on: person_id", "matched_on: person_id\nparams:\n  employer_kind:\n"
                        "    type: string\n    default: government\n    description: which staff\n")
    text = text.replace("c.employer_type IN ('government', 'institution', 'soe')", "c.employer_type = :employer_kind")
    rule_file.write_text(text, encoding="utf-8")
    ruleset = load_rules(rules_dir)
    assert not ruleset.errors
    rule = ruleset["dibao.limit"]
    cfg = tmp_path / "fundwatch.toml"
    cfg.write_text("[params.\"dibao.limit\"]\nemployer_kind = \"x' OR '1'='1\"\n")
    with pytest.raises(ConfigError, match="is not a valid string"):
        load_config(cfg).rule_params(rule)
    cfg.write_text("[params.\"dibao.limit\"]\nnosuch = 1\n")
    with pytest.raises(ConfigError, match="has no parameter 'nosuch'"):
        load_config(cfg).rule_params(rule)
    cfg.write_text("[params.\"dibao.nosuch\"]\nx = 1\n")
    with pytest.raises(ConfigError, match="names no known rule"):
        load_config(cfg).validate_against(ruleset)
    cfg.write_text("[params.\"dibao.limit\"]\nemployer_kind = \"soe\"\n")
    engine = _engine_with_staff()
    present = {"civil_servants", "dibao_members", "dibao_payments"}
    _, outcomes = run_rules(engine, ruleset, 2023, present, load_config(cfg), rules=[rule])
    assert outcomes[0].status == "clean"  # P1 is government, not soe


def test_blank_dates_in_evidence_do_not_break_hits():
    import pandas as pd

    from fundwatch.rules.runner import hits_frame

    rule = load_rules()["dibao.public_staff"]
    result = pd.DataFrame({"entity_id": ["H1", "H2"], "year": [2023, 2023], "amount_at_risk": [1.0, 2.0],
                           "payments": [1, 2], "person_id": ["P1", "P2"], "employer": ["a", None],
                           "employer_type": ["government", "soe"], "staff_members": [1, 1],
                           "end_date": pd.to_datetime(["2023-01-01", None])})
    hits = hits_frame(rule, result)
    assert '"end_date": null' in hits.iloc[1]["evidence"]
    assert "employed by — (soe)" in hits.iloc[1]["summary_en"]


def test_hits_come_in_entity_order_whatever_order_the_query_gave():
    import pandas as pd

    from fundwatch.rules.runner import hits_frame

    rule = load_rules()["dibao.public_staff"]
    result = pd.DataFrame({"entity_id": ["H3", "H1", "H2", "H1"], "year": [2023] * 4,
                           "amount_at_risk": [3.0, 1.0, 2.0, 1.5], "payments": [3, 1, 2, 1],
                           "person_id": ["P3", "P1", "P2", "P0"], "employer": ["a", "b", "c", "d"],
                           "employer_type": ["soe"] * 4, "staff_members": [1] * 4})
    forward = hits_frame(rule, result)
    backward = hits_frame(rule, result.iloc[::-1].reset_index(drop=True))
    pd.testing.assert_frame_equal(forward, backward)
    assert list(forward["entity_id"]) == ["H1", "H1", "H2", "H3"]
    assert forward["evidence"].iloc[0] < forward["evidence"].iloc[1]  # same entity: by evidence


def test_list_parameter_expands_inside_in():
    from fundwatch.rules.render import parse, render

    tree = parse("SELECT 1 AS entity_id FROM civil_servants c WHERE c.employer_type IN (:types)", "x.yaml")
    sql = render(tree, {"types": ["government", "soe"]}, "duckdb")
    assert "IN ('government', 'soe')" in sql
    assert "IN ('government', 'soe')" in render(tree, {"types": ["government", "soe"]}, "spark")


def test_year_filter_is_run_as_a_date_range_with_the_same_rows():
    """`year(col) = :year` becomes a range (row groups outside the year can be skipped); the
    rows are those year() picks, at the year's edges and for NULL too."""
    import duckdb

    from fundwatch.rules.render import parse, render, scan_values

    tree = parse("SELECT d FROM t WHERE year(t.d) = :year AND :year = year(d)", "test")
    sql = render(tree, scan_values(2023), "duckdb")
    assert "YEAR(" not in sql.upper() and "'2024-01-01'" in sql
    con = duckdb.connect()
    con.execute("""CREATE TABLE t AS SELECT * FROM (VALUES (DATE '2022-12-31'), (DATE '2023-01-01'),
        (DATE '2023-12-31'), (DATE '2024-01-01'), (NULL)) v(d)""")
    got = sorted(r[0].isoformat() for r in con.execute(sql).fetchall())
    assert got == ["2023-01-01", "2023-12-31"]
    # Anything but a column compared with :year is left as it was.
    other = render(parse("SELECT d FROM t WHERE year(d + 1) = :year OR year(d) = 2023", "test"), scan_values(2023))
    assert other.upper().count("YEAR(") == 2
