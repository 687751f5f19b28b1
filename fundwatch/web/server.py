"""`fundwatch serve`: configure Django from the workspace, migrate, import published runs, serve.

One process: waitress (a production WSGI server; Django's runserver is not one) with a thread
pool, and a background thread importing each newly published run.
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

from fundwatch import log
from fundwatch.review.db import ENV, configured_url, default_url, is_postgres, shown, sqlite_path
from fundwatch.review.publish import WorkspaceLocked, sync

SYNC_SECONDS = 60


def setup(workspace: str, review_db: str | None = None) -> str:
    """Point Django at the review database (created beside the workspace unless configured), migrate.

    The settings module reads them from the environment once; the environment is left as it was."""
    import django
    from django.core.management import call_command

    url = review_db or configured_url(workspace) or default_url(workspace)
    given = {ENV: url, "FUNDWATCH_WORKSPACE": str(workspace), "DJANGO_SETTINGS_MODULE": "fundwatch.web.settings",
             "FUNDWATCH_SECRET_KEY": os.environ.get("FUNDWATCH_SECRET_KEY") or _secret_key(_key_beside(url, workspace))}
    before = {k: os.environ.get(k) for k in given}
    os.environ.update(given)
    try:
        django.setup()
        call_command("migrate", interactive=False, verbosity=0)
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return url


def _key_beside(url: str, workspace: str) -> Path:
    """The session key's file: beside a SQLite review database, else beside the workspace."""
    return Path(sqlite_path(default_url(workspace) if is_postgres(url) else url))


def _secret_key(db_path: Path) -> str:
    key_file = db_path.with_name(db_path.name + ".secret")
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


def import_runs(workspace: str, url: str) -> dict | None:
    from fundwatch.review import ReviewStore

    if not Path(workspace).exists():
        return None
    with ReviewStore(url) as store:
        try:
            return sync(store, workspace)
        except WorkspaceLocked as e:
            log.emit(str(e), level="warning", event="import_deferred")
            return None


def _keep_importing(workspace: str, url: str, stop: threading.Event) -> None:
    while not stop.wait(SYNC_SECONDS):
        try:
            import_runs(workspace, url)
        except Exception as e:  # noqa: BLE001 - the server keeps serving; the next try may succeed
            log.emit(f"importing the published run failed: {e}", level="error", event="import_failed")


def wsgi_app(workspace: str, review_db: str | None = None):
    url = setup(workspace, review_db)
    import_runs(workspace, url)
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application(), url


def add_users(workspace: str, specs) -> list[str]:
    """NAME:ROLE[:TOWNSHIP] each; a random first password, to be changed at the first login."""
    from fundwatch.errors import FundwatchError

    setup(workspace)
    from fundwatch.web.users import add_user

    lines = []
    for spec in specs:
        name, _, rest = spec.partition(":")
        role, _, township = rest.partition(":")
        try:
            password = add_user(name, role, township)
        except ValueError as e:
            raise FundwatchError(f"--add-user {spec}: {e}") from e
        lines.append(f"{name} ({role} {township}) first password: {password}")
    return lines


def serve(workspace: str, host: str = "127.0.0.1", port: int = 8765, demo: bool = False, threads: int = 8) -> None:
    import waitress

    if demo:
        from fundwatch.web.demo import prepare_demo

        workspace = prepare_demo()
    app, url = wsgi_app(workspace)
    if demo:
        from fundwatch.web.demo import demo_users

        for line in demo_users():
            log.emit(line, event="serve")
    stop = threading.Event()
    threading.Thread(target=_keep_importing, args=(workspace, url, stop), daemon=True).start()
    log.emit(f"fundwatch workbench on http://{host}:{port}/ (review database {shown(url)})", event="serve")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="fundwatch")
    finally:
        stop.set()
