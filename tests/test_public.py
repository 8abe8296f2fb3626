"""Public pages: the letter, the sign form, validation, languages."""
import datetime as dt
import re
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import func, select

from petition.extensions import db
from petition.models import CONFIRMED, INDIVIDUAL, OutboxMail, Signature
from tests.factories import make_letter, make_signature
from tests.helpers import assert_valid_html, html_lang, sign_form


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_index_lists_open_letters_then_closed_ones(client, app):
    letter = make_letter(goal=1000)
    make_signature(letter)
    closed = make_letter("closed-one", title="Fermée", status="closed",
                         closed_at=dt.datetime(2026, 3, 14, 12))
    for _ in range(2):
        make_signature(closed)
    make_letter("draft-one", title="Brouillon", status="draft")
    page = client.get("/?lang=en").get_data(as_text=True)
    assert_valid_html(page)
    assert (page.index("Libérez le mathématicien") < page.index("Closed letters")
            < page.index("Fermée"))
    assert "1 signature" in page and 'max="1000" value="1"' in page and "0.1% of the goal" in page
    assert "Closed on March 14, 2026 with 2 signatures." in page
    assert "Brouillon" not in page


def test_index_counts_closed_past_their_deadline_and_hides_embargoed_counts(client, app):
    past = make_letter("past", title="Passée", deadline=dt.date(2026, 1, 31))
    make_signature(past)
    embargoed = make_letter("hush", title="Secrète", embargo_until=dt.datetime(2099, 1, 1), goal=10)
    make_signature(embargoed)
    page = client.get("/?lang=en").get_data(as_text=True)
    assert page.index("Closed letters") < page.index("Passée")
    assert "Closed on January 31, 2026 with 1 signature." in page
    hidden = page[page.index("Secrète"):page.index("Closed letters")]
    assert "signature" not in hidden and "<progress" not in hidden


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


@pytest.mark.parametrize("signed, goal, value, words", [
    (4, 1000, 'value="4"', "0.4% of the goal"),
    (12, 10, 'value="10"', "Goal reached"),
    (0, 10, 'value="0"', "Goal: 10"),
])
def test_progress_reads_well_near_zero_and_past_the_goal(client, app, signed, goal, value,
                                                         words):
    letter = make_letter(goal=goal)
    for _ in range(signed):
        make_signature(letter, commit=False)
    db.session.commit()
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert f'max="{goal}" {value}' in page and words in page
    assert '<label for="goal-progress">' in page  # the bar has a name


def test_a_closed_letter_keeps_its_list_and_says_when_it_closed(client, app):
    letter = make_letter(status="closed", closed_at=dt.datetime(2026, 3, 14, 12))
    make_signature(letter, name="Campagne #FREE120")
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert_valid_html(page)
    assert "This letter closed on March 14, 2026 and no longer takes signatures." in page
    assert "Its signatories stay listed below." in page and "Campagne #FREE120" in page
    assert 'name="email"' not in page and "Be the first" not in page
    make_letter("empty", status="closed")
    page = client.get("/letters/empty?lang=en").get_data(as_text=True)
    assert "No signature was published for this letter." in page
    assert "Be the first" not in page and "stay listed" not in page


def test_unknown_letter_is_404(client, app):
    assert client.get("/letters/nope").status_code == 404


def test_markdown_is_rendered_safely(client, app):
    make_letter(body="Hi <script>alert(1)</script> [x](javascript:alert(1))")
    page = client.get("/letters/appeal", follow_redirects=True).get_data(as_text=True)
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
    # A typed control character (not allowed in HTML) comes back as typed; browsers cope.
    if not any(ord(c) < 32 and c not in "\t\r\n" for c in value):
        assert_valid_html(page)


def test_errors_are_summed_up_first_with_links_to_fields_that_point_back(client, app):
    make_letter()
    data = sign_form(signer_type="", name="", country="", email="nope")
    data.pop("consent")
    page = client.post("/letters/appeal/sign?lang=en", data=data).get_data(as_text=True)
    assert_valid_html(page)
    import html5lib

    tree = html5lib.parse(page, namespaceHTMLElements=False)
    summary = tree.find(".//div[@id='error-summary']")
    assert summary is not None and summary.get("tabindex") == "-1"
    assert "autofocus" in summary.attrib
    form = tree.find(".//form")
    assert list(form.iter())[list(form.iter()).index(summary)] is summary
    first_field = next(e for e in form.iter() if e.tag in ("input", "select")
                       and e.get("type") not in ("hidden",))
    assert list(form.iter()).index(summary) < list(form.iter()).index(first_field)
    targets = [a.get("href") for a in summary.iter("a")]
    assert targets == ["#signer_type-0", "#name", "#country", "#email", "#consent"]
    by_id = {element.get("id"): element for element in tree.iter() if element.get("id")}
    for target in targets:
        field = by_id[target[1:]]
        assert field.get("aria-invalid") == "true", target
        described = field.get("aria-describedby") or ""
        if target == "#signer_type-0":  # the group's fieldset names the message
            described = next(f for f in tree.iter("fieldset")
                             if field in list(f.iter())).get("aria-describedby")
        messages = [by_id[i] for i in described.split()]
        assert any("field-error" in (m.get("class") or "") for m in messages), target
    # A hint stays tied to its field, error or not.
    assert by_id["email"].get("aria-describedby") == "email-hint email-error"
    assert by_id["affiliation"].get("aria-describedby") == "affiliation-hint"


def test_language_links_of_the_form_with_errors_lead_to_the_letter(client, app):
    make_letter()
    page = client.post("/letters/appeal/sign?lang=en", data=sign_form(name="")).get_data(
        as_text=True)
    assert 'href="/letters/appeal?lang=fr"' in page and "/sign?lang=" not in page
    moved = client.get("/letters/appeal/sign?lang=fr")
    assert moved.status_code == 303 and moved.headers["Location"] == "/letters/appeal?lang=fr"
    french = client.get(moved.headers["Location"]).get_data(as_text=True)
    assert html_lang(french) == "fr"
    assert client.get("/letters/nope/sign").status_code == 404


def test_language_links_keep_the_rest_of_the_query(client, app):
    make_letter()
    page = client.get("/letters/appeal?lang=en&x=1").get_data(as_text=True)
    assert 'href="/letters/appeal?x=1&amp;lang=ru"' in page


@pytest.mark.parametrize("path, french", [
    ("/%5Cevil.example/x", "/%5Cevil.example/x?lang=fr"),
    ("//evil.example/x", "/evil.example/x?lang=fr"),
    ("///evil.example/x", "/evil.example/x?lang=fr"),
    ("/%2F%2Fevil.example/x", "/evil.example/x?lang=fr"),
    ("/%E2%82%AC%25/%22x", "/%E2%82%AC%25/%22x?lang=fr"),
])
def test_language_links_of_a_404_stay_on_this_site(client, app, path, french):
    """Keep the 404 page's language links on this site whatever the path holds."""
    # PATH_INFO as a WSGI server decodes it: the test client would take "//host" for a host.
    response = client.get("/", environ_overrides={"PATH_INFO": unquote(path, "latin-1")})
    assert response.status_code == 404
    links = re.findall(r'<a href="([^"]*)" hreflang=', response.get_data(as_text=True))
    assert len(links) == 3 and links[1] == french
    for link in links:
        assert link.startswith("/") and link[1:2] not in ("/", "\\"), link
        assert urlsplit(link).netloc == ""


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
    make_signature(letter, signer_type=INDIVIDUAL, name="Marie Curie", affiliation="physicist",
                   country="FR")
    make_signature(letter, signer_type=INDIVIDUAL, name="Jean-Paul Sartre", display="initials",
                   country="FR")
    make_signature(letter, signer_type=INDIVIDUAL, name="Hidden Person", display="anonymous",
                   country="FR")
    page = client.get("/letters/appeal?lang=en").get_data(as_text=True)
    assert "Marie Curie, physicist" in page
    assert "J.-P. S." in page and "Sartre" not in page
    assert "Hidden Person" not in page
    assert "and 1 other signatory" in page


def test_language_from_query_then_cookie_then_accept_language(client, app):
    make_letter()
    russian = client.get("/", headers={"Accept-Language": "ru"}, follow_redirects=True)
    assert russian.request.args["lang"] == "ru"  # the cached page names its language
    russian = russian.get_data(as_text=True)
    assert html_lang(russian) == "ru" and "Политика конфиденциальности" in russian
    # Remembered in the cookie by a page no shared cache keeps (a cached one sets none).
    assert not client.get("/letters/appeal?lang=fr").headers.getlist("Set-Cookie")
    client.get("/privacy?lang=fr")
    french = client.get("/", headers={"Accept-Language": "ru"},
                        follow_redirects=True).get_data(as_text=True)
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
            client.post("/letters/appeal/sign",
                        data=sign_form(email=f"r{i}@example.org")).status_code
            for i in range(5)
        ]
        assert codes == [303, 303, 303, 429, 429]
        assert count(Signature) == 3
        # Refused, the form comes back with what was typed, still a 429.
        refused = client.post("/letters/appeal/sign?lang=en", data=sign_form(
            name="Typed Before The Limit", email="kept@example.org", country="ES"))
        page = refused.get_data(as_text=True)
        assert refused.status_code == 429
        assert "Too many signatures were sent from your connection" in page
        assert 'value="Typed Before The Limit"' in page and 'value="kept@example.org"' in page
        assert '<option selected value="ES">' in page
        assert 'id="error-summary"' in page and "autofocus" in page
        assert_valid_html(page)
        assert count(Signature) == 3
        # Other limited pages keep the plain message.
        assert client.get("/letters/appeal?lang=en").status_code == 200
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
