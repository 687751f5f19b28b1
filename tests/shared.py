"""Artefacts built once per test run, not once per pytest-xdist worker.

A session fixture runs in every worker that needs it; what is expensive to build (a scan of
the sample, a generated county) is built by the first worker to ask, under a file lock in the
run's shared temporary folder, and the others wait for it and reuse it (the recipe of
pytest-xdist's docs, "Making session-scoped fixtures execute only once"). The folder is fresh
for every run, so nothing is reused across runs. Shared folders are read-only: copy them
before changing anything in them.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path


def _run_root(tmp_path_factory) -> Path:
    """The temporary folder of this test run, shared by its workers."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def built_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder `name`, filled by `build(folder)` once for the whole run."""
    root = _run_root(tmp_path_factory) / "shared"
    root.mkdir(exist_ok=True)
    folder, done = root / name, root / f"{name}.done"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if build fails
        if not done.exists():
            if folder.exists():  # a build that failed part-way in another worker
                shutil.rmtree(folder)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


def private_copy(tmp_path_factory, name: str, shared: Path) -> Path:
    """A copy of a shared folder for this worker, to open or change without touching the others'."""
    copy = tmp_path_factory.mktemp(name)
    shutil.copytree(shared, copy, dirs_exist_ok=True)
    return copy
