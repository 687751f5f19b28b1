"""Issue 21's load figure: reviewers working in the workbench while a nightly scan publishes.

    python benchmarks/workbench_load.py [--scale 10] [--reviewers 20] [--rounds 15] [--json FILE]

Generates the sample county at --scale (`fundwatch sample`), scans 2023 into a workspace, serves
the workbench (waitress, 8 threads, the real Django app) and lets --reviewers users (township
verifiers and county reviewers, 2:1) work their queues over HTTP: list the queue, take the next
case, open its page and JSON, report back or close it. Halfway through, `fundwatch scan` publishes
a second run of the same workspace (another process) and the workbench imports it. Printed: per
page kind the count and p50 / p95 / max milliseconds, requests per second, the server's peak memory,
and the checks that nothing was lost (every accepted action is in the audit chain, the chain is
intact, the rescan added no duplicate case).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-2026"


def fundwatch(*args) -> None:
    subprocess.run([str(Path(sys.executable).with_name("fundwatch")), *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


class Client:
    """One reviewer: a cookie jar, CSRF from the cookie, every request timed by page kind."""

    def __init__(self, base: str, timings: dict, lock: threading.Lock):
        self.base, self.timings, self.lock = base, timings, lock
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def request(self, kind: str, path: str, form: dict | None = None) -> tuple[int, str, str]:
        data = None
        if form is not None:
            data = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": self._csrf()}, doseq=True).encode()
        t0 = time.perf_counter()
        try:
            with self.opener.open(self.base + path, data=data, timeout=60) as r:
                status, url, body = r.status, r.url, r.read().decode()
        except urllib.error.HTTPError as e:
            status, url, body = e.code, path, e.read().decode()
        with self.lock:
            self.timings.setdefault(kind, []).append((time.perf_counter() - t0) * 1000)
        return status, url, body

    def login(self, name: str) -> None:
        self.request("login page", "/login/")
        status, url, _ = self.request("login", "/login/", {"username": name, "password": PASSWORD})
        assert status == 200 and not url.endswith("/login/"), f"{name} could not log in"


def work(client: Client, role: str, rounds: int, accepted: list, lock: threading.Lock) -> None:
    for _ in range(rounds):
        client.request("queue", "/")
        status, url, _ = client.request("take next", "/take-next/", {})
        if "/cases/" not in url:
            time.sleep(0.2)  # nothing to take yet
            continue
        case_id = url.rstrip("/").split("/")[-1]
        client.request("case page", f"/cases/{case_id}/")
        client.request("case json", f"/api/cases/{case_id}/")
        if role == "township_verifier":
            form = {"outcome": "属实", "recovered": "100", "measures": "追缴", "reason": "入户核查属实"}
            action = "feedback"
        else:
            form = {"outcome": "不属实", "recovered": "0", "reason": "审核不属实"}
            action = "close"
        status, url, _ = client.request(action, f"/cases/{case_id}/act/{action}/", form)
        if status == 200 and url.endswith(f"/cases/{case_id}/"):
            with lock:
                accepted.append((case_id, action))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=10)
    ap.add_argument("--reviewers", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=15, help="cases each reviewer works on")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    work_dir = Path(tempfile.mkdtemp(prefix="fw-workbench-bench-"))
    data, ws = work_dir / "data", work_dir / "ws.duckdb"
    t0 = time.perf_counter()
    fundwatch("sample", "--out", str(data), "--scale", str(args.scale), "--seed", "7", "--no-messy")
    fundwatch("--workspace", str(ws), "scan", "--year", "2023", "--data", str(data), "--out", str(work_dir / "out"),
              "--no-outliers", "--top", "0")
    prepared = time.perf_counter() - t0

    import waitress

    from fundwatch.review import Actor, ReviewStore, verify_chain
    from fundwatch.web.server import import_runs, wsgi_app

    app, url = wsgi_app(str(ws))
    from fundwatch.web.users import add_user

    with ReviewStore(url) as store:
        townships = sorted({c["township"] for c in store.cases(Actor("b", "county_admin"), limit=10**6)
                            if c["township"]})
        n_cases = len(store.cases(Actor("b", "county_admin"), limit=10**6))
    users = []
    for i in range(args.reviewers):
        if i % 3 == 2:
            users.append((f"county{i}", "county_reviewer", ""))
        else:
            users.append((f"town{i}", "township_verifier", townships[i % len(townships)]))
    for name, role, township in users:
        add_user(name, role, township, password=PASSWORD, must_change=False)
    verifiers: dict[str, list[str]] = {}
    for name, role, township in users:
        if role == "township_verifier":
            verifiers.setdefault(township, []).append(name)
    with ReviewStore(url) as store:
        assigned = store.assign_round_robin(Actor("bench.admin", "county_admin"), verifiers)

    httpd = waitress.create_server(app, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=httpd.run, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.effective_port}"

    timings: dict[str, list[float]] = {}
    lock = threading.Lock()
    accepted: list = []
    clients = []
    for name, role, _ in users:
        c = Client(base, timings, lock)
        c.login(name)
        clients.append((c, role))

    def nightly_scan():
        time.sleep(2)
        fundwatch("--workspace", str(ws), "scan", "--year", "2023", "--data", str(data),
                  "--out", str(work_dir / "out2"), "--no-outliers", "--top", "0")
        while import_runs(str(ws), url) is None:  # the workspace may still be closing
            time.sleep(0.5)

    t1 = time.perf_counter()
    threads = [threading.Thread(target=work, args=(c, role, args.rounds, accepted, lock)) for c, role in clients]
    scan_thread = threading.Thread(target=nightly_scan)
    for t in [*threads, scan_thread]:
        t.start()
    for t in [*threads, scan_thread]:
        t.join()
    elapsed = time.perf_counter() - t1
    httpd.close()

    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    logged = set(con.execute("SELECT case_id, action FROM wb_audit WHERE action IN ('feedback', 'close') "
                             "AND actor <> 'system'").fetchall())
    cases_after = con.execute("SELECT count(*), count(DISTINCT case_id) FROM wb_cases").fetchone()
    runs = con.execute("SELECT count(*) FROM wb_meta WHERE key LIKE 'run:%'").fetchone()[0]
    verdict = verify_chain(con)
    con.close()

    pages = {k: {"n": len(v), "p50_ms": round(statistics.median(v), 1),
                 "p95_ms": round(sorted(v)[max(0, int(0.95 * len(v)) - 1)], 1), "max_ms": round(max(v), 1)}
             for k, v in sorted(timings.items())}
    result = {
        "scale": args.scale, "reviewers": args.reviewers, "cases": n_cases, "townships": len(townships),
        "assigned_round_robin": assigned, "prepare_s": round(prepared, 1), "work_s": round(elapsed, 1),
        "requests": sum(len(v) for v in timings.values()),
        "requests_per_s": round(sum(len(v) for v in timings.values()) / elapsed, 1),
        "pages": pages, "accepted_actions": len(accepted),
        "accepted_actions_in_audit": len(set(accepted) & logged), "runs_imported": runs,
        "cases_after_rescan": cases_after[0], "duplicate_cases": cases_after[0] - cases_after[1],
        "audit_chain": verdict.format(), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    lost = result["accepted_actions"] != result["accepted_actions_in_audit"] or not verdict.ok
    return 1 if lost or result["duplicate_cases"] or runs != 2 else 0


if __name__ == "__main__":
    raise SystemExit(main())
