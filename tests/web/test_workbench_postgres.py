"""The review store on PostgreSQL: the store's own tests again, and the audit table's triggers.

The store tests are imported from test_workbench_store.py and run here with `store` bound to a
fresh database on a throwaway server (FUNDWATCH_REVIEW_DB set, so the CLI uses it too).
"""

import itertools
import subprocess
import sys

import psycopg
import pytest

from fundwatch.cli import main
from fundwatch.review import ReviewStore
from fundwatch.review.publish import sync
from tests.web.postgres import Server
from tests.web.test_workbench_store import (  # noqa: F401  (collected again, against PostgreSQL)
    COUNTY,
    Clock,
    test_cli_review_and_stats_share_the_state_and_outcomes_feed_the_next_scan,
    test_due_dates_escalation_and_suspension,
    test_rescan_joins_open_cases_and_refuted_findings_are_suppressed,
    test_round_robin_assigns_each_township_to_its_least_loaded_verifier,
    test_the_loop_four_eyes_and_scopes,
    test_verifier_cannot_close_their_own_case_even_as_a_county_user,
)

_names = itertools.count(1)


@pytest.fixture(scope="module")
def postgres():
    server = Server().start()
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres, workspace, monkeypatch, tmp_path):
    url = postgres.new_database(f"review_{next(_names)}")
    monkeypatch.setenv("FUNDWATCH_REVIEW_DB", url)
    monkeypatch.setenv("FUNDWATCH_EVIDENCE_DIR", str(tmp_path / "evidence"))
    return url


@pytest.fixture
def store(pg_url, workspace):
    clock = Clock()
    s = ReviewStore(pg_url, clock=clock, suppress_days=180)
    s.clock_ref = clock
    sync(s, str(workspace))
    yield s
    s.close()


def test_the_store_is_on_postgresql(store, pg_url):
    with psycopg.connect(pg_url) as con:
        (n,) = con.execute("SELECT count(*) FROM wb_cases").fetchone()
        (version,) = con.execute("SELECT value FROM wb_meta WHERE key = 'schema_version'").fetchone()
    assert n == len(store.cases(COUNTY)) > 10 and version == "2"


def test_audit_triggers_refuse_update_and_delete_and_verify_names_a_forged_entry(store, pg_url, workspace, capsys):
    cid = store.cases(COUNTY)[0]["case_id"]
    store.view(COUNTY, cid)
    store.log(COUNTY, "export", cid, format="csv")
    con = psycopg.connect(pg_url, autocommit=True)
    for sql in ("UPDATE wb_audit SET actor = 'nobody' WHERE seq = 2", "DELETE FROM wb_audit WHERE seq = 2",
                "TRUNCATE wb_audit"):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            con.execute(sql)
    ws = ["--workspace", str(workspace)]
    assert main([*ws, "audit", "verify"]) == 0
    assert "audit chain intact" in capsys.readouterr().out
    # behind the database's back: the triggers off, an entry rewritten, the triggers on again
    (n,) = con.execute("SELECT max(seq) FROM wb_audit").fetchone()
    con.execute("ALTER TABLE wb_audit DISABLE TRIGGER USER")
    con.execute("UPDATE wb_audit SET actor = 'someone.else' WHERE seq = %s", [n - 1])
    con.execute("ALTER TABLE wb_audit ENABLE TRIGGER USER")
    con.close()
    assert main([*ws, "audit", "verify"]) == 1
    assert f"broken at entry {n - 1}" in capsys.readouterr().out


def test_writers_on_two_connections_keep_one_chain(store, pg_url):
    """Two stores (two server threads, or the CLI beside the web app) append in turn, never on the same seq."""
    other = ReviewStore(pg_url)
    cases = [c["case_id"] for c in store.cases(COUNTY)[:6]]
    for i, cid in enumerate(cases):
        (store if i % 2 else other).act(COUNTY, cid, "assign")
    other.close()
    from fundwatch.review import db, verify_chain

    con = db.connect(pg_url)
    verdict = verify_chain(con)
    con.close()
    assert verdict.ok and verdict.entries >= len(cases) + 1


def test_evidence_on_postgresql(store, tmp_path):
    cid = store.cases(COUNTY)[0]["case_id"]
    kept = store.attach(COUNTY, cid, "笔录.pdf", [b"%PDF-1.4\n%%EOF\n"])
    again = store.attach(COUNTY, cid, "copy.pdf", [b"%PDF-1.4\n%%EOF\n"])
    assert not kept["duplicate"] and again["duplicate"] and len(store.files(COUNTY, cid)) == 1
    row, data = store.download(COUNTY, cid, kept["sha256"])
    assert data == b"%PDF-1.4\n%%EOF\n" and row["name"] == "笔录.pdf"
    assert (tmp_path / "evidence" / kept["sha256"][:2] / kept["sha256"]).read_bytes() == data


def test_serve_on_postgresql_migrates_django_and_adds_users(pg_url, workspace):
    """Django's tables go to the same PostgreSQL database (in a subprocess: Django is set up once per process)."""
    exe = [sys.executable, "-m", "fundwatch.cli"]
    done = subprocess.run([*exe, "--workspace", str(workspace), "serve", "--add-user", "hu:leader"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(pg_url) as con:
        rows = con.execute("SELECT u.username, p.role, u.password FROM auth_user u "
                           "JOIN workbench_profile p ON p.user_id = u.id").fetchall()
    assert [r[:2] for r in rows] == [("hu", "leader")] and rows[0][2].startswith("argon2$argon2id$")
