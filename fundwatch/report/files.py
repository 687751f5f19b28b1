"""Write output files whole or not at all, and safe to open in a spreadsheet."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

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
            risky = s.map(_risky).astype(bool)
            if risky.any():
                out[col] = out[col].astype(object)
                out.loc[risky, col] = "'" + s[risky].astype(str)
    return out


@contextmanager
def atomic_path(target: Path):
    """Yield a temporary path next to `target`; it replaces `target` only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    os.chmod(tmp, 0o600)  # outputs carry personal data: owner only
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def publish_together(outdir: Path):
    """Yield `stage(target) -> temporary path`; all targets are replaced at the end, in the
    order staged, only if the whole block succeeded. Put the file that marks a complete
    set (run.json) last."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []

    def stage(target: Path) -> Path:
        fd, tmp = tempfile.mkstemp(prefix=f".{Path(target).name}.", suffix=".tmp", dir=outdir)
        os.close(fd)
        os.chmod(tmp, 0o600)
        staged.append((Path(target), Path(tmp)))
        return Path(tmp)

    try:
        yield stage
        for target, tmp in staged:
            os.replace(tmp, target)
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
