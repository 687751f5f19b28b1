"""From a request to the store: who is acting (an Actor with a township scope) and how to mask."""

from __future__ import annotations

import json
import re
import threading

from django.conf import settings
from django.http import Http404

from fundwatch.report.mask import mask_json, mask_text
from fundwatch.review import Actor, CaseNotFound, ReviewStore

NEVER_PERSONAL = frozenset({"case_id", "township", "region_code", "rule_ids", "run_id", "first_run_id", "state",
                            "due_at", "assigned_at", "closed_at", "updated_at", "suppressed_until"})


class _ThreadStore(ReviewStore):
    """A request thread's store, kept open between its requests: opening one (connection, PRAGMAs,
    schema check) cost a few milliseconds on every request. Leaving a `with` block ends any
    transaction an error left open instead of closing the connection."""

    def __exit__(self, *exc):
        if self.con.in_transaction:
            self.con.execute("ROLLBACK")


_local = threading.local()


def store() -> ReviewStore:
    """The store of this thread (waitress serves from a fixed pool of threads: one connection each)."""
    key = (settings.REVIEW_DB, settings.SUPPRESS_DAYS)
    kept = getattr(_local, "store", None)
    if kept is None or _local.key != key:
        if kept is not None:
            kept.close()
        _local.store, _local.key = _ThreadStore(settings.REVIEW_DB, suppress_days=settings.SUPPRESS_DAYS), key
    return _local.store


def actor_of(request) -> Actor:
    p = request.user.profile
    return Actor(request.user.username, p.role, p.township or None)


def may_reveal(request) -> bool:
    return request.user.has_perm("workbench.reveal_pii")


def scoped_case(s: ReviewStore, actor: Actor, case_id: str, what: str) -> dict:
    """The case if the actor may see it (the view is logged), else 404 — the same for a missing one."""
    try:
        return s.view(actor, case_id, what=what)
    except CaseNotFound:
        raise Http404("no such case") from None


def mask_phone(text: str) -> str:
    return re.sub(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)", r"\1****\2", text)


def masked(value):
    """IDs, bank accounts and mobile numbers masked in any text or JSON-like value."""
    if isinstance(value, str):
        return mask_phone(mask_text(value))
    if isinstance(value, dict | list):
        return json.loads(mask_phone(json.dumps(mask_json(value), ensure_ascii=False)))
    return value


def for_display(case: dict, reveal: bool = False) -> dict:
    """A case as a page or export shows it: evidence parsed; personal data masked unless revealed."""
    out = dict(case)
    out["evidence"] = json.loads(case.get("evidence") or "[]")
    if not reveal:
        out = {k: v if k in NEVER_PERSONAL else masked(v) for k, v in out.items()}
    return out
