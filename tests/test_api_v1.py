"""The open API under /api/v1/: its answers, their caching, and their document.

Real answers are validated against petition/views/openapi.json, the document the API
serves, on both databases: every response here goes through `conforms()`, and schemathesis
generates requests from the document and checks what comes back.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies
from hypothesis.configuration import set_hypothesis_home_dir

import petition.models.letters as models_letters
from petition.extensions import db
from petition.letters import operations as letters
from petition.letters import status
from petition.models import CLOSED, DRAFT, INDIVIDUAL, LetterMilestone, utcnow
from petition.models.drive import SENT, DriveLetter
from petition.views import embargo
from tests.drive_helpers import make_drive, written
from tests.factories import make_letter, make_signature

DOCUMENT = Path(__file__).resolve().parent.parent / "petition" / "views" / "openapi.json"


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def conforms(api_schema, response, path: str):
    """The answer as the document describes it (status, headers, body); its JSON."""
    operation = api_schema[path]["GET"]
    operation.validate_response(response)
    return response.get_json()


def letter_with_signatures():
    letter = make_letter(goal=1000, deadline=dt.date(2099, 2, 15))
    letters.translate_letter("appeal", lang="en", title="Free the mathematician", body="Free him.")
    for country in ("DE", "DE", "FR"):
        make_signature(letter, country=country)
    make_signature(letter, country="FR", signer_type=INDIVIDUAL)
    make_signature(letter, country="FR", status="pending")
    return letter


# --- what it says -----------------------------------------------------------------------------


def test_the_list_holds_public_letters_with_their_totals(client, app, api_schema):
    letter_with_signatures()
    make_letter("draft-one", status=DRAFT)
    make_letter("closed-one", status=CLOSED, title="Fermée")
    drive = make_drive(goal=1000)
    written(drive)
    written(drive, email="b@example.org", country="DE")
    make_letter("quiet", embargo_until=utcnow() + dt.timedelta(hours=2))

    response = client.get("/api/v1/letters?lang=en")
    data = conforms(api_schema, response, "/api/v1/letters")
    assert data["api_version"] == "1" and data["lang"] == "en"
    by_slug = {item["slug"]: item for item in data["letters"]}
    assert set(by_slug) == {"appeal", "closed-one", "letters-to-azat", "quiet"}
    assert by_slug["appeal"] == {
        "slug": "appeal", "kind": "open-letter", "title": "Free the mathematician",
        "title_lang": "en", "status": "open", "closed_on": None, "goal": 1000,
        "deadline": "2099-02-15", "days_left": (dt.date(2099, 2, 15) - utcnow().date()).days,
        "url": "http://localhost/letters/appeal", "total": 4}
    # A title missing in the language asked for comes in the letter's own.
    assert by_slug["closed-one"]["title"] == "Fermée"
    assert by_slug["closed-one"]["title_lang"] == "fr"
    assert by_slug["closed-one"]["status"] == "closed"
    assert by_slug["letters-to-azat"]["kind"] == "letter-drive"
    assert by_slug["letters-to-azat"]["total"] == 2  # letters written
    assert by_slug["quiet"]["total"] is None  # the embargo hides the count
    # Open letters first.
    assert [item["status"] for item in data["letters"]][-1] == "closed"


def test_one_letter_counts_by_country_and_type_in_the_language_asked(client, app, api_schema):
    letter = letter_with_signatures()
    letter.milestones = "3, 50%"
    db.session.add(LetterMilestone(letter_id=letter.id, threshold=3,
                                   reached_at=dt.datetime(2026, 12, 1, 9, 30)))
    db.session.commit()
    response = client.get("/api/v1/letters/appeal?lang=fr")
    data = conforms(api_schema, response, "/api/v1/letters/{slug}")
    assert data["title"] == "Libérez le mathématicien" and data["title_lang"] == "fr"
    assert data["total"] == 4 and data["goal"] == 1000 and data["status"] == "open"
    assert data["signatures"] == {
        "total": 4,
        "by_country": [{"code": "DE", "name": "Allemagne", "count": 2},
                       {"code": "FR", "name": "France", "count": 2}],
        "by_signer_type": {"organization": 3, "individual": 1}}
    assert data["letters"] is None and data["embargo_until"] is None
    assert data["milestones"] == [{"threshold": 3, "reached_at": "2026-12-01T09:30:00Z"},
                                  {"threshold": 500, "reached_at": None}]
    russian = client.get("/api/v1/letters/appeal?lang=ru").get_json()
    assert russian["signatures"]["by_country"][0]["name"] == "Германия"
    assert russian["title_lang"] == "fr"  # no Russian text: the letter's own


def test_a_letter_past_its_deadline_reads_closed(client, app, api_schema):
    make_letter(deadline=dt.date(2020, 1, 31))
    data = conforms(api_schema, client.get("/api/v1/letters/appeal"), "/api/v1/letters/{slug}")
    assert data["status"] == "closed" and data["closed_on"] == "2020-01-31"
    assert data["days_left"] is None


def test_a_drive_gives_letters_written_sent_and_countries(client, app, api_schema):
    drive = make_drive(goal=1000, deadline=dt.date(2099, 2, 15))
    written(drive)
    row = written(drive, email="b@example.org", country="DE")
    written(drive, email="c@example.org", country="DE")
    db.session.get(DriveLetter, row.id).status = SENT
    db.session.commit()
    data = conforms(api_schema, client.get("/api/v1/letters/letters-to-azat?lang=en"),
                    "/api/v1/letters/{slug}")
    assert data["kind"] == "letter-drive" and data["title"] == "1000 писем Азату"
    assert data["total"] == 3 and data["goal"] == 1000 and data["deadline"] == "2099-02-15"
    assert data["letters"] == {"written": 3, "sent": 1, "countries": 2}
    assert data["signatures"] is None


def test_an_embargo_hides_the_list_and_the_count_unless_shown(client, app, api_schema):
    until = (utcnow() + dt.timedelta(seconds=20)).replace(microsecond=0)
    letter = make_letter(embargo_until=until)
    make_signature(letter)
    response = client.get("/api/v1/letters/appeal")
    data = conforms(api_schema, response, "/api/v1/letters/{slug}")
    assert data["embargo_until"] == until.isoformat() + "Z"
    assert data["total"] is None and data["signatures"] is None and data["milestones"] is None
    # Never cached past the embargo's end, stale copies included.
    max_age, stale = cache_seconds(response)
    assert 0 < max_age <= 20 and max_age + stale <= 20
    listed = client.get("/api/v1/letters")
    assert sum(cache_seconds(listed)) <= 20

    letters.update_letter("appeal", embargo_count=True)  # as the back office does
    data = client.get("/api/v1/letters/appeal").get_json()
    assert data["total"] == 1 and data["signatures"] is None


def test_an_answer_kept_follows_every_change_and_the_day(client, app, monkeypatch):
    letter = make_letter(goal=10, deadline=utcnow().date())
    first = client.get("/api/v1/letters/appeal?lang=fr").get_json()
    assert first["status"] == "open" and first["days_left"] == 0 and first["total"] == 0
    make_signature(letter)
    assert client.get("/api/v1/letters/appeal?lang=fr").get_json()["total"] == 1
    letters.update_letter("appeal", goal=20)
    assert client.get("/api/v1/letters/appeal?lang=fr").get_json()["goal"] == 20
    letters.translate_letter("appeal", lang="fr", title="Nouveau titre", body="x")
    assert client.get("/api/v1/letters/appeal?lang=fr").get_json()["title"] == "Nouveau titre"
    letters.set_label("appeal", lang="fr", code="DE", label="Allemagne fédérale")
    by_country = client.get("/api/v1/letters/appeal?lang=fr").get_json()["signatures"]
    assert by_country["by_country"][0]["name"] == "Allemagne fédérale"
    # The next day the deadline has passed, with nothing written: closed.
    later = utcnow() + dt.timedelta(days=1)
    for module in (status, models_letters, embargo):  # wherever the clock is read
        monkeypatch.setattr(module, "utcnow", lambda: later)
    after = client.get("/api/v1/letters/appeal?lang=fr").get_json()
    assert after["status"] == "closed" and after["days_left"] is None
    assert after["closed_on"] == letter.deadline.isoformat()


def test_drafts_and_unknown_letters_are_json_404s(client, app, api_schema):
    make_letter("draft-one", status=DRAFT)
    for path in ("/api/v1/letters/draft-one", "/api/v1/letters/nope"):
        response = client.get(path)
        assert response.status_code == 404
        assert conforms(api_schema, response, "/api/v1/letters/{slug}")["error"] == "not_found"
    for path in ("/api/v1/", "/api/v1/nothing/here", "/api/v1/letters/a/b"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "application/json"
        assert response.get_json()["error"] == "not_found"
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_odd_input_gets_an_answer_never_a_500(client, app):
    make_letter()
    for query in ("lang=", "lang=xx", "lang=fr-CA", "lang=" + "a" * 5000, "lang=%FF",
                  "lang=fr&lang=ru", "lang=%00"):
        response = client.get(f"/api/v1/letters/appeal?{query}")
        assert response.status_code in (200, 400), (query, response.status_code)
    assert client.get("/api/v1/letters/appeal?lang=fr-CA").get_json()["title_lang"] == "fr"
    assert client.get("/api/v1/letters/%C3%A9t%C3%A9").status_code == 404
    assert client.post("/api/v1/letters").status_code == 405


# --- how it is served -------------------------------------------------------------------------


def cache_seconds(response) -> tuple[int, int]:
    """(max-age, stale-while-revalidate) of a public Cache-Control."""
    control = response.cache_control
    assert control.public
    return control.max_age, int(control["stale-while-revalidate"])


@pytest.mark.parametrize("path", ["/api/v1/letters", "/api/v1/letters/appeal",
                                  "/api/v1/openapi.json"])
def test_every_answer_is_open_cacheable_and_cookieless(client, app, path):
    make_letter()
    response = client.get(path + "?lang=ru")  # ?lang= elsewhere sets the language cookie
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response.headers
    max_age, stale = cache_seconds(response)
    assert 0 < max_age <= 60 and stale > 0
    etag, weak = response.get_etag()
    assert etag.startswith("v1-") and not weak


@pytest.mark.parametrize("path", ["/api/v1/letters", "/api/v1/letters/appeal",
                                  "/api/v1/openapi.json", "/letters/appeal.json"])
def test_a_conditional_get_is_a_304_until_the_figures_change(client, app, path):
    letter = make_letter()
    make_signature(letter, country="DE")  # "Allemagne", "Германия": each language its answer
    first = client.get(path + "?lang=fr")
    etag = first.headers["ETag"]
    again = client.get(path + "?lang=fr", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    if path != "/letters/appeal.json":
        assert again.headers["Access-Control-Allow-Origin"] == "*"
        assert cache_seconds(again)[0] > 0
    # Another language is another answer.
    other = client.get(path + "?lang=ru", headers={"If-None-Match": etag})
    assert other.status_code == (304 if path.endswith("openapi.json") else 200)
    make_signature(letter)
    changed = client.get(path + "?lang=fr", headers={"If-None-Match": etag})
    assert changed.status_code == (304 if path.endswith("openapi.json") else 200)


def test_browsers_on_other_sites_may_read_answers_and_their_etag(client, app):
    make_letter()
    response = client.get("/api/v1/letters/appeal", headers={"Origin": "https://partner.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Expose-Headers"] == "ETag"
    # If-None-Match sent by a script is not a "simple" header: the browser asks first.
    preflight = client.options("/api/v1/letters/appeal", headers={
        "Origin": "https://partner.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Headers"] == "If-None-Match"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Set-Cookie" not in preflight.headers


def test_the_language_follows_accept_language_and_says_so(client, app):
    make_letter()
    letters.translate_letter("appeal", lang="en", title="Free the mathematician", body="x")
    response = client.get("/api/v1/letters/appeal", headers={"Accept-Language": "en-GB,en"})
    assert response.get_json()["title"] == "Free the mathematician"
    assert "Accept-Language" in response.headers["Vary"]
    # A cookie never chooses: a shared cache cannot tell cookies apart.
    client.set_cookie("lang", "en")
    french = client.get("/api/v1/letters/appeal", headers={"Accept-Language": "fr"})
    assert french.get_json()["title"] == "Libérez le mathématicien"
    named = client.get("/api/v1/letters/appeal?lang=en")
    assert "Vary" not in named.headers or "Accept-Language" not in named.headers["Vary"]


def test_the_document_served_is_the_one_in_the_repository(client, app):
    response = client.get("/api/v1/openapi.json")
    assert response.get_data() == DOCUMENT.read_bytes()
    document = json.loads(DOCUMENT.read_text())
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {"/api/v1/letters", "/api/v1/letters/{slug}",
                                      "/api/v1/openapi.json"}
    # Every route of the API is in the document (besides the catch-all 404).
    routes = {rule.rule.replace("<slug>", "{slug}") for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("api_v1.") and rule.endpoint != "api_v1.unknown"}
    assert routes == set(document["paths"])


# --- generated requests -----------------------------------------------------------------------


def test_generated_requests_get_answers_the_document_describes(app, api_schema, tmp_path):
    """schemathesis draws requests from the document (its examples first, then values its
    schemas allow) and checks each answer: no 500, a documented status, content type,
    headers and body."""
    set_hypothesis_home_dir(str(tmp_path / "hypothesis"))  # its caches, out of the tree
    letter_with_signatures()  # the document's example letter, "appeal"
    written(make_drive())
    make_letter("draft-one", status=DRAFT)
    for result in api_schema.get_all_operations():
        operation = result.ok()
        cases = strategies.one_of(operation.as_strategy(),
                                  *api_schema.get_strategies_from_examples(operation))

        @given(case=cases)
        @settings(max_examples=25, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def answers_as_documented(case) -> None:
            case.call_and_validate()

        answers_as_documented()
