"""The rule book: the rules of a folder seen against a workspace. List them, run their tests,
try a new rule on the workspace before saving it to a rules folder. The CLI's `rules` commands,
`Workspace.rules` and the notebook's RuleBook (fundwatch/notebook/rulebook.py, which adds how
it shows in Jupyter) are this.

A rule written in a notebook is validated exactly as a rule file is (the same YAML
reading, `parse_rule`, SQL parse and contract check, summary check), under the path it
would be saved to, `rules/<program>/<name>.yaml`, so the errors name the same fields.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from fundwatch.config import Config, resolve_config
from fundwatch.errors import FundwatchError, RuleError
from fundwatch.rules import RuleSet, load_rules
from fundwatch.rules.catalogue import default_rules_dir, parse_rule_text
from fundwatch.rules.evidence import with_evidence
from fundwatch.rules.model import PROGRAMS, Rule
from fundwatch.rules.runner import RuleOutcome, run_rules
from fundwatch.rules.testing import run_rule_tests
from fundwatch.safe_yaml import safe_yaml

TEST_COLUMNS = ["rule_id", "test", "passed", "message"]
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ID_LINE = re.compile(r"^id:\s*['\"]?([\w.]+)['\"]?\s*$", re.MULTILINE)


def _id_parts(rid: str) -> tuple[str, str] | None:
    parts = rid.split(".")
    if len(parts) == 2 and parts[0] in PROGRAMS and _NAME.match(parts[1]):
        return parts[0], parts[1]
    return None


def rule_text(rule: str | dict) -> str:
    """The YAML text of a rule given as text or as a dict.

    >>> print(rule_text({"id": "dibao.head_vehicle", "level": "high"}))
    id: dibao.head_vehicle
    level: high
    """
    if isinstance(rule, str):
        return rule
    if isinstance(rule, dict):
        return yaml.safe_dump(rule, allow_unicode=True, sort_keys=False)
    raise FundwatchError(f"a rule is YAML text or a dict, got {type(rule).__name__}")


def rule_path(text: str, rules_dir: str | os.PathLike = "rules") -> Path:
    """Where a rule would live: `<rules_dir>/<program>/<name>.yaml`, from its `id`.

    >>> rule_path("id: dibao.head_vehicle\\n...")
    PosixPath('rules/dibao/head_vehicle.yaml')
    """
    where = Path(rules_dir) / "(new rule)"
    try:
        # Plain data only: no tags, no Python objects, no aliases, bounded nesting.
        data = safe_yaml(text)
    except yaml.YAMLError as e:
        # Name the file it would be, if the id line can still be read.
        line = _ID_LINE.search(text)
        if line and _id_parts(line.group(1)):
            program, name = _id_parts(line.group(1))
            where = Path(rules_dir) / program / f"{name}.yaml"
        raise RuleError(where, "(yaml)", f"not valid YAML: {e}") from None
    rid = data.get("id") if isinstance(data, dict) else None
    if not isinstance(rid, str) or rid.count(".") != 1:
        raise RuleError(where, "id", "must be '<program>.<name>', e.g. dibao.head_vehicle")
    program, name = rid.split(".")
    if program not in PROGRAMS:
        raise RuleError(where, "id", f"program must be one of {', '.join(PROGRAMS)}")
    if not _NAME.match(name):
        raise RuleError(where, "id", f"name {name!r} must be lower_snake_case (it becomes the file name)")
    return Path(rules_dir) / program / f"{name}.yaml"


def validate_rule(text: str, path: Path) -> tuple[Rule, object]:
    """(rule, parsed SQL) for rule text, checked as if it were the file `path`.

    The same checks as loading a rule file (fundwatch/rules/catalogue.py): a broken rule
    raises RuleError naming the path and field.

    >>> rule, tree = validate_rule(text, Path("rules/dibao/head_vehicle.yaml"))
    """
    return parse_rule_text(text, path)


def tests_frame(results) -> pd.DataFrame:
    """Test results (fundwatch.rules.testing.TestResult) as a DataFrame: rule_id, test, passed, message.

    >>> tests_frame(run_rule_tests(load_rules(), ["dibao.vehicle"]))
    """
    return pd.DataFrame(
        [{"rule_id": r.rule_id, "test": r.test, "passed": r.passed, "message": r.message} for r in results],
        columns=TEST_COLUMNS,
    )


@dataclass
class TryResult:
    """What a rule found on the workspace (`hits`, evidence parsed) and its embedded tests.

    >>> tried = book.try_rule(text, 2023)
    >>> tried.passed, len(tried.hits)
    """

    rule: Rule
    year: int
    hits: pd.DataFrame
    tests: pd.DataFrame
    outcome: RuleOutcome

    @property
    def passed(self) -> bool:
        """Whether every embedded test passed.

        >>> book.try_rule(text, 2023).passed
        True
        """
        return bool(len(self.tests)) and bool(self.tests["passed"].all())

    def __repr__(self) -> str:
        failed = int((~self.tests["passed"]).sum())
        return (
            f"TryResult({self.rule.id}, {self.year}: {self.outcome.describe()}; "
            f"tests {len(self.tests) - failed} passed, {failed} failed)"
        )

class RuleBook:
    """The rules of a rules folder seen against a workspace: what `ws.rules` returns.

    >>> book = RuleBook(ws)                  # the default rules folder
    >>> book.list()                          # id, title, level, status, inputs present/missing
    >>> book.test(["dibao.vehicle"])         # embedded tests
    >>> book.try_rule(text, 2023).hits       # a rule written in the notebook, not saved
    >>> book.save(text, rules_dir="my_rules")
    """

    tried = TryResult  # what try_rule gives back

    def __init__(
        self, ws, rules_dir: str | os.PathLike | None = None, config: str | os.PathLike | Config | None = None
    ):
        self.ws = ws
        self.rules_dir = Path(rules_dir) if rules_dir is not None else default_rules_dir()
        self.config = resolve_config(config)
        self.reload()

    def reload(self) -> None:
        """Read the rules folder again (after editing a file by hand, say).

        >>> book.reload(); len(book)
        """
        self.ruleset = load_rules(self.rules_dir)

    def __len__(self) -> int:
        return len(self.ruleset)

    def __getitem__(self, rule_id: str) -> Rule:
        if rule_id not in self.ruleset.rules:
            raise FundwatchError(f"no rule {rule_id!r} in {self.rules_dir}")
        return self.ruleset[rule_id]

    def show(self, rule_id: str) -> str:
        """The YAML text of a rule, to copy into a cell and change.

        >>> print(book.show("dibao.vehicle"))
        """
        return self[rule_id].path.read_text(encoding="utf-8")

    def list(self) -> pd.DataFrame:
        """One row per rule: id, title, program, entity_type, level, status, and whether its
        input tables are loaded in the workspace (`inputs_present`, `missing_inputs`).

        >>> book.list().query("not inputs_present")
        """
        loaded = set(self.ws.loaded_tables())
        rows = []
        for r in sorted(self.ruleset, key=lambda r: r.id):
            missing = [t for t in r.inputs if t not in loaded]
            rows.append(
                {
                    "id": r.id,
                    "title": r.title_in("en"),
                    "program": r.program,
                    "entity_type": r.entity_type,
                    "level": r.level,
                    "status": r.status,
                    "inputs_present": not missing,
                    "missing_inputs": ", ".join(missing),
                }
            )
        return pd.DataFrame(
            rows,
            columns=[
                "id",
                "title",
                "program",
                "entity_type",
                "level",
                "status",
                "inputs_present",
                "missing_inputs",
            ],
        )

    @property
    def errors(self) -> list[str]:
        """The broken rule files of the folder, each naming its file and field.

        >>> book.errors
        ['rules/dibao/typo.yaml: level: must be one of low, medium, high, critical']
        """
        return [str(e) for e in self.ruleset.errors]

    def test(self, ids=None) -> pd.DataFrame:
        """Run the embedded tests of `ids` (default: every rule); one row per test.

        Without `ids`, each broken rule file is a failed row too.

        >>> results = book.test()
        >>> results[~results.passed]
        """
        if isinstance(ids, str):
            ids = [ids]
        unknown = [i for i in ids or () if i not in self.ruleset.rules]
        if unknown:
            raise FundwatchError(f"unknown rule id(s): {', '.join(unknown)} (see RuleBook.list())")
        frame = tests_frame(run_rule_tests(self.ruleset, list(ids) if ids else None))
        if not ids and self.ruleset.errors:
            broken = pd.DataFrame(
                [
                    {"rule_id": e.path, "test": "(rule file)", "passed": False, "message": str(e)}
                    for e in self.ruleset.errors
                ],
                columns=TEST_COLUMNS,
            )
            frame = pd.concat([frame, broken], ignore_index=True)
        return frame

    def validate(self, rule: str | dict, rules_dir: str | os.PathLike | None = None) -> tuple[Rule, object]:
        """Check a rule written in the notebook as if it were saved under `rules_dir`.

        >>> rule, _ = book.validate(text)
        """
        text = rule_text(rule)
        return validate_rule(text, rule_path(text, rules_dir if rules_dir is not None else "rules"))

    def try_rule(self, rule: str | dict, year: int, *, params: dict | None = None) -> TryResult:
        """Run a rule written in the notebook against the workspace, without saving it.

        The rule is validated as a file `rules/<program>/<name>.yaml` would be (RuleError
        naming the field if not), its embedded tests are run, and its query runs on the
        workspace's tables for `year` (parameters: defaults, this book's config, `params`).

        >>> tried = book.try_rule(text, 2023, params={"price_threshold": 150000})
        >>> tried.tests
        >>> tried.hits[["entity_id", "amount_at_risk", "summary_en"]]
        """
        rule, tree = self.validate(rule)
        single = RuleSet(rules={rule.id: rule}, trees={rule.id: tree})
        tests = tests_frame(run_rule_tests(single))
        overrides = {**self.config.params, rule.id: {**self.config.params.get(rule.id, {}), **(params or {})}}
        config = Config(
            self.config.path,
            overrides,
            self.config.mis_tuned_share,
            self.config.outliers,
            self.config.scoring,
        )
        config.rule_params(rule)  # an unknown or mistyped parameter is an error here, by name
        hits, outcomes = run_rules(self.ws.engine, single, int(year), set(self.ws.loaded_tables()), config)
        outcome = outcomes[0]
        if outcome.status == "error":
            raise RuleError(rule.path, "query", f"fails on the workspace: {outcome.message}")
        return self.tried(rule, int(year), with_evidence(hits), tests, outcome)

    def save(
        self, rule: str | dict, rules_dir: str | os.PathLike | None = None, *, overwrite: bool = False
    ) -> Path:
        """Write the rule to `<rules_dir>/<program>/<name>.yaml` after validation and a
        passing run of its embedded tests; refuses to replace a file unless `overwrite`.

        `rules_dir` defaults to this book's folder. Returns the path written.

        >>> book.save(text, rules_dir=tmp)
        PosixPath('/tmp/.../dibao/head_vehicle.yaml')
        """
        text = rule_text(rule)
        target_dir = Path(rules_dir) if rules_dir is not None else self.rules_dir
        path = rule_path(text, target_dir)
        rule_obj, tree = validate_rule(text, path)
        failed = [
            r
            for r in run_rule_tests(RuleSet(rules={rule_obj.id: rule_obj}, trees={rule_obj.id: tree}))
            if not r.passed
        ]
        if failed:
            raise RuleError(
                path,
                "tests",
                "not saved, embedded tests fail: " + "; ".join(f"{r.test}: {r.message}" for r in failed),
            )
        if path.exists() and not overwrite:
            raise FundwatchError(f"{path} exists; pass overwrite=True to replace it")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text if text.endswith("\n") else text + "\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if target_dir.resolve() == self.rules_dir.resolve():
            self.reload()
        return path

    def __repr__(self) -> str:
        return (
            f"RuleBook({str(self.rules_dir)!r}, {len(self.ruleset)} rules, {len(self.ruleset.errors)} broken)"
        )
