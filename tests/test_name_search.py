""""Find a name on this list" looks only at what the list shows, and says where."""
from __future__ import annotations

import datetime as dt

from petition import create_app
from petition.exporting import name_search
from petition.extensions import db
from petition.models import INDIVIDUAL, MOD_HELD, PENDING, utcnow
from tests.conftest import base_config
from tests.factories import make_letter, make_signature
from tests.helpers import assert_valid_html


def find(client, query: str, slug: str = "appeal", lang: str = "en"):
    return client.get(f"/letters/{slug}/search", query_string={"q": query, "lang": lang})


def answer(client, query: str, **kwargs) -> str:
    response = find(client, query, **kwargs)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_a_listed_name_is_found_whatever_its_accents_and_case(client, app):
    letter = make_letter()
    make_signature(letter, name="Comité de soutien", country="FR")
    make_signature(letter, signer_type=INDIVIDUAL, name="José Müller", country="DE",
                   affiliation="Universität Wien")
    make_signature(letter, signer_type=INDIVIDUAL, name="Ёлкина Анна", country="UA")
    page = answer(client, "jose muller")
    assert "“jose muller” found under Germany." in page
    assert "José Müller, Universität Wien" in page
    assert 'href="/letters/appeal/signatories/DE?page=1&amp;lang=en"' in page
    assert_valid_html(page)
    assert "found under Ukraine" in answer(client, "елкина")
    assert "found under France" in answer(client, "COMITE")
    # A word's start, not any run of letters inside it.
    assert "is not among the 3 listed names" in answer(client, "uller")


def test_initials_stay_initials_and_the_counted_only_are_never_found(client, app):
    letter = make_letter()
    for name, fields in (("Jean Dupont", {"display": "initials"}),
                         ("Secret Person", {"display": "anonymous"}),
                         ("Pending Person", {"status": PENDING}),
                         ("Held Person", {"moderation": MOD_HELD}), ("Listed Person", {})):
        make_signature(letter, signer_type=INDIVIDUAL, name=name, country="FR", **fields)
    assert "is not among the 2 listed names" in answer(client, "Jean")
    assert "found under France" in answer(client, "J. D.")
    for query in ("Secret", "Pending", "Held"):
        page = answer(client, query)
        assert f"“{query}” is not among the 2 listed names" in page and "Person" not in page
    page = answer(client, "person")
    assert "Listed Person" in page and "Secret" not in page and "Held" not in page


def test_the_answer_says_where_each_match_is_and_how_many_more(client, app):
    app.config["SIGNATORIES_PAGE_SIZE"] = 10
    letter = make_letter()
    for number in range(25):
        make_signature(letter, signer_type=INDIVIDUAL, name=f"Smith {number:02}", country="GB")
    make_signature(letter, name="Smith Foundation", country="IE")
    page = answer(client, "smith")
    assert "found under Ireland and United Kingdom." in page
    assert "6 more names match: type more of the name." in page
    # The first 20 in the list's order: the organisation, then Smith 00 to Smith 18.
    assert page.index("Smith Foundation") < page.index("Smith 00")
    assert "Smith 18" in page and "Smith 19" not in page
    # Smith 12 is the 13th name of the United Kingdom's list: its page 2.
    assert "/letters/appeal/signatories/GB?page=2&amp;lang=en\">Smith 12" in page
    fr = answer(client, "smith", lang="fr")
    assert "Irlande et Royaume-Uni" in fr


def test_the_search_waits_for_the_embargo(client, app):
    letter = make_letter(embargo_until=utcnow() + dt.timedelta(days=1))
    make_signature(letter, name="Alpha Union", country="FR")
    page = answer(client, "alpha")
    assert "Alpha Union" not in page and "will be published later" in page
    assert "max-age=0" in find(client, "alpha").headers["Cache-Control"]


def test_queries_it_cannot_take_get_a_clear_message(client, app):
    make_letter()
    for query, message in (("a", "Type at least two letters"), ("- !", "Type at least two"),
                           ("x" * 201, "longer than any name")):
        response = find(client, query)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    empty = answer(client, "")
    assert "not among" not in empty and 'name="q"' in empty
    assert find(client, "ab", slug="nothing").status_code == 404


def test_a_new_signature_is_found_once_its_list_is_rebuilt(client, app):
    letter = make_letter()
    make_signature(letter, name="First Union", country="FR")
    assert "found under France" in answer(client, "first")
    make_signature(letter, name="Second Union", country="FR")
    # Right after the change: the answer from before, said to be so, while a thread rebuilds.
    response = find(client, "second")
    page = response.get_data(as_text=True)
    assert "is not among the 1 listed name" in page and "changed a moment ago" in page
    assert "no-store" in response.headers["Cache-Control"] or \
        "max-age=0" in response.headers["Cache-Control"]
    for thread in list(app.extensions.get("petition.grouping.threads", {}).values()):
        thread.join(30)
    page = answer(client, "second")
    assert "found under France" in page and "changed a moment ago" not in page


def test_the_search_is_rate_limited(database_url, tmp_path):
    config = base_config(database_url, tmp_path)
    config.update(RATELIMIT_ENABLED=True, RATELIMIT_NAME_SEARCH="3 per minute")
    app = create_app(config)
    with app.app_context():
        make_letter()
        client = app.test_client()
        codes = [find(client, f"name{number}").status_code for number in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        assert client.get("/letters/appeal?lang=en").status_code == 200  # the page is not limited
        db.session.remove()
        db.engine.dispose()


def test_folding_drops_accents_case_and_punctuation():
    assert name_search.fold("  José-MÜLLER, Ёлка ß ") == "jose muller елка ss"
    assert name_search.fold("J. D.") == "j d"
