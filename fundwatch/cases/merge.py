"""One anomaly, one case: hits that share their evidence become one case naming every entity.

Hits are joined when they share
- their entity (and, for a rule with `finding`, the columns that tell its findings apart:
  one agency's late batches are separate findings);
- a value of a rule's `merge_on` evidence of the same kind (one bank account that received six
  households' dibao is one finding about the account, whichever rules saw it);
- their subject, a person seen in two or more programmes (a cross-programme case).

Each connected group is one case. Its entity is its top hit's (the highest weight, then level,
amount, rule and entity), or the person for a cross-programme case; its id is a keyed hash of
what identifies the finding (the shared evidence, else the entity), so it is the same on every
run. A group whose every hit is folded into a mis-tuned rule's finding is no case.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pandas as pd

from fundwatch.entities import ENTITY_TYPES

LEVEL_ORDER = {"low": 1, "medium": 2, "high": 3, "critical": 4}


def case_id(key: str, year: int, secret: bytes) -> str:
    """`C<year>-` and 12 hex digits of an HMAC of the finding's key under the workspace's secret.

    Keyed because a plain hash of a resident ID is reversed in a second: a masked export shows
    the ID's area code and last four characters, which leaves only the birth date to try."""
    digest = hmac.new(secret, f"fundwatch-case:{key}".encode(), hashlib.sha256).hexdigest()[:12]
    return f"C{year}-{digest}"


def entity_key(entity_type: str, entity_id: str) -> str:
    return f"{entity_type}:{entity_id}"


def _ids(value) -> list[str]:
    """Entity ids from an evidence value: one id, a list, or a ;-separated string."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v not in (None, "")]
    return [v.strip() for v in str(value).split(";") if v.strip()]


class _Groups:
    """Union-find over hit indices."""

    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _subject(entity_type: str, entity_id: str, evidence: dict) -> str | None:
    """The person a hit is about: the entity itself, or the evidence's person_id."""
    if entity_type == "person":
        return entity_id
    v = evidence.get("person_id")
    return str(v) if v else None


MERGE_COLUMNS = ["case_id", "case_entity_type", "case_entity_id", "case_program"]
MEMBER_COLUMNS = ["case_id", "entity_type", "entity_id", "role"]


def merge_hits(hits: pd.DataFrame, ruleset, year: int, secret: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(hits with MERGE_COLUMNS, members: every entity each case names). Order-free: the same
    hits in any order give the same cases."""
    hits = hits.reset_index(drop=True).copy()
    if hits.empty:
        for c in MERGE_COLUMNS:
            hits[c] = pd.Series(dtype="object")
        return hits, pd.DataFrame(columns=MEMBER_COLUMNS)
    rules = ruleset.rules
    evidence = [json.loads(e) if isinstance(e, str) else {} for e in hits["evidence"]]
    records = hits.to_dict("records")
    n = len(records)

    own_keys, shared_keys, involved = [], [], []
    for r, ev in zip(records, evidence, strict=True):
        rule = rules.get(r["rule_id"])
        key = entity_key(r["entity_type"], r["entity_id"])
        if rule is not None and rule.finding:
            key += "|" + "|".join(str(ev.get(c)) for c in rule.finding)
        own_keys.append(key)
        shared = []
        if rule is not None:
            for kind, col in rule.merge_on.items():
                shared += [f"{kind}={v}" for v in _ids(ev.get(col))]
        shared_keys.append(shared)
        named = []
        if rule is not None:
            for etype, col in rule.involves.items():
                named += [(etype, i) for i in _ids(ev.get(col))]
        involved.append(named)

    # Cross-programme subjects: a person whose hits fall in two or more programmes.
    subjects = [_subject(r["entity_type"], r["entity_id"], ev) for r, ev in zip(records, evidence, strict=True)]
    programs_of: dict[str, set] = {}
    for s, r in zip(subjects, records, strict=True):
        if s:
            programs_of.setdefault(s, set()).add(r["program"])
    cross = {s for s, p in programs_of.items() if len(p) >= 2}

    groups = _Groups(n)
    first_with: dict[str, int] = {}
    for i in range(n):
        keys = [own_keys[i], *shared_keys[i]] + ([f"person:{subjects[i]}"] if subjects[i] in cross else [])
        for k in keys:
            if k in first_with:
                groups.union(first_with[k], i)
            else:
                first_with[k] = i

    comp = [groups.find(i) for i in range(n)]
    order = sorted(range(n), key=lambda i: (-float(records[i].get("weight", 0.0)),
                                            -LEVEL_ORDER.get(records[i]["level"], 0),
                                            -float(records[i]["amount_at_risk"]), records[i]["rule_id"],
                                            records[i]["entity_id"], records[i]["evidence"]))
    members_of: dict[int, list[int]] = {}
    for i in order:
        members_of.setdefault(comp[i], []).append(i)

    out = {c: [None] * n for c in MERGE_COLUMNS}
    member_rows = []
    for idx in members_of.values():
        if all(bool(records[i].get("folded", False)) for i in idx):
            continue  # wholly within a mis-tuned rule's finding
        top = idx[0]
        programs = {records[i]["program"] for i in idx}
        cross_subject = next((subjects[i] for i in idx if subjects[i] in cross), None)
        shared = sorted({k for i in idx for k in shared_keys[i]})
        if cross_subject:
            etype, eid, program = "person", cross_subject, "cross"
        else:
            etype, eid = records[top]["entity_type"], records[top]["entity_id"]
            program = records[top]["program"] if len(programs) == 1 else "cross"
        if shared:
            key = shared[0]
        elif cross_subject:
            key = entity_key("person", cross_subject)
        else:
            key = own_keys[top]
        cid = case_id(key, year, secret)
        for i in idx:
            out["case_id"][i], out["case_entity_type"][i] = cid, etype
            out["case_entity_id"][i], out["case_program"][i] = eid, program
        member_rows += _members(cid, etype, eid, [records[i] for i in idx], [involved[i] for i in idx])
    for c in MERGE_COLUMNS:
        hits[c] = out[c]
    return hits, pd.DataFrame(member_rows, columns=MEMBER_COLUMNS)


def _members(cid: str, etype: str, eid: str, recs: list[dict], involved: list[list]) -> list[tuple]:
    """The entities a case names, each once: the case's own, its hits', then those involved."""
    seen, rows = set(), []
    for t, e, role in [(etype, eid, "primary")] + [(r["entity_type"], r["entity_id"], "flagged") for r in recs] + [
            (t, e, "involved") for named in involved for t, e in named]:
        if (t, e) in seen or t not in ENTITY_TYPES:
            continue
        seen.add((t, e))
        rows.append((cid, t, e, role))
    return rows
