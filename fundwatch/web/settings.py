"""Django settings, from the environment `fundwatch serve` sets (server.py).

FUNDWATCH_REVIEW_DB   sqlite:///PATH or postgresql://… of the review database (Django's tables live there too:
                      one database to back up)
FUNDWATCH_WORKSPACE   the DuckDB workspace whose published runs are imported
FUNDWATCH_SECRET_KEY  the session signing key (server.py keeps one in a 0600 file beside the database)
"""

import os
from pathlib import Path

from fundwatch.review.db import is_postgres, sqlite_path
from fundwatch.review.pg import django_database

HERE = Path(__file__).resolve().parent
REVIEW_DB = os.environ.get("FUNDWATCH_REVIEW_DB", "sqlite:///" + str(Path("fundwatch.review.sqlite3").resolve()))
WORKSPACE = os.environ.get("FUNDWATCH_WORKSPACE", "fundwatch.duckdb")
SECRET_KEY = os.environ.get("FUNDWATCH_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = [h for h in os.environ.get("FUNDWATCH_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("FUNDWATCH_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "fundwatch.web.apps.WorkbenchConfig",
]
MIDDLEWARE = [
    "fundwatch.web.middleware.security_headers",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "fundwatch.web.middleware.idle_timeout",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "fundwatch.web.middleware.password_change_first",
]
ROOT_URLCONF = "fundwatch.web.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
        "fundwatch.web.i18n.labels",
    ]},
}]
DATABASES = {"default": django_database(REVIEW_DB) if is_postgres(REVIEW_DB) else {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": sqlite_path(REVIEW_DB),
    # a request thread keeps its connection (waitress: a fixed pool), checked before reuse
    "CONN_MAX_AGE": 300, "CONN_HEALTH_CHECKS": True,
    "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=30000;"},
}}
# Argon2id (Django's Argon2PasswordHasher uses the id variant); nothing weaker is accepted.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]
LOGIN_URL = "/login/"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = os.environ.get("FUNDWATCH_HTTPS") == "1"  # behind a TLS proxy
IDLE_TIMEOUT_SECONDS = int(os.environ.get("FUNDWATCH_IDLE_TIMEOUT", "1800"))
SESSION_COOKIE_AGE = IDLE_TIMEOUT_SECONDS  # renewed by requests (middleware.idle_timeout): an idle timeout
SESSION_SAVE_EVERY_REQUEST = False  # at most once a minute instead, so a page view writes nothing to renew it
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
LOCKOUT_AFTER = int(os.environ.get("FUNDWATCH_LOCKOUT_AFTER", "5"))
LOCKOUT_MINUTES = int(os.environ.get("FUNDWATCH_LOCKOUT_MINUTES", "15"))
SUPPRESS_DAYS = int(os.environ.get("FUNDWATCH_SUPPRESS_DAYS", "365"))
LANGUAGE_CODE = "zh-hans"
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"
STATIC_URL = "/static/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"stderr": {"class": "logging.StreamHandler"}},
           "loggers": {"django": {"handlers": ["stderr"], "level": "WARNING"}}}
