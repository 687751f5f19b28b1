"""Write output files whole or not at all, and safe to open in a spreadsheet."""

from __future__ import annotations

import json
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one writer per folder is then up to the user
    fcntl = None

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _risky(value) -> bool:
    # Spreadsheets skip leading spaces before a formula: " =1+1" runs too.
    return isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_START)


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text that a spreadsheet would run as a formula with a quote (OWASP CSV injection).

    Only text is touched: a number in a column of mixed values (-20.5) stays a number."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            s = out[col]
            if isinstance(s.dtype, pd.StringDtype):  # text or missing: _risky, vectorised
                risky = s.str.lstrip(" ").str.startswith(FORMULA_START, na=False).astype(bool)
            else:
                risky = s.map(_risky).astype(bool)
            if risky.any():
                out[col] = out[col].astype(object)
                out.loc[risky, col] = "'" + s[risky].astype(str)
    return out


# Temporary files carry the writer's process id, so that a later run can tell the leftovers
# of a killed run (its process is gone) from the files of a run still writing.
_TMP = re.compile(r"^\..+\.fw(\d+)\.[^/]*\.tmp$")
JOURNAL = ".fundwatch-publish.json"  # lists the renames of a publish under way


def _temp(target: Path, folder: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{Path(target).name}.fw{os.getpid()}.", suffix=".tmp", dir=folder)
    os.close(fd)
    os.chmod(tmp, 0o600)  # outputs carry personal data: owner only
    return Path(tmp)


def _fsync(path: Path) -> None:
    """Make a file's bytes (or a folder's entries) durable before a rename points to them."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(folder: Path) -> list[str]:
    """Remove the temporary files of writers that were killed; returns their names."""
    removed = []
    for p in Path(folder).iterdir():
        m = _TMP.match(p.name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            p.unlink(missing_ok=True)
            removed.append(p.name)
    return removed


@contextmanager
def _locked(folder: Path):
    """Only one fundwatch process renames files in `folder` at a time (flock on the folder)."""
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def recover(folder: Path) -> bool:
    """Finish a publish that a crash cut short: every staged file named in the journal was
    complete before the first rename, so the set is completed, not mixed. True if it did."""
    journal = Path(folder) / JOURNAL
    try:
        renames = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        renames = []  # written by a rename of its own: a torn journal cannot exist; be safe anyway
    for tmp, target in renames:
        src = Path(folder) / tmp
        if src.exists():
            os.replace(src, Path(folder) / target)
    _fsync(Path(folder))
    journal.unlink(missing_ok=True)
    _fsync(Path(folder))
    return True


@contextmanager
def atomic_path(target: Path):
    """Yield a temporary path next to `target`; it replaces `target` only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp(target, target.parent)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def publish_together(outdir: Path):
    """Yield `stage(target) -> temporary path`; all targets are replaced at the end, in the
    order staged, only if the whole block succeeded. Put the file that marks a complete
    set (run.json) last.

    Crash-safe as a set: the staged files are synced, then a journal of the renames is
    written (atomically) before the first rename and removed after the last. A run killed
    between the two leaves the journal, and the next publish (or `recover`) completes the
    renames, so a folder never keeps half of one run and half of another. Another process
    publishing to the same folder waits for the renames to finish. Temporary files of
    killed runs are removed."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []

    def stage(target: Path) -> Path:
        tmp = _temp(Path(target), outdir)
        staged.append((Path(target), tmp))
        return tmp

    try:
        yield stage
        for _, tmp in staged:
            _fsync(tmp)
        with _locked(outdir):
            recover(outdir)
            sweep_stale(outdir)
            journal = _temp(outdir / JOURNAL, outdir)
            journal.write_text(json.dumps([[tmp.name, Path(target).name] for target, tmp in staged]),
                               encoding="utf-8")
            _fsync(journal)
            os.replace(journal, outdir / JOURNAL)
            _fsync(outdir)
            for target, tmp in staged:
                os.replace(tmp, target)
            _fsync(outdir)
            (outdir / JOURNAL).unlink()
            _fsync(outdir)
    finally:
        for _, tmp in staged:
            tmp.unlink(missing_ok=True)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    # UTF-8 with BOM so that Excel shows Chinese text correctly when the file is double-clicked.
    # CRLF rows (RFC 4180): Python's csv quotes a field only for the line ending's characters,
    # so with "\n" alone a lone CR in a field would end the row for every reader.
    neutralise(frame).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")


def write_json(data: dict, path: Path) -> None:
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
