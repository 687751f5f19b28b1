"""ReviewStore: every read and change of review state, scoped to the actor, audited.

Scoping is here, not in templates: a township verifier's every query carries its township,
and a case outside it is `CaseNotFound` (the web answers 404). Every change runs in one
BEGIN IMMEDIATE transaction that re-reads the case, checks the transition (states.py) and
appends to the audit chain, so two reviewers acting at once cannot both win.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from fundwatch.errors import FundwatchError
from fundwatch.review import audit, db, evidence
from fundwatch.review.states import (
    ASSIGNED,
    CLOSED,
    COUNTY,
    DEFAULT_DUE_DAYS,
    LEADER,
    MEASURES,
    OPEN_STATES,
    OUTCOMES,
    PENDING,
    REFUTED,
    REPORTED,
    ROLES,
    SUSPENDED,
    TRANSITIONS,
    VERIFYING,
    Actor,
)

SYSTEM = "system"
MIN_REASON = 4  # characters: "ok" is not a reason


class ReviewError(FundwatchError):
    """An action the loop does not allow (wrong state, role, missing reason): says which and why."""


class CaseNotFound(ReviewError):
    """No such case, or not one this actor may see (the same answer on purpose)."""


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ReviewStore:
    def __init__(self, url: str, clock=None, due_days: dict | None = None, suppress_days: int = 365,
                 evidence_root=None):
        self.url = url
        self._evidence_root = evidence_root
        self.con = db.connect(url)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.due_days = {**DEFAULT_DUE_DAYS, **(due_days or {})}
        self.suppress_days = suppress_days

    def close(self) -> None:
        self.con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def now(self) -> str:
        return _iso(self.clock())

    @contextmanager
    def _write(self):
        self.con.execute("BEGIN IMMEDIATE")
        try:
            yield self.con
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def log(self, actor: Actor | str, action: str, case_id: str | None = None, **detail) -> None:
        """Append an entry that changes nothing else (a login, a view, an export)."""
        with self._write() as con:
            audit.append(con, self.now(), getattr(actor, "username", actor), action, case_id, **detail)

    # --- reading, scoped -----------------------------------------------------------------
    def _scope(self, actor: Actor) -> tuple[str, list]:
        return ("", []) if actor.county_wide else (" AND township = ?", [actor.township])

    def cases(self, actor: Actor, state: str | None = None, overdue: bool = False, limit: int = 500) -> list[dict]:
        self.tick()
        where, args = self._scope(actor)
        if state:
            where, args = where + " AND state = ?", [*args, state]
        if overdue:
            where += f" AND due_at < ? AND state IN ({','.join('?' * len(OPEN_STATES))})"
            args = [*args, self.now(), *OPEN_STATES]
        rows = self.con.execute(f"SELECT * FROM wb_cases WHERE 1=1{where} ORDER BY escalated DESC, "
                                "coalesce(due_at, '9999') , risk_score DESC, case_id LIMIT ?", [*args, limit])
        return [dict(r) for r in rows]

    def case(self, actor: Actor, case_id: str) -> dict:
        where, args = self._scope(actor)
        row = self.con.execute(f"SELECT * FROM wb_cases WHERE case_id = ?{where}", [case_id, *args]).fetchone()
        if row is None:
            raise CaseNotFound(f"no case {case_id!r}" + ("" if actor.county_wide else " in your township"))
        return dict(row)

    def view(self, actor: Actor, case_id: str, what: str = "page") -> dict:
        """The case, with the view recorded (a view of a case out of scope is refused, and not logged)."""
        self.tick()
        found = self.case(actor, case_id)
        self.log(actor, "view", case_id, what=what)
        return found

    def timeline(self, actor: Actor, case_id: str) -> list[dict]:
        self.case(actor, case_id)
        rows = self.con.execute("SELECT seq, at, actor, action, detail FROM wb_audit WHERE case_id = ? "
                                "AND action NOT IN ('view', 'export', 'download') ORDER BY seq", [case_id])
        return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]

    def townships(self) -> list[str]:
        """The townships cases can be assigned to (every one a published case lies in)."""
        return [t for (t,) in self.con.execute(
            "SELECT DISTINCT township FROM wb_cases WHERE township IS NOT NULL ORDER BY 1")]

    def queue(self, actor: Actor) -> list[dict]:
        """A township's queue (交办 to it, and what its verifier is working on), or the county's
        (to assign, reported back, escalated as overdue)."""
        if actor.county_wide:
            return [c for c in self.cases(actor) if c["state"] in (PENDING, REPORTED) or
                    (c["escalated"] and c["state"] in OPEN_STATES)]
        return [c for c in self.cases(actor) if c["state"] in (ASSIGNED, VERIFYING)]

    def overdue(self, actor: Actor) -> list[dict]:
        return self.cases(actor, overdue=True)

    def reveal(self, actor: Actor, case_id: str, reason: str, may_reveal: bool) -> dict:
        """The case unmasked, for this one answer; the reason is logged before anything is shown."""
        if not may_reveal:
            raise ReviewError(f"{actor.username} may not reveal personal data")
        if len(reason.strip()) < MIN_REASON:
            raise ReviewError("revealing personal data needs a reason (at least 4 characters)")
        found = self.case(actor, case_id)
        self.log(actor, "reveal", case_id, reason=reason.strip())
        return found

    # --- evidence files -------------------------------------------------------------------
    @property
    def blobs(self) -> evidence.BlobStore:
        return evidence.BlobStore(self._evidence_root or evidence.evidence_dir(self.url))

    def attach(self, actor: Actor, case_id: str, name: str, chunks, limit: int | None = None) -> dict:
        """Keep a file as evidence of a case the actor may see and change; the upload is logged.
        The same file attached to the same case again is kept once (`duplicate` says so)."""
        case = self.case(actor, case_id)  # out of scope: CaseNotFound before anything is written
        if actor.role == LEADER:
            raise ReviewError(f"a {ROLES[LEADER]} reads cases and attaches nothing")
        if case["state"] == CLOSED:
            raise ReviewError(f"{case_id} is {CLOSED}: reopen it before adding evidence")
        name = evidence.safe_name(name)
        try:
            sha, size, kind = self.blobs.put(chunks, name, evidence.max_bytes() if limit is None else limit)
        except evidence.EvidenceRefused as e:
            raise ReviewError(str(e)) from None
        now = self.now()
        with self._write() as con:
            added = con.execute("INSERT INTO wb_evidence (case_id, sha256, name, mime, size, uploaded_by, uploaded_at) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                [case_id, sha, name, kind.mime, size, actor.username, now]).rowcount
            audit.append(con, now, actor.username, "upload", case_id, sha256=sha, name=name, size=size,
                         type=kind.mime, duplicate=not added)
        return {"sha256": sha, "name": name, "size": size, "mime": kind.mime, "duplicate": not added}

    def files(self, actor: Actor, case_id: str) -> list[dict]:
        self.case(actor, case_id)
        return [dict(r) for r in self.con.execute(
            "SELECT * FROM wb_evidence WHERE case_id = ? ORDER BY uploaded_at, sha256", [case_id])]

    def download(self, actor: Actor, case_id: str, sha256: str) -> tuple[dict, bytes]:
        """One file of a case the actor may see (else CaseNotFound, as for a missing one); logged."""
        self.case(actor, case_id)
        row = self.con.execute("SELECT * FROM wb_evidence WHERE case_id = ? AND sha256 = ?", [case_id, sha256]).fetchone()
        if row is None:
            raise CaseNotFound(f"no file {sha256[:12]} in case {case_id!r}")
        data = self.blobs.read(sha256)
        self.log(actor, "download", case_id, sha256=sha256, name=row["name"])
        return dict(row), data

    # --- the loop ------------------------------------------------------------------------
    def act(self, actor: Actor, case_id: str, action: str, reason: str = "", **fields) -> dict:
        """Apply `action` to a case, or raise ReviewError saying why not. Returns the case after."""
        t = TRANSITIONS.get(action)
        if t is None:
            raise ReviewError(f"unknown action {action!r}; expected one of {', '.join(TRANSITIONS)}")
        reason = (reason or "").strip()
        with self._write() as con:
            case = self.case(actor, case_id)
            if actor.role not in t.roles:
                raise ReviewError(f"a {ROLES[actor.role]} cannot {action} ({' / '.join(ROLES[r] for r in t.roles)} can)")
            if case["state"] not in t.sources:
                raise ReviewError(f"{case_id} is {case['state']}: {action} needs it to be {' or '.join(t.sources)}")
            if t.needs_reason and len(reason) < MIN_REASON:
                raise ReviewError(f"{action} needs a written reason (at least {MIN_REASON} characters)")
            changes = getattr(self, f"_{action}")(actor, case, reason, **fields)
            target = changes.pop("state", t.target) or case["state"]
            changes.update(state=target, updated_at=self.now())
            sets = ", ".join(f"{k} = ?" for k in changes)
            con.execute(f"UPDATE wb_cases SET {sets} WHERE case_id = ?", [*changes.values(), case_id])
            logged = {k: v for k, v in changes.items() if k != "updated_at"}
            audit.append(con, self.now(), actor.username, action, case_id,
                         **{"reason": reason, "before": case["state"], **logged})
        return self.case(actor, case_id)

    def _assign(self, actor, case, reason, township: str | None = None, assignee: str | None = None):
        township = township or case["township"]
        if not township:
            raise ReviewError(f"{case['case_id']} has no township (no region code): choose one")
        if township != case["township"] and len(reason) < MIN_REASON:
            raise ReviewError("assigning a case outside its own township needs a reason")
        now = self.clock()
        due = now + timedelta(days=self.due_days.get(case["program"], 30))
        return {"township": township, "assignee": assignee or None, "assigned_at": _iso(now), "due_at": _iso(due),
                "escalated": 0}

    def _reassign(self, actor, case, reason, township: str | None = None, assignee: str | None = None):
        return {"township": township or case["township"], "assignee": assignee or None,
                "state": ASSIGNED if (assignee or None) != case["assignee"] else case["state"]}

    def _start(self, actor, case, reason):
        if case["assignee"] not in (None, actor.username):
            raise ReviewError(f"{case['case_id']} is locked to {case['assignee']}")
        return {"assignee": actor.username}

    def _feedback(self, actor, case, reason, outcome=None, recovered=None, measures=()):
        if case["assignee"] != actor.username:
            raise ReviewError(f"{case['case_id']} is being verified by {case['assignee']}, not {actor.username}")
        found = _outcome(outcome, recovered, measures)
        return {"verifier": actor.username, "proposed_outcome": found["outcome"], "recovered": found["recovered"],
                "measures": found["measures"], "reason": reason}

    def _begin_review(self, actor, case, reason):
        return {"reviewer": actor.username}

    def _return(self, actor, case, reason):
        return {"reviewer": None}

    def _close(self, actor, case, reason, outcome=None, recovered=None, measures=()):
        if actor.username in (case["verifier"], case["assignee"]):
            raise ReviewError(f"four eyes: {actor.username} verified {case['case_id']} and cannot close it")
        found = _outcome(outcome, recovered, measures)
        suppressed = None
        if found["outcome"] == REFUTED:
            suppressed = _iso(self.clock() + timedelta(days=self.suppress_days))
        return {**found, "reason": reason, "closed_at": self.now(), "closed_by": actor.username,
                "suppressed_until": suppressed, "escalated": 0}

    def _suspend(self, actor, case, reason, until=None):
        try:
            day = date.fromisoformat(str(until))
        except ValueError:
            raise ReviewError(f"挂起 needs a reopen date as YYYY-MM-DD, got {until!r}") from None
        if day <= self.clock().date():
            raise ReviewError(f"the reopen date {day} is not in the future")
        return {"suspended_until": f"{day.isoformat()}T00:00:00Z", "suspended_from": case["state"]}

    def _resume(self, actor, case, reason):
        return {"state": case["suspended_from"], "suspended_until": None, "suspended_from": None}

    def _request_reopen(self, actor, case, reason):
        return {"reopen_requested_by": actor.username}

    def _approve_reopen(self, actor, case, reason):
        if not case["reopen_requested_by"]:
            raise ReviewError(f"nobody asked to reopen {case['case_id']} (request_reopen first)")
        if case["reopen_requested_by"] == actor.username:
            raise ReviewError("reopening a closed case needs a second person's approval")
        return {**_CLEARED, "state": VERIFYING if case["assignee"] else PENDING, "cycle": case["cycle"] + 1}

    def assign_round_robin(self, actor: Actor, verifiers: dict[str, list[str]]) -> int:
        """Assign every pending case of a township to its verifiers in turn, the least loaded first
        (open cases assigned to them); a township without verifiers keeps its cases in the queue."""
        load = {name: 0 for names in verifiers.values() for name in names}
        for c in self.cases(actor):
            if c["assignee"] in load and c["state"] in OPEN_STATES:
                load[c["assignee"]] += 1
        done = 0
        for c in self.cases(actor, state=PENDING, limit=100_000):
            names = sorted(verifiers.get(c["township"] or "", []), key=lambda n: (load[n], n))
            if names:
                self.act(actor, c["case_id"], "assign", assignee=names[0])
                load[names[0]] += 1
                done += 1
        return done

    def take_next(self, actor: Actor) -> dict | None:
        """The next case of the actor's queue, locked to them: a verifier starts verifying the first
        assigned case of the township; a county reviewer begins reviewing the first reported one."""
        action, state = ("begin_review", REPORTED) if actor.role in COUNTY else ("start", ASSIGNED)
        for c in self.cases(actor, state=state):
            if c["assignee"] in (None, actor.username) or action == "begin_review":
                try:
                    return self.act(actor, c["case_id"], action)
                except ReviewError:
                    continue  # taken by someone else in the meantime
        return None

    # --- time passing --------------------------------------------------------------------
    def tick(self) -> None:
        """Resume suspended cases whose date has come; escalate overdue ones to the county queue."""
        now = self.now()
        due = self.con.execute("SELECT case_id, suspended_from FROM wb_cases WHERE state = ? AND suspended_until <= ?",
                               [SUSPENDED, now]).fetchall()
        late = self.con.execute(f"SELECT case_id FROM wb_cases WHERE escalated = 0 AND due_at < ? AND state IN "
                                f"({','.join('?' * len(OPEN_STATES))})", [now, *OPEN_STATES]).fetchall()
        if not due and not late:
            return
        with self._write() as con:
            for case_id, back_to in due:
                n = con.execute("UPDATE wb_cases SET state = ?, suspended_until = NULL, suspended_from = NULL, "
                                "updated_at = ? WHERE case_id = ? AND state = ?", [back_to, now, case_id, SUSPENDED])
                if n.rowcount:
                    audit.append(con, now, SYSTEM, "resume", case_id, state=back_to, reason="reopen date reached")
            for (case_id,) in late:
                n = con.execute("UPDATE wb_cases SET escalated = 1 WHERE case_id = ? AND escalated = 0", [case_id])
                if n.rowcount:
                    audit.append(con, now, SYSTEM, "escalate", case_id, reason="overdue")

    # --- a published run -----------------------------------------------------------------
    def publish(self, run_id: str, cases: list[dict]) -> dict:
        """Bring a scan's cases in: a new finding is 待交办; one that is open already joins its case
        (new evidence flagged); one closed 不属实 within its suppression period stays closed, and
        that is recorded; one closed otherwise comes back as a new cycle only if its evidence changed."""
        counts = {"new": 0, "joined": 0, "new_evidence": 0, "suppressed": 0, "relisted": 0}
        now = self.now()
        with self._write() as con:
            if con.execute("SELECT 1 FROM wb_meta WHERE key = ?", [f"run:{run_id}"]).fetchone():
                return {**counts, "already": True}
            for c in cases:
                old = con.execute("SELECT * FROM wb_cases WHERE case_id = ?", [c["case_id"]]).fetchone()
                data = {**{k: c.get(k) for k in _FROM_RUN}, "run_id": run_id, "updated_at": now}
                if old is None:
                    row = {**data, "case_id": c["case_id"], "first_run_id": run_id, "state": PENDING}
                    con.execute(f"INSERT INTO wb_cases ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                                list(row.values()))
                    counts["new"] += 1
                    continue
                changed = old["evidence_fingerprint"] != c.get("evidence_fingerprint")
                if old["state"] == CLOSED:
                    if old["outcome"] == REFUTED and (old["suppressed_until"] or "") > now:
                        audit.append(con, now, SYSTEM, "suppressed", c["case_id"], run_id=run_id,
                                     until=old["suppressed_until"], evidence_changed=changed)
                        counts["suppressed"] += 1
                        continue
                    if not changed:
                        continue
                    data.update(_CLEARED, state=PENDING, assignee=None, due_at=None, assigned_at=None,
                                cycle=old["cycle"] + 1, new_evidence=1)
                    counts["relisted"] += 1
                    action = "relisted"
                else:
                    data["new_evidence"] = 1 if changed else old["new_evidence"]
                    counts["joined"] += 1
                    counts["new_evidence"] += changed
                    action = "new_evidence" if changed else None
                con.execute(f"UPDATE wb_cases SET {', '.join(f'{k} = ?' for k in data)} WHERE case_id = ?",
                            [*data.values(), c["case_id"]])
                if action:
                    audit.append(con, now, SYSTEM, action, c["case_id"], run_id=run_id)
            con.execute("INSERT INTO wb_meta VALUES (?, ?)", [f"run:{run_id}", now])
            audit.append(con, now, SYSTEM, "publish", None, run_id=run_id, **counts)
        return counts


_FROM_RUN = ("year", "program", "entity_type", "entity_id", "region_code", "township", "risk_score",
             "amount_at_risk", "rule_ids", "level", "summary", "summary_zh", "evidence", "evidence_fingerprint")
_CLEARED = {"outcome": None, "proposed_outcome": None, "recovered": None, "measures": None, "reason": None,
            "closed_at": None, "closed_by": None, "suppressed_until": None, "reopen_requested_by": None,
            "verifier": None, "reviewer": None}


def _outcome(outcome, recovered, measures) -> dict:
    if outcome not in OUTCOMES:
        raise ReviewError(f"the outcome must be one of {' / '.join(OUTCOMES)}, got {outcome!r}")
    try:
        amount = float(recovered if recovered not in (None, "") else "x")
    except (TypeError, ValueError):
        raise ReviewError(f"the amount recovered must be a number of yuan (0 if none), got {recovered!r}") from None
    if amount < 0:
        raise ReviewError("the amount recovered cannot be negative")
    measures = [measures] if isinstance(measures, str) else list(measures or ())
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        raise ReviewError(f"unknown measure(s) {', '.join(unknown)}; expected {' / '.join(MEASURES)}")
    return {"outcome": outcome, "recovered": round(amount, 2), "measures": ";".join(measures)}
