"""The review loop below the web layer: states, four eyes, scopes, time, rescans, audit, feedback."""

import sqlite3
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from fundwatch.cli import main
from fundwatch.review import Actor, CaseNotFound, ReviewError, ReviewStore, default_url
from fundwatch.review.publish import sync
from fundwatch.store import RunStore
from tests.web.conftest import scan


class Clock:
    def __init__(self):
        self.t = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self):
        return self.t


@pytest.fixture
def store(workspace):
    clock = Clock()
    s = ReviewStore(default_url(workspace), clock=clock, suppress_days=180)
    s.clock_ref = clock
    sync(s, str(workspace))
    yield s
    s.close()


COUNTY = Actor("li.county", "county_reviewer")
ADMIN = Actor("wang.admin", "county_admin")


def township_case(store, township=None):
    cases = [c for c in store.cases(COUNTY) if c["township"] and (township is None or c["township"] == township)]
    return cases[0]


def test_the_loop_four_eyes_and_scopes(store):
    case = township_case(store)
    t = case["township"]
    verifier = Actor("zhao.town", "township_verifier", t)
    other = Actor("qian.town", "township_verifier", next(c["township"] for c in store.cases(COUNTY)
                                                         if c["township"] and c["township"] != t))
    cid = case["case_id"]
    assert case["state"] == "待交办" and case in store.queue(COUNTY)
    with pytest.raises(ReviewError, match="乡镇核查员 cannot assign"):
        store.act(verifier, cid, "assign")
    with pytest.raises(ReviewError, match="needs it to be 已交办"):
        store.act(verifier, cid, "start")
    store.act(COUNTY, cid, "assign")
    # scoped in the store: another township's verifier cannot see, list or act on it
    with pytest.raises(CaseNotFound):
        store.case(other, cid)
    with pytest.raises(CaseNotFound):
        store.act(other, cid, "start")
    assert cid not in {c["case_id"] for c in store.cases(other)}
    assert all(c["township"] == other.township for c in store.cases(other))
    taken = store.take_next(verifier)  # the only case assigned to the township, locked to its taker
    assert (taken["case_id"], taken["state"], taken["assignee"]) == (cid, "核查中", "zhao.town")
    with pytest.raises(ReviewError, match="being verified by zhao.town"):
        store.act(Actor("wu.town", "township_verifier", t), cid, "feedback", reason="抢先反馈", outcome="属实",
                  recovered=0)
    with pytest.raises(ReviewError, match="written reason"):
        store.act(verifier, cid, "feedback", outcome="属实", recovered=100)
    with pytest.raises(ReviewError, match="outcome must be one of"):
        store.act(verifier, cid, "feedback", reason="走访核实", outcome="true", recovered=100)
    store.act(verifier, cid, "feedback", reason="走访核实，工资单已取得", outcome="属实", recovered=1800,
              measures=["停发", "追缴"])
    store.act(COUNTY, cid, "begin_review")
    store.act(COUNTY, cid, "return", reason="缺少工资单复印件")
    assert store.case(COUNTY, cid)["state"] == "核查中"
    store.act(verifier, cid, "feedback", reason="补充工资单复印件", outcome="属实", recovered=1800, measures="追缴")
    store.act(COUNTY, cid, "begin_review")
    with pytest.raises(ReviewError, match="cannot close"):  # a verifier cannot close, whoever they are
        store.act(verifier, cid, "close", reason="属实", outcome="属实", recovered=1800)
    closed = store.act(COUNTY, cid, "close", reason="证据充分，已追缴", outcome="属实", recovered=1800,
                       measures=["停发", "追缴"])
    assert (closed["state"], closed["outcome"], closed["recovered"], closed["measures"], closed["closed_by"]) == \
        ("已销号", "属实", 1800.0, "停发;追缴", "li.county")
    actions = [e["action"] for e in store.timeline(COUNTY, cid)]
    assert actions == ["assign", "start", "feedback", "begin_review", "return", "feedback", "begin_review", "close"]
    # reopening needs a second person
    store.act(COUNTY, cid, "request_reopen", reason="新线索：仍在领取")
    with pytest.raises(ReviewError, match="second person"):
        store.act(COUNTY, cid, "approve_reopen")
    reopened = store.act(ADMIN, cid, "approve_reopen")
    assert (reopened["state"], reopened["outcome"], reopened["cycle"]) == ("核查中", None, 2)


def test_verifier_cannot_close_their_own_case_even_as_a_county_user(store):
    """Four eyes by person: the county reviewer who verified a county-held case cannot close it."""
    case = township_case(store)
    cid, t = case["case_id"], case["township"]
    store.act(COUNTY, cid, "assign", assignee="zhao.town")
    store.act(Actor("zhao.town", "township_verifier", t), cid, "start")
    store.act(Actor("zhao.town", "township_verifier", t), cid, "feedback", reason="核实无误", outcome="不属实",
              recovered=0)
    zhao_at_county = Actor("zhao.town", "county_reviewer")  # the same person, moved to the county office
    store.act(zhao_at_county, cid, "begin_review")
    with pytest.raises(ReviewError, match="four eyes"):
        store.act(zhao_at_county, cid, "close", reason="核实无误", outcome="不属实", recovered=0)


def test_due_dates_escalation_and_suspension(store):
    case = township_case(store)
    cid = case["case_id"]
    store.act(COUNTY, cid, "assign")
    due = datetime.fromisoformat(store.case(COUNTY, cid)["due_at"].replace("Z", "+00:00"))
    assert due - store.clock_ref.t == timedelta(days=store.due_days[case["program"]])
    assert cid not in {c["case_id"] for c in store.overdue(COUNTY)}
    store.clock_ref.t = due + timedelta(hours=1)
    assert cid in {c["case_id"] for c in store.overdue(COUNTY)}
    assert cid in {c["case_id"] for c in store.queue(COUNTY)}  # escalated to the county queue
    with pytest.raises(ReviewError, match="not in the future"):
        store.act(COUNTY, cid, "suspend", reason="当事人外出务工", until=store.clock_ref.t.date().isoformat())
    until = (store.clock_ref.t + timedelta(days=10)).date().isoformat()
    store.act(COUNTY, cid, "suspend", reason="当事人外出务工", until=until)
    assert store.case(COUNTY, cid)["state"] == "挂起"
    store.clock_ref.t += timedelta(days=11)
    store.tick()
    assert store.case(COUNTY, cid)["state"] == "已交办"  # reopened by itself, to where it was
    assert [e["actor"] for e in store.timeline(COUNTY, cid) if e["action"] == "resume"] == ["system"]


def test_rescan_joins_open_cases_and_refuted_findings_are_suppressed(store, workspace, rescan):
    cases = store.cases(COUNTY)
    open_case, refuted = cases[0]["case_id"], cases[1]["case_id"]
    store.act(COUNTY, open_case, "assign", township=cases[0]["township"] or "522631101",
              reason="无区划代码，交辖区乡镇")
    closer = Actor("sun.county", "county_reviewer")
    for action, who, kw in (("assign", COUNTY, {"township": "522631101", "reason": "交辖区乡镇核查"}),
                            ("start", Actor("zhou.town", "township_verifier", "522631101"), {}),
                            ("feedback", Actor("zhou.town", "township_verifier", "522631101"),
                             {"reason": "实地核查不属实", "outcome": "不属实", "recovered": 0}),
                            ("begin_review", closer, {}),
                            ("close", closer, {"reason": "核查不属实", "outcome": "不属实", "recovered": 0})):
        store.act(who, refuted, action, **kw)
    rescan(workspace)  # tonight's run: the same findings again
    result = sync(store, str(workspace))
    (counts,) = result.values()
    assert counts["new"] == 0 and counts["suppressed"] == 1 and counts["joined"] == len(cases) - 1
    assert len(store.cases(COUNTY)) == len(cases)  # joined, not duplicated
    assert store.case(COUNTY, open_case)["state"] == "已交办"
    assert store.case(COUNTY, refuted)["state"] == "已销号"
    assert [e["action"] for e in store.timeline(COUNTY, refuted)][-1] == "suppressed"
    again = sync(store, str(workspace))
    assert list(again) == list(result) and again[next(iter(result))].get("already")  # a run is imported once
    # changed evidence on an open case is flagged new; after the suppression period a refuted finding returns
    row = {**store.case(COUNTY, open_case), "evidence_fingerprint": "changed"}
    ref = {**store.case(COUNTY, refuted), "evidence_fingerprint": "changed"}
    store.clock_ref.t += timedelta(days=181)
    counts = store.publish("run-later", [row, ref])
    assert counts["new_evidence"] == 1 and counts["relisted"] == 1
    assert store.case(COUNTY, open_case)["new_evidence"] == 1
    relisted = store.case(COUNTY, refuted)
    assert (relisted["state"], relisted["cycle"], relisted["outcome"]) == ("待交办", 2, None)


def test_audit_is_append_only_and_verify_names_a_forged_entry(store, workspace, capsys):
    cid = store.cases(COUNTY)[0]["case_id"]
    store.view(COUNTY, cid)
    store.log(COUNTY, "export", cid, format="csv")
    con = sqlite3.connect(str(workspace.with_name("ws.review.sqlite3")))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE wb_audit SET actor = 'nobody' WHERE seq = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("DELETE FROM wb_audit WHERE seq = 2")
    ws = ["--workspace", str(workspace)]
    assert main([*ws, "audit", "verify"]) == 0
    assert "audit chain intact" in capsys.readouterr().out
    # behind the database's back: drop the trigger, rewrite an entry, put the trigger back
    (n,) = con.execute("SELECT max(seq) FROM wb_audit").fetchone()
    ddl = con.execute("SELECT sql FROM sqlite_master WHERE name = 'wb_audit_no_update'").fetchone()[0]
    con.execute("DROP TRIGGER wb_audit_no_update")
    con.execute("UPDATE wb_audit SET actor = 'someone.else' WHERE seq = ?", [n - 1])
    con.execute(ddl)
    con.commit()
    con.close()
    assert main([*ws, "audit", "verify"]) == 1
    assert f"broken at entry {n - 1}" in capsys.readouterr().out


def test_cli_review_and_stats_share_the_state_and_outcomes_feed_the_next_scan(store, workspace, capsys, rescan):
    ws = ["--workspace", str(workspace)]
    case = township_case(store)
    cid, t = case["case_id"], case["township"]
    rules = case["rule_ids"].split(";")
    assert main([*ws, "review", cid, "--status", "confirmed", "--author", "li.county"]) == 2
    assert "needs it to be 审核" in capsys.readouterr().err
    store.act(COUNTY, cid, "assign")
    verifier = Actor("zhao.town", "township_verifier", t)
    store.act(verifier, cid, "start")
    store.act(verifier, cid, "feedback", reason="属实，已停发", outcome="属实", recovered=900)
    assert main([*ws, "review", cid, "--status", "confirmed", "--note", "签字确认", "--recovered", "900",
                 "--author", "zhao.town"]) == 2
    assert "four eyes" in capsys.readouterr().err
    assert main([*ws, "review", cid, "--status", "confirmed", "--note", "签字确认", "--recovered", "900",
                 "--author", "li.county"]) == 0
    assert "已销号 属实 by li.county" in capsys.readouterr().out
    assert store.case(COUNTY, cid)["closed_by"] == "li.county"
    assert main([*ws, "stats"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.split()[0] == rules[0])
    assert line.split()[2:5] == ["1", "1", "0"]  # reviewed, confirmed, cleared
    # the next scan reads the closed outcome: rule counts and the case's review status
    con = duckdb.connect(str(workspace), read_only=True)
    counts = RunStore(con).rule_review_counts().set_index("rule_id")
    con.close()
    assert all(counts.loc[r, "confirmed"] == 1 and counts.loc[r, "refuted"] == 0 for r in rules)
    # no --rescan: an outcome closed in the workbench is itself a change, so the stored run is not reused
    scan(workspace)
    con = duckdb.connect(str(workspace), read_only=True)
    status = con.execute("SELECT review_status FROM fw_cases WHERE case_id = ? AND run_id = (SELECT run_id "
                         "FROM fw_runs ORDER BY started_at DESC LIMIT 1)", [cid]).fetchall()
    con.close()
    assert status == [("confirmed",)]


def test_round_robin_assigns_each_township_to_its_least_loaded_verifier(store):
    townships = {}
    for c in store.cases(COUNTY):
        townships.setdefault(c["township"], []).append(c["case_id"])
    t = max((k for k in townships if k), key=lambda k: len(townships[k]))
    verifiers = {t: ["a.town", "b.town"]}
    with pytest.raises(ReviewError, match="cannot assign"):  # the loop's rules hold for bulk assignment too
        store.assign_round_robin(Actor("a.town", "township_verifier", t), verifiers)
    assert store.assign_round_robin(COUNTY, verifiers) == len(townships[t])
    mine = [c for c in store.cases(COUNTY) if c["township"] == t]
    per = {n: sum(c["assignee"] == n for c in mine) for n in ("a.town", "b.town")}
    assert {c["state"] for c in mine} == {"已交办"} and abs(per["a.town"] - per["b.town"]) <= 1
    others = [c for c in store.cases(COUNTY) if c["township"] != t]
    assert {c["state"] for c in others} == {"待交办"}  # no verifiers given: left in the queue


def test_serve_add_user_creates_users_with_a_first_password_and_refuses_bad_ones(workspace):
    """In a subprocess: Django is configured once per process, and the browser tests own this one's."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    exe = shutil.which("fundwatch") or str(Path(sys.executable).with_name("fundwatch"))
    run = [exe, "--workspace", str(workspace), "serve"]
    ok = subprocess.run([*run, "--add-user", "zhang:township_verifier:522631103", "--add-user", "hu:leader"],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "zhang (township_verifier 522631103) first password: " in ok.stdout and "hu (leader" in ok.stdout
    for spec, message in (("hu:leader", "exists already"), ("x:boss", "role must be one of"),
                          ("y:township_verifier:52263", "9-digit township code")):
        bad = subprocess.run([*run, "--add-user", spec], capture_output=True, text=True)
        assert bad.returncode == 2 and message in bad.stderr, (spec, bad.stderr)
    con = sqlite3.connect(str(workspace.with_name("ws.review.sqlite3")))
    rows = con.execute("SELECT u.username, p.role, p.township, p.must_change_password, u.password FROM auth_user u "
                       "JOIN workbench_profile p ON p.user_id = u.id ORDER BY 1").fetchall()
    con.close()
    assert [r[:4] for r in rows] == [("hu", "leader", "", 1), ("zhang", "township_verifier", "522631103", 1)]
    assert all(r[4].startswith("argon2$argon2id$") for r in rows)
