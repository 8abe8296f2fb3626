"""Imports from the browser: check (dry run), report, then import all or nothing."""
from __future__ import annotations

import html
import io
import re
import secrets
import time

import pytest
from itsdangerous import TimestampSigner
from openpyxl import Workbook
from sqlalchemy import func, select

from petition.admin import imports
from petition.extensions import db
from petition.models import CONFIRMED, SOURCE_IMPORT, Letter, Signature
from petition.models.accounts import AuditEvent
from tests.admin_helpers import signed_in_client
from tests.factories import make_letter, make_signature

GOOD_CSV = (
    "Nom;Type;Pays;Courriel\n"
    "Campagne Libre;organisation;Allemagne;contact@libre.example\n"
    "Ada Lovelace;personne;Royaume-Uni;ada@example.org\n"
    "Peace Action;org;US;\n"
)
BAD_CSV = GOOD_CSV + (
    "Nobody;organisation;Atlantis;\n"
    ";organisation;France;\n"
    "Odd;robot;France;\n"
)


@pytest.fixture
def letter(app) -> Letter:
    return make_letter("appeal")


_client_for = signed_in_client


def _upload(client, content: bytes | str, name: str = "list.csv", **fields):
    data = content.encode() if isinstance(content, str) else content
    return client.post("/admin/letters/appeal/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name), **fields},
                       headers={"Accept-Language": "en"})


def _confirm_fields(page: str) -> dict[str, str]:
    token = re.search(r'name="token" value="([^"]+)"', page)
    expected = re.search(r'name="expected" value="(\d+)"', page)
    assert token and expected, "no confirm button on the page"
    return {"token": html.unescape(token[1]), "expected": expected[1], "confirm": "1"}


def _confirm(client, fields: dict[str, str]):
    return client.post("/admin/letters/appeal/import/confirm", data=fields,
                       headers={"Accept-Language": "en"})


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Signature))


def _actions() -> list[str]:
    return db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def _problem_rows(page: str) -> list[tuple[str, str, str]]:
    table = re.search(r'<table class="admin" id="import-problems">(.*?)</table>', page, re.S)
    assert table, "no problems table"
    rows = re.findall(r"<tr><td[^>]*>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table[1], re.S)
    strip = lambda text: html.unescape(re.sub(r"<[^>]+>", "", text)).strip()  # noqa: E731
    return [(strip(a), strip(b), strip(c)) for a, b, c in rows]


def test_the_form(app, letter):
    client = _client_for(app)
    page = client.get("/admin/letters/appeal/import").get_data(as_text=True)
    assert 'name="file"' in page and 'accept=".csv,.xlsx"' in page
    assert 'name="default_type"' in page and 'name="provenance"' in page
    assert "Check the file" in page and 'enctype="multipart/form-data"' in page
    overview = client.get("/admin/letters/appeal").get_data(as_text=True)
    assert "/admin/letters/appeal/import" in overview and "Import signatures" in overview


def test_check_writes_nothing_then_confirm_imports_all(app, letter):
    client = _client_for(app)
    version = letter.list_version
    response = _upload(client, GOOD_CSV, provenance="Paper forms, 3 May meeting")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Import 3 signatures" in page and "Cancel" in page
    assert re.search(r"Rows read</th><td class=\"num\">3<", page)
    assert re.search(r"Rows it would import</th><td class=\"num\">3<", page)
    assert "Germany" in page and "United Kingdom" in page  # by country
    assert "ada@example.org" not in page
    assert _count() == 0 and _actions()[-1] == "import.check"

    response = _confirm(client, _confirm_fields(page))
    assert response.status_code == 303
    assert response.location.endswith("/admin/letters/appeal")
    signatures = db.session.scalars(select(Signature)).all()
    assert len(signatures) == 3
    assert {(s.status, s.source, s.provenance) for s in signatures} == {
        (CONFIRMED, SOURCE_IMPORT, "Paper forms, 3 May meeting")}
    db.session.refresh(letter)
    assert letter.list_version > version
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).one()
    assert (event.actor, event.letter_slug) == ("org@example.org", "appeal")
    assert event.detail == "file=list.csv rows=3 imported=3 provenance=Paper forms, 3 May meeting"
    details = " ".join(db.session.scalars(select(AuditEvent.detail)).all())
    assert "ada@" not in details and "libre.example" not in details
    shown = client.get(response.location).get_data(as_text=True)
    assert "3 signatures imported from list.csv." in shown


def test_xlsx_upload(app, letter):
    workbook = Workbook()
    workbook.active.append(["Название", "Страна", "Тип"])
    workbook.active.append(["Мемориал", "Германия", "организация"])
    workbook.active.append(["Amnesty", "Соединенные Штаты", "организация"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    client = _client_for(app)
    page = _upload(client, buffer.getvalue(), "list.xlsx").get_data(as_text=True)
    assert "Import 2 signatures" in page and _count() == 0
    assert _confirm(client, _confirm_fields(page)).status_code == 303
    assert sorted(db.session.scalars(select(Signature.name)).all()) == ["Amnesty", "Мемориал"]


def test_a_bad_file_lists_every_problem_and_offers_no_import(app, letter):
    client = _client_for(app)
    response = _upload(client, BAD_CSV)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _problem_rows(page) == [
        ("5", "Country (“Pays”, C5)", "'Atlantis' is no country or region we know"),
        ("6", "Name (“Nom”, A6)", "empty"),
        ("7", "Type (“Type”, B7)", "'robot' is neither organisation nor individual"),
    ]
    assert 'name="token"' not in page and "Import 3" not in page
    assert "The file cannot be imported: 3 problems." in page
    assert _count() == 0


def test_problems_with_the_file_as_a_whole(app, letter):
    client = _client_for(app)
    page = _upload(client, "Organisation,Land\nX,DE\n").get_data(as_text=True)
    assert _problem_rows(page)[0][:2] == ("1 (header)", "")
    assert "no name column" in page
    page = _upload(client, b"PK\x03\x04 not really a workbook", "list.xlsx").get_data(as_text=True)
    assert _problem_rows(page) == [("the file", "", "not an XLSX workbook we can read")]
    page = _upload(client,
                   "Nom;Pays;Type\nComité;France;org\n".encode("cp1252")).get_data(as_text=True)
    assert "not utf-8-sig text" in page
    page = _upload(client, "Nom;Pays;Type\nComité;France;org\n".encode("cp1252"),
                   encoding="cp1252").get_data(as_text=True)
    assert "Import 1 signature" in page
    page = _upload(client, GOOD_CSV, provenance="x" * 501).get_data(as_text=True)
    assert _problem_rows(page) == [("—", "Provenance", "longer than 500 characters")]
    assert _count() == 0


def test_bad_forms_are_refused_with_a_message(app, letter):
    client = _client_for(app)
    response = client.post("/admin/letters/appeal/import", data={},
                           content_type="multipart/form-data")
    assert (response.status_code == 400
            and "Choose a CSV or XLSX file." in response.get_data(as_text=True))
    response = _upload(client, GOOD_CSV, "list.txt")
    assert response.status_code == 400 and "Only CSV and XLSX" in response.get_data(as_text=True)
    response = _upload(client, GOOD_CSV, default_type="robot")
    assert response.status_code == 400
    response = _upload(client, GOOD_CSV, encoding="ebcdic")
    assert response.status_code == 400
    app.config["IMPORT_MAX_BYTES"] = 50
    response = _upload(client, GOOD_CSV)
    assert response.status_code == 413
    assert "The file is larger than" in response.get_data(as_text=True)
    response = _upload(client, GOOD_CSV * 100)
    assert response.status_code == 413  # far too big: refused before it is read
    assert _count() == 0 and "import" not in _actions()


def test_a_file_larger_than_any_other_form(app, letter):
    """The app refuses bodies above MAX_CONTENT_LENGTH (64 KB); the import forms take more,
    and the confirm token of a file that does not compress still goes through."""
    assert app.config["MAX_CONTENT_LENGTH"] < 100_000
    rows = "".join(f"{secrets.token_hex(24)},DE,org\n" for _ in range(2500))
    client = _client_for(app)
    page = _upload(client, "name,country,type\n" + rows).get_data(as_text=True)
    fields = _confirm_fields(page)
    assert len(fields["token"]) > app.config["MAX_CONTENT_LENGTH"]
    assert _confirm(client, fields).status_code == 303
    assert _count() == 2500
    # Signed out, the app's own limit holds (a login redirect here, where CSRF is off).
    anonymous = app.test_client()
    response = anonymous.post("/admin/letters/appeal/import/confirm", data=fields)
    assert response.status_code in (302, 413)


def test_default_type_and_duplicates(app, letter):
    make_signature(letter, name="Already", country="FR", email="old@example.org")
    client = _client_for(app)
    content = "name,country,email\nAlready,FR,\nFresh,FR,\nAgain,FR,OLD@example.org\n"
    page = _upload(client, content).get_data(as_text=True)
    assert "no type column" in page and 'name="token"' not in page
    page = _upload(client, content, default_type="organization").get_data(as_text=True)
    assert "Import 1 signature" in page
    assert re.search(r"Duplicates skipped</th><td class=\"num\">2<", page)
    assert "this email address has already signed" in page and "old@example.org" not in page
    assert _confirm(client, _confirm_fields(page)).status_code == 303
    assert _count() == 2


def test_cancel_writes_nothing(app, letter):
    client = _client_for(app)
    fields = _confirm_fields(_upload(client, GOOD_CSV).get_data(as_text=True))
    response = client.post("/admin/letters/appeal/import/confirm", data={**fields, "cancel": "1"})
    assert response.status_code == 303 and _count() == 0
    assert "nothing was written" in client.get(response.location).get_data(as_text=True)


def test_a_tampered_token_is_refused(app, letter):
    client = _client_for(app)
    fields = _confirm_fields(_upload(client, GOOD_CSV).get_data(as_text=True))
    token = fields["token"]
    swapped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for bad in (swapped, "", "garbage.token.here"):
        response = _confirm(client, {**fields, "token": bad})
        assert response.status_code == 400, bad
        assert "not valid" in response.get_data(as_text=True)
    response = _confirm(client, {**fields, "expected": "many"})
    assert response.status_code == 400
    assert _count() == 0 and "import" not in _actions()


def test_a_token_is_good_for_its_letter_and_account_only(app, letter):
    make_letter("other")
    client = _client_for(app, letters=("appeal", "other"))
    fields = _confirm_fields(_upload(client, GOOD_CSV).get_data(as_text=True))
    response = client.post("/admin/letters/other/import/confirm", data=fields)
    assert response.status_code == 400
    colleague = _client_for(app, "colleague@example.org")
    assert _confirm(colleague, fields).status_code == 400
    assert _count() == 0


def test_an_expired_token_is_refused(app, letter, monkeypatch):
    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - imports.TOKEN_MAX_AGE - 60

    client = _client_for(app)
    real = imports._signer
    # Only the import tokens are signed in the past (the session cookie is signed too).
    monkeypatch.setattr(imports, "_signer", lambda: PastSigner(
        app.config["SECRET_KEY"], salt=imports.TOKEN_SALT))
    fields = _confirm_fields(_upload(client, GOOD_CSV).get_data(as_text=True))
    monkeypatch.setattr(imports, "_signer", real)
    response = _confirm(client, fields)
    assert response.status_code == 400
    assert "more than an hour old" in response.get_data(as_text=True)
    assert _count() == 0


def test_the_letter_changed_between_check_and_confirm(app, letter):
    client = _client_for(app)
    fields = _confirm_fields(_upload(client, GOOD_CSV).get_data(as_text=True))
    # Someone signs meanwhile with an address of the file: one row fewer to import.
    make_signature(letter, name="Ada", signer_type="individual", email="ada@example.org")
    response = _confirm(client, fields)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "2 signatures would now be imported, not 3" in page and _count() == 1
    assert _confirm(client, _confirm_fields(page)).status_code == 303
    assert _count() == 3

    # Problems appear meanwhile: the letter no longer takes individuals.
    fields = _confirm_fields(_upload(client, "name,type,country\nBob,individual,FR\n")
                             .get_data(as_text=True))
    letter.accepts_individuals = False
    db.session.commit()
    response = _confirm(client, fields)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "this letter does not take individual signatures" in page
    assert 'name="token"' not in page and _count() == 3


def test_press_cannot_import(app, letter):
    press = _client_for(app, "press@example.org", "press")
    assert press.get("/admin/letters/appeal/import").status_code == 403
    assert _upload(press, GOOD_CSV).status_code == 403
    organiser = _client_for(app)
    fields = _confirm_fields(_upload(organiser, GOOD_CSV).get_data(as_text=True))
    assert _confirm(press, fields).status_code == 403
    assert "Import signatures" not in press.get("/admin/letters/appeal").get_data(as_text=True)
    assert _count() == 0
