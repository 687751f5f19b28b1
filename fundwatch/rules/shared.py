"""What several rules share, said once in `<rules folder>/shared.yaml`: parameters and SQL
macros (the file says how a rule uses them).

A macro is expanded in the parsed query (sqlglot), so every later step, the contract check,
the placeholders' binding and the translation for Spark, sees the expanded SQL.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlglot import exp

from fundwatch.errors import RuleError
from fundwatch.safe_yaml import safe_yaml

FILE = "shared.yaml"
SHARED = "shared"  # a rule's `params: {name: shared}`


@dataclass(frozen=True)
class Macro:
    name: str
    args: tuple[str, ...]
    body: exp.Expression


@dataclass(frozen=True)
class Shared:
    params: dict[str, dict] = field(default_factory=dict)  # name -> its declaration, as in a rule file
    macros: dict[str, Macro] = field(default_factory=dict)
    text: str = ""  # the file's text: part of the version of a rule that uses it


def shared_path(rule_path: Path) -> Path:
    """The shared.yaml of the rules folder a rule file `<folder>/<program>/<name>.yaml` is in,
    else the one of the rules installed with fundwatch (a folder of one's own rules)."""
    mine = Path(rule_path).parent.parent / FILE
    if mine.is_file():
        return mine
    from fundwatch.rules.catalogue import default_rules_dir

    return default_rules_dir() / FILE


def read_shared(path: Path) -> Shared:
    return parse_shared(path, path.read_text(encoding="utf-8") if path.is_file() else "")


@functools.lru_cache(maxsize=8)
def parse_shared(path: Path, text: str) -> Shared:
    """The shared.yaml text `text` of `path` ("" for none)."""
    from fundwatch.rules.render import parse_expression

    if not text:
        return Shared()
    try:
        data = safe_yaml(text) or {}
    except yaml.YAMLError as e:
        raise RuleError(path, "(yaml)", f"not valid YAML: {e}") from None
    if not isinstance(data, dict) or set(data) - {"params", "macros"}:
        raise RuleError(path, "(file)", "must be a mapping with only `params` and `macros`")
    params = data.get("params") or {}
    if not isinstance(params, dict) or not all(isinstance(p, dict) for p in params.values()):
        raise RuleError(path, "params", "must map names to declarations {type, default, description, source}")
    macros = {}
    for name, m in (data.get("macros") or {}).items():
        where = f"macros.{name}"
        if not (isinstance(m, dict) and set(m) <= {"args", "sql", "description"} and isinstance(m.get("sql"), str)
                and isinstance(m.get("args"), list) and all(isinstance(a, str) and a.isidentifier() for a in m["args"])):
            raise RuleError(path, where, "must be {args: [names], sql: <an expression>, description: <text>}")
        macros[name] = Macro(name, tuple(m["args"]), parse_expression(m["sql"], path, where + ".sql"))
    return Shared(dict(params), macros, text)


def expand(tree: exp.Expression, macros: dict[str, Macro], path) -> exp.Expression:
    """`tree` with every call of a macro replaced by its expression, the arguments put in
    (the same tree when it calls none)."""
    if not any(isinstance(n, exp.Anonymous) and n.name.lower() in macros for n in tree.find_all(exp.Anonymous)):
        return tree

    def replace(node):
        if not isinstance(node, exp.Anonymous) or node.name.lower() not in macros:
            return node
        macro = macros[node.name.lower()]
        given = node.expressions
        if len(given) != len(macro.args):
            raise RuleError(path, "query", f"{macro.name}() takes {len(macro.args)} argument(s) "
                                           f"({', '.join(macro.args)}), given {len(given)}")
        by_name = dict(zip(macro.args, given, strict=True))

        def put(inner):
            if isinstance(inner, exp.Column) and not inner.table and inner.name in by_name:
                arg = by_name[inner.name].copy()
                return arg if isinstance(arg, exp.Column | exp.Func | exp.Literal | exp.Paren) else exp.Paren(this=arg)
            return inner

        return macro.body.copy().transform(put)

    return tree.transform(replace)
