"""The work every request shares, made cheaper without changing what it gives: the country
and language selects rendered once per list, the security headers a view may still set
itself, the language negotiated per Accept-Language, the session serializer kept per key,
and no session at all for static files (bench/request_overhead.py measures the cost)."""
from __future__ import annotations

from flask import Response
from markupsafe import Markup
from wtforms import Form, SelectField
from wtforms.widgets import Select

from petition.views.drive_forms import LetterForm
from petition.views.forms import CachedSelect, SignForm
from tests.factories import make_letter

ATTRS = {"required": True, "aria-describedby": "country-hint country-error",
         "aria-invalid": "true"}


def test_country_select_renders_as_wtforms_does(app):
    with app.test_request_context("/letters/appeal?lang=fr", method="POST",
                                  data={"country": "DE"}):
        form = SignForm()
        form.label_countries("fr", {"FR": "La République"})
        cached = str(form.country(**ATTRS))
        assert cached == str(Select()(form.country, **ATTRS))
        assert str(form.country(**ATTRS)) == cached  # kept, still the same
        assert '<option selected value="DE">Allemagne</option>' in cached
        assert ">La République</option>" in cached
        assert '<option value="">Choisir…</option>' in cached
    with app.test_request_context("/letters/appeal?lang=ru"):
        form = SignForm(formdata=None)
        form.label_countries("ru", None)
        russian = str(form.country())
        assert russian == str(Select()(form.country))
        assert ">Германия</option>" in russian and " selected " not in russian


def test_letter_form_selects_render_as_wtforms_does(app):
    with app.test_request_context("/letters/drive", method="POST",
                                  data={"country": "UA", "language": "uk"}):
        form = LetterForm()
        form.label_choices("en", None, ("ru", "en"))
        for field in (form.country, form.language):
            assert str(field()) == str(Select()(field))
        assert '<option selected value="uk">Ukrainian (українська)</option>' in str(
            form.language())


class _Choices(Form):
    plain = SelectField(choices=[("a", "<A>")], widget=CachedSelect())
    marked = SelectField(choices=[("b", Markup("<b>B</b>"))], widget=CachedSelect())
    grouped = SelectField(choices={"G": [("c", "C")]}, widget=CachedSelect())
    with_attributes = SelectField(choices=[("d", "D", {"disabled": True})],
                                  widget=CachedSelect())
    numbers = SelectField(choices=[(1, "One")], coerce=int, widget=CachedSelect())


def test_other_selects_render_as_wtforms_does():
    """Markup labels, groups, per-option attributes and other types are not kept: each
    renders as WTForms renders it, its text escaped exactly as there."""
    form = _Choices(data={"numbers": 1})
    for field in form:
        assert str(field()) == str(Select()(field)), field.name
    assert "&lt;A&gt;" in str(form.plain())
    assert "<b>B</b>" in str(form.marked())
    assert '<optgroup label="G">' in str(form.grouped())
    assert "disabled" in str(form.with_attributes())
    assert '<option selected value="1">One</option>' in str(form.numbers())


def test_a_view_keeps_its_own_security_headers(app, client):
    def own_headers() -> Response:
        response = Response("framed")
        response.headers["x-frame-options"] = "SAMEORIGIN"  # names are case-insensitive
        response.headers["Content-Security-Policy"] = "default-src 'none'"
        return response

    app.add_url_rule("/probe-own-headers", "probe_own_headers", own_headers)
    response = client.get("/probe-own-headers")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.getlist("Content-Security-Policy") == ["default-src 'none'"]
    assert response.headers.getlist("X-Content-Type-Options") == ["nosniff"]
    assert response.headers.getlist("Referrer-Policy") == ["same-origin"]
    assert response.headers.getlist("Permissions-Policy") == ["interest-cohort=()"]
    page = client.get("/", follow_redirects=True)
    assert page.headers.getlist("X-Frame-Options") == ["DENY"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_each_accept_language_is_negotiated(client):
    make_letter()
    for header, lang in (("ru,en;q=0.5", "ru"), ("fr-CA,fr;q=0.9", "fr"), ("de", "en"),
                         ("de, ru;q=0.1", "ru"), ("ru,en;q=0.5", "ru"), ("", "en")):
        page = client.get("/letters/appeal", follow_redirects=True,
                          headers={"Accept-Language": header})
        assert f'<html lang="{lang}"' in page.get_data(as_text=True), header


def test_the_session_follows_the_secret_key(app, client):
    # The back office's session: the public pages open none (views/public_cache.py).
    with client.session_transaction("/admin/login") as session:
        session["probe"] = "kept"
    app.secret_key = "another-secret-key"
    with client.session_transaction("/admin/login") as session:
        assert "probe" not in session  # signed with the old key: refused
    app.config["SECRET_KEY_FALLBACKS"] = ["test-secret-key"]
    with client.session_transaction("/admin/login") as session:
        assert session["probe"] == "kept"  # the old key as a fallback: read


def test_static_files_read_no_session(client):
    with client.session_transaction("/admin/login") as session:
        session["probe"] = "kept"
    client.set_cookie("session", "an-old-public-session")  # from before: ignored
    static = client.get("/static/css/site.css")
    assert static.status_code == 200
    assert "Cookie" not in static.headers.get("Vary", "")
    assert "Set-Cookie" not in static.headers
    static.close()
    # Nor do the public pages (views/public_cache.py): nothing keeps them from caches.
    page = client.get("/", follow_redirects=True)
    assert "Cookie" not in page.headers.get("Vary", "")
    assert "Set-Cookie" not in page.headers
