"""Headers on every answer, and no page but the password form until a first password is changed."""

import time

from django.shortcuts import redirect

# Every script and style is served from here (county intranets are offline); nothing inline.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def security_headers(get_response):
    def middleware(request):
        response = get_response(request)
        response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response.setdefault("Cache-Control", "no-store")  # personal data stays out of caches
        return response
    return middleware


OPEN_PATHS = ("/login/", "/logout/", "/password/", "/static/", "/lang/")


def password_change_first(get_response):
    def middleware(request):
        user = request.user
        if (user.is_authenticated and not request.path.startswith(OPEN_PATHS)
                and getattr(getattr(user, "profile", None), "must_change_password", False)):
            return redirect("/password/")
        return get_response(request)
    return middleware


TOUCH_SECONDS = 60


def idle_timeout(get_response):
    """Renew the session (its cookie and expiry: the idle timeout) at most once a minute.

    Saving it on every request made every page a write transaction on the review database
    (a commit and an fsync), queued behind the reviewers' actions: the load benchmark's p95."""
    def middleware(request):
        response = get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            if now - session.get("touched", 0) >= TOUCH_SECONDS:
                session["touched"] = now  # marks the session modified: SessionMiddleware saves it
        return response
    return middleware
