"""Every notebook in notebooks/ runs end to end in a real Jupyter kernel, and is stored without outputs.

The kernel is ipykernel started by nbclient from the `python3` kernelspec; jupyter_client
runs a kernelspec's `python` as this interpreter (sys.executable), which
`test_the_kernel_is_this_python` checks. A cell that raises fails the test. The notebooks
read the sample county from $FUNDWATCH_SAMPLE_DATA: the repository's sample_data/ when it
is there, else a small world generated for the test.
"""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook

from fundwatch.contract.tables import TABLES

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = ["01-quickstart.ipynb", "02-investigate-a-case.ipynb", "03-write-a-rule.ipynb"]

pytestmark = pytest.mark.slow


def execute(nb, cwd: Path = NOTEBOOK_DIR, timeout: int = 600):
    """Run every cell of `nb` in a fresh kernel; CellExecutionError on the first failing cell."""
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=timeout,
        allow_errors=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    return client.execute()


@pytest.fixture(scope="module")
def sample_data(tmp_path_factory) -> Path:
    bundled = REPO / "sample_data"
    if (bundled / "dibao_payments.csv").exists():
        return bundled
    from fundwatch_sample import generate_world

    out = tmp_path_factory.mktemp("sample_data")
    generate_world(out, scale=0.3)
    return out


def files(path: Path, with_times: bool = True) -> dict[str, float]:
    return {str(p.relative_to(path)): p.stat().st_mtime if with_times else 0 for p in path.rglob("*")}


def person_ids(data: Path) -> set[str]:
    """Every resident ID in the sample's person columns."""
    import pandas as pd

    ids = set()
    for table in TABLES.values():
        cols = [c.name for c in table.columns if c.kind == "person_id"]
        if cols and (data / f"{table.name}.csv").exists():
            frame = pd.read_csv(data / f"{table.name}.csv", usecols=cols, dtype=str)
            ids |= set(frame.stack().dropna())
    return ids


def test_the_three_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_end_to_end(path, sample_data, monkeypatch):
    monkeypatch.setenv("FUNDWATCH_SAMPLE_DATA", str(sample_data))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebooks_before, sample_before = files(NOTEBOOK_DIR), files(REPO / "sample_data", with_times=False)
    nb = nbformat.read(path, as_version=4)
    execute(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "every code cell ran"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    if path.name == "01-quickstart.ipynb":
        images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
        assert len(images) == 4, "the four charts show as images"
    # What the notebook showed is masked: no resident ID of the sample in any output.
    shown = "".join(str(o.get("data", "")) + str(o.get("text", "")) for c in code for o in c.outputs)
    candidates = set(re.findall(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])", shown))
    assert candidates.isdisjoint(person_ids(sample_data)), "unmasked resident IDs in the outputs"
    assert "********" in shown or path.name == "03-write-a-rule.ipynb"
    # The notebook wrote nothing into the repository.
    assert files(NOTEBOOK_DIR) == notebooks_before
    assert files(REPO / "sample_data", with_times=False) == sample_before
    assert not (REPO / "rules" / "dibao" / "head_vehicle.yaml").exists()


def test_a_failing_cell_fails_the_run():
    nb = new_notebook(
        cells=[
            new_code_cell("x = 1"),
            new_code_cell("raise ValueError('broken cell')"),
            new_code_cell("y = 2"),
        ]
    )
    with pytest.raises(CellExecutionError, match="broken cell"):
        execute(nb, timeout=120)
    assert nb.cells[2].execution_count is None  # nothing after the failing cell ran


def test_the_kernel_is_this_python(tmp_path):
    nb = new_notebook(
        cells=[new_code_cell("import sys, fundwatch\nprint(sys.executable)\nprint(fundwatch.__file__)")]
    )
    execute(nb, cwd=tmp_path, timeout=120)
    executable, package = nb.cells[0].outputs[0]["text"].split()
    assert Path(executable).resolve() == Path(sys.executable).resolve()
    assert Path(package).resolve().parent == REPO / "fundwatch"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    versions = {"working tree": path.read_text(encoding="utf-8")}
    rel = path.relative_to(REPO).as_posix()
    staged = subprocess.run(["git", "-C", str(REPO), "show", f":{rel}"], capture_output=True, text=True)
    if staged.returncode == 0:  # tracked: what git holds for it, too
        versions["git index"] = staged.stdout
    for where, text in versions.items():
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code, f"{path.name} ({where}) has no code"
        for i, cell in enumerate(code):
            assert cell.outputs == [], f"{path.name} ({where}) code cell {i} has outputs"
            assert cell.execution_count is None, f"{path.name} ({where}) code cell {i} has an execution count"
