"""A session cookie of its own for /admin: Path=/admin, SameSite=Strict, HttpOnly.

The public session stays SameSite=Lax, so the confirmation link opened from a webmail
(a cross-site navigation) still carries it. The back office gets a separate cookie that no
other site can make the browser send, that public pages never see, and that is signed with
its own salt so a public session cookie cannot pass for it.
"""
from __future__ import annotations

from flask import Flask, Request, has_request_context, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

PREFIX = "/admin"


def _in_admin() -> bool:
    return has_request_context() and (request.path == PREFIX
                                      or request.path.startswith(PREFIX + "/"))


class AdminSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        # One serializer per key set and cookie, made once: Flask makes a new one for each
        # request (and each cookie written), a quarter of the cost of reading the cookie.
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        admin = _in_admin()
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()), admin)
        if key not in self._serializers:
            serializer = super().get_signing_serializer(app)
            if serializer is not None and admin:
                serializer.salt = b"petition-admin-session"
            self._serializers[key] = serializer
        return self._serializers[key]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not _in_admin():
            # Nothing outside the back office depends on a session (the public forms carry
            # no token: views/public_cache.py): no cookie to check or set, and no
            # "Vary: Cookie" to keep public pages out of caches (a null session is never
            # saved).
            return None
        return super().open_session(app, request)

    def get_cookie_name(self, app: Flask) -> str:
        return (
            app.config["ADMIN_SESSION_COOKIE_NAME"] if _in_admin() else super().get_cookie_name(app)
        )

    def get_cookie_path(self, app: Flask) -> str:
        return request.script_root + PREFIX if _in_admin() else super().get_cookie_path(app)

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return "Strict" if _in_admin() else super().get_cookie_samesite(app)

    def get_cookie_httponly(self, app: Flask) -> bool:
        return True if _in_admin() else super().get_cookie_httponly(app)

    def get_cookie_domain(self, app: Flask) -> str | None:
        # Host-only: no sibling subdomain receives the back-office cookie.
        return None if _in_admin() else super().get_cookie_domain(app)
