"""Countries: CLDR names in the reader's language, overrides, order, and lookup from any
language."""
from __future__ import annotations

import pytest

from petition import countries, create_app

from .conftest import base_config


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    """An app context for the translations of "International"; no database needed."""
    app = create_app(base_config("sqlite://", tmp_path_factory.mktemp("countries")))
    with app.app_context():
        yield app


def test_cldr_short_names_in_the_readers_language(ctx):
    assert countries.cldr_name("DE", "fr") == "Allemagne"
    assert countries.cldr_name("DE", "ru") == "Германия"
    assert countries.cldr_name("XK", "en") == "Kosovo"
    assert countries.cldr_name("europe", "fr") == "Europe"
    assert countries.cldr_name("africa", "ru") == "Африка"
    assert countries.cldr_name("international", "ru") == "Международные"


def test_letter_labels_override_cldr(ctx):
    assert countries.display_name("ES", "fr", {"ES": "Etat espagnol"}) == "Etat espagnol"
    assert countries.display_name("ES", "fr", {"PT": "Portugal !"}) == "Espagne"


def test_countries_then_regions_then_international(ctx):
    ranks = [countries.group_rank(code)
             for code in ("ZW", "AF", "europe", "africa", "international")]
    assert ranks[0] == ranks[1] == 0 < ranks[2] < ranks[3] < ranks[4]


def test_choices_are_collated_and_end_with_scopes(ctx):
    choices = countries.country_choices("fr")
    names = [name for _, name in choices]
    assert names.index("Égypte") < names.index("Espagne") < names.index("Zambie")
    assert [code for code, _ in choices[-len(countries.SCOPES):]] == list(countries.SCOPES)


@pytest.mark.parametrize(
    "text, code",
    [
        ("DE", "DE"), ("de", "DE"), (" deu ", "DE"), ("Germany", "DE"), ("Allemagne", "DE"),
        ("allemagne", "DE"), ("Германия", "DE"), ("Deutschland", "DE"), ("Niemcy", "DE"),
        ("Etats-Unis", "US"), ("États Unis", "US"), ("USA", "US"), ("United States", "US"),
        ("Côte d’Ivoire", "CI"), ("COTE D'IVOIRE", "CI"), ("the Netherlands", "NL"),
        ("Россия", "RU"), ("Kosovo", "XK"), ("Europe", "europe"), ("Amériques", "americas"),
        ("international", "international"), ("Международные", "international"),
        ("UK", "GB"), ("Royaume-Uni", "GB"), ("Grande-Bretagne", "GB"),
        ("Saksa", "DE"),  # Finnish: only in the full index of every CLDR language
    ],
)
def test_resolve_names_in_any_language(ctx, text, code):
    assert countries.resolve(text) == code


def test_resolve_through_the_letters_labels(ctx):
    labels = [("ES", "Etat espagnol"), ("international", "Organisation internationale")]
    assert countries.resolve("Etat espagnol", labels) == "ES"
    assert countries.resolve("ÉTAT ESPAGNOL", labels) == "ES"
    assert countries.resolve("organisation internationale", labels) == "international"
    assert countries.resolve("Etat espagnol") is None


@pytest.mark.parametrize("text", ["", "  ", "Nowhereland", "ZZ", "XYZ", "Europa Park"])
def test_resolve_unknown(ctx, text):
    assert countries.resolve(text) is None


def test_normalize_name():
    assert countries.normalize_name("  Côte d’Ivoire ") == "cote d ivoire"
    assert countries.normalize_name("ЁЛКА") == "елка"
