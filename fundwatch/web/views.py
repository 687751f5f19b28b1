"""Pages, JSON and exports: each asks the store, scoped to the user; none filters in a template."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import ValidationError, validate_password
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from fundwatch.errors import ConfigError
from fundwatch.review import MEASURES, OUTCOMES, CaseNotFound, ReviewError, evidence
from fundwatch.review.feedback import rule_stats
from fundwatch.review.states import CLOSED, COUNTY, LEADER, ROLES, TOWNSHIP_VERIFIER, TRANSITIONS
from fundwatch.web.access import actor_of, for_display, masked, may_reveal, scoped_case, store
from fundwatch.web.pdf_report import case_report_pdf
from fundwatch.web.reports import case_report_xlsx

LIST_COLUMNS = ["case_id", "state", "township", "program", "entity_type", "entity_id", "risk_score",
                "amount_at_risk", "rule_ids", "assignee", "due_at", "summary"]


# --- login ----------------------------------------------------------------------------------
def login_view(request):
    error = ""
    if request.method == "POST":
        name = request.POST.get("username", "")[:150]
        user = User.objects.filter(username=name).select_related("profile").first()
        profile = getattr(user, "profile", None) if user else None
        now = timezone.now()
        with store() as s:
            if profile and profile.locked_until and profile.locked_until > now:
                s.log(name, "login_refused", reason="locked")
                error = "locked"
            else:
                authed = authenticate(request, username=name, password=request.POST.get("password", ""))
                if authed is not None and profile is not None:
                    profile.failed_logins, profile.locked_until = 0, None
                    profile.save(update_fields=["failed_logins", "locked_until"])
                    login(request, authed)
                    s.log(name, "login")
                    return redirect("/password/" if profile.must_change_password else "/")
                error = "bad_login"
                s.log(name, "login_failed")
                if profile is not None:
                    profile.failed_logins += 1
                    if profile.failed_logins >= settings.LOCKOUT_AFTER:
                        profile.locked_until = now + timedelta(minutes=settings.LOCKOUT_MINUTES)
                        profile.failed_logins = 0
                        s.log(name, "locked", minutes=settings.LOCKOUT_MINUTES)
                        error = "locked"
                    profile.save(update_fields=["failed_logins", "locked_until"])
    return render(request, "fw/login.html", {"error": error}, status=403 if error else 200)


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        with store() as s:
            s.log(request.user.username, "logout")
    logout(request)
    return redirect("/login/")


@login_required
def password_view(request):
    errors = []
    if request.method == "POST":
        new, again = request.POST.get("new_password", ""), request.POST.get("repeat_password", "")
        if not request.user.check_password(request.POST.get("password", "")):
            errors.append("the current password is wrong")
        elif new != again:
            errors.append("the two new passwords differ")
        elif new == request.POST.get("password"):
            errors.append("the new password must differ from the old one")
        else:
            try:
                validate_password(new, request.user)
            except ValidationError as e:
                errors.extend(e.messages)
        if not errors:
            request.user.set_password(new)
            request.user.save()
            request.user.profile.must_change_password = False
            request.user.profile.save(update_fields=["must_change_password"])
            update_session_auth_hash(request, request.user)
            with store() as s:
                s.log(request.user.username, "password_changed")
            return redirect("/")
    return render(request, "fw/password.html", {"errors": errors})


@require_POST
def language_view(request):
    request.session["lang"] = "en" if request.POST.get("lang") == "en" else "zh"
    target = request.POST.get("next", "/")
    return redirect(target if target.startswith("/") and not target.startswith("//") else "/")


# --- lists ----------------------------------------------------------------------------------
def _page(request, template, **context):
    actor = actor_of(request)
    status = context.pop("status", 200)
    context.update(actor=actor, role_label=ROLES[actor.role], county=actor.role in COUNTY,
                   verifier=actor.role == TOWNSHIP_VERIFIER)
    return render(request, template, context, status=status)


LIST_SHOWN = ("case_id", "state", "township", "program", "risk_score", "amount_at_risk", "assignee", "due_at",
              "escalated", "new_evidence", "summary", "summary_zh")


def _list(request, heading: str, rows, **extra):
    # only what the list shows is masked: parsing and masking every case's evidence was half the page's time
    shown = [for_display({k: c[k] for k in LIST_SHOWN}) for c in rows]
    return _page(request, "fw/list.html", heading=heading, cases=shown, **extra)


@login_required
@require_GET
def queue_view(request):
    with store() as s:
        return _list(request, "queue", s.queue(actor_of(request)), show_take=True)


@login_required
@require_GET
def cases_view(request):
    with store() as s:
        return _list(request, "cases", s.cases(actor_of(request), state=request.GET.get("state") or None),
                     show_export=True)


@login_required
@require_GET
def overdue_view(request):
    with store() as s:
        return _list(request, "overdue", s.overdue(actor_of(request)))


@login_required
@require_GET
def rules_view(request):
    empty = rule_stats(settings.REVIEW_DB, _no_cases())
    return _page(request, "fw/rules.html", rules=empty.to_dict("records"))


def _no_cases():
    import pandas as pd

    return pd.DataFrame({"rule_id": pd.Series(dtype=object), "cases": pd.Series(dtype="int64")})


@login_required
@require_POST
def take_next_view(request):
    with store() as s:
        try:
            case = s.take_next(actor_of(request))
        except ReviewError as e:
            return _page(request, "fw/error.html", message=str(e), status=400)
    return redirect(f"/cases/{case['case_id']}/" if case else "/")


@login_required
@require_POST
def assign_all_view(request):
    """轮流分配: every pending case to its township's verifiers in turn."""
    verifiers: dict[str, list[str]] = {}
    for name, township in User.objects.filter(profile__role=TOWNSHIP_VERIFIER, is_active=True).values_list(
            "username", "profile__township"):
        verifiers.setdefault(township, []).append(name)
    with store() as s:
        try:
            s.assign_round_robin(actor_of(request), verifiers)
        except ReviewError as e:
            return _page(request, "fw/error.html", message=str(e), status=400)
    return redirect("/")


# --- one case ---------------------------------------------------------------------------------
def _case_page(request, case_id, reveal_reason=None, error="", notice=""):
    actor = actor_of(request)
    with store() as s:
        if reveal_reason is not None:
            try:
                scoped_case(s, actor, case_id, "page")  # 404 before anything else
                case = s.reveal(actor, case_id, reveal_reason, may_reveal(request))
                shown, revealed = for_display(case, reveal=True), True
            except ReviewError as e:
                case, error, revealed = s.case(actor, case_id), str(e), False
                shown = for_display(case)
        else:
            case = scoped_case(s, actor, case_id, "page")
            shown, revealed = for_display(case), False
        timeline = [{**e, "detail": masked(e["detail"])} for e in s.timeline(actor, case_id)]
        files = [{**f, "name": masked(f["name"])} for f in s.files(actor, case_id)]
        townships = s.townships() if actor.county_wide else [actor.township]
    actions = [a for a, t in TRANSITIONS.items() if case["state"] in t.sources and actor.role in t.roles]
    verifiers = User.objects.filter(profile__role=TOWNSHIP_VERIFIER, profile__township=case["township"] or "-")
    return _page(request, "fw/case.html", case=shown, timeline=timeline, actions=actions, error=error,
                 revealed=revealed, can_reveal=may_reveal(request), outcomes=OUTCOMES, measures=MEASURES,
                 townships=townships, verifiers=[u.username for u in verifiers], files=files,
                 may_attach=actor.role != LEADER and case["state"] != CLOSED, notice=notice,
                 max_mb=evidence.max_bytes() / 1024 / 1024, status=400 if error else 200)


@login_required
def case_view(request, case_id):
    if request.method == "POST":
        return _case_page(request, case_id, reveal_reason=request.POST.get("reason", ""))
    return _case_page(request, case_id)


@login_required
@require_POST
def case_action_view(request, case_id, action):
    actor = actor_of(request)
    post = request.POST
    fields = {}
    if action in ("feedback", "close"):
        fields = {"outcome": post.get("outcome"), "recovered": post.get("recovered"),
                  "measures": post.getlist("measures")}
    elif action in ("assign", "reassign"):
        fields = {"township": post.get("township") or None, "assignee": post.get("assignee") or None}
    elif action == "suspend":
        fields = {"until": post.get("until")}
    with store() as s:
        scoped_case(s, actor, case_id, "action")
        try:
            s.act(actor, case_id, action, reason=post.get("reason", ""), **fields)
        except ReviewError as e:
            return _case_page(request, case_id, error=str(e))
    return redirect(f"/cases/{case_id}/")


@login_required
@require_GET
def case_json_view(request, case_id):
    case, timeline = _case_for_export(request, case_id, "json")
    return JsonResponse({"case": for_display(case), "timeline": timeline},
                        json_dumps_params={"ensure_ascii": False})


@login_required
@require_GET
def cases_json_view(request):
    with store() as s:
        rows = s.cases(actor_of(request))
        s.log(actor_of(request), "export", None, format="json", cases=len(rows))
    return JsonResponse({"cases": [{k: for_display(c)[k] for k in LIST_COLUMNS} for c in rows]},
                        json_dumps_params={"ensure_ascii": False})


def _case_for_export(request, case_id: str, what: str) -> tuple[dict, list[dict]]:
    """The case (404 out of scope) and its masked timeline; the export is logged."""
    actor = actor_of(request)
    with store() as s:
        case = scoped_case(s, actor, case_id, what)
        timeline = [{**e, "detail": masked(e["detail"])} for e in s.timeline(actor, case_id)]
        s.log(actor, "export", case_id, format=what)
    return case, timeline


def _stamp(request) -> str:
    return f"{request.user.username} {timezone.localtime():%Y-%m-%d %H:%M:%S %Z}"


@login_required
@require_GET
def cases_csv_view(request):
    actor = actor_of(request)
    with store() as s:
        rows = s.cases(actor)
        s.log(actor, "export", None, format="csv", cases=len(rows))
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf)
    w.writerow([f"# exported by {_stamp(request)}"])
    w.writerow(LIST_COLUMNS)
    for c in rows:
        shown = for_display(c)
        w.writerow([_safe_cell(shown[k]) for k in LIST_COLUMNS])
    response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="cases.csv"'
    return response


def _safe_cell(value):
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # opening the file runs nothing


@login_required
@require_GET
def case_xlsx_view(request, case_id):
    case, timeline = _case_for_export(request, case_id, "xlsx")
    data = case_report_xlsx(for_display(case), timeline, _stamp(request))
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{case_id}-report.xlsx"'
    return response


# --- evidence files -------------------------------------------------------------------------
@login_required
@require_POST
def evidence_upload_view(request, case_id):
    actor = actor_of(request)
    upload = request.FILES.get("file")
    with store() as s:
        scoped_case(s, actor, case_id, "upload")  # 404 out of scope, before the file is looked at
        if upload is None:
            return _case_page(request, case_id, error="choose a file to upload")
        try:
            kept = s.attach(actor, case_id, upload.name, upload.chunks())
        except ReviewError as e:
            return _case_page(request, case_id, error=str(e))
    if kept["duplicate"]:
        return _case_page(request, case_id, notice=f"{kept['name']}: this file is attached already")
    return redirect(f"/cases/{case_id}/#files")


@login_required
@require_GET
def evidence_download_view(request, case_id, sha256):
    try:
        with store() as s:
            row, data = s.download(actor_of(request), case_id, sha256)
    except (CaseNotFound, ValueError):
        raise Http404("no such file") from None
    response = HttpResponse(data, content_type=row["mime"])
    # always a download, never shown inline: an uploaded file runs nothing in the workbench's origin
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(row['name'])}"
    return response


@login_required
@require_GET
def case_pdf_view(request, case_id):
    case, timeline = _case_for_export(request, case_id, "pdf")
    with store() as s:
        files = [{**f, "name": masked(f["name"])} for f in s.files(actor_of(request), case_id)]
    try:
        data = case_report_pdf(for_display(case), timeline, files, _stamp(request))
    except ConfigError as e:  # no Chinese font on the server: say which to install
        return _page(request, "fw/error.html", message=str(e), status=500)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{case_id}-report.pdf"'
    return response
