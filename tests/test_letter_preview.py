"""Seeing a letter before publishing: the draft's page as the public will see it, behind the
admin guard (admin/letter_preview.py), and the Markdown of the text editor rendered."""
from __future__ import annotations

import re

from petition.extensions import db
from petition.letters import operations as letters
from petition.models import DRAFT, Letter, LetterText
from tests.admin_helpers import log_in, make_account
from tests.factories import make_letter

ORG = "org@example.org"


def logged_in(app, email: str = ORG, role: str = "organiser", given=("appeal",)):
    _, secret = make_account(email, role, given, totp=True)
    client = app.test_client()
    assert log_in(client, email, secret).status_code in (302, 303)
    return client


def draft_in_two_languages():
    letter = make_letter(status=DRAFT, body="Nous demandons sa **libération**.")
    letter.texts.append(LetterText(lang="en", title="Free the mathematician",
                                   body="We ask for his **release**."))
    db.session.commit()
    return letter


def test_a_draft_is_previewed_in_each_language_with_the_form_disabled_and_kept_private(app):
    draft_in_two_languages()
    client = logged_in(app)
    for lang, title, body in (("fr", "Libérez le mathématicien", "sa <strong>libération</strong>"),
                              ("en", "Free the mathematician", "his <strong>release</strong>")):
        response = client.get(f"/admin/letters/appeal/preview?lang={lang}")
        page = response.get_data(as_text=True)
        assert response.status_code == 200, lang
        assert f"<h1>{title}</h1>" in page and body in page
        assert '<meta name="robots" content="noindex, nofollow">' in page
        assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
        assert response.headers["Cache-Control"] == "private, no-store"
        # The form the public will get, every control of it disabled, under the banner.
        assert re.search(r'<fieldset class="preview-sign" disabled>\s*<legend', page)
        assert 'action="/letters/appeal/sign"' in page and 'name="email"' in page
        assert page.count("preview-banner") == 2
    assert "Preview — not public yet" in client.get(
        "/admin/letters/appeal/preview?lang=en").get_data(as_text=True)
    assert "Aperçu — pas encore public" in client.get(
        "/admin/letters/appeal/preview?lang=fr").get_data(as_text=True)
    assert "Предпросмотр — ещё не опубликовано" in client.get(
        "/admin/letters/appeal/preview?lang=ru").get_data(as_text=True)


def test_drafts_stay_404_on_the_public_routes(app):
    draft_in_two_languages()
    public = app.test_client()
    for path in ("/letters/appeal", "/letters/appeal/sign", "/letters/appeal/check-your-mail"):
        assert public.get(path).status_code == 404, path
    assert public.post("/letters/appeal/sign", data={}).status_code in (400, 404)
    # Nor does the preview show to anyone not signed in, or not given the letter.
    response = public.get("/admin/letters/appeal/preview")
    assert response.status_code == 302 and "/admin/login" in response.location
    other = logged_in(app, email="other@example.org", given=())
    assert other.get("/admin/letters/appeal/preview").status_code == 404


def test_press_may_not_preview_and_an_open_letter_previews_as_its_page(app):
    letter = make_letter()
    press = logged_in(app, email="press@example.org", role="press")
    assert press.get("/admin/letters/appeal/preview").status_code == 403
    organiser = logged_in(app)
    page = organiser.get("/admin/letters/appeal/preview?lang=fr").get_data(as_text=True)
    assert "Libérez le mathématicien" in page and "preview-sign" in page
    letters.set_status(letter.slug, "closed", actor="test")
    closed = organiser.get("/admin/letters/appeal/preview?lang=en").get_data(as_text=True)
    assert "preview-sign" not in closed and "no longer takes signatures" in closed


def test_the_back_office_links_to_the_preview_in_each_site_language(app):
    draft_in_two_languages()
    client = logged_in(app)
    for path in ("/admin/letters/appeal", "/admin/letters/appeal/edit"):
        page = client.get(path).get_data(as_text=True)
        for lang in app.config["LANGUAGES"]:
            assert f'href="/admin/letters/appeal/preview?lang={lang}"' in page, (path, lang)


def test_the_text_editor_previews_the_markdown_typed_without_saving_it(app):
    draft_in_two_languages()
    client = logged_in(app)
    edit = client.get("/admin/letters/appeal/edit").get_data(as_text=True)
    assert '<button type="submit" name="preview" value="1" formnovalidate>Preview</button>' in edit
    assert "text-preview" not in edit
    typed = {"title-fr": "Libérez-le", "body-fr": "Un *nouveau* texte.\n\n<script>x()</script>",
             "title-en": "Free him", "body-en": "- one\n- two", "new_lang": "ru",
             "new_title": "Свободу", "new_body": "Мы **требуем**.", "preview": "1"}
    response = client.post("/admin/letters/appeal/texts", data=typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Preview only: nothing was saved." in page
    # Rendered as the public page renders it, raw HTML escaped; the source kept in its box.
    assert "<p>Un <em>nouveau</em> texte.</p>" in page and "<script>x()" not in page
    assert "<li>one</li>" in page and "Мы <strong>требуем</strong>." in page
    assert 'value="Libérez-le"' in page
    assert ">Un *nouveau* texte." in page
    # Nothing saved: the stored texts and languages are as before.
    db.session.expire_all()
    letter = db.session.query(Letter).filter_by(slug="appeal").one()
    assert sorted(text.lang for text in letter.texts) == ["en", "fr"]
    assert letter.text_for("fr").body == "Nous demandons sa **libération**."
    # The language switch of a narrow screen names each column.
    assert 'href="#text-fr"' in page and 'id="text-fr"' in page and 'id="text-new"' in page
