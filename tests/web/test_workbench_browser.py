"""The workbench in a real browser (Debian's Chromium via playwright), on a real server (waitress),
a real SQLite review database and the sample county's DuckDB workspace.

One server and one browser for the module; each test walks a lot of ground.
"""

import io
import json
import re
import shutil
import sqlite3
import threading
import zipfile

import duckdb
import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "Initial-pass-2026"
NEW_PASSWORD = "Changed-pass-2026!"


@pytest.fixture(scope="module")
def server(scanned_sample, tmp_path_factory):
    ws = tmp_path_factory.mktemp("served") / "ws.duckdb"
    shutil.copy(scanned_sample, ws)
    import waitress

    from fundwatch.web.server import wsgi_app

    app, url = wsgi_app(str(ws))
    from fundwatch.web.users import add_user

    users = {"wang": ("county_admin", ""), "li": ("county_reviewer", ""), "zhao": ("township_verifier", "522631106"),
             "qian": ("township_verifier", "522631107"), "boss": ("leader", ""), "sun": ("county_reviewer", "")}
    for name, (role, township) in users.items():
        add_user(name, role, township, password=PASSWORD, must_change=name == "zhao")
    httpd = waitress.create_server(app, host="127.0.0.1", port=0, threads=6)
    thread = threading.Thread(target=httpd.run, daemon=True)
    thread.start()
    yield {"base": f"http://127.0.0.1:{httpd.effective_port}", "ws": ws,
           "db": url.removeprefix("sqlite:///")}
    httpd.close()


@pytest.fixture(scope="module")
def browser(server):  # after the server: Django refuses ORM calls under playwright's event loop
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def submit(page, selector):
    """Click a button that posts its form and wait for the answer. A click returns once it is
    dispatched: reading the page before the answer has loaded reads the page the form was on
    (with Argon2 at login, or on a busy machine, that is a second or more)."""
    with page.expect_navigation():
        page.click(selector)


def session(browser, server, name, password=PASSWORD):
    ctx = browser.new_context(base_url=server["base"])
    page = ctx.new_page()
    page.goto("/login/")
    page.fill("#username", name)
    page.fill("#password", password)
    submit(page, "#login")
    return page


def audit_rows(server, action):
    con = sqlite3.connect(server["db"])
    rows = con.execute("SELECT actor, case_id, detail FROM wb_audit WHERE action = ? ORDER BY seq", [action]).fetchall()
    con.close()
    return rows


def a_case_of(page, township):
    page.goto("/cases/")
    for row in page.locator("table.cases tbody tr").all():
        if row.locator("td").nth(2).inner_text().strip() == township and "待交办" in row.inner_text():
            return row.locator("a").first.inner_text().strip()
    raise AssertionError(f"no pending case in {township}")


def person_ids(server):
    con = duckdb.connect(str(server["ws"]), read_only=True)
    ids = {r[0] for r in con.execute("SELECT entity_id FROM fw_case_entities WHERE entity_type = 'person'").fetchall()}
    con.close()
    assert len(ids) > 10
    return ids


def test_the_loop_from_assignment_to_closing_by_three_users(browser, server):
    # the township verifier's first login: nothing but the password form until it is changed
    zhao = session(browser, server, "zhao")
    assert zhao.url.endswith("/password/")
    zhao.goto("/cases/")
    assert zhao.url.endswith("/password/")
    zhao.fill("#password", PASSWORD)
    zhao.fill("#new_password", "short")
    zhao.fill("#repeat_password", "short")
    submit(zhao, "#change")
    assert "/password/" in zhao.url and zhao.locator(".error").count() >= 1
    zhao.fill("#password", PASSWORD)
    zhao.fill("#new_password", NEW_PASSWORD)
    zhao.fill("#repeat_password", NEW_PASSWORD)
    submit(zhao, "#change")
    assert zhao.url == server["base"] + "/"

    wang = session(browser, server, "wang")  # the county administrator assigns
    cid = a_case_of(wang, "522631106")
    wang.goto(f"/cases/{cid}/")
    assert wang.inner_text("#state") == "待交办"
    wang.select_option("#form-assign select[name=assignee]", "zhao")
    submit(wang, "#do-assign")
    assert wang.inner_text("#state") == "已交办" and wang.inner_text("#assignee") == "zhao"

    zhao.goto("/")
    assert cid in zhao.inner_text("table.cases")
    submit(zhao, "#take-next")
    assert zhao.inner_text("#case-id") == cid and zhao.inner_text("#state") == "核查中"
    zhao.select_option("#form-feedback select[name=outcome]", "部分属实")
    zhao.fill("#form-feedback input[name=recovered]", "1250.5")
    zhao.check("#form-feedback input[value=停发]")
    zhao.check("#form-feedback input[value=追缴]")
    zhao.fill("#form-feedback input[name=reason]", "入户核查：<b>工资单</b>已取得")
    submit(zhao, "#do-feedback")
    assert zhao.inner_text("#state") == "已反馈"
    assert "<b>工资单</b>" in zhao.inner_text("#outcome")  # shown as text, never as markup
    # the verifier cannot close their own case, even by posting the form themselves
    token = zhao.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    forged = zhao.request.post(f"/cases/{cid}/act/close/", form={
        "csrfmiddlewaretoken": token, "outcome": "属实", "recovered": "0", "reason": "自己销号"})
    assert forged.status == 400 and "cannot close" in forged.text()

    li = session(browser, server, "li")  # the county reviewer reviews and closes
    li.goto("/")
    assert cid in li.inner_text("table.cases")
    submit(li, "#take-next")
    assert li.inner_text("#case-id") == cid and li.inner_text("#state") == "审核"
    li.fill("#form-close input[name=reason]", "")
    submit(li, "#do-close")
    assert "written reason" in li.inner_text("#error") and li.inner_text("#state") == "审核"
    li.select_option("#form-close select[name=outcome]", "部分属实")
    li.check("#form-close input[value=追缴]")
    li.fill("#form-close input[name=reason]", "核查属实部分，已追缴")
    submit(li, "#do-close")
    assert li.inner_text("#state") == "已销号"
    timeline = li.inner_text("#timeline")
    for who, action in (("wang", "assign"), ("zhao", "start"), ("zhao", "feedback"), ("li", "begin_review"),
                        ("li", "close")):
        assert re.search(rf"{who}\s+{action}\b", timeline), timeline
    # the outcome reaches the rules page (and the next scan's weights)
    li.goto("/rules/")
    rules = li.inner_text("#rules")
    case_rules = [r for r in json.loads(li.request.get(f"/api/cases/{cid}/").text())["case"]["rule_ids"].split(";")]
    assert all(re.search(rf"{re.escape(r)}\s+1\s+1\s+0", rules) for r in case_rules), rules
    # 中文 by default, English on request
    submit(li, "header form.inline:last-of-type button")
    assert "Rules" in li.inner_text("h1")


def test_scopes_csrf_masking_reveal_and_security_headers(browser, server):
    qian = session(browser, server, "qian")  # township 522631107
    li = session(browser, server, "li")
    other = a_case_of(li, "522631106")
    for path in (f"/cases/{other}/", f"/api/cases/{other}/", f"/cases/{other}/report.xlsx",
                 f"/cases/{other}/report.pdf"):
        assert qian.request.get(path).status == 404, path
    qian.goto("/")
    token = qian.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    assert qian.request.post(f"/cases/{other}/act/start/", form={"csrfmiddlewaretoken": token}).status == 404
    assert qian.request.post(f"/cases/{other}/", form={"csrfmiddlewaretoken": token, "reason": "看看"}).status == 404
    listed = json.loads(qian.request.get("/api/cases/").text())["cases"]
    assert listed and {c["township"] for c in listed} == {"522631107"}
    csv_rows = qian.request.get("/export/cases.csv").text().splitlines()[2:]
    assert len(csv_rows) == len(listed) and other not in "\n".join(csv_rows)
    # a POST without the CSRF token is refused
    assert qian.request.post("/take-next/", form={}).status == 403
    assert li.request.post(f"/cases/{other}/act/assign/", form={"township": "522631106"}).status == 403

    # no full ID in any page or export ...
    ids = person_ids(server)
    person_case = next(c["case_id"] for c in json.loads(li.request.get("/api/cases/").text())["cases"]
                       if c["entity_type"] == "person")
    li.goto(f"/cases/{person_case}/")
    bodies = {"queue": li.request.get("/").text(), "list": li.request.get("/cases/").text(),
              "page": li.content(), "json": li.request.get(f"/api/cases/{person_case}/").text(),
              "list json": li.request.get("/api/cases/").text(), "csv": li.request.get("/export/cases.csv").text()}
    xlsx = zipfile.ZipFile(io.BytesIO(li.request.get(f"/cases/{person_case}/report.xlsx").body()))
    bodies["xlsx"] = "".join(xlsx.read(n).decode() for n in xlsx.namelist() if n.endswith(".xml"))
    for name, body in bodies.items():
        assert not [i for i in ids if i in body], name
    assert "li 20" in bodies["xlsx"] and "exported by li" in bodies["csv"]  # exports carry the user and time
    # ... unless revealed with a reason, by someone allowed to, and the reveal is logged
    li.fill("#reveal-reason", "")
    li.click("#reveal")
    # the browser refuses an empty reason: the field is marked missing and nothing is revealed
    assert li.eval_on_selector("#reveal-reason", "e => e.validity.valueMissing")
    assert li.locator("#revealed").count() == 0
    li.fill("#reveal-reason", "核对户籍信息")
    submit(li, "#reveal")
    assert li.locator("#revealed").count() == 1 and [i for i in ids if i in li.content()]
    assert ("li", person_case, json.dumps({"reason": "核对户籍信息"}, ensure_ascii=False)) in audit_rows(server, "reveal")
    li.goto(f"/cases/{person_case}/")
    assert not [i for i in ids if i in li.content()]  # one answer only
    boss = session(browser, server, "boss")  # 领导: reads everything, reveals and changes nothing
    boss.goto(f"/cases/{person_case}/")
    assert boss.locator("#reveal").count() == 0 and boss.locator("form.action").count() == 0
    token = boss.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    refused = boss.request.post(f"/cases/{person_case}/", form={"csrfmiddlewaretoken": token, "reason": "我想看看"})
    assert refused.status == 400 and not [i for i in ids if i in refused.text()]
    assert not [r for r in audit_rows(server, "reveal") if r[0] == "boss"]
    assert boss.request.post("/assign-all/", form={"csrfmiddlewaretoken": token}).status == 400
    # the county assigns every pending case to the townships' verifiers in turn
    li.goto("/")
    submit(li, "#assign-all")
    qian.goto("/")
    assert qian.locator("table.cases tbody tr").count() == len(listed)
    assert {c["assignee"] for c in json.loads(qian.request.get("/api/cases/").text())["cases"]} == {"qian"}

    # headers and cookies
    answer = li.request.get("/")
    csp = answer.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert answer.headers["x-frame-options"] == "DENY"
    cookies = {c["name"]: c for c in li.context.cookies()}
    assert cookies["sessionid"]["httpOnly"] and cookies["sessionid"]["sameSite"] == "Strict"
    assert cookies["csrftoken"]["httpOnly"] and cookies["csrftoken"]["sameSite"] == "Strict"
    assert li.request.get("/static/fw/style.css").status == 200


def test_lockout_after_failed_logins_and_the_audit_records_them(browser, server):
    for _ in range(5):
        page = session(browser, server, "sun", password="wrong-password")
        assert page.locator("#error").count() == 1
        page.context.close()
    page = session(browser, server, "sun")  # the right password, too late
    assert "/login/" in page.url and "锁定" in page.inner_text("#error")
    assert [r[0] for r in audit_rows(server, "login_failed")].count("sun") == 5
    assert [r[0] for r in audit_rows(server, "locked")] == ["sun"]
    assert [r[0] for r in audit_rows(server, "login_refused")] == ["sun"]
    con = sqlite3.connect(server["db"])
    (stored,) = con.execute("SELECT password FROM auth_user WHERE username = 'sun'").fetchone()
    con.close()
    assert stored.startswith("argon2$argon2id$")


def png_bytes(width=2) -> bytes:
    """A real PNG image (so the upload is a photo by its content, not by its name)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(width))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, width, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def upload(page, name, data, mime="application/octet-stream"):
    page.set_input_files("#upload-file", files=[{"name": name, "mimeType": mime, "buffer": data}])
    submit(page, "#do-upload")


def test_evidence_uploads_are_kept_by_content_scoped_and_audited(browser, server, monkeypatch):
    from pathlib import Path

    li = session(browser, server, "li")
    cid = next(c["case_id"] for c in json.loads(li.request.get("/api/cases/").text())["cases"]
               if c["township"] == "522631106" and c["state"] != "已销号")  # the tests before may have assigned it
    li.goto(f"/cases/{cid}/")
    assert "尚无材料" in li.inner_text("#file-list")
    photo = png_bytes()
    upload(li, "入户照片.png", photo, "image/png")
    assert li.url.endswith(f"/cases/{cid}/#files") and "入户照片.png" in li.inner_text("#file-list")
    link = li.locator("#file-list a").first.get_attribute("href")
    got = li.request.get(link)
    assert got.status == 200 and got.body() == photo and got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"].startswith("attachment")
    # the same file again (under another name) is stored once and listed once
    upload(li, "again.png", photo, "image/png")
    assert "attached already" in li.inner_text("#notice") and li.locator("#file-list li").count() == 1
    blobs = [p for p in Path(server["db"] + ".evidence").rglob("*") if p.is_file()]
    assert [p.name for p in blobs] == [link.rsplit("/", 1)[1]] and blobs[0].read_bytes() == photo
    # the type is what the content is: a script named .jpg, a photo named .pdf, both refused, nothing kept
    upload(li, "photo.jpg", b"<script>alert(1)</script>", "image/jpeg")
    assert "not an accepted type" in li.inner_text("#error")
    upload(li, "record.pdf", photo, "application/pdf")
    assert "its content is a PNG image" in li.inner_text("#error")
    monkeypatch.setenv("FUNDWATCH_EVIDENCE_MAX_MB", "0.01")  # the server runs in this process
    upload(li, "询问笔录.pdf", b"%PDF-1.4\n" + b"0" * 20_000, "application/pdf")
    assert "larger than 0.01 MB" in li.inner_text("#error")
    monkeypatch.delenv("FUNDWATCH_EVIDENCE_MAX_MB")
    upload(li, "询问笔录.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    assert li.locator("#file-list li").count() == 2
    assert len([p for p in Path(server["db"] + ".evidence").rglob("*") if p.is_file()]) == 2
    # another township's verifier: 404 for the file and the upload; a POST without the token: 403
    qian = session(browser, server, "qian")
    assert qian.request.get(link).status == 404
    token = qian.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    form = {"csrfmiddlewaretoken": token, "file": {"name": "x.png", "mimeType": "image/png", "buffer": photo}}
    assert qian.request.post(f"/cases/{cid}/evidence/", multipart=form).status == 404
    assert li.request.post(f"/cases/{cid}/evidence/", multipart={"file": form["file"]}).status == 403
    uploads = [(a, c, json.loads(d)) for a, c, d in audit_rows(server, "upload")]
    assert [(a, d["name"], d["duplicate"]) for a, c, d in uploads if c == cid] == [
        ("li", "入户照片.png", False), ("li", "again.png", True), ("li", "询问笔录.pdf", False)]
    assert [(a, c) for a, c, _ in audit_rows(server, "download")] == [("li", cid)]


def pdf_text(data: bytes) -> str:
    """The text of a PDF, without the blanks and NULs pypdf puts between the glyphs of a CID font."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"[\s\x00]+", "", "".join(page.extract_text() for page in reader.pages))


def test_the_pdf_report_renders_chinese_masks_ids_and_carries_user_and_time(browser, server, monkeypatch):
    li = session(browser, server, "li")
    cases = json.loads(li.request.get("/api/cases/").text())["cases"]
    person = next(c for c in cases if c["entity_type"] == "person")
    cid = person["case_id"]
    li.goto(f"/cases/{cid}/")
    upload(li, "现场照片.png", png_bytes(3), "image/png")
    with li.expect_download() as got:
        li.click("#export-pdf")
    data = got.value.path().read_bytes()
    assert data.startswith(b"%PDF-") and got.value.suggested_filename == f"{cid}-report.pdf"
    text = pdf_text(data)
    # the Chinese headings come out as Chinese text (the font is embedded), with the case and the masked ID
    assert "核查报告" in text and "办理记录" in text and "现场照片.png" in text
    assert cid in text and person["entity_id"] in text and "*" in person["entity_id"]
    assert not [i for i in person_ids(server) if i in text]
    assert re.search(r"exportedbyli20\d\d-\d\d-\d\d\d\d:\d\d:\d\d", text), text[:300]
    assert ("li", cid, json.dumps({"format": "pdf"})) in audit_rows(server, "export")
    # no Chinese font: a clear answer, not a PDF of empty boxes
    monkeypatch.setenv("FUNDWATCH_PDF_FONT", "/nonexistent/font.ttf")
    refused = li.request.get(f"/cases/{cid}/report.pdf")
    assert refused.status == 500 and "FUNDWATCH_PDF_FONT=/nonexistent/font.ttf: no such font file" in refused.text()


def test_a_page_view_does_not_rewrite_the_session_but_requests_renew_it(browser, server, monkeypatch):
    from fundwatch.web import middleware

    boss = session(browser, server, "boss")

    def expiry():
        key = next(c["value"] for c in boss.context.cookies() if c["name"] == "sessionid")
        con = sqlite3.connect(server["db"])
        (at,) = con.execute("SELECT expire_date FROM django_session WHERE session_key = ?", [key]).fetchone()
        con.close()
        return at

    boss.goto("/cases/")
    first = expiry()
    boss.goto("/")
    assert expiry() == first  # within the minute: nothing written to renew it
    monkeypatch.setattr(middleware, "TOUCH_SECONDS", 0)  # as if a minute had passed
    boss.goto("/")
    assert expiry() > first
