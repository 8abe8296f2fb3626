"""Downloads from the back office, and the audit log that records them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from petition.exporting.formats import FORMATS
from petition.extensions import db
from petition.models import INDIVIDUAL, INITIALS
from petition.models.accounts import AuditEvent
from tests.admin_helpers import signed_in_client
from tests.factories import make_letter, make_signature
from tests.test_export_sheets import assert_no_formula_however_split


@pytest.fixture
def letter(app):
    letter = make_letter("appeal")
    make_signature(letter, name="Amnesty Nord", country="DE")
    make_signature(letter, name="Olga Hidden", signer_type=INDIVIDUAL, display=INITIALS,
                   country="FR")
    return letter


_client_for = signed_in_client


def test_every_format_downloads_as_an_attachment(app, letter):
    client = _client_for(app, "press@example.org", "press")
    for fmt in FORMATS:
        response = client.get(f"/admin/letters/appeal/export?format={fmt}"
                              "&layout=submission&lang=fr")
        assert response.status_code == 200, fmt
        assert response.headers["Content-Disposition"] == \
            f'attachment; filename="appeal-submission-fr.{fmt}"'
        assert response.headers["Cache-Control"] == "no-store"
        assert response.data
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert [event.detail for event in events] == [
        f"format={fmt} layout=submission lang=fr private=0" for fmt in FORMATS]
    assert {event.actor for event in events} == {"press@example.org"}


def test_private_spreadsheet_for_organisers_not_for_press(app, letter):
    organiser = _client_for(app, "org@example.org", "organiser")
    response = organiser.get("/admin/letters/appeal/export?format=csv&private=1")
    assert response.status_code == 200
    assert "Olga Hidden" in response.get_data(as_text=True)
    assert 'filename="appeal-press-fr-private.csv"' in response.headers["Content-Disposition"]
    assert "Olga Hidden" not in organiser.get(
        "/admin/letters/appeal/export?format=csv").get_data(as_text=True)
    assert organiser.get("/admin/letters/appeal/export?format=pdf&private=1").status_code == 400
    press = _client_for(app, "press@example.org", "press")
    assert press.get("/admin/letters/appeal/export?format=csv&private=1").status_code == 403
    assert press.get("/admin/letters/appeal/export?format=exe").status_code == 400
    assert press.get("/admin/letters/appeal/export?format=txt&lang=klingon!").status_code == 400
    private = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "export")).all()
    assert private == ["format=csv layout=press lang=fr private=1",
                       "format=csv layout=press lang=fr private=0"]


def test_overview_shows_counts(app, letter):
    client = _client_for(app, "org@example.org", "organiser")
    page = client.get("/admin/letters/appeal",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Germany" in page and "France" in page and "Organisations" in page
    assert ">organization<" not in page and "Confirmed" in page  # human labels, not raw values
    assert "private" in page  # the organiser is offered the private spreadsheet
    press = _client_for(app, "press@example.org", "press")
    assert 'name="private"' not in press.get("/admin/letters/appeal").get_data(as_text=True)


def test_audit_page_scoped_to_ones_letters(app, letter):
    make_letter("other")
    organiser = _client_for(app, "org@example.org", "organiser")
    other = _client_for(app, "other@example.org", "organiser", ("other",))
    organiser.get("/admin/letters/appeal/export?format=txt")
    other.get("/admin/letters/other/export?format=md")
    page = organiser.get("/admin/audit").get_data(as_text=True)
    assert "format=txt" in page and "format=md" not in page
    root = _client_for(app, "root@example.org", "admin", ())
    page = root.get("/admin/audit").get_data(as_text=True)
    assert "format=txt" in page and "format=md" in page and "login.success" in page


def test_audit_csv_neutralises_formulas(app, letter):
    root = _client_for(app, "root@example.org", "admin", ())
    root.post("/admin/login", data={"email": "=HYPERLINK(1)@x", "password": "wrong password!"})
    response = root.get("/admin/audit.csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit.csv"'
    text = response.get_data(as_text=True)
    assert "'=HYPERLINK(1)@x" in text and ",=HYPERLINK" not in text


def test_audit_csv_neutralises_formulas_after_separators(app, letter):
    """Keep a login address built to split on ';' from becoming a formula in audit.csv."""
    root = _client_for(app, "root@example.org", "admin", ())
    email = 'x;=HYPERLINK("http://evil.example","x");y'
    root.post("/admin/login", data={"email": email, "password": "wrong password!"})
    data = root.get("/admin/audit.csv").data
    assert """'=HYPERLINK(""http://evil.example"",""x"");y""" in data.decode("utf-8-sig")
    assert_no_formula_however_split(data)
