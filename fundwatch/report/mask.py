"""Mask person IDs and bank accounts in anything meant for distribution.

A resident ID keeps its area code and last four characters (110105********002X), a bank
account its last four digits. Applied to every text column of an export, so IDs inside
summaries and evidence are masked too. In free text an all-digit credit code cannot be
told from an 18-digit account, so it is masked as one: over-masking is the safe side.
"""

from __future__ import annotations

import dataclasses
import re

import pandas as pd

# An 18-character resident ID (area, a plausible birth date, sequence, check) standing alone:
# not inside a longer code such as a unified social credit code.
ID_RE = re.compile(
    r"(?<![0-9A-Za-z])(\d{6})(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d(\d{2}[0-9Xx])(?![0-9A-Za-z])"
)
# 17 digits and an X standing alone: an ID whose date is wrong (a typo, a quarantined row) is
# still someone's ID. (All-digit ones are caught by the account pattern.)
LOOSE_ID_RE = re.compile(r"(?<![0-9A-Za-z*])\d{17}[Xx](?![0-9A-Za-z])")
# Bank accounts: 13-19 digits standing alone (IDs are masked first, so an ID is never read as one;
# 12 digits is a statistical area code, not an account).
ACCOUNT_RE = re.compile(r"(?<![0-9A-Za-z*])\d{9,15}(\d{4})(?![0-9A-Za-z])")
# Columns that never hold personal data, whatever their digits look like.
NOT_PERSONAL = frozenset({"case_id", "region_code", "rule_id", "rule_version", "rule_ids", "program", "programs",
                          "entity_type", "level", "status", "review_status", "matched_on", "year", "rank"})


def _mask_id_match(m: re.Match) -> str:
    # 110105 + ******** + the last four characters (one of the date digits, sequence, check).
    whole = m.group(0)
    return whole[:6] + "********" + whole[14:]


def _mask_account_match(m: re.Match) -> str:
    return "*" * (len(m.group(0)) - 4) + m.group(1)


def mask_text(text: str) -> str:
    text = LOOSE_ID_RE.sub(_mask_id_match, ID_RE.sub(_mask_id_match, text))
    return ACCOUNT_RE.sub(_mask_account_match, text)


def mask_id(value: str) -> str:
    return mask_text(value) if isinstance(value, str) else value


def mask_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text column masked (vectorised per column).

    `entity_id` is masked by meaning where an `entity_type` column says what it is: a
    person's ID is masked, a cooperative's credit code or a household number is not (an
    all-digit credit code looks exactly like an account number to a pattern).
    """
    out = frame.copy()
    for col in out.columns:
        if col in NOT_PERSONAL:
            continue
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            s = out[col]
            mask = s.map(lambda v: isinstance(v, str)).astype(bool)  # text only: numbers stay numbers
            if col == "entity_id" and "entity_type" in out.columns:
                mask &= out["entity_type"] == "person"
            if not mask.any():
                continue
            out.loc[mask, col] = (
                s[mask].astype(str)
                .str.replace(ID_RE, _mask_id_match, regex=True)
                .str.replace(LOOSE_ID_RE, _mask_id_match, regex=True)
                .str.replace(ACCOUNT_RE, _mask_account_match, regex=True)
            )
    return out


def mask_json(value):
    """A copy of JSON-like data with every string masked."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_json(v) for v in value]
    return value


def masked_run(result, unmask: bool = False):
    """`result` with its run record masked unless `unmask`: the workbook and the page show
    the rule outcomes, and a rule error may quote a value ("Could not convert '110105...'")."""
    if unmask or not result.run:
        return result
    return dataclasses.replace(result, run=mask_json(dict(result.run)))
