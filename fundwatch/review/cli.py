"""`fundwatch review` when a workbench database is configured: the CLI acts as a county reviewer,
through the same loop as the browser (a case is closed from 审核, never by its verifier)."""

from __future__ import annotations

from contextlib import suppress

from fundwatch.review.publish import WorkspaceLocked, sync
from fundwatch.review.states import CONFIRMED, COUNTY_REVIEWER, REFUTED, REPORTED, Actor
from fundwatch.review.store import ReviewStore

CLI_OUTCOME = {"confirmed": CONFIRMED, "cleared": REFUTED}


def cli_review(url: str, workspace: str, case_id: str, status: str, note: str, recovered, author: str) -> str:
    with ReviewStore(url) as store:
        with suppress(WorkspaceLocked):  # a scan is publishing; the cases imported so far are reviewable
            sync(store, workspace)
        actor = Actor(author, COUNTY_REVIEWER)
        case = store.case(actor, case_id)
        if status == "in_progress":
            store.log(actor, "note", case_id, note=note)
            return f"{case_id}: note recorded by {author} ({case['state']})"
        if case["state"] == REPORTED:
            store.act(actor, case_id, "begin_review")
        closed = store.act(actor, case_id, "close", reason=note, outcome=CLI_OUTCOME[status],
                           recovered=recovered or 0)
        return f"{case_id}: {closed['state']} {closed['outcome']} by {author} at {closed['closed_at']}"
