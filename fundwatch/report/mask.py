"""Mask person IDs and bank accounts in anything meant for distribution.

A resident ID keeps its area code and last four characters (110105********002X), a bank
account its last four digits.

What is masked is decided by what a value is, that is by the column it came from, never by
its shape: a cooperative's credit code (coop_id, entity_code) is not personal data and stays
readable even when it is all digits, like an 18-digit account. The column of a value is
known for a frame's own columns, for the keys of a hit's evidence, for `entity_id` (through
`entity_type`) and, since a summary sentence is rendered from the rule's result columns, for
the values a summary quotes: those of its hit's evidence. Text whose parts come from no known
column (a rule error quoting a value, a log line) is masked by shape, the safe side.
"""

from __future__ import annotations

import dataclasses
import json
import re

import pandas as pd

from fundwatch.contract.tables import TABLES

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

# Contract column kinds that hold a person's ID or account, and the kinds that never do.
PERSONAL_KINDS = ("person_id", "account")
SAFE_KINDS = ("region", "credit_code", "key", "enum", "date", "period", "money", "number", "int", "year")
_CONTRACT = {c.name: c.kind for t in TABLES.values() for c in t.columns}
# Person IDs and accounts under the names rules give them in their results (evidence keys).
RULE_PERSONAL = frozenset({"owner_id", "member_id", "spouse_id", "account", "top_account", "accounts_list"})
# A date of birth beside a masked ID gives the ID back (area code + birth date + last four): kept
# to its year (the coverage list's evidence quotes it; the age stays).
BIRTH_DATES = frozenset({"birth_date"})
PERSONAL = frozenset({n for n, k in _CONTRACT.items() if k in PERSONAL_KINDS}) | RULE_PERSONAL | BIRTH_DATES
# Columns of cases, hits, runs and rule results that never hold personal data, whatever their
# digits look like (a 12-digit region code, a case_id whose hash is all digits, a credit code).
NOT_PERSONAL = frozenset(
    {n for n, k in _CONTRACT.items() if k in SAFE_KINDS and n not in PERSONAL}
    | {"case_id", "run_id", "region_code", "other_region", "rule_id", "rule_version", "rule_ids", "program",
       "programs", "program_code", "entity_type", "level", "status", "review_status", "review", "matched_on",
       "year", "rank", "coop_id", "entity_code", "household_id", "other_household", "tenancy_id",
       "other_tenancy", "tenancy_a", "tenancy_b", "weights", "n_entities", "outreach_id", "township",
       "outreach_status"}
)
SUMMARY_COLUMNS = frozenset({"summary", "summary_en", "summary_zh", "explanation", "explanation_zh"})
MIN_QUOTED = 6  # shorter values (a count, "yes") are never looked for inside a summary


def column_kind(name: str) -> str:
    """'personal' (always masked), 'kept' (never masked) or 'unknown' (masked by shape)."""
    if name in PERSONAL:
        return "personal"
    return "kept" if name in NOT_PERSONAL else "unknown"


def _mask_id_match(m: re.Match) -> str:
    # 110105 + ******** + the last four characters (one of the date digits, sequence, check).
    whole = m.group(0)
    return whole[:6] + "********" + whole[14:]


def _mask_account_match(m: re.Match) -> str:
    return "*" * (len(m.group(0)) - 4) + m.group(1)


def mask_personal(value: str) -> str:
    """A value known to be a person's ID or account, masked whatever it looks like."""
    value = str(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):  # a date of birth: its year stays
        return value[:4] + "-**-**"
    if len(value) == 18:  # a resident ID: its area code and last four stay
        return value[:6] + "********" + value[14:]
    return "*" * max(len(value) - 4, 4) + value[-4:] if len(value) > 4 else "****"


def mask_text(text: str, keep=frozenset(), personal=frozenset()) -> str:
    """`text` with IDs and accounts masked. `personal`: values known to be personal (masked
    wherever they stand alone); `keep`: values known not to be (left as they are, whatever
    their shape). Everything else that looks like an ID or an account is masked."""
    for value in personal:
        if len(value) >= MIN_QUOTED and value in text:
            text = re.sub(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])", mask_personal(value), text)
    if keep:
        def unless_kept(masker):
            return lambda m: m.group(0) if m.group(0) in keep else masker(m)
        id_sub, account_sub = unless_kept(_mask_id_match), unless_kept(_mask_account_match)
    else:
        id_sub, account_sub = _mask_id_match, _mask_account_match
    text = LOOSE_ID_RE.sub(id_sub, ID_RE.sub(id_sub, text))
    return ACCOUNT_RE.sub(account_sub, text)


def mask_id(value: str) -> str:
    return mask_text(value) if isinstance(value, str) else value


def mask_field(field: str, value):
    """One value of column `field` as shown: masked by what the column holds."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [mask_field(field, v) for v in value]
    if isinstance(value, dict):
        return {k: mask_field(k, v) for k, v in value.items()}
    kind = column_kind(field)
    if kind == "kept":
        return value
    return mask_personal(value) if kind == "personal" else mask_text(str(value))


def _flat(field: str, value):
    """(field, text) for every text value in an evidence value (lists of IDs included)."""
    if isinstance(value, list | tuple):
        for v in value:
            yield from _flat(field, v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _flat(k, v)
    elif isinstance(value, str):
        yield field, value


def _parse(evidence) -> dict:
    try:
        data = json.loads(evidence) if isinstance(evidence, str) else evidence
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def quoted_values(evidence=(), entity_type=None, entity_id=None) -> tuple[frozenset, frozenset]:
    """(keep, personal): the values a summary may quote, by the column each came from: a
    hit's evidence (JSON or dict; several for a case) and the entity."""
    keep, personal = set(), set()
    for one in evidence:
        for field, text in (pair for k, v in _parse(one).items() for pair in _flat(k, v)):
            kind = column_kind(field)
            if kind == "kept":
                keep.add(text)
            elif kind == "personal":
                personal.add(text)
    if isinstance(entity_id, str) and isinstance(entity_type, str):  # no entity_type: nothing known
        (personal if entity_type == "person" else keep).add(entity_id)
    return frozenset(keep - personal), frozenset(personal)  # known as both: masked, the safe side


def mask_evidence(evidence):
    """A hit's evidence JSON with each value masked by its key (unparseable text by shape)."""
    if not isinstance(evidence, str):
        return evidence
    try:
        data = json.loads(evidence)
    except ValueError:
        return mask_text(evidence)
    if not isinstance(data, dict):
        return mask_text(evidence)
    return json.dumps({k: mask_field(k, v) for k, v in data.items()}, ensure_ascii=False)


def mask_entities(value: str) -> str:
    """A case's `entities` list (type:id;type:id...): a person's id masked, the others kept."""
    def one(item: str) -> str:
        kind, sep, key = item.partition(":")
        return f"{kind}{sep}{mask_personal(key)}" if sep and kind == "person" else (item if sep else mask_text(item))
    return ";".join(one(i) for i in value.split(";"))


def _by_shape(s: pd.Series) -> pd.Series:
    return (s.astype(str).str.replace(ID_RE, _mask_id_match, regex=True)
            .str.replace(LOOSE_ID_RE, _mask_id_match, regex=True)
            .str.replace(ACCOUNT_RE, _mask_account_match, regex=True))


def mask_frame(frame: pd.DataFrame, evidence: pd.Series | None = None) -> pd.DataFrame:
    """A copy with every text column masked by what it holds.

    Personal columns (person_id, head_id, bank_account, ...) are masked whole; columns that
    hold no personal data (credit codes, region codes, household numbers, case ids) are left
    as they are; `entity_id` is masked when `entity_type` says it is a person's. A summary is
    masked knowing the columns of the values it quotes: its row's `evidence` (a hit) or
    `evidence`, aligned with `frame`, giving the evidence JSONs of each row (a case's hits).
    Other text is masked by shape.
    """
    out = frame.copy()
    has_type = "entity_type" in out.columns
    for col in out.columns:
        kind = column_kind(col)
        s = out[col]
        if kind == "kept" or not (s.dtype == object or pd.api.types.is_string_dtype(s)):
            continue
        text = s.map(lambda v: isinstance(v, str)).astype(bool)  # text only: numbers stay numbers
        if col == "entity_id" and has_type:
            people = text & (out["entity_type"] == "person")
            out.loc[people, col] = s[people].map(mask_personal)
            unknown = text & out["entity_type"].isna()
            out.loc[unknown, col] = _by_shape(s[unknown])
            continue
        if not text.any():
            continue
        if kind == "personal":
            out.loc[text, col] = s[text].map(mask_personal)
        elif col == "evidence":
            out.loc[text, col] = s[text].map(mask_evidence)
        elif col == "entities":
            out.loc[text, col] = s[text].map(mask_entities)
        elif col in SUMMARY_COLUMNS:
            out.loc[text, col] = _mask_summaries(frame, s, text, evidence)
        else:
            out.loc[text, col] = _by_shape(s[text])
    return out


def _mask_summaries(frame: pd.DataFrame, s: pd.Series, text: pd.Series, evidence: pd.Series | None) -> list[str]:
    """Each summary masked knowing what its quoted values are (see mask_frame)."""
    own = frame["evidence"] if "evidence" in frame.columns else None
    types = frame["entity_type"] if "entity_type" in frame.columns else None
    ids = frame["entity_id"] if "entity_id" in frame.columns else None
    shaped = _by_shape(s[text])
    out = []
    for i, by_shape in zip(s.index[text], shaped, strict=True):
        sources = []
        if own is not None:
            sources.append(own.at[i])
        if evidence is not None and i in evidence.index and isinstance(evidence.at[i], list | tuple):
            sources.extend(evidence.at[i])
        keep, personal = quoted_values(sources, types.at[i] if types is not None else None,
                                       ids.at[i] if ids is not None else None)
        if not keep and not personal:
            out.append(by_shape)  # nothing known about its parts: by shape, as computed at once
        else:
            out.append(mask_text(s.at[i], keep, personal))
    return out


def mask_json(value):
    """A copy of JSON-like data with every string masked (by shape: a run record's texts are
    messages, not columns)."""
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
