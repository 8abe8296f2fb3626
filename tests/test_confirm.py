"""The confirmation link: GET shows a button, only POST confirms."""
import pytest
from sqlalchemy import select

from petition.extensions import db
from petition.models import CONFIRMED, PENDING, LetterText, Signature
from tests.factories import make_letter
from tests.helpers import assert_valid_html, confirm_token_from, html_lang, outbox, sign_form


def signed_token(client) -> str:
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(name="BAG Russischsprachige Linke"))
    return confirm_token_from(outbox()[0])


def status() -> str:
    db.session.expire_all()
    return db.session.scalar(select(Signature.status))


def test_get_shows_one_button_and_changes_nothing(client, app):
    token = signed_token(client)
    response = client.get(f"/confirm/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count("<button") == 1 and 'method="post"' in page
    assert "BAG Russischsprachige Linke" in page
    assert response.headers["Cache-Control"] == "no-store"
    assert status() == PENDING


def test_post_confirms_and_name_appears_under_country(client, app):
    token = signed_token(client)
    response = client.post(f"/confirm/{token}")
    assert response.status_code == 200
    assert status() == CONFIRMED
    page = client.get("/letters/appeal?lang=fr").get_data(as_text=True)
    heading = page.index("Allemagne")
    assert page.index("BAG Russischsprachige Linke") > heading


def test_used_link_gets_already_confirmed_page(client, app):
    token = signed_token(client)
    client.post(f"/confirm/{token}")
    again = client.post(f"/confirm/{token}")
    assert again.status_code == 200 and "already confirmed" in again.get_data(as_text=True)
    assert client.get(f"/confirm/{token}").status_code == 200


def test_tampered_link_gets_clear_page(client, app):
    token = signed_token(client)
    for bad in (token[:-3] + "xyz", "garbage", token.split(".")[0]):
        response = client.get(f"/confirm/{bad}")
        assert response.status_code == 404
        assert "does not work" in response.get_data(as_text=True)
        assert client.post(f"/confirm/{bad}").status_code == 404
    assert status() == PENDING


def test_expired_link_offers_a_new_one(client, app):
    token = signed_token(client)
    app.config["CONFIRM_MAX_AGE"] = -1
    response = client.get(f"/confirm/{token}")
    assert response.status_code == 410
    assert "/resend" in response.get_data(as_text=True)
    assert client.post(f"/confirm/{token}").status_code == 410
    assert status() == PENDING
    resent = client.post(f"/confirm/{token}/resend")
    assert resent.status_code == 200
    mails = outbox("confirm")
    assert len(mails) == 2
    app.config["CONFIRM_MAX_AGE"] = 3600
    client.post(f"/confirm/{confirm_token_from(mails[1])}")
    assert status() == CONFIRMED


def test_closed_letter_cannot_be_confirmed_into(client, app):
    token = signed_token(client)
    letter = db.session.scalar(select(Signature)).letter
    letter.status = "closed"
    db.session.commit()
    assert client.post(f"/confirm/{token}").status_code == 409
    assert status() == PENDING


def test_pending_signatures_are_neither_counted_nor_listed(client, app):
    signed_token(client)
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert "BAG Russischsprachige Linke" not in page
    assert "0 signatures" in page
    assert client.get("/letters/appeal.json").get_json()["total"] == 0


def test_confirm_page_speaks_the_signers_language_in_a_fresh_browser(app):
    make_letter()
    app.test_client().post("/letters/appeal/sign?lang=ru", data=sign_form())
    token = confirm_token_from(outbox()[0])
    fresh = app.test_client()  # no cookie: another browser, another device
    assert "Подтвердите" in fresh.get(f"/confirm/{token}").get_data(as_text=True)
    assert "Confirm your signature" in fresh.get(f"/confirm/{token}?lang=en").get_data(as_text=True)


def test_thank_you_page_shows_the_listing_and_plain_share_links(client, app):
    token = signed_token(client)
    response = client.post(f"/confirm/{token}?lang=en")
    page = response.get_data(as_text=True)
    assert_valid_html(page)
    assert "How you appear on the list" in page
    assert "Listed as: BAG Russischsprachige Linke, under Germany" in page
    # The letter's address to copy, by mail, and each network's own share address: links
    # built here, no script of anyone's.
    assert 'id="share-url" value="http://localhost/letters/appeal" readonly' in page
    assert 'href="mailto:?subject=Lib%C3%A9rez%20le%20math%C3%A9maticien&amp;body=' in page
    encoded = "http%3A%2F%2Flocalhost%2Fletters%2Fappeal"
    for network in ("https://bsky.app/intent/compose?", "https://t.me/share/url?",
                    "https://wa.me/?", "https://www.facebook.com/sharer/sharer.php?",
                    "https://x.com/intent/post?", "https://vk.com/share.php?"):
        start = page.index(f'href="{network}')
        assert encoded in page[start:page.index('"', start + 6)], network
    assert "<script" not in page and "<iframe" not in page


@pytest.mark.parametrize("lang, subject", [("en", "Free%20the%20mathematician"),
                                            ("fr", "Lib%C3%A9rez%20le%20math%C3%A9maticien")])
def test_thank_you_share_text_is_in_the_signers_language(app, lang, subject):
    letter = make_letter()
    letter.texts.append(LetterText(lang="en", title="Free the mathematician", body="Free him."))
    db.session.commit()
    app.test_client().post(f"/letters/appeal/sign?lang={lang}", data=sign_form())
    token = confirm_token_from(outbox()[0])
    page = app.test_client().post(f"/confirm/{token}").get_data(as_text=True)  # no cookie
    assert html_lang(page) == lang
    assert f'href="mailto:?subject={subject}&amp;body=' in page


def test_language_links_after_asking_a_new_link_lead_to_the_link_page(client, app):
    token = signed_token(client)
    page = client.post(f"/confirm/{token}/resend").get_data(as_text=True)
    assert f'href="/confirm/{token}?lang=ru"' in page
