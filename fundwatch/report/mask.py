"""Mask person IDs and bank accounts in anything meant for distribution.

A resident ID keeps its area code and last four characters (110105********002X), a bank
account its last four digits. Applied to every text column of an export, so IDs inside
summaries and evidence are masked too.
"""

from __future__ import annotations

import re

import pandas as pd

# An 18-character resident ID not embedded in a longer run of digits.
ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
# Bank accounts: 12-19 digits (after IDs are masked, so an ID is never read as an account).
ACCOUNT_RE = re.compile(r"(?<![0-9*])\d{8,15}(\d{4})(?![0-9])")


def mask_text(text: str) -> str:
    text = ID_RE.sub(lambda m: m.group(1) + "********" + m.group(2)[-4:], text)
    return ACCOUNT_RE.sub(lambda m: "*" * (len(m.group(0)) - 4) + m.group(1), text)


def mask_id(value: str) -> str:
    return mask_text(value) if isinstance(value, str) else value


def mask_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text column masked (vectorised per column)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            s = out[col]
            mask = s.notna()
            out.loc[mask, col] = (
                s[mask].astype(str)
                .str.replace(ID_RE, lambda m: m.group(1) + "********" + m.group(2)[-4:], regex=True)
                .str.replace(ACCOUNT_RE, lambda m: "*" * (len(m.group(0)) - 4) + m.group(1), regex=True)
            )
    return out
