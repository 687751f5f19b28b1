"""What the README says is what the code does (issue 22 item 9): its links resolve in a clone,
its contract page is the generated one, and its figures are what the code prints now."""

import importlib.util
import re
from pathlib import Path

import pytest

from fundwatch.contract.docs import contract_markdown

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_contract_page_is_the_generated_one():
    committed = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert committed == contract_markdown().rstrip("\n") + "\n", (
        "docs/data-contract.md is stale: regenerate it with `fundwatch contract > docs/data-contract.md`")


@pytest.mark.parametrize("doc", ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))])
def test_relative_links_resolve_in_a_clone(doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    targets = [t.split("#")[0] for t in re.findall(r"\]\(([^)\s]+)\)", text)
               if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    missing = [t for t in targets if t and not ((ROOT / doc).parent / t).resolve().exists()]
    outside = [t for t in targets if t and ROOT not in ((ROOT / doc).parent / t).resolve().parents]
    assert missing == [] and outside == []


def test_the_readme_links_the_contract_page():
    assert "](docs/data-contract.md)" in README


def test_ci_runs_the_readmes_second_command_after_the_browser_packages():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = re.findall(r"^(python3 -m venv .*)$", README, flags=re.M)
    assert len(commands) == 2 and script.rstrip().splitlines()[-1] == commands[1]
    assert "set -euo pipefail" in script
    apt = "apt-get install -y chromium fonts-noto-cjk"
    assert apt in script and apt in README  # the step CI adds is the one the README documents


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readmes_evaluation_figures_are_what_evaluate_prints(sample_loaded):
    figures = _script("readme_figures")
    computed = figures.evaluate_block(figures.evaluate_sample(sample_loaded[0]))  # fresh scans of its own
    assert figures.block_in(README) == computed, f"README.md is stale: run {figures.COMMAND}"


def test_the_readmes_config_show_output_is_what_it_prints(tmp_path):
    figures = _script("readme_figures")
    assert figures.block_in(README, "config-show") == figures.config_show_block(tmp_path), (
        f"README.md is stale: run {figures.COMMAND}")


def test_a_readme_block_is_rewritten_in_place_only():
    figures = _script("readme_figures")
    text = "before\n<!-- generated:evaluate (how) -->\nold\nlines\n<!-- /generated:evaluate -->\nafter\n"
    assert figures.with_block(text, "new") == "before\n<!-- generated:evaluate (how) -->\nnew\n<!-- /generated:evaluate -->\nafter\n"
    assert figures.block_in(figures.with_block(text, "new")) == "new"
    with pytest.raises(ValueError, match="no <!-- generated:evaluate --> block"):
        figures.with_block("no markers here\n", "new")


def test_the_readmes_mis_tuned_example_is_what_the_runner_judges():
    from fundwatch.rules.runner import is_mis_tuned

    found = re.search(r"so (\d+) of (\d+) agencies is called out and (\d+) of (\d+) is not", README.replace("\n", " "))
    assert found, "the README's mis-tuned example moved: update this test"
    share = float(re.search(r"`mis_tuned_share` \((\d+)%\)", README).group(1)) / 100
    a, n, b, m = map(int, found.groups())
    assert is_mis_tuned(a, n, share) and not is_mis_tuned(b, m, share)
