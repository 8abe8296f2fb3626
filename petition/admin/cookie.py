"""A session cookie of its own for /admin: Path=/admin, SameSite=Strict, HttpOnly.

The public session stays SameSite=Lax, so the confirmation link opened from a webmail
(a cross-site navigation) still carries it. The back office gets a separate cookie that no
other site can make the browser send, that public pages never see, and that is signed with
its own salt so a public session cookie cannot pass for it.
"""
from __future__ import annotations

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

PREFIX = "/admin"


def _in_admin() -> bool:
    return has_request_context() and (request.path == PREFIX
                                      or request.path.startswith(PREFIX + "/"))


class AdminSessionInterface(SecureCookieSessionInterface):
    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        serializer = super().get_signing_serializer(app)
        if serializer is not None and _in_admin():
            serializer.salt = b"petition-admin-session"
        return serializer

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
