"""The audit trail: appended in the writer's transaction, chained by SHA-256, never rewritten.

Triggers refuse UPDATE and DELETE (db.py). A row written behind the database's back (the
triggers dropped, the file edited) breaks the chain: `verify_chain` names the first entry
whose hash, predecessor or sequence number is not what the entries before it imply.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

GENESIS = "0" * 64


def entry_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, case_id: str | None, detail: str) -> str:
    text = "\x1f".join([prev_hash, str(seq), at, actor, action, case_id or "", detail])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def append(con, at: str, actor: str, action: str, case_id: str | None = None, **detail) -> int:
    """Append one entry; the caller holds the write transaction (BEGIN IMMEDIATE), so seq is ours."""
    last = con.execute("SELECT seq, hash FROM wb_audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    con.execute("INSERT INTO wb_audit (seq, at, actor, action, case_id, detail, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [seq, at, actor, action, case_id, text, prev, entry_hash(prev, seq, at, actor, action, case_id, text)])
    return seq


@dataclass
class Verdict:
    entries: int
    head: str
    broken_at: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None

    def format(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.entries} entries, head {self.head}"
        return f"audit chain broken at entry {self.broken_at}: {self.problem}"


def verify_chain(con) -> Verdict:
    prev, expected_seq, n = GENESIS, 1, 0
    for row in con.execute("SELECT seq, at, actor, action, case_id, detail, prev_hash, hash FROM wb_audit ORDER BY seq"):
        seq, at, actor, action, case_id, detail, prev_hash, stored = row
        if seq != expected_seq:
            return Verdict(n, prev, expected_seq, f"entry {expected_seq} is missing (next is {seq})")
        if prev_hash != prev:
            return Verdict(n, prev, seq, "it does not point to the entry before it")
        if entry_hash(prev_hash, seq, at, actor, action, case_id, detail) != stored:
            return Verdict(n, prev, seq, f"its content does not match its hash ({action} by {actor} at {at})")
        prev, expected_seq, n = stored, seq + 1, n + 1
    return Verdict(n, prev)
