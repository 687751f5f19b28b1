"""Declarative rules: YAML files under rules/ that each return the suspects of one abuse."""

from fundwatch.rules.catalogue import RuleSet, load_rules
from fundwatch.rules.model import Rule

__all__ = ["Rule", "RuleSet", "load_rules"]
