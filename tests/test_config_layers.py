"""Layered configuration: extends, profiles, county and year sections, precedence, explain, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwatch.cli import main
from fundwatch.config import load_config
from fundwatch.errors import ConfigError
from fundwatch.rules import load_rules

RULES = load_rules()
RULE, PARAM = "dibao.over_standard", "tolerance"
COUNTY = "411522001001"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def rules_dir(tmp_path) -> Path:
    """A rules folder holding only profiles (the rule files themselves come from the checkout)."""
    write(tmp_path / "rules" / "profiles" / "any_car.toml", f'[params."{RULE}"]\n{PARAM} = 11\nrural_standard = 555\n')
    return tmp_path / "rules"


def test_extends_profile_province_county_and_year_resolve_nearest_first(tmp_path, rules_dir):
    write(tmp_path / "province.toml", f"""
[params."{RULE}"]
{PARAM} = 20
urban_standard = 790
[county."4115".params."{RULE}"]
{PARAM} = 21
[county."411522".params."{RULE}"]
{PARAM} = 22
[county."411522".year.2024.params."{RULE}"]
{PARAM} = 24
""")
    cfg = write(tmp_path / "county" / "fundwatch.toml", f"""
extends = ["profile:any_car", "../province.toml"]
[params."{RULE}"]
urban_standard = 780
[year.2024.params."{RULE}"]
urban_standard = 800
""")
    config = load_config(cfg, rules_dir)
    config.validate_against(RULES)
    rule = RULES[RULE]
    plain = config.rule_params(rule)
    assert (plain[PARAM], plain["urban_standard"], plain["rural_standard"]) == (20, 780, 555)
    county = config.resolve(year=2023, county=COUNTY).rule_params(rule)
    assert (county[PARAM], county["urban_standard"]) == (22, 780)
    both = config.resolve(year=2024, county=COUNTY).rule_params(rule)
    assert (both[PARAM], both["urban_standard"]) == (24, 800)
    elsewhere = config.resolve(year=2024, county="130123100201").rule_params(rule)
    assert (elsewhere[PARAM], elsewhere["urban_standard"]) == (20, 800)
    explained = {s.param: s for s in config.resolve(year=2024, county=COUNTY).explain(rule)}
    assert explained[PARAM].source.endswith('province.toml: county."411522".year.2024.params."dibao.over_standard".tolerance')
    assert explained["urban_standard"].source.endswith('fundwatch.toml: year.2024.params."dibao.over_standard".urban_standard')
    assert explained["rural_standard"].source.endswith("any_car.toml: params.\"dibao.over_standard\".rural_standard")
    assert explained["tolerance_share"].source.startswith("rule default (source: ")
    assert [Path(f).name for f in config.files] == ["any_car.toml", "province.toml", "fundwatch.toml"]


def test_config_show_prints_each_value_with_its_source(tmp_path, rules_dir, capsys):
    cfg = write(tmp_path / "fundwatch.toml", f'extends = ["profile:any_car"]\n[year.2024.params."{RULE}"]\n{PARAM} = 40\n')
    args = ["config", "show", "--config", str(cfg), "--rules", str(rules_dir.parent / "rules"), "--rule", RULE]
    # The rules folder must hold the rule files too: use the checkout's, with the profile beside them.
    import shutil

    from fundwatch.rules.catalogue import default_rules_dir

    shutil.copytree(default_rules_dir(), rules_dir, dirs_exist_ok=True)
    assert main([*args, "--year", "2024"]) == 0
    out = capsys.readouterr().out
    assert f"{PARAM} = 40.00    {cfg}: year.2024.params.\"{RULE}\".{PARAM}" in out
    assert "(over 11 from" in out and "any_car.toml" in out
    assert main(args) == 0
    assert f"{PARAM} = 11.00    " in capsys.readouterr().out


# --- precedence as a property --------------------------------------------------------------
SECTION_KINDS = ("base", "county", "year", "county_year")
PREFIXES = ("41", "4115", "411522", "411522001")


@st.composite
def layered_files(draw):
    """1-4 files, each extending the one before, each with some sections setting the param."""
    files = []
    for _ in range(draw(st.integers(1, 4))):
        sections = draw(st.lists(st.tuples(st.sampled_from(SECTION_KINDS), st.sampled_from(PREFIXES),
                                           st.sampled_from((2023, 2024))), max_size=5, unique=True))
        files.append(sections)
    return files


def _nearest(files, year, county):
    """The oracle: from the named (last) file back to the first, the most specific section
    that applies, counties by their longest prefix."""
    numbered = [[(kind, prefix, y, f"{i}-{j}") for j, (kind, prefix, y) in enumerate(sections)]
                for i, sections in enumerate(files)]
    for sections in reversed(numbered):
        for kind in ("county_year", "year", "county", "base"):
            found = [s for s in sections if s[0] == kind
                     and (kind in ("base", "year") or county.startswith(s[1]))
                     and (kind in ("base", "county") or s[2] == year)]
            found.sort(key=lambda s: len(s[1]) if "county" in kind else 0)
            if found:
                return found[-1][3]
    return None


def _toml(sections, extends) -> str:
    lines = [f'extends = ["{extends}"]'] if extends else []
    seen = set()
    for kind, prefix, year in sections:
        if kind == "base":
            table = "params"
        elif kind == "county":
            table = f'county."{prefix}".params'
        elif kind == "year":
            table = f"year.{year}.params"
        else:
            table = f'county."{prefix}".year.{year}.params'
        if table in seen:  # the same table twice is not TOML; the oracle keeps the first
            continue
        seen.add(table)
        lines += [f'[{table}."{RULE}"]', f"{PARAM} = {{value}}"]
    return "\n".join(lines)


@settings(max_examples=60, deadline=None)
@given(files=layered_files(), year=st.sampled_from((2023, 2024)), county=st.sampled_from((COUNTY, "130123100201")))
def test_resolved_value_is_the_nearest_layers(tmp_path_factory, files, year, county):
    folder = tmp_path_factory.mktemp("layers")
    # Drop repeated tables in the oracle's input as the writer does, and number each value.
    cleaned = []
    for sections in files:
        tables, kept = set(), []
        for s in sections:
            key = (s[0], s[1] if "county" in s[0] else "", s[2] if "year" in s[0] else 0)
            if key not in tables:
                tables.add(key)
                kept.append(s)
        cleaned.append(kept)
    path = None
    for i, sections in enumerate(cleaned):
        text = _toml(sections, path.name if path else None)
        for j in range(len(sections)):
            text = text.replace("{value}", str(1000 + i * 10 + j), 1)
        path = write(folder / f"f{i}.toml", text)
    config = load_config(path, folder)
    config.validate_against(RULES)
    got = config.resolve(year=year, county=county).rule_params(RULES[RULE])[PARAM]
    expected = _nearest(cleaned, year, county)
    if expected is None:
        assert got == RULES[RULE].params[PARAM].default
    else:
        i, j = map(int, expected.split("-"))
        assert got == 1000 + i * 10 + j


# --- errors name the file and the key --------------------------------------------------------
@pytest.mark.parametrize("text, key, message", [
    ('[params."dibao.nosuch"]\nx = 1\n', '[params."dibao.nosuch"]', "names no known rule"),
    (f'[county."411522".params."{RULE}"]\nnosuch = 1\n', f'county."411522".params."{RULE}".nosuch',
     "has no parameter 'nosuch'"),
    (f'[year.2024.params."{RULE}"]\n{PARAM} = "ten"\n', f'year.2024.params."{RULE}".{PARAM}', "is not a valid money"),
    (f'[county."41x5".params."{RULE}"]\n{PARAM} = 1\n', 'county."41x5"', "region-code prefix"),
    (f'[year.next.params."{RULE}"]\n{PARAM} = 1\n', "year.next", "must be a year"),
    (f'[params."{RULE}".years.2024]\n{PARAM} = 1\n', f'params."{RULE}".years', "not a table"),
    ('extends = ["profile:nosuch"]\n', "extends", "profile 'nosuch' not found"),
    ('extends = ["missing.toml"]\n', "extends", "no such file"),
    ("[weird]\nx = 1\n", "unknown section", "weird"),
    ("county = 5\n", "county", "must be a table"),
    ('[county."411522".scan]\nx = 1\n', 'county."411522".scan', "unknown key"),
])
def test_errors_name_file_and_key(tmp_path, rules_dir, text, key, message):
    cfg = write(tmp_path / "county.toml", text)
    with pytest.raises(ConfigError) as err:
        load_config(cfg, rules_dir).validate_against(RULES)
    assert str(cfg) in str(err.value) and key in str(err.value) and message in str(err.value)


def test_an_error_in_an_extended_file_names_that_file(tmp_path, rules_dir):
    bad = write(tmp_path / "province.toml", f'[county."411522".params."{RULE}"]\n{PARAM} = "ten"\n')
    cfg = write(tmp_path / "county" / "fundwatch.toml", 'extends = ["../province.toml"]\n')
    with pytest.raises(ConfigError) as err:
        load_config(cfg, rules_dir).validate_against(RULES)
    assert str(bad) in str(err.value) and f'county."411522".params."{RULE}".{PARAM}' in str(err.value)


def test_a_cycle_in_extends_is_named(tmp_path, rules_dir):
    write(tmp_path / "a.toml", 'extends = ["b.toml"]\n')
    write(tmp_path / "b.toml", 'extends = ["a.toml"]\n')
    with pytest.raises(ConfigError, match=r"b\.toml: extends: 'a\.toml' makes a cycle: .*a\.toml -> .*b\.toml -> .*a\.toml"):
        load_config(tmp_path / "a.toml", rules_dir)


def test_a_file_reached_twice_is_read_once_at_its_first_place(tmp_path, rules_dir):
    write(tmp_path / "base.toml", f'[params."{RULE}"]\n{PARAM} = 1\n')
    write(tmp_path / "mid.toml", f'extends = ["base.toml"]\n[params."{RULE}"]\n{PARAM} = 2\n')
    cfg = write(tmp_path / "top.toml", 'extends = ["mid.toml", "base.toml"]\n')
    config = load_config(cfg, rules_dir)
    assert [Path(f).name for f in config.files] == ["base.toml", "mid.toml", "top.toml"]
    assert config.rule_params(RULES[RULE])[PARAM] == 2


@pytest.mark.parametrize("profile", sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "rules" / "profiles")
                                          .glob("*.toml")))
def test_every_shipped_profile_sets_parameters_the_rules_have(tmp_path, profile):
    """A profile names a real rule and parameter and changes its value: a typo fails here, not in a county."""
    from fundwatch.rules.catalogue import default_rules_dir

    rules = load_rules()
    county = tmp_path / "fundwatch.toml"
    county.write_text(f'extends = ["profile:{profile}"]\n', encoding="utf-8")
    config = load_config(county, rules_dir=default_rules_dir()).resolve(year=2023)
    plain = load_config(None, rules_dir=default_rules_dir()).resolve(year=2023)
    changed = [r for r in rules.rules.values() if config.rule_params(r) != plain.rule_params(r)]
    assert changed, f"profile {profile} changes no rule's parameters"
    text = (default_rules_dir() / "profiles" / f"{profile}.toml").read_text(encoding="utf-8")
    assert text.lstrip().startswith("#"), "a profile says what law or practice it stands for"
