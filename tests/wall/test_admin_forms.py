"""The back office's forms fed every payload: a new letter, its texts, labels, campaign
block, a signature's correction and a new one, the import of a CSV full of formulas. Each
is refused with "Nothing was saved"-style message and nothing written, or saved and shown
as text on the public page; never a 500."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import INDIVIDUAL, LetterText, Signature
from tests.admin_helpers import signed_in_client
from tests.factories import make_letter, make_signature
from tests.test_export_sheets import assert_no_formula_however_split

from .conftest import assert_no_500, assert_refused, row_counts
from .payloads import ACCEPTED_NAMES, ALL_TEXT, FORMULAS, HTML, SAMPLE, stored

NOT_SAVED = ("Nothing was saved", "has no place in text", "Nothing to change")


def _root(app):
    return signed_in_client(app, "root@example.org", "admin", letters=())


def _posted(client, before, path: str, data: dict, public_paths=("/letters/appeal?lang=fr",)):
    """A refused form changes nothing; an accepted one shows as text on the public pages."""
    response = client.post(path, data=data)
    body = assert_no_500(response)
    if response.status_code >= 400:
        refused = assert_refused(response, before)
        assert any(message in refused for message in NOT_SAVED) or response.status_code == 413, \
            refused[-1500:]
        return False
    assert response.status_code in (200, 302, 303), body[-800:]
    for path_shown in public_paths:
        assert_no_500(client.get(path_shown))
    return True


def test_letter_texts(app):
    """Any title, body or place in the side-by-side form, and any new language."""
    make_letter()
    root = _root(app)
    saved = 0
    for payload in ALL_TEXT:
        before = row_counts()
        if _posted(root, before, "/admin/letters/appeal/texts?lang=en",
                   {"title-fr": payload, "body-fr": f"{payload}\n\n**{payload}**"},
                   public_paths=("/letters/appeal?lang=fr", "/letters/appeal/widget",
                                 "/letters/appeal.json", "/admin/letters/appeal/preview",
                                 "/letters/appeal/signatories.html?lang=fr")):
            saved += 1
            db.session.expire_all()
            text = db.session.scalars(select(LetterText).where(LetterText.lang == "fr")).one()
            # The project's rule for a title: trimmed (not NFC: names alone are normalised).
            assert text.title == payload.strip(), payload
        before = row_counts()
        _posted(root, before, "/admin/letters/appeal/texts?lang=en",
                {"title-fr": "Titre", "body-fr": "Texte", "new_lang": payload[:12],
                 "new_title": payload, "new_body": payload})
        _posted(root, before, "/admin/letters/appeal/texts?lang=en",
                {"title-fr": "Titre", "body-fr": "Texte", "preview": "1", "new_lang": "en",
                 "new_title": payload, "new_body": payload})
    assert saved  # markup and formulas are fine in a letter's text: shown escaped


def test_new_letter(app):
    """Any slug, language, title and number in the new-letter form."""
    root = _root(app)
    for payload in SAMPLE:
        for field in ("slug", "lang", "title", "body", "goal", "deadline", "date", "place",
                      "kind", "individual_display", "retention_days", "embargo_until"):
            data = {"kind": "open-letter", "slug": "wall-letter", "lang": "en", "title": "T",
                    "body": "B", "accepts_organizations": "1", "accepts_individuals": "1",
                    field: payload}
            before = row_counts()
            if _posted(root, before, "/admin/letters/new?lang=en", data, public_paths=()):
                # Made: remove it (through the database) for the next payload.
                from petition.models import Letter
                db.session.delete(db.session.scalars(
                    select(Letter).order_by(Letter.id.desc())).first())
                db.session.commit()


def test_letter_settings(app):
    """Any value in each of the edit page's settings: refused with "Nothing was saved" and
    nothing changed, or saved."""
    make_letter()
    root = _root(app)
    for payload in SAMPLE:
        for field in ("goal", "deadline", "place", "date", "individual_display",
                      "retention_days", "embargo_until", "milestones",
                      "soft_limit_address", "soft_limit_block", "soft_limit_domain"):
            data = {"accepts_organizations": "1", "accepts_individuals": "1", field: payload}
            _posted(root, row_counts(), "/admin/letters/appeal/edit?lang=en", data)
        _posted(root, row_counts(), "/admin/letters/appeal/status?lang=en", {"status": payload})


def test_labels_and_campaign_block(app):
    make_letter()
    root = _root(app)
    for payload in SAMPLE:
        for data in ({"lang": "fr", "code": "DE", "label": payload},
                     {"lang": payload[:10], "code": "DE", "label": "Allemagne"},
                     {"lang": "fr", "code": payload[:10], "label": "X"}):
            _posted(root, row_counts(), "/admin/letters/appeal/labels?lang=en", data)
        for field in ("donation_url", "donation_text", "bank_details", "channels", "contact"):
            data = {"lang": "fr", field: payload}
            _posted(root, row_counts(), "/admin/letters/appeal/campaign?lang=en", data)
    for url in ("javascript:alert(1)", "data:text/html,<wall-x>", "vbscript:x", "//evil.example",
                "http://<wall-x>", " javascript:alert(1)"):
        _posted(root, row_counts(), "/admin/letters/appeal/campaign?lang=en",
                {"lang": "fr", "donation_url": url, "donation_text": "Give"})
        page = root.get("/letters/appeal?lang=fr").get_data(as_text=True)
        assert not re.search(r'href="\s*(javascript|data|vbscript):', page, re.I), url


def test_signature_correction_and_new(app):
    """A correction or a new signature in the back office follows the sign form's rules:
    refused with a message, or stored as typed (NFC)."""
    letter = make_letter()
    signature = make_signature(letter, name="Original", signer_type=INDIVIDUAL)
    root = _root(app)
    path = f"/admin/letters/appeal/signatures/{signature.public_id}?lang=en"
    for payload in SAMPLE + ACCEPTED_NAMES:
        before = row_counts()
        response = root.post(path, data={"do": "correct", "name": payload, "affiliation": "",
                                         "country": "DE"})
        assert_no_500(response)
        db.session.refresh(signature)
        if response.status_code >= 400:
            assert signature.name != stored(payload) or stored(payload) == "Original"
            after = row_counts()
            assert after == before, payload
        elif stored(payload) and response.status_code in (302, 303):
            assert signature.name == stored(payload), payload
        assert_no_500(root.get(path))
        assert_no_500(root.get("/letters/appeal?lang=fr"))
        for field in ("name", "affiliation", "country", "signer_type", "display", "provenance"):
            data = {"signer_type": "organization", "name": "New org", "country": "DE",
                    "display": "full", "provenance": "paper list", field: payload}
            response = root.post("/admin/letters/appeal/signatures/new?lang=en", data=data)
            assert_no_500(response)


def _csv(rows: list[list[str]]) -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Name", "Affiliation", "Country", "Type"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@pytest.mark.parametrize("rows", [
    [[name, name, "FR", "individual"] for name in FORMULAS],
    [[name, "", "DE", "organization"] for name in HTML],
    [["a\r\nb", "", "DE", "organization"], ["=cmd|' /C calc'!A0", "", "=1+1", "=1"]],
    [[payload, payload, payload, payload] for payload in ALL_TEXT[::5] if "\x00" not in payload],
])
def test_import_csv(app, rows):
    """A CSV of formulas (also after ";"), markup, broken lines: the report shows them as
    text; the import stores the accepted ones as typed, or nothing."""
    make_letter()
    root = _root(app)
    before = row_counts()
    response = root.post("/admin/letters/appeal/import?lang=en",
                         content_type="multipart/form-data",
                         data={"file": (io.BytesIO(_csv(rows)), "list.csv")})
    assert_no_500(response)
    assert response.status_code in (200, 400, 413), response.status_code
    after = row_counts()
    assert after["signature"] == before["signature"]  # the check writes nothing
    page = response.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page)
    expected = re.search(r'name="expected" value="([^"]+)"', page)
    if not token:
        return
    confirmed = root.post("/admin/letters/appeal/import/confirm?lang=en",
                          data={"token": token[1], "expected": expected[1]})
    assert_no_500(confirmed)
    names = set(db.session.scalars(select(Signature.name)))
    assert names <= {stored(row[0]) for row in rows} | {""}, names
    assert_no_500(root.get("/letters/appeal?lang=fr"))
    # What came in as formulas goes out neutralised, however a spreadsheet splits it.
    sheet = root.get("/admin/letters/appeal/export?format=csv&layout=press&lang=fr")
    assert sheet.status_code == 200
    assert_no_formula_however_split(sheet.data)


def test_import_file_names_and_options(app):
    """Any file name, encoding or type: refused with a message, never a 500."""
    make_letter()
    root = _root(app)
    for payload in ALL_TEXT[::4]:
        if "\x00" in payload:
            continue
        before = row_counts()
        for data in ({"file": (io.BytesIO(_csv([["Org", "", "DE", "organization"]])),
                               f"{payload[:40]}.csv")},
                     {"file": (io.BytesIO(b"Name\nX\n"), "a.csv"), "encoding": payload},
                     {"file": (io.BytesIO(b"Name\nX\n"), "a.csv"), "default_type": payload},
                     {"file": (io.BytesIO(payload.encode("utf-8", "surrogatepass")), "a.xlsx")}):
            response = root.post("/admin/letters/appeal/import?lang=en",
                                 content_type="multipart/form-data", data=data)
            assert_no_500(response)
        assert row_counts()["signature"] == before["signature"]
        for token in (payload, "x" * 100):
            response = root.post("/admin/letters/appeal/import/confirm?lang=en",
                                 data={"token": token, "expected": payload[:5]})
            assert_no_500(response)
            assert row_counts()["signature"] == before["signature"]
