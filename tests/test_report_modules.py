"""The report package has no import circle and no private cross-imports (issue 20 item 7):
each module has one job (tables, fonts, charts, xlsx, html, outputs) and imports the ones
below it only."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "fundwatch"
REPORT = sorted(p.stem for p in (PACKAGE / "report").glob("*.py") if p.stem != "__init__")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for every import in the file, at the top or inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.append((sub, None) if sub in MODULES else (node.module, a.name))
    return found


def _graph() -> dict[str, set[str]]:
    return {name: {m for m, _ in _imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}


def _cycle_through(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """A path start -> ... -> start, or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in graph[node]:
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_the_graph_sees_imports_inside_functions(tmp_path):
    # The check must see a lazy import (the old circle was one: outputs imported html inside write_outputs).
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from fundwatch.report.html import write_page\n    import fundwatch.report.xlsx\n")
    assert [m for m, _ in _imports(f)] == ["fundwatch.report.html", "fundwatch.report.xlsx"]


@pytest.mark.parametrize("module", REPORT)
def test_no_import_circle_through_report(module):
    cycle = _cycle_through(f"fundwatch.report.{module}", _graph())
    assert cycle is None, " -> ".join(cycle)


@pytest.mark.parametrize("module", REPORT)
def test_no_private_names_from_other_modules(module):
    private = [f"{m}.{n}" for m, n in _imports(PACKAGE / "report" / f"{module}.py")
               if m.startswith("fundwatch") and n and n.startswith("_")]
    assert private == []


@pytest.mark.parametrize("module", REPORT)
def test_each_module_imports_alone_in_a_fresh_interpreter(module):
    # An import circle can hide behind the order modules happen to be imported in; alone, each must load.
    run = subprocess.run([sys.executable, "-c", f"import fundwatch.report.{module}"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_charts_draw_only():
    # The tables both writers use live in tables.py; charts.py is matplotlib only.
    names = {n.name for n in ast.parse((PACKAGE / "report" / "charts.py").read_text()).body
             if isinstance(n, ast.FunctionDef)}
    assert not names & {"export_tables", "program_totals", "level_totals", "township_totals", "cjk_font"}
