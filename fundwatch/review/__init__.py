"""The review workbench's state: cases of a published run as they move 交办 → 核查 → 反馈 → 销号.

Plain Python over the workbench's own database (SQLite in WAL mode), below any web layer:
the CLI (`fundwatch review`, `stats`, `audit`), the scan (outcomes feed the rule weights)
and the web app (fundwatch/web) all go through `ReviewStore`, so they never disagree.
"""

from fundwatch.review.audit import verify_chain
from fundwatch.review.db import configured_url, default_url
from fundwatch.review.states import MEASURES, OUTCOMES, ROLES, STATES, Actor
from fundwatch.review.store import CaseNotFound, ReviewError, ReviewStore

__all__ = ["MEASURES", "OUTCOMES", "ROLES", "STATES", "Actor", "CaseNotFound", "ReviewError", "ReviewStore",
           "configured_url", "default_url", "verify_chain"]
