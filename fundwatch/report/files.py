"""Write output files whole or not at all, and safe to open in a spreadsheet."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text that a spreadsheet would run as a formula with a quote (OWASP CSV injection)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            s = out[col]
            risky = s.notna() & s.astype(str).str.startswith(FORMULA_START)
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


def write_csv(frame: pd.DataFrame, target: Path) -> None:
    with atomic_path(target) as tmp:
        # UTF-8 with BOM so that Excel shows Chinese text correctly when the file is double-clicked.
        neutralise(frame).to_csv(tmp, index=False, encoding="utf-8-sig")


def write_json(data: dict, target: Path) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
