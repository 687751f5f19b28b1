"""Creating workbench users (the admin pages do the same by hand)."""

from __future__ import annotations

import secrets

from fundwatch.review.states import COUNTY, ROLES, TOWNSHIP_VERIFIER


def add_user(username: str, role: str, township: str = "", password: str | None = None,
             must_change: bool = True) -> str:
    """Create a user with a role (and township); returns the password (random unless given)."""
    from django.contrib.auth.models import Permission, User

    from fundwatch.web.models import Profile

    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if role == TOWNSHIP_VERIFIER and not (township.isdigit() and len(township) == 9):
        raise ValueError(f"a {ROLES[role]} needs a 9-digit township code, got {township!r}")
    if User.objects.filter(username=username).exists():
        raise ValueError(f"a user {username!r} exists already")
    password = password or secrets.token_urlsafe(12)
    user = User.objects.create_user(username, password=password, is_staff=role == "county_admin",
                                    is_superuser=role == "county_admin")
    Profile.objects.create(user=user, role=role, township=township if role == TOWNSHIP_VERIFIER else "",
                           must_change_password=must_change)
    if role in COUNTY:
        user.user_permissions.add(Permission.objects.get(codename="reveal_pii"))
    return password
