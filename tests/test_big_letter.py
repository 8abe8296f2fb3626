"""A big letter stays readable: counts per country first, each country folded or on its own
page; a small one reads as before, every name in sight."""
from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from sqlalchemy import insert

from petition.countries import country_codes
from petition.extensions import db
from petition.letters import counting
from petition.models import (
    ANONYMOUS,
    CONFIRMED,
    FULL,
    INDIVIDUAL,
    ORGANIZATION,
    Letter,
    Signature,
    derived_columns,
    new_public_id,
    utcnow,
)
from tests.factories import make_letter, make_signature
from tests.helpers import assert_valid_html

# The Paris appeal's shape: 43 organisations from 13 countries and 2 regions.
APPEAL_COUNTRIES = ["DE", "FR", "ES", "IT", "GB", "BE", "NL", "CH", "AT", "PL", "SE", "US",
                    "CA", "europe", "international"]


def page(client, slug: str = "appeal") -> str:
    response = client.get(f"/letters/{slug}?lang=en")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def signatories(html: str) -> str:
    return html[html.index('id="signatories-heading"'):]


def test_a_small_letter_shows_every_name_without_a_click(client, app):
    letter = make_letter()
    for number in range(43):
        make_signature(letter, name=f"Organisation {number:02}",
                       country=APPEAL_COUNTRIES[number % len(APPEAL_COUNTRIES)])
    html = page(client)
    listed = signatories(html)
    assert all(f"Organisation {number:02}" in listed for number in range(43))
    groups = re.findall(r'<details class="group"[^>]*>', listed)
    assert len(groups) == 15 and all(" open" in group for group in groups)
    assert 'class="country-counts"' not in listed and 'class="name-search"' not in listed
    assert_valid_html(html)


def test_a_middling_letter_counts_per_country_first_names_folded(client, app):
    app.config["PUBLIC_NAMES_OPEN"] = 3
    letter = make_letter()
    make_signature(letter, name="Zeta Union", country="FR")
    make_signature(letter, name="Alpha Union", country="FR")
    make_signature(letter, signer_type=INDIVIDUAL, name="Anna Schmidt", country="DE")
    make_signature(letter, signer_type=INDIVIDUAL, name="Boris Hidden", country="DE",
                   display="anonymous")
    make_signature(letter, signer_type=INDIVIDUAL, name="Carla Diaz", country="ES")
    html = page(client)
    listed = signatories(html)
    # The table first: countries in the list's order, each kind's count, the jump links.
    table = listed[listed.index('class="country-counts"'):listed.index("</table>")]
    assert table.index("France") < table.index("Germany") < table.index("Spain")
    assert 'href="#organization-FR"' in table and 'href="#individual-DE"' in table
    assert re.search(r'Germany</a></th>\s*<td></td>\s*<td><span class="count">2</span>', table)
    assert listed.index("</table>") < listed.index("Alpha Union") < listed.index("Zeta Union")
    # Every name on the page, folded per country; the counted-only one never named.
    groups = re.findall(r'<details class="group" id="([a-z]+-[A-Z]+)"( open)?>', listed)
    assert groups == [("organization-FR", ""), ("individual-DE", ""), ("individual-ES", "")]
    assert "Anna Schmidt" in listed and "Boris" not in html
    assert 'action="/letters/appeal/search"' in listed
    assert_valid_html(html)


def test_past_the_limits_each_country_has_its_own_page(client, app):
    app.config.update(PUBLIC_NAMES_OPEN=1, PUBLIC_NAMES_LIMIT=2, PUBLIC_ORGANIZATIONS_LIMIT=1,
                      SIGNATORIES_PAGE_SIZE=2)
    letter = make_letter()
    make_signature(letter, name="Beta Verein", country="DE")
    make_signature(letter, name="Alpha Verein", country="DE")
    make_signature(letter, name="Union Française", country="FR")
    for name in ("Dora Weiss", "Carl Braun", "Emil Kurz"):
        make_signature(letter, signer_type=INDIVIDUAL, name=name, country="DE")
    make_signature(letter, signer_type=INDIVIDUAL, name="Hidden One", country="DE",
                   display="anonymous")
    listed = signatories(page(client))
    for name in ("Alpha Verein", "Union Française", "Carl Braun"):
        assert name not in listed
    assert "names are on a page of their own" in listed
    assert 'href="/letters/appeal/signatories/DE?lang=en"' in listed
    assert "<details" not in listed
    # Germany's page: organisations, then individuals, in the list's order, two a page.
    first = client.get("/letters/appeal/signatories/DE?lang=en")
    assert first.status_code == 200 and "max-age=30" in first.headers["Cache-Control"]
    text = first.get_data(as_text=True)
    assert text.index("Alpha Verein") < text.index("Beta Verein") and "Carl" not in text
    assert "Names 1 to 2 of 5, page 1 of 3." in text and 'rel="next"' in text
    assert_valid_html(text)
    second = client.get("/letters/appeal/signatories/DE?lang=en&page=2").get_data(as_text=True)
    assert "Carl Braun" in second and "Dora Weiss" in second and "Alpha" not in second
    assert "other signatory" not in second  # the counted-only, once, on the last page
    last = client.get("/letters/appeal/signatories/DE?lang=en&page=3").get_data(as_text=True)
    assert "Emil Kurz" in last and "and 1 other signatory" in last and "Hidden" not in last
    for bad in ("DE?page=4", "DE?page=0", "DE?page=x", "DE?page=-1", "DE?page=%C2%B2",
                "DE?page=9999999", "ZZ", "de", "FR%00"):
        assert client.get(f"/letters/appeal/signatories/{bad}").status_code in (400, 404), bad


def test_country_pages_keep_the_embargo(client, app):
    letter = make_letter(embargo_until=utcnow() + dt.timedelta(days=1))
    make_signature(letter, name="Alpha Verein", country="DE")
    response = client.get("/letters/appeal/signatories/DE?lang=en")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "Alpha Verein" not in text
    assert "will be published later" in text
    assert "max-age=0" in response.headers["Cache-Control"]


def test_country_pages_of_drafts_and_drives_are_not_found(client, app):
    make_letter(status="draft")
    assert client.get("/letters/appeal/signatories/DE").status_code == 404
    assert client.get("/letters/nothing/signatories/DE").status_code == 404


def bulk_signatures(letter: Letter, count: int, codes: list[str],
                    weights: list[float] | None = None) -> None:
    """`count` confirmed signatures over `codes` (drawn by `weights`, else in turn), a tenth
    organisations, one individual in ten counted only, in one insert."""
    rng = random.Random(2026)
    now = utcnow()
    rows = []
    for number in range(count):
        kind = ORGANIZATION if number % 10 == 0 else INDIVIDUAL
        display = ANONYMOUS if number % 10 == 5 else FULL
        name = f"Name{number} Surname{number}, Some University Of Somewhere"
        country = rng.choices(codes, weights)[0] if weights else codes[number % len(codes)]
        rows.append({
            "letter_id": letter.id, "signer_type": kind, "name": name, "affiliation": None,
            "country": country, "display": display, "lang": "en",
            "status": CONFIRMED, "moderation": "none", "source": "form",
            "email_hash": f"{number:064x}", "token_nonce": f"{number:032x}",
            "created_at": now, "updated_at": now, "confirmed_at": now,
            "public_id": new_public_id(), **derived_columns(kind, name, display),
        })
    db.session.execute(insert(Signature), rows)
    db.session.commit()
    counting.rebuild(letter)


@pytest.mark.parametrize("count", [1_500, 6_000])
def test_the_page_of_a_big_letter_weighs_the_same_whatever_its_size(client, app, count):
    # Every country and region a list can have: the widest table of counts there is.
    app.config.update(PUBLIC_NAMES_LIMIT=1_000, PUBLIC_ORGANIZATIONS_LIMIT=100)
    letter = make_letter()
    bulk_signatures(letter, count, sorted(country_codes()))
    html = page(client)
    assert "Name1 Surname1" not in html  # an individual: on the country's page
    assert len(html.encode()) < 100_000, len(html.encode())
    assert_valid_html(html)
