"""Issue 9, SQL injection and rule files as data.

Every value a user hands fundwatch (CLI filters, case ids, review notes, config and rule
parameters, mapping-file headers, file, folder and column names) reaches SQL as a bound
parameter, a validated literal or a quoted identifier: classic injections fail harmlessly,
and the workspace is the same afterwards. A rule file is data: no YAML tag builds an
object, no alias bomb expands, no template or query reaches outside the contract's tables.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fundwatch.cli import main
from fundwatch.config import load_config
from fundwatch.errors import ConfigError
from fundwatch.load.headers import read_mapping
from fundwatch.rules import load_rules
from fundwatch.rules.params import coerce
from fundwatch.rules.render import literal
from fundwatch.workspace import Workspace
from tests.conftest import make_id
from tests.test_history import write_world

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "rules" / "dibao" / "public_staff.yaml"
EVIL = [
    "x' OR '1'='1",
    "'; DROP TABLE fw_runs; --",
    '"; DROP TABLE deaths; --',
    "x') UNION SELECT case_id, note FROM fw_reviews --",
    "%' OR 1=1 --",
    "\\'; DELETE FROM fw_cases; --",
    "R1' || (SELECT count(*) FROM fw_runs) || '",
    "$$; DROP TABLE civil_servants; $$",
]


def snapshot(path) -> dict:
    """Every table of the workspace with its row count."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1").fetchall()]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sql")
    write_world(tmp / "data")
    ws = tmp / "ws.duckdb"
    assert main(["--workspace", str(ws), "scan", "--year", "2023", "--data", str(tmp / "data"),
                 "--out", str(tmp / "out"), "--no-outliers"]) == 0
    return tmp, ws


def cli(ws, *args) -> int:
    return main(["--workspace", str(ws), "--wait", "5", *args])


# --- CLI filters, case ids, review text ------------------------------------------------------


@pytest.mark.parametrize("evil", EVIL)
def test_cli_filters_and_case_ids_fail_harmlessly(scanned, evil, capsys):
    tmp, ws = scanned
    before = snapshot(ws)
    assert cli(ws, "cases", "--run", evil) == 0
    assert "no cases" in capsys.readouterr().out
    assert cli(ws, "cases", "--program", evil) == 2  # a closed choice
    assert cli(ws, "cases", "--status", evil) == 2
    assert cli(ws, "runs", "--year", evil) == 2  # an integer
    assert cli(ws, "review", evil, "--status", "cleared") == 2
    assert "no case" in capsys.readouterr().err
    assert cli(ws, "scan", "--year", "2023", "--rule", evil, "--out", str(tmp / "x")) == 2
    truth = tmp / "truth.csv"
    truth.write_text(f"kind,entity_id,year,rule_id\nanomaly,\"{evil}\",2023,\"{evil}\"\n", encoding="utf-8")
    assert cli(ws, "evaluate", "--truth", str(truth), "--year", "2023") == 0
    assert snapshot(ws) == before


def test_review_text_is_stored_exactly_as_given(scanned):
    tmp, ws = scanned
    con = duckdb.connect(str(ws), read_only=True)
    case_id = con.execute("SELECT case_id FROM fw_cases LIMIT 1").fetchone()[0]
    con.close()
    before = snapshot(ws)
    for evil in EVIL:
        assert cli(ws, "review", case_id, "--status", "in_progress", "--note", evil, "--author", evil) == 0
    con = duckdb.connect(str(ws), read_only=True)
    stored = con.execute("SELECT note, author FROM fw_reviews WHERE case_id = ? ORDER BY reviewed_at",
                         [case_id]).fetchall()
    con.close()
    assert stored[-len(EVIL):] == [(e, e) for e in EVIL]
    after = snapshot(ws)
    assert after.pop("fw_reviews") == before.pop("fw_reviews") + len(EVIL) and after == before


def test_truth_file_with_a_bad_year_is_a_clear_error(scanned):
    tmp, ws = scanned
    truth = tmp / "bad_year.csv"
    truth.write_text("kind,entity_id,year\nanomaly,H1,2023' OR 1=1\n", encoding="utf-8")
    assert cli(ws, "evaluate", "--truth", str(truth)) == 2


# --- literals: what validated values become in SQL -----------------------------------------------


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(text=st.text(max_size=60))
def test_string_literals_round_trip_through_duckdb(text):
    # Defence in depth: even a value that skipped validation is one string literal.
    text = text.replace("\x00", "")
    con = duckdb.connect()
    assert con.execute(f"SELECT {literal(text).sql(dialect='duckdb')}").fetchone()[0] == text
    assert con.execute(f"SELECT {literal([text, 'b']).sql(dialect='duckdb')}").fetchone()[0] == [text, "b"]
    con.close()


@pytest.mark.parametrize(("ptype", "value"), [
    ("string", "x' OR '1'='1"), ("string", "soe\n"), ("string", "a;b"), ("string_list", ["government", "x'--"]),
    ("int", "1; DROP TABLE deaths"), ("int", float("inf")), ("number", float("nan")), ("number", "inf"),
    ("money", "NaN"), ("money", "1e400"), ("money", [1]), ("date", "2023-01-01'); DROP TABLE deaths; --"),
    ("date", ["2023-01-01"]), ("bool", "true; DROP"),
])
def test_parameter_values_are_typed_or_refused(ptype, value):
    with pytest.raises(ValueError, match=f"is not a valid {ptype}"):
        coerce(ptype, value, "params.x")


def test_config_with_nan_or_inf_is_refused(tmp_path):
    cfg = tmp_path / "fundwatch.toml"
    cfg.write_text('[params."dibao.vehicle"]\nprice_threshold = nan\n')
    with pytest.raises(ConfigError, match=r"params\.dibao\.vehicle\.price_threshold is nan or inf"):
        load_config(cfg)
    cfg.write_text("[scoring]\ncleared_factor = inf\n")
    with pytest.raises(ConfigError, match="scoring.cleared_factor"):
        load_config(cfg)


def test_config_values_that_reach_feature_sql_are_literals(tmp_path):
    data = tmp_path / "data"
    write_world(data)
    cfg = tmp_path / "fundwatch.toml"
    words = ["x' OR 1=1) --", "'; DROP TABLE dibao_payments; --", "%", "_"]
    cfg.write_text(textwrap.dedent(f"""
        [outliers]
        protected_programmes = {words!r}
        protected_programme_words = {words!r}
        """).replace("'", '"').replace('"; DROP', "'; DROP").replace('x" OR', "x' OR"))
    assert load_config(cfg).outliers["protected_programmes"] == words
    ws = tmp_path / "ws.duckdb"
    assert main(["--workspace", str(ws), "scan", "--year", "2023", "--data", str(data), "--config", str(cfg),
                 "--out", str(tmp_path / "out")]) == 0
    counts = snapshot(ws)
    assert counts["dibao_payments"] == 117 and counts["fw_runs"] == 1


# --- names from the data folder ----------------------------------------------------------------


def test_hostile_file_folder_column_and_mapping_names(tmp_path):
    evil_dir = tmp_path / "d'ir\"; DROP TABLE deaths; --"
    (evil_dir / "deaths").mkdir(parents=True)
    header = "x'); DROP TABLE deaths; --"
    (evil_dir / "deaths" / "x'); DROP TABLE fw_runs; --.csv").write_text(
        f'"{header}",death_date,"y""; DROP TABLE fw_loads; --"\n{make_id(1)},2023-01-01,z\n', encoding="utf-8")
    (evil_dir / "vehicles; DROP TABLE fw_meta.csv").write_text("person_id\n1\n", encoding="utf-8")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(f'[deaths]\n"{header}" = "person_id"\n', encoding="utf-8")
    ws_path = tmp_path / "w'o\"rk.duckdb"
    with Workspace(ws_path) as ws:
        report = ws.load(evil_dir, mapping=mapping)
        assert report.tables["deaths"].rows_loaded == 1
        assert report.ignored == ["vehicles; DROP TABLE fw_meta.csv"]
        assert ws.con.execute("SELECT person_id FROM deaths").fetchall() == [(make_id(1),)]
    counts = snapshot(ws_path)
    # fw_meta: schema_version and case_key, both still there
    assert counts["deaths"] == 1 and counts["fw_loads"] == 1 and counts["fw_meta"] == 2


def test_mapping_file_is_bounded_plain_data(tmp_path):
    bomb = tmp_path / "mapping.yaml"
    lol = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lol += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]"
            for i in range(1, 10)]
    bomb.write_text("\n".join(lol) + "\ndeaths: {x: *a9}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="aliases"):
        read_mapping(bomb)
    evil = tmp_path / "evil.yaml"
    marker = tmp_path / "pwned"
    evil.write_text(f"deaths: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        read_mapping(evil)
    assert not marker.exists()
    deep = tmp_path / "deep.yaml"
    deep.write_text("deaths: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nested too deeply"):
        read_mapping(deep)


# --- rule files are data ---------------------------------------------------------------------------


@pytest.fixture
def rules_dir(tmp_path):
    d = tmp_path / "rules" / "dibao"
    d.mkdir(parents=True)
    (d / "public_staff.yaml").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path / "rules"


def write_rule(rules_dir, name, old, new, prefix=""):
    text = EXAMPLE.read_text(encoding="utf-8").replace("id: dibao.public_staff", f"id: dibao.{name}")
    assert old in text, old
    (rules_dir / "dibao" / f"{name}.yaml").write_text(prefix + text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:os.system ['touch {marker}']",
    "!!python/name:os.system",
    "!!python/module:os",
    "!<tag:yaml.org,2002:python/object/apply:os.system> ['touch {marker}']",
])
@pytest.mark.parametrize("where", ["status", "query", "tests"])
def test_yaml_tags_cannot_build_objects(rules_dir, tmp_path, tag, where):
    marker = tmp_path / "pwned"
    payload = tag.format(marker=marker)
    old = {"status": "status: stable", "query": "query: |", "tests": "    expect: [H1]"}[where]
    new = {"status": f"status: {payload}", "query": f"query: {payload}\nx_query: |",
           "tests": f"    expect: {payload}"}[where]
    write_rule(rules_dir, "evil", old, new)
    ruleset = load_rules(rules_dir)
    assert not marker.exists()
    assert list(ruleset.rules) == ["dibao.public_staff"] and [e.field for e in ruleset.errors] == ["(yaml)"]


BOMB = "tags:\n  - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"  - &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9))


def load_in_a_small_box(rules_dir, seconds=60, memory_mb=1500) -> subprocess.CompletedProcess:
    """Load the rules in a child with a memory cap and a deadline: a bomb must not take the suite down."""
    code = textwrap.dedent(f"""
        import resource, sys, time
        resource.setrlimit(resource.RLIMIT_AS, ({memory_mb} << 20, {memory_mb} << 20))
        from fundwatch.rules import load_rules
        t = time.monotonic()
        rs = load_rules({str(rules_dir)!r})
        print(sorted(rs.rules), [(e.field, str(e)[:200]) for e in rs.errors], round(time.monotonic() - t, 1))
    """)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=seconds,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_alias_bomb_in_a_parameter_default_is_a_broken_rule_not_a_hang(rules_dir):
    write_rule(rules_dir, "bomb", "matched_on: person_id",
               "matched_on: person_id\nparams:\n  p: {type: int, default: *a8, description: x}", prefix=BOMB)
    done = load_in_a_small_box(rules_dir)
    assert done.returncode == 0, done.stderr[-2000:]
    # Refused while reading the YAML (aliases are not data fundwatch needs), before any field is read.
    assert "['dibao.public_staff']" in done.stdout and "(yaml)" in done.stdout and "aliases" in done.stdout


def test_alias_bomb_in_embedded_tests_is_a_broken_rule_not_a_hang(rules_dir):
    write_rule(rules_dir, "bomb", "    expect: [H1]", "    expect: *a8", prefix=BOMB)
    try:
        done = load_in_a_small_box(rules_dir)
    except subprocess.TimeoutExpired:
        pytest.fail("loading the rules did not finish")
    assert done.returncode == 0, done.stderr[-500:]
    assert "['dibao.public_staff']" in done.stdout and "(yaml)" in done.stdout


def test_deeply_nested_rule_file_is_a_broken_rule(rules_dir):
    (rules_dir / "dibao" / "deep.yaml").write_text("tags: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    ruleset = load_rules(rules_dir)
    assert list(ruleset.rules) == ["dibao.public_staff"] and len(ruleset.errors) == 1


@pytest.mark.parametrize(("old", "new"), [
    ("FROM dibao_payments p", "FROM read_csv('/etc/passwd') p"),
    ("FROM dibao_payments p", "FROM '/etc/passwd' p"),
    ("FROM dibao_payments p", "FROM read_text('/etc/hostname') p"),
    ("FROM dibao_payments p", "FROM glob('/*') p"),
    ("FROM dibao_payments p", "FROM fw_reviews p"),
    ("JOIN dibao_members m", "JOIN (SELECT * FROM read_parquet('/tmp/x.parquet')) m"),
    ("WITH flagged AS (", "ATTACH '/tmp/x.duckdb' AS x; WITH flagged AS ("),
    ("WITH flagged AS (", "COPY fw_cases TO '/tmp/x.csv'; WITH flagged AS ("),
    ("WITH flagged AS (", "INSTALL httpfs; WITH flagged AS ("),
])
def test_rule_queries_cannot_reach_outside_the_contract(rules_dir, old, new):
    write_rule(rules_dir, "reach", old, new)
    ruleset = load_rules(rules_dir)
    assert list(ruleset.rules) == ["dibao.public_staff"]
    assert [e.field for e in ruleset.errors] == ["query"], [str(e) for e in ruleset.errors]


@pytest.mark.parametrize("field", ["{entity_id.__class__}", "{entity_id[0]}", "{0}", "{entity_id.__init__.__globals__}"])
def test_summary_templates_are_plain_names(rules_dir, field):
    write_rule(rules_dir, "tpl", "{payments} payments", f"{field} payments")
    errors = load_rules(rules_dir).errors
    assert [e.field for e in errors] == ["summary.en"], [str(e) for e in errors]


@pytest.mark.parametrize("default", ["\"x' OR '1'='1\"", "[government, \"x'); DROP TABLE deaths; --\"]"])
def test_rule_parameter_defaults_are_validated(rules_dir, default):
    ptype = "string_list" if default.startswith("[") else "string"
    write_rule(rules_dir, "param", "matched_on: person_id",
               f"matched_on: person_id\nparams:\n  kinds: {{type: {ptype}, default: {default}, description: x}}")
    errors = load_rules(rules_dir).errors
    assert [e.field for e in errors] == ["params.kinds.default"], [str(e) for e in errors]
