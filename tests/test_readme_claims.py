"""What the README says is what the code does (issue 22 item 9): its links resolve in a clone,
its contract page is the generated one, and its figures are what the code prints now."""

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
