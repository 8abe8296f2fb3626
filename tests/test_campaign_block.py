"""The campaign block (issue 22, item 2): set per letter and language, beside the text and
never inside it; shown on the letter page, the thank-you page and the confirmation mail in
the reader's language; absent from every export. Links in letter texts."""
from __future__ import annotations

import io
import zipfile

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from petition.drive import writing
from petition.exporting.formats import FORMATS
from petition.extensions import db
from petition.letters import campaign
from petition.letters.operations import translate_letter
from petition.letters.values import LetterError
from petition.models import LetterText
from petition.models.accounts import AuditEvent
from petition.views.templating import render_markdown
from tests.drive_helpers import details, make_drive
from tests.export_helpers import exported, sample_letter
from tests.factories import make_letter
from tests.helpers import assert_valid_html, confirm_token_from, outbox, rendered, sign_form

IBAN = "FR76 3000 6000 0112 3456 7890 189"  # the checksum adds up
REL = 'rel="noopener noreferrer nofollow"'
FRENCH = {"donation_url": "https://dons.example.org/avocat",
          "donation_text": "Aidez la famille à payer l'avocat",
          "bank_details": f"IBAN {IBAN}\nPayPal : aide@free.example",
          "channels": ["https://t.me/free_boris", "https://mastodon.social/@free"],
          "contact": "presse@free.example"}
ENGLISH = {"donation_text": "Help the family pay for a lawyer", "contact": "press@free.example"}


def _audited() -> AuditEvent:
    """The one audit entry of a campaign change."""
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "letter.campaign")).one()


def _campaign(slug: str = "appeal") -> None:
    """Blocks in French and English; the letter gets an English text for it."""
    translate_letter(slug, lang="en", title="Free the mathematician")
    campaign.set_campaign(slug, "fr", FRENCH)
    campaign.set_campaign(slug, "en", ENGLISH)


def test_command_sets_shows_and_clears_a_field(app, runner):
    letter = make_letter()
    version = letter.list_version
    result = runner.invoke(args=[
        "letter", "campaign", "appeal", "--lang", "fr", "--donation-url", FRENCH["donation_url"],
        "--donation-text", FRENCH["donation_text"], "--bank-details", FRENCH["bank_details"],
        "--channel", "https://t.me/free_boris", "--channel", "https://mastodon.social/@free",
        "--contact", "presse@free.example"])
    assert result.exit_code == 0, result.output
    assert "channels: https://t.me/free_boris | https://mastodon.social/@free" in result.output
    db.session.expire_all()
    assert letter.list_version == version + 1  # cached pages renew
    entry = _audited()
    assert entry.actor == "cli" and "lang=fr" in entry.detail and "channels" in entry.detail

    result = runner.invoke(args=["letter", "campaign", "appeal", "--lang", "fr", "--channel", ""])
    assert result.exit_code == 0, result.output
    assert "channels: -" in result.output and "contact: presse@free.example" in result.output
    shown = runner.invoke(args=["letter", "campaign", "appeal", "--lang", "fr"])
    assert "donation-url: https://dons.example.org/avocat" in shown.output

    # Every field emptied: no block.
    runner.invoke(args=["letter", "campaign", "appeal", "--lang", "fr", "--donation-url", "",
                        "--donation-text", "", "--bank-details", "", "--contact", ""])
    assert campaign.shown_in("appeal", "fr") is None
    # A language the letter has no text in: said plainly.
    result = runner.invoke(args=["letter", "campaign", "appeal", "--lang", "de", "--contact", "x"])
    assert result.exit_code == 1 and "no text in de: add the text first" in result.output


@pytest.mark.parametrize(("field", "value", "message"), [
    ("donation_url", "javascript:alert(1)", "must start with https:// or http://"),
    ("donation_url", "https://", "must start with https:// or http://"),
    ("donation_url", "https://[oops", "must start with https:// or http://"),
    ("channels", ["https://t.me/ok", "ftp://files.example"], "each channel must start with"),
    ("channels", [f"https://t.me/c{n}" for n in range(9)], "at most 8 channels"),
    ("donation_text", "x" * 301, "at most 300 characters"),
    ("contact", "a\u202eb", "one line without control characters"),
    ("donation_text", "two\nlines", "one line without control characters"),
    ("bank_details", "IBAN FR76 3000 6000 0112 3456 7890 188", "does not add up"),
    ("bank_details", "IBAN GB82WEST12345698765433", "does not add up"),
    ("bank_details", "ok\x07", "must not hold control characters"),
])
def test_bad_values_are_refused_with_a_clear_message(app, runner, field, value, message):
    make_letter()
    with pytest.raises(LetterError, match=message):
        campaign.set_campaign("appeal", "fr", {field: value})
    assert campaign.shown_in("appeal", "fr") is None
    option = f"--{field.replace('_', '-')}" if field != "channels" else "--channel"
    values = value if isinstance(value, list) else [value]
    result = runner.invoke(args=["letter", "campaign", "appeal", "--lang", "fr",
                                 *[part for item in values for part in (option, item)]])
    assert result.exit_code == 1 and message in result.output


def test_valid_ibans_pass_even_followed_by_capitals(app):
    make_letter()
    details_ = "IBAN GB82WEST12345698765432\nFR76 3000 6000 0112 3456 7890 189 BIC BNPAFRPP"
    block = campaign.set_campaign("appeal", "fr", {"bank_details": details_})
    assert block is not None and block.bank_details[1].endswith("BIC BNPAFRPP")


def test_letter_page_shows_the_block_in_the_readers_language_after_the_form(app, client):
    make_letter()
    _campaign()
    page = client.get("/letters/appeal?lang=fr").get_data(as_text=True)
    assert_valid_html(page)
    block = page[page.index('<aside class="campaign"'):]
    assert page.index('<aside class="campaign"') > page.index('action="/letters/appeal/sign"')
    assert f'href="https://dons.example.org/avocat" {REL}' in block
    assert IBAN in block and "PayPal : aide@free.example" in block
    assert f'<a href="https://t.me/free_boris" {REL}>t.me/free_boris</a>' in block
    assert f'href="mailto:presse@free.example" {REL}' in block
    # Never inside the text.
    article = page[page.index("<article"):page.index("</article>")]
    assert "avocat" not in article

    english = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert "Help the family pay for a lawyer" in english and "Support the campaign" in english
    assert "t.me/free_boris" not in english  # the English block has no channels
    russian = client.get("/letters/appeal?lang=ru").get_data(as_text=True)
    assert "Aidez la famille" in russian  # the letter's own language
    assert 'lang="fr"' in russian[russian.index('<aside class="campaign"'):][:120]


def test_no_block_no_section(app, client):
    make_letter()
    assert 'class="campaign"' not in client.get("/letters/appeal?lang=en").get_data(as_text=True)


def test_confirmation_mail_and_thank_you_page_show_the_block(app, client):
    make_letter()
    _campaign()
    client.post("/letters/appeal/sign?lang=fr", data=sign_form())
    mail = rendered(outbox()[0])
    text = mail.text
    assert text.index("Aidez la famille") > text.index("/withdraw/")
    assert text.index("Aidez la famille") < text.index("\n-- \n")
    assert "Faire un don\xa0: https://dons.example.org/avocat" in text
    assert f"IBAN {IBAN}" in text and "- https://mastodon.social/@free" in text
    assert f'<a href="https://dons.example.org/avocat" {REL}>' in mail.html
    assert_valid_html(mail.html)

    token = confirm_token_from(outbox()[0])
    page = client.post(f"/confirm/{token}").get_data(as_text=True)
    assert_valid_html(page)
    assert "Aidez la famille" in page and f'href="https://t.me/free_boris" {REL}' in page


def test_mail_in_english_takes_the_english_block(app, client):
    make_letter()
    _campaign()
    client.post("/letters/appeal/sign?lang=en", data=sign_form())
    text = rendered(outbox()[0]).text
    assert "Help the family pay for a lawyer" in text and "Aidez" not in text


def test_drive_page_and_its_confirmation_mail_show_the_block(app, client):
    make_drive()
    campaign.set_campaign("letters-to-azat", "ru", {
        "donation_text": "Помогите оплатить почту", "channels": ["https://t.me/azat"]})
    page = client.get("/letters/letters-to-azat?lang=ru").get_data(as_text=True)
    assert "Помогите оплатить почту" in page and f'href="https://t.me/azat" {REL}' in page
    writing.write("letters-to-azat", details(lang="ru"))
    text = rendered(outbox("drive_confirm")[-1]).text
    assert "Помогите оплатить почту" in text and "- https://t.me/azat" in text


def _readable(fmt: str, data: bytes) -> str:
    """Every character an export holds, whatever its format."""
    if fmt == "pdf":
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    if data[:2] == b"PK":  # docx, odt, xlsx: XML in a ZIP
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(name).decode("utf-8", "replace")
                             for name in archive.namelist())
    return data.decode("utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_export_holds_any_of_the_block(app, fmt):
    letter = sample_letter()
    _campaign()
    for layout in ("press", "submission"):
        for private in (False, True):
            text = _readable(fmt, exported(letter, fmt, "fr", layout, private))
            assert "Zola" in text  # the reading works: a name on the list is there
            for needle in ("dons.example.org", "Aidez la famille", "3000 6000", "aide@free",
                           "t.me/free_boris", "mastodon.social", "presse@free"):
                assert needle not in text, (fmt, layout, private, needle)


def test_bare_urls_become_links_and_every_link_gets_rel():
    html = str(render_markdown("News: https://t.me/free_boris and [site](https://free.example)"))
    assert f'<a href="https://t.me/free_boris" {REL}>https://t.me/free_boris</a>' in html
    assert f'<a href="https://free.example" {REL}>site</a>' in html
    assert "href=\"javascript" not in str(render_markdown("[x](javascript:alert(1))"))


def test_txt_export_keeps_a_links_address(app):
    letter = sample_letter()
    text = letter.text_for("fr")
    assert isinstance(text, LetterText)
    text.body = "Aidez [la famille](https://free.example/aide) ou écrivez à <aide@free.example>."
    db.session.commit()
    txt = exported(letter, "txt", "fr", "submission").decode()
    assert "Aidez la famille (https://free.example/aide) ou écrivez à aide@free.example." in txt


def test_back_office_form_sets_refuses_and_clears(app):
    from tests.admin_helpers import signed_in_client

    make_letter()
    client = signed_in_client(app)
    page = client.get("/admin/letters/appeal/campaign").get_data(as_text=True)
    assert_valid_html(page)
    assert 'id="campaign-fr"' in page and "Campaign block" in page
    assert "/admin/letters/appeal/campaign" in client.get(
        "/admin/letters/appeal/edit").get_data(as_text=True)
    form = {"lang": "fr", "donation_url": FRENCH["donation_url"], "donation_text": "Pour l'avocat",
            "bank_details": f"IBAN {IBAN}\r\nCarte 4111 1111 1111 1111",
            "channels": "https://t.me/free_boris\r\n\r\nhttps://free.example/", "contact": ""}
    response = client.post("/admin/letters/appeal/campaign", data=form)
    assert response.status_code == 303
    block = campaign.shown_in("appeal", "fr")
    assert block is not None and block.channels == ("https://t.me/free_boris", "https://free.example/")
    assert block.bank_details == (f"IBAN {IBAN}", "Carte 4111 1111 1111 1111")
    event = _audited()
    assert event.actor == "org@example.org"

    refused = client.post("/admin/letters/appeal/campaign",
                          data=form | {"donation_url": "javascript:alert(1)"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "must start with https://" in text
    assert "javascript:alert(1)" in text  # what was typed stays in the form
    assert_valid_html(text)
    bad_lang = client.post("/admin/letters/appeal/campaign", data=form | {"lang": "zz-nope"})
    assert bad_lang.status_code == 400

    client.post("/admin/letters/appeal/campaign",
                data={"lang": "fr", "donation_url": "", "donation_text": "", "bank_details": "",
                      "channels": "", "contact": ""})
    assert campaign.shown_in("appeal", "fr") is None


def test_press_accounts_cannot_set_it(app):
    from tests.admin_helpers import signed_in_client

    make_letter()
    client = signed_in_client(app, "press@example.org", "press")
    assert client.post("/admin/letters/appeal/campaign",
                       data={"lang": "fr", "contact": "x"}).status_code in (403, 404)
    assert campaign.shown_in("appeal", "fr") is None


