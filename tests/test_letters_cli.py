"""`flask letter …` commands, and the languages a letter may be written in."""
import datetime as dt

import pytest
from babel import Locale
from babel.dates import format_date
from sqlalchemy import select

from petition import countries
from petition.collation import sorted_by
from petition.exporting.document import place_and_date
from petition.extensions import db
from petition.letters import operations as letters
from petition.letters import values as letter_values
from petition.models import INDIVIDUAL, Letter
from tests.factories import make_signature


def letter(slug="appeal") -> Letter:
    db.session.expire_all()
    return db.session.scalar(select(Letter).where(Letter.slug == slug))


def test_create_translate_label_close_open(runner, app, tmp_path):
    body = tmp_path / "body.md"
    body.write_text("Nous demandons **sa libération**.", encoding="utf-8")
    result = runner.invoke(args=[
        "letter", "create", "appeal", "--lang", "fr", "--title", "Libérez-le",
        "--text-file", str(body), "--goal", "1000", "--place", "Paris", "--date", "2026-05-21",
        "--moderate",
    ])
    assert result.exit_code == 0, result.output
    created = letter()
    assert created.status == "open" and created.goal == 1000 and created.moderate_organizations
    assert created.texts[0].body.startswith("Nous demandons")
    assert str(created.date) == "2026-05-21"

    assert runner.invoke(args=["letter", "translate", "appeal", "--lang", "en",
                               "--title", "Free him"]).exit_code == 0
    assert letter().text_for("en").title == "Free him"

    result = runner.invoke(args=["letter", "label", "appeal", "--lang", "fr", "es",
                                 "Etat espagnol"])
    assert result.exit_code == 0, result.output
    assert letter().labels_for("fr") == {"ES": "Etat espagnol"}

    assert runner.invoke(args=["letter", "close", "appeal"]).exit_code == 0
    assert letter().status == "closed"
    assert runner.invoke(args=["letter", "open", "appeal"]).exit_code == 0
    assert letter().status == "open"


def test_each_text_names_the_place_in_its_language(runner, app, client):
    """"Paris, 21 mai 2026" in French, "Париж, 21 мая 2026" in Russian: on the page and in
    the submission's files; a text without a place of its own shows the letter's."""
    import json

    from tests.export_helpers import exported

    assert runner.invoke(args=["letter", "create", "appeal", "--lang", "fr",
                               "--title", "Libérez-le",
                               "--place", "Paris", "--date", "2026-05-21"]).exit_code == 0
    result = runner.invoke(args=["letter", "translate", "appeal", "--lang", "ru", "--title",
                                 "Свободу", "--place", " Париж "])
    assert result.exit_code == 0, result.output
    date = dt.date(2026, 5, 21)
    russian, french = place_and_date("Париж", date, "ru"), place_and_date("Paris", date, "fr")
    assert russian.startswith("Париж, 21 мая") and french == "Paris, le 21 mai 2026"
    assert russian in client.get("/letters/appeal?lang=ru").get_data(as_text=True)
    assert french in client.get("/letters/appeal?lang=fr").get_data(as_text=True)
    assert russian in client.get("/?lang=ru").get_data(as_text=True)
    assert russian in exported(letter(), "txt", lang="ru", layout="submission").decode()
    assert french in exported(letter(), "txt", lang="fr", layout="submission").decode()
    assert json.loads(exported(letter(), "json", lang="ru",
                               layout="submission"))["place"] == "Париж"
    # Translated again without --place: the place stays; with an empty one it goes.
    runner.invoke(args=["letter", "translate", "appeal", "--lang", "ru", "--title", "Свободу!"])
    assert letter().text_for("ru").place == "Париж"
    runner.invoke(args=["letter", "translate", "appeal", "--lang", "ru", "--title", "Свободу!",
                        "--place", ""])
    assert letter().text_for("ru").place is None
    assert place_and_date("Paris", date, "ru") in client.get(
        "/letters/appeal?lang=ru").get_data(as_text=True)


def test_bad_input_gets_clear_messages(runner, app):
    result = runner.invoke(args=["letter", "create", "Bad Slug", "--lang", "fr", "--title", "T"])
    assert result.exit_code != 0 and "slug" in result.output
    runner.invoke(args=["letter", "create", "appeal", "--lang", "fr", "--title", "T"])
    dup = runner.invoke(args=["letter", "create", "appeal", "--lang", "fr", "--title", "T"])
    assert dup.exit_code != 0 and "already exists" in dup.output
    bad_code = runner.invoke(args=["letter", "label", "appeal", "--lang", "fr", "QQ", "X"])
    assert bad_code.exit_code != 0 and "QQ" in bad_code.output
    missing = runner.invoke(args=["letter", "close", "nope"])
    assert missing.exit_code != 0 and "no letter" in missing.output


def test_seed_demo_only_when_empty(runner, app):
    first = runner.invoke(args=["seed-demo"]).output
    assert "Seeded the demo letter." in first and "Seeded the demo letter drive." in first
    again = runner.invoke(args=["seed-demo"]).output
    assert "no demo" in again and "drive" not in again
    assert letter("free-the-mathematician").labels_for("fr")["ES"] == "Etat espagnol"
    drive = letter("letters-to-the-mathematician")
    assert drive.is_drive and drive.is_open and sorted(drive.languages) == ["en", "fr", "ru"]


def test_demo_letter_says_the_same_in_each_language(runner, app):
    runner.invoke(args=["seed-demo"])
    texts = {text.lang: text for text in letter("free-the-mathematician").texts}
    assert sorted(texts) == ["en", "fr", "ru"]
    shapes = {
        lang: ([paragraph.count(". ") + 1 for paragraph in text.body.split("\n\n")],
               text.body.count("**"))
        for lang, text in texts.items()
    }
    # As many paragraphs, sentences in each and bold phrases in every language.
    assert shapes["en"] == shapes["fr"] == shapes["ru"] == ([1, 1], 2)


def test_unknown_language_is_refused_with_a_clear_message(runner, app):
    result = runner.invoke(args=["letter", "create", "appeal", "--lang", "french", "--title", "T"])
    assert result.exit_code != 0 and letter() is None
    assert "unknown language 'french'" in result.output and "did you mean fr?" in result.output
    with pytest.raises(letters.LetterError, match="'xx'"):  # every caller, not only the CLI
        letters.create_letter("appeal", lang="xx", title="T")
    assert runner.invoke(args=["letter", "create", "appeal", "--lang", "fr",
                               "--title", "T"]).exit_code == 0
    for lang, hint in (("xx", ""), ("fr-XX", ""), ("zh-TW", " (did you mean zh_Hant?)")):
        result = runner.invoke(args=["letter", "translate", "appeal", "--lang", lang,
                                     "--title", "T"])
        assert result.exit_code != 0 and f"unknown language {lang!r}{hint}:" in result.output
    # Known to CLDR but longer than the column: say what fits.
    result = runner.invoke(args=["letter", "translate", "appeal", "--lang", "zh-Hant-TW",
                                 "--title", "T"])
    assert result.exit_code != 0 and "use 'zh_Hant'" in result.output
    assert letter().languages == ["fr"]


def test_language_codes_are_stored_in_one_form(runner, app):
    result = runner.invoke(args=["letter", "create", "appeal", "--lang", " FR", "--title", "T"])
    assert result.exit_code == 0, result.output
    assert letter().default_lang == "fr" and letter().languages == ["fr"]
    for spelling in ("pt-BR", "pt_br", "PT-br"):
        result = runner.invoke(args=["letter", "translate", "appeal", "--lang", spelling,
                                     "--title", spelling])
        assert result.exit_code == 0 and "Saved the pt_BR text" in result.output
    assert letter().languages == ["fr", "pt_BR"]  # one text, replaced twice
    assert letter().text_for("pt_BR").title == "PT-br"


# Scripts (Latin, Cyrillic, Greek, Arabic and Hebrew right to left, CJK, Devanagari, Thai,
# Georgian), regional and script variants (pt_BR, es_419, ar_001, sr_Latn, zh_Hant) and
# languages whose CLDR data lacks some country names (gsw, oc, co).
SAMPLE = ["de", "uk", "el", "ar", "he", "ja", "zh_Hant", "hi", "th", "ka", "pt_BR", "es_419",
          "ar_001", "sr_Latn", "gsw", "oc", "co"]


@pytest.mark.parametrize("lang", SAMPLE)
def test_a_letter_in_any_accepted_language_renders(runner, client, app, lang):
    result = runner.invoke(args=["letter", "create", "appeal", "--lang", lang.replace("_", "-"),
                                 "--title", f"Appeal ({lang})", "--place", "Paris",
                                 "--date", "2026-05-21"])
    assert result.exit_code == 0, result.output
    created = letter()
    assert created.default_lang == lang
    make_signature(created, name="Campagne #FREE120", country="DE")
    make_signature(created, name="Ana Lima", country="XK", signer_type=INDIVIDUAL)
    make_signature(created, name="Réseau Europe", country="europe")

    page = client.get("/letters/appeal", follow_redirects=True)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<article class="letter" lang="{lang.replace("_", "-")}">' in html
    assert format_date(dt.date(2026, 5, 21), "long", locale=lang) in html
    press = client.get("/letters/appeal/signatories.txt")
    assert press.status_code == 200 and "Ana Lima" in press.get_data(as_text=True)
    # The export speaks the letter's language unless told otherwise.
    exported = runner.invoke(args=["export", "appeal", "--format", "txt", "--out", "-"])
    assert exported.exit_code == 0, exported.output
    for code in ("DE", "XK", "europe"):
        assert countries.cldr_name(code, lang) in exported.output


@pytest.mark.sqlite_only
def test_every_accepted_language_has_what_a_letter_needs(app):
    """Cheap, over all of them: the dateline, a name for every place, and an order."""
    codes = sorted(countries.country_codes()) + list(countries.SCOPES)
    accepted = letter_values.accepted_languages()
    assert {"en", "fr", "ru", "de", "pt_BR", "zh_Hant"} <= set(accepted)
    for lang in accepted:
        assert letter_values.check_language(lang) == lang and len(lang) <= 8
        assert place_and_date("Paris", dt.date(2026, 5, 21), lang).startswith("Paris, ")
        names = [countries.cldr_name(code, lang) for code in codes]
        own = set(Locale.parse(lang).territories.values())  # Romansh calls 019 "americas"
        unnamed = [code for code, name in zip(codes, names, strict=True)
                   if not name.strip() or (name == code and name not in own)]
        assert not unnamed, f"{lang}: no name for {unnamed}"
        assert len(sorted_by(names, key=str, lang=lang)) == len(codes)


def test_a_label_in_an_unknown_language_is_refused(runner, app):
    runner.invoke(args=["letter", "create", "appeal", "--lang", "fr", "--title", "Appel"])
    result = runner.invoke(args=["letter", "label", "appeal", "--lang", "french", "ES",
                                 "Etat espagnol"])
    assert result.exit_code != 0 and "unknown language 'french'" in result.output
    result = runner.invoke(args=["letter", "label", "appeal", "--lang", "FR", "ES",
                                 "Etat espagnol"])
    assert result.exit_code == 0, result.output
    assert "Etat espagnol" in app.test_client().get(
        "/letters/appeal?lang=fr").get_data(as_text=True)


def test_update_changes_only_what_is_given(runner, app):
    runner.invoke(args=["letter", "create", "appeal", "--lang", "fr", "--title", "Appel",
                        "--goal", "1000", "--place", "Paris", "--date", "2026-05-21"])
    result = runner.invoke(args=["letter", "update", "appeal", "--goal", "70000", "--moderate",
                                 "--signers", "individuals"])
    assert result.exit_code == 0, result.output
    updated = letter()
    assert (updated.goal, updated.place, str(updated.date)) == (70000, "Paris", "2026-05-21")
    assert updated.moderate_organizations and updated.signer_types == (INDIVIDUAL,)
    result = runner.invoke(args=["letter", "update", "appeal", "--goal", "0", "--place", "",
                                 "--date", "2026-06-01", "--no-moderate", "--signers", "both"])
    assert result.exit_code == 0, result.output
    updated = letter()
    assert (updated.goal, updated.place, str(updated.date)) == (None, None, "2026-06-01")
    assert not updated.moderate_organizations and len(updated.signer_types) == 2
    # The page shows the change at once: settings are part of the letter's version.
    assert "Paris" not in app.test_client().get("/letters/appeal?lang=en").get_data(as_text=True)


def test_update_refuses_bad_input_and_changes_nothing(runner, app):
    runner.invoke(args=["letter", "create", "appeal", "--lang", "fr", "--title", "Appel",
                        "--goal", "10"])
    for args, message in [
        ([], "nothing to change"),
        (["--date", "21/05/2026"], "not a date"),
        (["--goal", "-5"], "-5"),
    ]:
        result = runner.invoke(args=["letter", "update", "appeal", *args])
        assert result.exit_code != 0 and message in result.output, result.output
    assert runner.invoke(args=["letter", "update", "nope", "--goal", "5"]).exit_code != 0
    assert letter().goal == 10


def test_update_sets_and_clears_the_deadline(runner, app):
    from petition.models.accounts import AuditEvent

    runner.invoke(args=["letter", "create", "appeal", "--lang", "fr", "--title", "Appel"])
    result = runner.invoke(args=["letter", "update", "appeal", "--deadline", "2030-01-31"])
    assert result.exit_code == 0, result.output
    assert "Signatures are taken until 2030-01-31 (UTC)." in result.output
    assert str(letter().deadline) == "2030-01-31" and letter().is_open
    # A deadline past: the letter takes no more signatures, and opening it is refused.
    result = runner.invoke(args=["letter", "update", "appeal", "--deadline", "2020-01-31"])
    assert result.exit_code == 0 and not letter().is_open
    assert runner.invoke(args=["letter", "close", "appeal"]).exit_code == 0
    reopened = runner.invoke(args=["letter", "open", "appeal"])
    assert reopened.exit_code != 0 and "has passed" in reopened.output
    assert letter().status == "closed"
    result = runner.invoke(args=["letter", "update", "appeal", "--deadline", "none"])
    assert result.exit_code == 0 and "No deadline." in result.output
    assert letter().deadline is None
    bad = runner.invoke(args=["letter", "update", "appeal", "--deadline", "31/01/2030"])
    assert bad.exit_code != 0 and "not a date" in bad.output
    # The command line's changes are in the audit log too, old → new.
    details = db.session.scalars(select(AuditEvent.detail).where(
        AuditEvent.action == "letter.update", AuditEvent.actor == "cli")).all()
    assert details == ["deadline: none→2030-01-31", "deadline: 2030-01-31→2020-01-31",
                       "deadline: 2020-01-31→none"]


def test_draft_letters_are_opened_not_closed(app):
    letters.create_letter("appeal", lang="fr", title="Appel", status="draft")
    assert letter().status == "draft"
    with pytest.raises(letters.LetterError, match="from draft to closed"):
        letters.set_status("appeal", "closed")
    letters.set_status("appeal", "open")
    with pytest.raises(letters.LetterError, match="from open to draft"):
        letters.set_status("appeal", "draft")
    with pytest.raises(letters.LetterError, match="either a draft or open"):
        letters.create_letter("other", lang="fr", title="T", status="closed")
