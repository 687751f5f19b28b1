"""docs/rule-catalogue.md is generated from the rule files (issue 20 item 5): the committed page is
what the generator writes now, a changed default changes the page, and broken inputs are refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fundwatch.cli import main
from fundwatch.errors import FundwatchError, RuleError
from fundwatch.rules.catalogue import default_rules_dir, read_rule_file
from fundwatch.rules.catalogue_doc import catalogue_markdown, default_template

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "docs" / "rule-catalogue.md"
REGENERATE = "regenerate it with `fundwatch rules catalogue --write docs/rule-catalogue.md`"


@pytest.fixture
def rules_copy(tmp_path) -> Path:
    copy = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), copy)
    return copy


def param_row(text: str, rule_id: str, param: str) -> str:
    """The row of `param` in the parameter table of `rule_id`'s section."""
    section = text.split(f"\n### {rule_id}\n", 1)[1].split("\n### ", 1)[0]
    return next(line for line in section.splitlines() if line.startswith(f"| {param} |"))


def test_the_committed_catalogue_is_the_generated_one():
    assert COMMITTED.read_text(encoding="utf-8") == catalogue_markdown(), f"docs/rule-catalogue.md is stale: {REGENERATE}"


def test_a_changed_default_changes_the_catalogue(rules_copy):
    before = catalogue_markdown(rules_copy)
    assert param_row(before, "subsidy.year_end_spike", "max_share").split(" | ")[2] == "`0.35`"
    path = rules_copy / "subsidy" / "year_end_spike.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("default: 0.35\n") == 1
    path.write_text(text.replace("default: 0.35\n", "default: 0.4\n"), encoding="utf-8")

    after = catalogue_markdown(rules_copy)
    assert param_row(after, "subsidy.year_end_spike", "max_share").split(" | ")[2] == "`0.4`"
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert len(changed) == 1, changed  # that row and nothing else


def test_the_table_shows_the_rule_files_lookalikes_and_entity(rules_copy):
    path = rules_copy / "housing" / "arrears.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  - one late month later paid\n",
                                 "  - one late month later paid\n  - a rent holiday agreed in writing\n"),
                    encoding="utf-8")
    row = next(line for line in catalogue_markdown(rules_copy).splitlines() if line.startswith("| housing.arrears |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:4] == ["housing.arrears", "tenancy", "Public rental rent unpaid for consecutive months",
                         "one late month later paid; a rent holiday agreed in writing"]


def test_the_cli_prints_and_writes_the_same_document(tmp_path, capsys):
    out = tmp_path / "catalogue.md"
    assert main(["rules", "catalogue", "--write", str(out)]) == 0
    capsys.readouterr()
    assert main(["rules", "catalogue"]) == 0
    assert capsys.readouterr().out == out.read_text(encoding="utf-8") == catalogue_markdown()


def test_a_broken_rule_file_is_refused_not_left_out(rules_copy):
    path = rules_copy / "dibao" / "public_staff.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("level: critical", "level: severe"), encoding="utf-8")
    with pytest.raises(FundwatchError, match=r"public_staff\.yaml: level: must be one of"):
        catalogue_markdown(rules_copy)


@pytest.mark.parametrize("change,message", [
    (lambda t: t.replace("{{rule_tables}}", ""), r"must hold \{\{rule_tables\}\} once, found 0 times"),
    (lambda t: t + "\n{{rule_details}}\n", r"must hold \{\{rule_details\}\} once, found 2 times"),
    (lambda t: t.replace("## Dates", "## Dates {{dates}}"), r"line \d+: unknown placeholder"),
])
def test_a_broken_template_is_refused_naming_it(tmp_path, change, message):
    template = tmp_path / "t.md"
    template.write_text(change(default_template().read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(FundwatchError, match=message) as e:
        catalogue_markdown(template=template)
    assert str(template) in str(e.value)


@pytest.mark.parametrize("lookalikes", ["one home", "[1, 2]", "['']"])
def test_lookalikes_must_be_a_list_of_short_texts(rules_copy, lookalikes):
    path = rules_copy / "dibao" / "multiple_properties.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("lookalikes:\n")
    end = text.index("inputs:", start)
    path.write_text(text[:start] + f"lookalikes: {lookalikes}\n" + text[end:], encoding="utf-8")
    with pytest.raises(RuleError, match="lookalikes: must list short one-line names"):
        read_rule_file(path)


def test_a_missing_template_is_named(tmp_path):
    # An installed fundwatch has no docs/: the default template is then missing.
    with pytest.raises(FundwatchError, match=r"missing\.md: catalogue template not found \(pass --template FILE\)"):
        catalogue_markdown(template=tmp_path / "missing.md")
