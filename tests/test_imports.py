"""What the runtime imports: the synthetic county (fundwatch_sample) and Spark are optional
parts that importing fundwatch, a workspace, a scan or the CLI never loads."""

import json
import subprocess
import sys

RUNTIME = ["fundwatch", "fundwatch.workspace", "fundwatch.scan", "fundwatch.cli"]
OPTIONAL = ["fundwatch_sample", "pyspark"]

_PROBE = """
import importlib, json, sys
for name in sys.argv[1].split(","):
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[2].split(","))))
"""


def _loaded(modules: list[str]) -> list[str]:
    """The optional modules in sys.modules of a fresh interpreter that imported `modules`."""
    out = subprocess.run([sys.executable, "-c", _PROBE, ",".join(modules), ",".join(OPTIONAL)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_the_runtime_imports_neither_the_sample_nor_spark():
    assert _loaded(RUNTIME) == []


def test_the_probe_sees_the_sample_package_when_it_is_imported():
    # The same probe, told to import the sample package, finds it: the test above can fail.
    assert "fundwatch_sample" in _loaded([*RUNTIME, "fundwatch_sample"])


def test_the_sample_package_has_no_import_cycle():
    """fundwatch_sample's modules import each other in one direction only (plant_dibao and
    plant_dibao_pay once imported each other)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "fundwatch_sample"
    graph: dict[str, set[str]] = {}
    for path in root.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "fundwatch_sample":
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fundwatch_sample."):
                deps.add(node.module.split(".")[1])
        graph[path.stem] = {d for d in deps if (root / f"{d}.py").exists()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for d in graph.get(start, ()):
            if d == goal or (d not in seen and (seen.add(d) or reaches(d, goal, seen))):
                return True
        return False

    assert "plant_dibao_pay" in graph["plant_dibao"]  # the graph is read: the check can fail
    cycles = sorted(m for m in graph if m != "__init__" and reaches(m, m, set()))
    assert cycles == []


def test_the_cli_and_the_core_import_nothing_of_the_notebook_package():
    """fundwatch/notebook is how objects show in Jupyter: the CLI, the rule book, the scan and
    the rest import none of it (the rule book lives in fundwatch/rules/book.py). The one
    exception left is Workspace.explain, a notebook entry point kept on the workspace."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "fundwatch"
    found = set()
    for path in root.rglob("*.py"):
        if path.relative_to(root).parts[0] == "notebook":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fundwatch.notebook"):
                found.add((path.relative_to(root).as_posix(), node.module))
    assert found == {("workspace.py", "fundwatch.notebook.explain")}
