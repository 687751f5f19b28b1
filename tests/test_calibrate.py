"""fundwatch calibrate on a small county written here: standards of 780 urban / 620 rural and a
classified allowance of +30 yuan a month for many households, plus two real over-payments."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from fundwatch.calibrate.conventions import conventions, conventions_of_run
from fundwatch.calibrate.run import calibrate
from fundwatch.calibrate.writer import write_toml
from fundwatch.cli import main
from fundwatch.config import Config, load_config
from fundwatch.errors import RuleError
from fundwatch.rules import load_rules
from fundwatch.rules.catalogue import default_rules_dir
from fundwatch.rules.runner import run_rules
from fundwatch.workspace import Workspace
from tests.conftest import make_id

URBAN, RURAL = "411522001001", "411522100201"
YEAR = 2023
RULE = "dibao.over_standard"
RULES = load_rules()
# (how many, region, size, declared income, paid above the formula): the formula is 780 urban,
# 620 rural, × size − income.
GROUPS = [
    (16, URBAN, 1, 0, 0), (16, RURAL, 1, 0, 0),   # paid at the standard
    (3, URBAN, 3, 300, 0),                         # paid the formula
    (4, URBAN, 1, 0, 30), (4, RURAL, 1, 0, 30), (2, RURAL, 2, 0, 30),  # classified allowance
]
REAL = {"HR1": (RURAL, 2, 0, 500), "HR2": (RURAL, 1, 0, 150)}  # over-payments that are not an allowance
LOOK_ALIKES = {f"H{i:03d}" for i in range(35, 45)}


def _write(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_county(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    households, payments = [], []
    shapes = [g[1:] for g in GROUPS for _ in range(g[0])]
    specs = [(f"H{n:03d}", *shape) for n, shape in enumerate(shapes)]
    specs += [(hid, *v) for hid, v in REAL.items()]
    for n, (hid, region, size, income, above) in enumerate(specs):
        households.append({"household_id": hid, "head_id": make_id(n), "region_code": region,
                           "start_date": "2020-01-01", "household_size": size, "declared_monthly_income": income})
        standard = 780 if region == URBAN else 620
        for month in range(1, 13):
            payments.append({"payment_id": f"{hid}-{month}", "household_id": hid, "period": f"{YEAR}-{month:02d}",
                             "amount": f"{standard * size - income + above:.2f}"})
    _write(folder / "dibao_households.csv", households)
    _write(folder / "dibao_payments.csv", payments)
    return folder


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    return write_county(tmp_path_factory.mktemp("county") / "data")


@pytest.fixture(scope="module")
def loaded(county):
    ws = Workspace()
    ws.load(county)
    yield ws
    ws.close()


def flagged(ws, config: Config, rules=RULES) -> set[str]:
    hits, _ = run_rules(ws.engine, rules, YEAR, set(ws.loaded_tables()), config, rules=[rules[RULE]])
    return set(hits["entity_id"])


def test_the_look_alikes_are_right_there(loaded):
    households = {r[0] for r in loaded.sql("SELECT household_id FROM dibao_households").fetchall()}
    assert households > LOOK_ALIKES
    standards_only = Config(params={RULE: {"urban_standard": 780, "rural_standard": 620}})
    assert flagged(loaded, standards_only) == LOOK_ALIKES | set(REAL)
    assert flagged(loaded, Config()) == {"HR1"}  # the defaults miss HR2 (770 yuan < 800 + 10)


def test_calibrate_proposes_the_standards_and_the_tolerance_and_the_file_fixes_the_rule(loaded, tmp_path):
    result = calibrate(loaded, YEAR, ruleset=RULES, data="county")
    values = result.values()
    assert values == {RULE: {"urban_standard": 780, "rural_standard": 620, "tolerance": 30}}
    assert result.county == "411522"
    by_param = {p.param: p for p in result.proposals if p.rule_id == RULE}
    # payment + income per member is the standard for the 16 paid at it and the 3 paid the formula;
    # the 4 with an allowance sit above it
    assert "780 yuan for 19 of 23 households" in by_param["urban_standard"].why
    assert any("30 yuan above the formula" in line and "10 households" in line for line in by_param["tolerance"].evidence)
    assert by_param["tolerance_share"].value is None or not by_param["tolerance_share"].changed
    written = write_toml(result, tmp_path / "fundwatch.toml")
    config = load_config(written)
    config.validate_against(RULES)
    assert flagged(loaded, config) == set(REAL)
    text = written.read_text(encoding="utf-8")
    assert "tolerance = 30  # in force before: 10" in text and "# the commonest monthly payment" in text


def test_the_cli_starts_from_a_base_config_lists_the_mis_tuned_rule_and_writes_a_file_that_extends_it(
        county, tmp_path, capsys):
    base = tmp_path / "base.toml"
    base.write_text(f'[params."{RULE}"]\nurban_standard = 780\nrural_standard = 620\n', encoding="utf-8")
    out_file = tmp_path / "county" / "fundwatch.toml"
    out_file.parent.mkdir()
    assert main(["calibrate", "--data", str(county), "--year", str(YEAR), "--config", str(base),
                 "--write", str(out_file)]) == 0
    printed = capsys.readouterr().out
    assert f"{RULE} fires on 26% of its household population (12 of 47)" in printed
    assert "with the proposed values 4%" in printed
    assert f"{RULE} tolerance: propose 30 instead of 10" in printed
    text = out_file.read_text(encoding="utf-8")
    assert 'extends = ["../base.toml"]' in text and "urban_standard" not in text.split("extends")[1]
    ws = Workspace()
    ws.load(county)
    try:
        assert flagged(ws, load_config(out_file)) == set(REAL)
    finally:
        ws.close()


def test_values_in_force_for_the_datas_county_are_not_proposed_again(loaded, tmp_path):
    province = tmp_path / "province.toml"
    province.write_text(f'[county."411522".params."{RULE}"]\ntolerance = 30\n'
                        f'[county."130123".params."{RULE}"]\ntolerance = 99\n', encoding="utf-8")
    result = calibrate(loaded, YEAR, config=load_config(province), ruleset=RULES)
    assert result.values() == {RULE: {"urban_standard": 780, "rural_standard": 620}}
    assert next(p for p in result.proposals if p.param == "tolerance").current == 30


def test_without_write_it_prints_and_writes_nothing(county, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["calibrate", "--data", str(county), "--year", str(YEAR)]) == 0
    assert "propose 780 instead of 800" in capsys.readouterr().out
    assert not list(tmp_path.glob("*.toml"))


def copy_rule(folder: Path) -> Path:
    """A rules folder holding a copy of dibao.over_standard alone."""
    (folder / "dibao").mkdir(parents=True)
    return Path(shutil.copy(default_rules_dir() / "dibao" / "over_standard.yaml", folder / "dibao"))


# --- conventions among a rule's hits ----------------------------------------------------------
@pytest.fixture(scope="module")
def measured_rules(tmp_path_factory) -> object:
    """The rules with dibao.over_standard measuring its worst month's excess (as the rule helper
    declares `measure` in the shipped files)."""
    path = copy_rule(tmp_path_factory.mktemp("rules") / "rules")
    folder = path.parent.parent
    text = path.read_text(encoding="utf-8")
    if "\nmeasure:" not in text:  # until the shipped file declares it
        assert "o.region_code, o.head_id\n" in text
        text = text.replace("o.region_code, o.head_id\n", "o.region_code, o.head_id, o.paid - o.allowed AS excess\n")
        text = text.replace("matched_on: household_id\n",
                            "matched_on: household_id\nmeasure: {column: excess, worse: higher, param: tolerance}\n")
        path.write_text(text, encoding="utf-8")
    rules = load_rules(folder)
    assert not rules.errors and rules[RULE].measure is not None
    return rules


def test_conventions_finds_the_classified_allowance_among_the_hits(loaded, measured_rules):
    config = Config(params={RULE: {"urban_standard": 780, "rural_standard": 620}})
    hits, _ = run_rules(loaded.engine, measured_rules, YEAR, set(loaded.loaded_tables()), config,
                        rules=[measured_rules[RULE]])
    found = conventions(hits, measured_rules[RULE])
    assert len(found) == 1
    p = found[0]
    assert (p.param, p.value, p.kind) == ("tolerance", 30, "convention")
    column = measured_rules[RULE].measure.column
    assert p.why.startswith(f"likely county convention: 10 of 12 hits (10 households) have {column} = 30")
    assert p.config_line == '[params."dibao.over_standard"] tolerance = 30'
    # Already tolerated: nothing to propose; the real over-payments alone are no convention.
    assert conventions(hits, measured_rules[RULE], current=30) == []
    assert [p.value for p in conventions_of_run(hits, measured_rules, config)] == [30]
    tolerated = Config(params={RULE: {"urban_standard": 780, "rural_standard": 620, "tolerance": 30}})
    assert conventions_of_run(hits, measured_rules, tolerated) == []
    real = hits[hits["entity_id"].isin(set(REAL))]
    assert conventions(real, measured_rules[RULE]) == []


def test_conventions_needs_a_tight_cluster_of_enough_hits(loaded, measured_rules):
    import json

    import pandas as pd

    def hits(values):
        return pd.DataFrame({"rule_id": RULE, "entity_id": [f"H{i}" for i in range(len(values))],
                             "amount_at_risk": 1.0, "evidence": [json.dumps({rule.measure.column: v}) for v in values]})

    rule = measured_rules[RULE]
    assert conventions(hits([30, 30, 30, 30]), rule) == []  # four is not many
    assert conventions(hits([30, 95, 160, 240, 333, 420, 512, 600]), rule) == []  # no cluster
    spread = conventions(hits([21, 22, 23, 22, 23, 400, 900]), rule)
    assert [p.value for p in spread] == [25]  # 21-23 yuan: rounded up past the band


# --- calibrate blocks are checked when the rule file loads -------------------------------------
@pytest.mark.parametrize("old, new, field, message", [
    ("      propose: mode\n      min_count: 5\n      min_share: 0.3\n      unit: yuan\n",
     "      propose: median\n      min_count: 5\n      min_share: 0.3\n      unit: yuan\n",
     "params.urban_standard.calibrate.propose", "must be one of"),
    ("        SELECT round((m.paid + l.income) / l.household_size, 0) AS value, count(DISTINCT m.household_id) AS n\n",
     "        SELECT round((m.paid + l.income) / l.household_size, 0) AS value\n",
     "params.urban_standard.calibrate.query", "must return column(s) n"),
    ("        FROM monthly m JOIN latest l ON l.household_id = m.household_id AND l.rn = 1\n",
     "        FROM monthly m JOIN latest l ON l.household_id = m.household_id AND l.rn = 1, deaths\n",
     "params.urban_standard.calibrate.query", "reads deaths"),
    ("      band: [0, 300]\n", "      band: [300, 0]\n", "params.tolerance.calibrate.band", "low <= high"),
    ("      only: higher\n      unit: yuan above", "      only: up\n      unit: yuan above",
     "params.tolerance.calibrate.only", "higher or lower"),
])
def test_a_broken_calibrate_block_names_its_file_and_field(tmp_path, old, new, field, message):
    path = copy_rule(tmp_path / "rules")
    folder = path.parent.parent
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    rules = load_rules(folder)
    assert RULE not in rules.rules
    (err,) = [e for e in rules.errors if isinstance(e, RuleError)]
    assert err.path.endswith("over_standard.yaml") and err.field == field and message in str(err)


def test_largest_common_takes_the_top_of_the_shared_values_not_a_lone_extreme():
    """分类施保 shares: many households at 15%, a dozen at 30%, the two over-payments above them alone."""
    import pandas as pd

    from fundwatch.calibrate.proposals import pick
    from fundwatch.calibrate.spec import specs

    (spec,) = [s for s in specs(RULES.rules[RULE]) if s.param == "allowance_share"]
    frame = pd.DataFrame({"value": [0.15] * 50 + [0.29, 0.3] * 6 + [0.58, 0.81], "n": 1})
    raw, why = pick(spec, frame)
    assert raw == pytest.approx(0.3) and "0.3" in why
    lone = pd.DataFrame({"value": [0.15] * 2 + [0.58, 0.81, 0.9], "n": 1})
    assert pick(spec, lone)[0] is None
