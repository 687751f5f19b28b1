from pathlib import Path

import django.contrib.admin
from django.contrib import admin
from django.urls import path, re_path
from django.views.static import serve

from fundwatch.web import views

HERE = Path(__file__).resolve().parent
ADMIN_STATIC = Path(django.contrib.admin.__file__).resolve().parent / "static" / "admin"
CASE = "cases/<str:case_id>/"

urlpatterns = [
    path("", views.queue_view),
    path("login/", views.login_view),
    path("logout/", views.logout_view),
    path("password/", views.password_view),
    path("lang/", views.language_view),
    path("cases/", views.cases_view),
    path("overdue/", views.overdue_view),
    path("rules/", views.rules_view),
    path("take-next/", views.take_next_view),
    path("assign-all/", views.assign_all_view),
    path(CASE, views.case_view),
    path(CASE + "act/<str:action>/", views.case_action_view),
    path(CASE + "report.xlsx", views.case_xlsx_view),
    path(CASE + "report.pdf", views.case_pdf_view),
    path(CASE + "evidence/", views.evidence_upload_view),
    path(CASE + "evidence/<str:sha256>", views.evidence_download_view),
    path("api/cases/", views.cases_json_view),
    path("api/" + CASE, views.case_json_view),
    path("export/cases.csv", views.cases_csv_view),
    path("admin/", admin.site.urls),
    # served by the app itself: one process, nothing from a CDN (a reverse proxy may serve them instead)
    re_path(r"^static/fw/(?P<path>.+)$", serve, {"document_root": HERE / "static" / "fw"}),
    re_path(r"^static/admin/(?P<path>.+)$", serve, {"document_root": ADMIN_STATIC}),
]
