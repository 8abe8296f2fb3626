"""Control characters in a path, query string, form field or file name: a 400, never a 500."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from petition.extensions import db
from petition.models import OutboxMail, Signature
from petition.models.accounts import AuditEvent
from tests.admin_helpers import make_account, signed_in_client
from tests.factories import make_letter
from tests.helpers import sign_form

REFUSED = "has no place in text"


def _refused(response) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page[:500]
    assert REFUSED in page


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_nul_in_a_letter_url_is_refused(app, client):
    """Refuse a letter URL holding NUL with a 400 page."""
    make_letter()
    _refused(client.get("/letters/a%00b?lang=en"))
    _refused(client.get("/letters/a%00b.json?lang=en"))
    _refused(client.post("/letters/a%00b/sign?lang=en", data=sign_form()))


def test_nul_in_the_admin_login_form_is_refused(app, client):
    """Refuse NUL in the login form before any account is looked up."""
    make_account("a@example.org", "admin")
    before = _count(AuditEvent)
    _refused(client.post("/admin/login?lang=en",
                         data={"email": "a\x00@example.org", "password": "x\x00y"}))
    assert _count(AuditEvent) == before


def test_nul_in_the_audit_log_filter_is_refused(app):
    """Refuse NUL in the audit log's filters, page and CSV."""
    make_letter()
    root = signed_in_client(app, "root@example.org", "admin")
    _refused(root.get("/admin/audit?actor=a%00b&lang=en"))
    _refused(root.get("/admin/audit.csv?action=x%00&lang=en"))


def test_nul_in_the_import_file_name_is_refused(app):
    """Refuse an uploaded file whose name holds NUL."""
    make_letter()
    organiser = signed_in_client(app)
    before = _count(AuditEvent)
    response = organiser.post(
        "/admin/letters/appeal/import?lang=en", content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"Name,Country,Type\nOrg,DE,organization\n"),
                       "li\x00st.csv")})
    _refused(response)
    assert _count(AuditEvent) == before and _count(Signature) == 0


@pytest.mark.parametrize("where", ["path", "query", "field name"])
def test_other_control_characters_are_refused_too(app, client, where):
    """Refuse the other C0 controls in a path, a query or a field's name."""
    make_letter()
    if where == "path":
        response = client.get("/letters/appeal%1b?lang=en")
    elif where == "query":
        response = client.get("/letters/appeal?lang=en&x=%09")
    else:
        response = client.post("/letters/appeal/sign?lang=en",
                               data={**sign_form(), "na\x0bme": "x"})
    _refused(response)
    assert _count(Signature) == 0 and _count(OutboxMail) == 0


def test_controls_other_than_nul_in_form_fields_pass_the_guard(app, client):
    """Leave tabs, line breaks and other controls in values to the forms' own rules."""
    make_letter()
    response = client.post("/letters/appeal/sign?lang=en",
                           data=sign_form(name="Two\r\nlines"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "single line" in page and REFUSED not in page
    response = client.post("/letters/appeal/sign?lang=en", data=sign_form(name="Tab\there"))
    assert REFUSED not in response.get_data(as_text=True)
    response = client.post("/letters/appeal/sign?lang=en", data=sign_form(name="Abc\x07"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "control characters" in page and REFUSED not in page
    assert _count(Signature) == 0


def test_the_refusal_is_translated(app, client):
    """Give the refusal in the reader's language."""
    make_letter()
    page = client.get("/letters/a%00b?lang=fr").get_data(as_text=True)
    assert REFUSED not in page and "caractère de contrôle" in page
