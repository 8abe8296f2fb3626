"""Petitions: signatures counted by country and type, never a public name (issue 22).

A petition is made with `flask letter create … --kind petition`, signed through the form by
an individual and an organisation with names found nowhere else, and then every public
route and file is fetched: neither name, nor its initials, may appear; the counts do. The
organisers' private export has the names.
"""
from __future__ import annotations

import io
import re
import zipfile

import pypdf
import pytest
import schemathesis
from sqlalchemy import select

from petition.extensions import db
from petition.letters.demo import SLUG as DEMO
from petition.letters.demo import seed_demo
from petition.models import ANONYMOUS, FULL, INDIVIDUAL, ORGANIZATION, Letter, Signature
from petition.privacy import hidden_names
from tests.admin_helpers import signed_in_client
from tests.export_helpers import exported
from tests.factories import make_letter, make_signature
from tests.helpers import confirm_token_from, mails_to, rendered, sign_form

SLUG = "stop-the-dam"
PERSON = "Zebulon Quintavalle"
ORGANISATION = "Organisation Xylophage"
# What must never be public: the names, their parts and their initials.
SECRETS = ("Zebulon", "Quintavalle", "Z. Q.", "Xylophage", "O. X.")

# Every public GET route taking a letter's slug, and how the test fetches it. A new route
# fails test_every_public_route_is_checked until it is added here (and checked).
PUBLIC_ROUTES = {
    "/letters/<slug>": ["/letters/{slug}", "/letters/{slug}?lang=fr", "/letters/{slug}?lang=ru"],
    "/letters/<slug>.json": ["/letters/{slug}.json"],
    "/letters/<slug>/signatories.<fmt>": [
        f"/letters/{{slug}}/signatories.{fmt}{lang}"
        for fmt in ("txt", "md", "html", "docx", "odt", "pdf", "csv", "xlsx", "json")
        for lang in ("", "?lang=fr")],
    "/letters/<slug>/signatories/<code>": ["/letters/{slug}/signatories/FR",
                                           "/letters/{slug}/signatories/DE"],
    "/letters/<slug>/search": ["/letters/{slug}/search?q=Zebulon",
                               "/letters/{slug}/search?q=Z.+Q.",
                               "/letters/{slug}/search?q=Xylophage"],
    "/api/v1/letters/<slug>": ["/api/v1/letters/{slug}"],
    "/letters/<slug>/badge.svg": ["/letters/{slug}/badge.svg"],
    "/letters/<slug>/widget": ["/letters/{slug}/widget"],
    "/letters/<slug>/share.png": ["/letters/{slug}/share.png"],
    "/letters/<slug>/share/mastodon": ["/letters/{slug}/share/mastodon"],
    "/letters/<slug>/sign": ["/letters/{slug}/sign"],
    "/letters/<slug>/check-your-mail": ["/letters/{slug}/check-your-mail"],
    "/letters/<slug>/privacy": ["/letters/{slug}/privacy"],
    "/letters/<slug>/write": ["/letters/{slug}/write"],
    "/letters/<slug>/write/check-your-mail": ["/letters/{slug}/write/check-your-mail"],
}
# Public routes without a slug that still read letters.
SITE_ROUTES = ["/", "/?lang=fr", "/api/v1/letters", "/api/v1/openapi.json"]


def _letter(slug: str = SLUG) -> Letter:
    db.session.expire_all()
    letter = db.session.scalar(select(Letter).where(Letter.slug == slug))
    assert letter is not None
    return letter


def _create_petition(runner, *extra: str) -> Letter:
    result = runner.invoke(args=[
        "letter", "create", SLUG, "--kind", "petition", "--lang", "en",
        "--title", "Stop the dam", "--goal", "100", *extra])
    assert result.exit_code == 0, result.output
    assert "petition" in result.output and "no name is public" in result.output
    return _letter()


def _sign_and_confirm(client, **fields) -> None:
    response = client.post(f"/letters/{SLUG}/sign", data=sign_form(**fields))
    assert response.status_code == 303, response.get_data(as_text=True)
    token = confirm_token_from(mails_to(fields["email"])[-1])
    assert client.post(f"/confirm/{token}").status_code == 200


@pytest.fixture
def petition(runner, client, app) -> Letter:
    """A petition (chart shown) signed and confirmed by one individual in France, asking to
    be listed in full, and one organisation in Germany; plus two more individuals."""
    _create_petition(runner)
    assert runner.invoke(args=["letter", "update", SLUG, "--chart"]).exit_code == 0
    _sign_and_confirm(client, signer_type=INDIVIDUAL, name=PERSON, affiliation="Dam watcher",
                      country="FR", email="zebulon@example.org", display=FULL)
    _sign_and_confirm(client, signer_type=ORGANIZATION, name=ORGANISATION, country="DE",
                      email="contact@xylophage.example")
    letter = _letter()
    make_signature(letter, country="FR", name="Another Person", signer_type=INDIVIDUAL,
                   display=ANONYMOUS)
    make_signature(letter, country="FR", name="Third Person", signer_type=INDIVIDUAL,
                   display=ANONYMOUS)
    return _letter()


def _text_of(body: bytes, content_type: str) -> str:
    """Whatever a response says, as text: zipped XML (docx, odt, xlsx) and PDF decoded."""
    if body[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            parts = [archive.read(name).decode("utf-8", "replace")
                     for name in archive.namelist()]
        return re.sub(r"<[^>]+>", " ", "\n".join(parts))
    if body[:5] == b"%PDF-":
        reader = pypdf.PdfReader(io.BytesIO(body))
        return "\n".join(page.extract_text() for page in reader.pages)
    return body.decode("utf-8", "replace")


def _assert_no_secret(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} is public in {where}"


def test_cli_creates_a_petition_whose_kind_is_fixed(runner, app):
    letter = _create_petition(runner)
    assert letter.is_petition and letter.individual_display == "initials"
    result = runner.invoke(args=["letter", "update", SLUG, "--kind", "open-letter"])
    assert result.exit_code != 0 and "--kind" in result.output
    help_text = runner.invoke(args=["letter", "create", "--help"]).output
    assert "petition" in help_text and "Fixed once created" in help_text


def test_signatures_of_a_petition_are_stored_unlisted(petition):
    person = db.session.scalar(select(Signature).where(Signature.signer_type == INDIVIDUAL,
                                                       Signature.country == "FR",
                                                       Signature.source == "form"))
    # Asked to be listed in full: a petition lists nobody, the real name kept encrypted.
    assert person.display == ANONYMOUS and person.name == "" and person.affiliation is None
    assert hidden_names.real(person) == (PERSON, "Dam watcher")
    organisation = db.session.scalar(select(Signature).where(
        Signature.signer_type == ORGANIZATION))
    assert organisation.name == ORGANISATION  # stored as it is, never listed publicly


def test_a_petitions_names_are_absent_from_every_public_route_and_file(petition, client):
    seen: dict[str, int] = {}
    for urls in PUBLIC_ROUTES.values():
        for url in urls:
            response = client.get(url.format(slug=SLUG), follow_redirects=True)
            seen[url] = response.status_code
            assert response.status_code < 500, url
            if "?q=" in url:  # the answer echoes the query (its language links): none given
                assert response.status_code == 404, url
                continue
            _assert_no_secret(url, _text_of(response.get_data(), response.content_type))
    for url in SITE_ROUTES:
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        _assert_no_secret(url, response.get_data(as_text=True))
    # Counted, and said so: the page's table and every public press file.
    page = client.get(f"/letters/{SLUG}?lang=en").get_data(as_text=True)
    assert "country-counts" in page and "no name is published" in page
    assert re.search(r"France</th>\s*<td></td>\s*<td><span class=\"count\">3</span>", page)
    assert "name-search" not in page and f"/letters/{SLUG}/signatories/FR" not in page
    txt = client.get(f"/letters/{SLUG}/signatories.txt?lang=en").get_data(as_text=True)
    assert "France\n3 signatories" in txt and "Germany\n1 signatory" in txt
    assert client.get(f"/letters/{SLUG}.json").get_json()["total"] == 4
    # No name search, no country page of names: nothing to answer.
    assert seen["/letters/{slug}/search?q=Zebulon"] == 404
    assert seen["/letters/{slug}/signatories/FR"] == 404
    assert seen["/letters/{slug}/signatories.txt"] == 200


def test_the_api_says_petition_and_counts_by_country_and_type(petition, client, app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    response = client.get(f"/api/v1/letters/{SLUG}?lang=en")
    schema["/api/v1/letters/{slug}"]["GET"].validate_response(response)
    data = response.get_json()
    assert data["kind"] == "petition"
    assert data["signatures"]["by_signer_type"] == {"organization": 1, "individual": 3}
    listing = client.get("/api/v1/letters?lang=en")
    schema["/api/v1/letters"]["GET"].validate_response(listing)


def test_the_signers_own_pages_and_mails_say_counted_not_listed(runner, client, app):
    _create_petition(runner)
    email = "zebulon@example.org"
    client.post(f"/letters/{SLUG}/sign", data=sign_form(
        signer_type=INDIVIDUAL, name=PERSON, country="FR", email=email, display="initials"))
    mail = rendered(mails_to(email)[-1])
    assert "Counted, not listed (under France)" in mail.text
    token = confirm_token_from(mails_to(email)[-1])
    ask = client.get(f"/confirm/{token}").get_data(as_text=True)
    assert "Counted, not listed (under France)" in ask and "Listed as" not in ask
    done = client.post(f"/confirm/{token}").get_data(as_text=True)
    assert "Counted, not listed (under France)" in done


def test_every_public_route_is_checked(app):
    """A public route reading a letter that the test above does not fetch fails here."""
    rules = {rule.rule for rule in app.url_map.iter_rules()
             if "<slug>" in rule.rule and "GET" in (rule.methods or ())
             and not rule.rule.startswith("/admin")}
    assert rules <= set(PUBLIC_ROUTES), sorted(rules - set(PUBLIC_ROUTES))


@pytest.mark.parametrize("fmt", ["txt", "md", "html", "docx", "odt", "pdf", "csv", "xlsx",
                                 "json"])
def test_exports_that_are_not_private_count_only(petition, fmt):
    for layout in ("press", "submission"):
        data = exported(petition, fmt, lang="en", layout=layout)
        text = _text_of(data, "")
        _assert_no_secret(f"{fmt} {layout}", text)
    if fmt in ("txt", "md", "html"):
        assert "3 signatories" in _text_of(exported(petition, fmt, lang="en"), "")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_private_exports_have_the_names(petition, fmt):
    text = _text_of(exported(petition, fmt, lang="en", private=True), "")
    assert PERSON in text and ORGANISATION in text and "Dam watcher" in text


def test_back_office_private_download_has_the_names(petition, app):
    admin = signed_in_client(app, "admin@example.org", "admin", ())
    public = admin.get(f"/admin/letters/{SLUG}/export?format=csv&lang=en")
    assert public.status_code == 200
    _assert_no_secret("back office csv", public.get_data(as_text=True))
    private = admin.get(f"/admin/letters/{SLUG}/export?format=csv&lang=en&private=1")
    assert private.status_code == 200
    assert PERSON in private.get_data(as_text=True)
    # Moderation still shows the organisers who signed.
    listing = admin.get(f"/admin/letters/{SLUG}/signatures").get_data(as_text=True)
    assert ORGANISATION in listing


# --- the sign form's plain statements -------------------------------------------------------

def test_petition_form_offers_no_display_choice_and_says_what_is_public(runner, client, app):
    _create_petition(runner)
    page = client.get(f"/letters/{SLUG}", follow_redirects=True).get_data(as_text=True)
    assert 'name="display"' not in page
    assert "Sign this petition" in page
    assert ("No name will be published, neither yours nor your organisation’s: only the "
            "number of signatures per country and type is.") in page
    french = client.get(f"/letters/{SLUG}?lang=fr").get_data(as_text=True)
    assert "Aucun nom ne sera publié" in french


def test_petition_of_individuals_only_says_your_name_will_not_be_published(runner, client,
                                                                           app):
    _create_petition(runner, "--signers", "individuals")
    page = client.get(f"/letters/{SLUG}", follow_redirects=True).get_data(as_text=True)
    assert ("Your name will not be published: only the number of signatures per country "
            "is.") in page


def test_open_letter_form_says_what_is_public_and_preselects_the_default(runner, client, app):
    result = runner.invoke(args=["letter", "create", "appeal", "--lang", "en", "--title", "T"])
    assert result.exit_code == 0, result.output
    page = client.get("/letters/appeal", follow_redirects=True).get_data(as_text=True)
    assert "An organisation is listed by its name, under its country." in page
    assert "Your email address is never published." in page
    assert re.search(r'<input checked id="display-1" name="display" type="radio" '
                     r'value="initials">', page), "initials pre-selected"
    assert runner.invoke(args=["letter", "update", "appeal", "--individual-display",
                               "anonymous"]).exit_code == 0
    page = client.get("/letters/appeal", follow_redirects=True).get_data(as_text=True)
    assert re.search(r'<input checked id="display-2" name="display" type="radio" '
                     r'value="anonymous">', page)


# --- each letter's default display of individuals -------------------------------------------

def test_a_new_letter_defaults_to_initials_and_the_cli_changes_it(runner, app):
    assert runner.invoke(args=["letter", "create", "appeal", "--lang", "en",
                               "--title", "T"]).exit_code == 0
    assert _letter("appeal").individual_display == "initials"
    result = runner.invoke(args=["letter", "update", "appeal", "--individual-display", "full"])
    assert result.exit_code == 0, result.output
    assert _letter("appeal").individual_display == "full"
    refused = runner.invoke(args=["letter", "update", "appeal", "--individual-display", "some"])
    assert refused.exit_code != 0 and _letter("appeal").individual_display == "full"
    assert runner.invoke(args=["letter", "create", "other", "--lang", "en", "--title", "T",
                               "--individual-display", "anonymous"]).exit_code == 0
    assert _letter("other").individual_display == "anonymous"


def test_letters_made_before_keep_full(app):
    assert make_letter().individual_display == FULL


def test_a_post_without_display_takes_the_letters_default(runner, client, app):
    assert runner.invoke(args=["letter", "create", "appeal", "--lang", "en", "--title", "T",
                               "--individual-display", "anonymous"]).exit_code == 0
    data = sign_form(signer_type=INDIVIDUAL, name="Ada Lovelace", country="GB",
                     email="ada@example.org")
    del data["display"]
    assert client.post("/letters/appeal/sign", data=data).status_code == 303
    signature = db.session.scalar(select(Signature))
    assert signature.display == ANONYMOUS and signature.name == ""
    # An empty choice takes the default too, not "full".
    data.update(email="ada2@example.org", display="")
    assert client.post("/letters/appeal/sign", data=data).status_code == 303
    db.session.expire_all()
    assert {s.display for s in db.session.scalars(select(Signature))} == {ANONYMOUS}


def test_import_takes_the_letters_default_display(runner, app, tmp_path):
    assert runner.invoke(args=["letter", "create", "appeal", "--lang", "en", "--title", "T",
                               "--signers", "individuals"]).exit_code == 0
    sheet = tmp_path / "list.csv"
    sheet.write_text("name,country,display\nAda Lovelace,GB,\nAlan Turing,GB,full\n",
                     encoding="utf-8")
    result = runner.invoke(args=["signatures", "import", "appeal", str(sheet),
                                 "--provenance", "paper list"])
    assert result.exit_code == 0, result.output
    displays = {hidden_names.real(s).name: s.display
                for s in db.session.scalars(select(Signature))}
    assert displays == {"Ada Lovelace": "initials", "Alan Turing": "full"}


def test_import_into_a_petition_lists_nobody(runner, app, tmp_path):
    _create_petition(runner, "--signers", "individuals")
    sheet = tmp_path / "list.csv"
    sheet.write_text(f"name,country,display\n{PERSON},FR,full\n", encoding="utf-8")
    result = runner.invoke(args=["signatures", "import", SLUG, str(sheet),
                                 "--provenance", "paper list"])
    assert result.exit_code == 0, result.output
    signature = db.session.scalar(select(Signature))
    assert signature.display == ANONYMOUS and hidden_names.real(signature).name == PERSON


# --- the back office --------------------------------------------------------------------------

def test_back_office_creates_a_petition_and_changes_the_default_display(app):
    admin = signed_in_client(app, "admin@example.org", "admin", ())
    page = admin.get("/admin/letters/new").get_data(as_text=True)
    assert 'value="petition"' in page
    assert re.search(r'name="individual_display" value="initials" checked', page)
    assert "The kind cannot be changed once the letter is created." in page
    response = admin.post("/admin/letters/new", data={
        "slug": SLUG, "lang": "en", "title": "Stop the dam", "kind": "petition",
        "accepts_organizations": "1", "accepts_individuals": "1", "retention_days": "90",
        "individual_display": "initials"})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert _letter().is_petition
    edit = admin.get(f"/admin/letters/{SLUG}/edit").get_data(as_text=True)
    assert "A petition publishes no name" in edit and 'name="individual_display"' not in edit

    response = admin.post("/admin/letters/new", data={
        "slug": "appeal", "lang": "en", "title": "Appeal", "kind": "open-letter",
        "accepts_organizations": "1", "accepts_individuals": "1", "retention_days": "90",
        "individual_display": "full"})
    assert response.status_code == 303
    assert _letter("appeal").individual_display == "full"
    edit = admin.get("/admin/letters/appeal/edit").get_data(as_text=True)
    assert re.search(r'name="individual_display" value="full" checked', edit)
    assert "By initials: only the initials are public" in edit
    response = admin.post("/admin/letters/appeal/edit", data={
        "accepts_organizations": "1", "accepts_individuals": "1", "retention_days": "90",
        "individual_display": "anonymous"})
    assert response.status_code == 303
    assert _letter("appeal").individual_display == "anonymous"
    refused = admin.post("/admin/letters/appeal/edit", data={
        "accepts_organizations": "1", "accepts_individuals": "1", "retention_days": "90",
        "individual_display": "everyone"})
    assert refused.status_code == 400
    assert _letter("appeal").individual_display == "anonymous"


def test_demo_letter_keeps_individuals_in_full(app):
    assert seed_demo()
    assert _letter(DEMO).individual_display == FULL and not _letter(DEMO).is_petition
