"""Public pages: the letter, the sign form, validation, languages."""
import pytest
from sqlalchemy import func, select

from petition.extensions import db
from petition.models import CONFIRMED, INDIVIDUAL, OutboxMail, Signature
from tests.factories import make_letter, make_signature
from tests.helpers import html_lang, sign_form


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_index_lists_open_letters(client, app):
    letter = make_letter()
    make_signature(letter)
    make_letter("closed-one", title="Fermée", status="closed")
    page = client.get("/").get_data(as_text=True)
    assert "Libérez le mathématicien" in page
    assert "Fermée" not in page


def test_letter_page_shows_text_count_goal_and_form(client, app):
    letter = make_letter(goal=1000, place="Paris")
    make_signature(letter, name="Campagne #FREE120", country="DE")
    make_signature(letter, status="pending", name="Not yet")
    page = client.get("/letters/appeal?lang=fr").get_data(as_text=True)
    assert "<strong>libération</strong>" in page
    assert 'max="1000" value="1"' in page
    assert "Campagne #FREE120" in page and "Allemagne" in page
    assert "Not yet" not in page
    assert 'name="email"' in page and 'name="consent"' in page


def test_unknown_letter_is_404(client, app):
    assert client.get("/letters/nope").status_code == 404


def test_markdown_is_rendered_safely(client, app):
    make_letter(body="Hi <script>alert(1)</script> [x](javascript:alert(1))")
    page = client.get("/letters/appeal").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "href=\"javascript" not in page


def test_valid_submission_shows_check_mail_and_stores_pending(client, app):
    make_letter()
    response = client.post("/letters/appeal/sign?lang=en", data=sign_form())
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "mail" in page.lower()
    assert count(Signature) == 1 and count(OutboxMail) == 1


def test_same_page_whatever_the_address_history(client, app):
    letter = make_letter()
    make_signature(letter, email="known@example.org", status=CONFIRMED)
    first = client.post("/letters/appeal/sign", data=sign_form(email="new@example.org"))
    again = client.post("/letters/appeal/sign", data=sign_form(email="known@example.org"))
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "", "Please give the name"),
        ("name", "x" * 201, "at most 200"),
        ("name", "Evil\r\nBcc: x@y", "single line"),
        ("name", "Abc\u202edcba", "text-direction"),
        ("name", "Abc\x07", "control characters"),
        ("affiliation", "a\nb", "single line"),
        ("country", "ZZ", "from the list"),
        ("country", "", "choose a country"),
        ("email", "not-an-address", "email address"),
        ("consent", "", "privacy notice"),
    ],
)
def test_invalid_input_is_400_with_a_message_and_stores_nothing(client, app, field, value, message):
    make_letter()
    data = sign_form(**{field: value})
    if field == "consent":
        data.pop("consent")
    response = client.post("/letters/appeal/sign", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'class="field-error"' in page
    assert count(Signature) == 0 and count(OutboxMail) == 0


def test_email_is_normalised(client, app):
    make_letter()
    client.post("/letters/appeal/sign", data=sign_form(email="Someone@EXAMPLE.ORG"))
    client.post("/letters/appeal/sign", data=sign_form(email="someone@example.org"))
    assert count(Signature) == 1


def test_honeypot_looks_like_success_and_stores_nothing(client, app):
    make_letter()
    response = client.post("/letters/appeal/sign", data=sign_form(website="http://spam"))
    assert response.status_code == 303
    assert count(Signature) == 0 and count(OutboxMail) == 0


def test_closed_letter_refuses_signing(client, app):
    make_letter(status="closed")
    response = client.post("/letters/appeal/sign", data=sign_form())
    assert response.status_code == 409
    assert count(Signature) == 0


def test_individual_display_choices(client, app):
    letter = make_letter()
    make_signature(letter, signer_type=INDIVIDUAL, name="Marie Curie", affiliation="physicist", country="FR")
    make_signature(letter, signer_type=INDIVIDUAL, name="Jean-Paul Sartre", display="initials", country="FR")
    make_signature(letter, signer_type=INDIVIDUAL, name="Hidden Person", display="anonymous", country="FR")
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert "Marie Curie, physicist" in page
    assert "J.-P. S." in page and "Sartre" not in page
    assert "Hidden Person" not in page
    assert "and 1 other signatory" in page


def test_language_from_query_then_cookie_then_accept_language(client, app):
    make_letter()
    russian = client.get("/", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert html_lang(russian) == "ru" and "Политика конфиденциальности" in russian
    client.get("/letters/appeal?lang=fr")  # remembered in the cookie
    french = client.get("/", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert html_lang(french) == "fr" and "Politique de confidentialité" in french
    english = client.get("/?lang=en", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert html_lang(english) == "en" and "Privacy notice" in english


def test_countries_are_localized_short_names(client, app):
    page = make_letter() and client.get("/letters/appeal?lang=fr").get_data(as_text=True)
    assert ">Moldavie<" in page
    assert "République de" not in page
    assert 'value="XK"' in page and 'value="international"' in page


def test_csrf_is_required(client, app):
    app.config["WTF_CSRF_ENABLED"] = True
    make_letter()
    response = client.post("/letters/appeal/sign", data=sign_form())
    assert response.status_code == 400
    assert count(Signature) == 0


@pytest.mark.sqlite_only
@pytest.mark.parametrize("storage", ["memory://", "redis://127.0.0.1:6379/15"])
def test_rate_limit_on_signing(database_url, tmp_path, storage):
    """Limits hold per client, in memory or in Redis (shared by several processes)."""
    from petition import create_app
    from tests.conftest import base_config, skip_or_fail

    if storage.startswith("redis"):
        import redis

        try:
            redis.Redis.from_url(storage).flushdb()
        except redis.ConnectionError as error:
            skip_or_fail(f"Redis unreachable: {error}")
    config = base_config(database_url, tmp_path)
    config.update(RATELIMIT_ENABLED=True, RATELIMIT_SIGN="3 per minute",
                  RATELIMIT_STORAGE_URI=storage)
    app = create_app(config)
    with app.app_context():
        make_letter()
        client = app.test_client()
        codes = [
            client.post("/letters/appeal/sign", data=sign_form(email=f"r{i}@example.org")).status_code
            for i in range(5)
        ]
        assert codes == [303, 303, 303, 429, 429]
        assert count(Signature) == 3
        db.session.remove()
        db.engine.dispose()


def test_draft_letters_are_not_public(client, app):
    make_letter(status="draft")
    assert client.get("/letters/appeal").status_code == 404
    assert client.get("/letters/appeal.json").status_code == 404
    assert client.post("/letters/appeal/sign", data=sign_form()).status_code == 404


def test_many_individuals_show_as_counts_with_the_full_list_linked(client, app):
    app.config["PUBLIC_NAMES_LIMIT"] = 3
    letter = make_letter()
    make_signature(letter, name="Listed Organisation", country="FR")
    for number in range(4):
        make_signature(letter, signer_type=INDIVIDUAL, name=f"Person {number}", country="DE")
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert "Listed Organisation" in page
    assert "Person 0" not in page and "Too many to list" in page
    assert "/letters/appeal/signatories.txt?lang=en" in page
    full = client.get("/letters/appeal/signatories.txt?lang=en").get_data(as_text=True)
    assert all(f"Person {n}" in full for n in range(4))


def test_oversized_post_is_refused_before_parsing(client, app):
    make_letter()
    response = client.post("/letters/appeal/sign", data=sign_form(name="x" * 100_000))
    assert response.status_code == 413
    assert count(Signature) == 0
