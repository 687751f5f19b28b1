"""Errors a user can act on. Each names the file, line or column and what was expected."""

from __future__ import annotations


class FundwatchError(Exception):
    """Base class; the CLI maps it to exit code 2 (bad input or configuration)."""

    exit_code = 2


class LoadError(FundwatchError):
    """One or more input files cannot be loaded. Carries every problem, not just the first."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("cannot load the data:\n" + "\n".join(f"  - {p}" for p in problems))


class ConfigError(FundwatchError):
    pass


class RuleError(FundwatchError):
    """A rule file is broken: names the file and the field."""

    def __init__(self, path, field: str, message: str):
        self.path, self.field = str(path), field
        super().__init__(f"{path}: {field}: {message}")


class OutOfMemory(FundwatchError):
    """The engine ran out of memory even for one step at a time; the message says what to raise."""

    exit_code = 4


class WorkspaceBusy(FundwatchError):
    exit_code = 2
