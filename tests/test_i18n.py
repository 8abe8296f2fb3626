"""The French and Russian catalogues: pages, form errors, plural forms and mails.

The .mo files are compiled by `make install` / `make test` (Makefile target `translations`);
without them these tests fail, because every page falls back to English.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from petition.models import ANONYMOUS, INDIVIDUAL
from tests.factories import make_letter, make_signature
from tests.helpers import html_lang, outbox, rendered, sign_form

NBSP = "\u00a0"  # French typography: no-break space before « : ; ! ? » and inside guillemets
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def text_of(response) -> str:
    """The page as a reader sees it: entities decoded (WTForms escapes apostrophes)."""
    return html.unescape(response.get_data(as_text=True))


def count_heading(page: str) -> str:
    match = re.search(r'<h2 id="count-heading">(.*?)</h2>', page, re.S)
    assert match, "no signature count on the page"
    return match.group(1).strip()


def unlisted_lines(page: str) -> list[str]:
    return [line.strip() for line in re.findall(r'<p class="unlisted">(.*?)</p>', page, re.S)]


# --- the catalogues themselves ------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "ru"])
def test_catalogue_is_complete_and_keeps_placeholders(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(f"untranslated or fuzzy: {ids[0]!r}")
            continue
        wanted = set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            if set(PLACEHOLDER.findall(string)) != wanted:
                problems.append(f"placeholders differ: {ids[0]!r} -> {string!r}")
    if lang == "ru":
        assert catalog.num_plurals == 3
    assert not problems, "\n".join(problems)


# A line holding a PO string: a keyword (or a continuation) then one closed "…" string.
PO_STRING_LINE = re.compile(r'(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)?'
                            r'\s*"(?:[^"\\]|\\.)*"\s*')


@pytest.mark.parametrize("lang", ["en", "fr", "ru"])
def test_catalogue_compiles_cleanly(lang):
    """What pybabel lets through: it skips unreadable lines and keeps unclosed strings."""
    path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    lines = path.read_text(encoding="utf-8").splitlines()
    unclosed = [number for number, line in enumerate(lines, 1)
                if line.startswith(("msg", '"')) and not PO_STRING_LINE.fullmatch(line)]
    assert not unclosed, f"{path}: a string is not closed on line(s) {unclosed}"
    with path.open("rb") as po:
        catalog = read_po(po, abort_invalid=True)  # PoFileError on a line that is not PO
    errors = [f"line {message.lineno}: {error}" for message, found in catalog.check()
              for error in found]
    assert not errors, "\n".join(errors)  # what `pybabel compile` fails on


# --- the letter page -------------------------------------------------------------------------


def test_letter_page_in_french(client, app):
    letter = make_letter()
    make_signature(letter, country="DE")
    make_signature(letter, signer_type=INDIVIDUAL, name="Jean Dupont", country="FR")
    make_signature(letter, country="international")
    page = text_of(client.get("/letters/appeal?lang=fr"))
    assert html_lang(page) == "fr"
    assert '<h2 id="count-heading">3 signatures</h2>' in page
    for expected in [
        "Signer cette lettre",
        ">Signataires</h2>",
        "<h3>Organisations</h3>",
        "<h3>Signataires individuels</h3>",
        "<h4>Allemagne</h4>",
        "<h4>International</h4>",
        "Je signe",
        "au nom d'une organisation",
        "à titre individuel",
        ">Nom</label>",
        ">Pays</label>",
        ">Adresse e-mail</label>",
        "Qualité ou affiliation (facultatif)",
        "Afficher mon nom",
        "J'accepte la",
        "politique de confidentialité</a>.",
        '<button type="submit">Signer</button>',
        "Politique de confidentialité",
        "Choisir…",
    ]:
        assert expected in page, expected
    for english in ["Sign this letter", "Signatories", "Individuals", "I sign as", "Country",
                    "Privacy notice", "I agree to the", "Choose…"]:
        assert english not in page, english


def test_letter_page_in_russian(client, app):
    letter = make_letter()
    make_signature(letter, country="DE")
    make_signature(letter, signer_type=INDIVIDUAL, name="Иван Петров", country="FR")
    make_signature(letter, country="international")
    page = text_of(client.get("/letters/appeal?lang=ru"))
    assert html_lang(page) == "ru"
    for expected in [
        "Подписать это письмо",
        ">Подписанты</h2>",
        "<h3>Организации</h3>",
        "<h3>Частные лица</h3>",
        "<h4>Германия</h4>",
        "<h4>Международные</h4>",
        "Я подписываю как",
        "организация",
        "частное лицо",
        ">Имя или название</label>",
        ">Страна</label>",
        ">Электронная почта</label>",
        "Я принимаю",
        "политику конфиденциальности</a>.",
        '<button type="submit">Подписать</button>',
        "Политика конфиденциальности",
    ]:
        assert expected in page, expected
    for english in ["Sign this letter", "Signatories", "Organisations", "Individuals", "Country",
                    "Privacy notice"]:
        assert english not in page, english


def test_empty_letter_invites_the_first_signature(client, app):
    make_letter()
    fr = text_of(client.get("/letters/appeal?lang=fr"))
    ru = text_of(client.get("/letters/appeal?lang=ru"))
    assert "Aucune signature confirmée pour l'instant" in fr
    assert "Подтверждённых подписей пока нет." in ru


# --- plural forms --------------------------------------------------------------------------


def test_russian_plural_forms_of_the_count(client, app):
    letter = make_letter()
    expected = {1: "1 подпись", 2: "2 подписи", 5: "5 подписей", 21: "21 подпись"}
    made = 0
    for total, heading in expected.items():
        while made < total:
            make_signature(letter)
            made += 1
        page = text_of(client.get("/letters/appeal?lang=ru"))
        assert count_heading(page) == heading
    index = text_of(client.get("/?lang=ru"))
    assert "21 подпись" in index


def test_french_plural_forms_of_the_count(client, app):
    letter = make_letter()
    # French uses the singular for 0 (English says "0 signatures").
    assert count_heading(text_of(client.get("/letters/appeal?lang=fr"))) == "0 signature"
    make_signature(letter)
    assert count_heading(text_of(client.get("/letters/appeal?lang=fr"))) == "1 signature"
    make_signature(letter)
    assert count_heading(text_of(client.get("/letters/appeal?lang=fr"))) == "2 signatures"


def test_unlisted_signatories_in_russian_french_and_english(client, app):
    letter = make_letter()
    seen = {}
    made = 0
    for total in (1, 2, 5):
        while made < total:
            make_signature(letter, signer_type=INDIVIDUAL, display=ANONYMOUS, country="FR")
            made += 1
        seen[total] = {
            lang: unlisted_lines(text_of(client.get(f"/letters/appeal?lang={lang}")))
            for lang in ("ru", "fr", "en")
        }
    assert seen[1]["ru"] == ["и ещё 1 подписант"]
    assert seen[2]["ru"] == ["и ещё 2 подписанта"]
    assert seen[5]["ru"] == ["и ещё 5 подписантов"]
    assert seen[1]["fr"] == ["et 1 autre signataire"]
    assert seen[2]["fr"] == ["et 2 autres signataires"]
    # English has empty msgstr: gettext falls back to msgid / msgid_plural.
    assert seen[1]["en"] == ["and 1 other signatory"]
    assert seen[5]["en"] == ["and 5 other signatories"]


# --- form errors --------------------------------------------------------------------------


def test_form_errors_in_french(client, app):
    make_letter()
    response = client.post("/letters/appeal/sign?lang=fr", data={"signer_type": "individual"})
    assert response.status_code == 400
    page = text_of(response)
    for expected in [
        "Veuillez corriger les champs signalés ci-dessous.",
        "Veuillez indiquer le nom sous lequel vous signez.",
        "Veuillez choisir un pays ou une région.",
        "Veuillez indiquer votre adresse e-mail.",
        "Pour signer, veuillez accepter la politique de confidentialité.",
    ]:
        assert expected in page, expected
    assert "Please" not in page


def test_form_errors_in_russian(client, app):
    make_letter()
    response = client.post("/letters/appeal/sign?lang=ru", data={"signer_type": "individual"})
    assert response.status_code == 400
    page = text_of(response)
    for expected in [
        "Пожалуйста, исправьте отмеченные ниже поля.",
        "Пожалуйста, укажите имя или название, под которым вы подписываете.",
        "Пожалуйста, выберите страну или регион.",
        "Пожалуйста, укажите адрес электронной почты.",
        "Чтобы подписать, примите, пожалуйста, политику конфиденциальности.",
    ]:
        assert expected in page, expected
    assert "Please" not in page


def test_invalid_values_are_explained_in_both_languages(client, app):
    make_letter()
    data = sign_form(name="Line one\nline two", country="ZZ", email="not-an-address")
    fr = client.post("/letters/appeal/sign?lang=fr", data=data)
    ru = client.post("/letters/appeal/sign?lang=ru", data=data)
    assert fr.status_code == ru.status_code == 400
    fr_page, ru_page = text_of(fr), text_of(ru)
    assert "Veuillez écrire ce texte sur une seule ligne." in fr_page
    assert "Veuillez choisir un pays ou une région dans la liste." in fr_page
    assert "Cette adresse e-mail ne semble pas valide." in fr_page
    assert "Пожалуйста, напишите это в одну строку." in ru_page
    assert "Пожалуйста, выберите страну или регион из списка." in ru_page
    assert "Это не похоже на адрес электронной почты." in ru_page


# --- other pages ----------------------------------------------------------------------------


def test_bad_confirmation_link_in_russian_and_french(client, app):
    ru = client.get("/confirm/bad-token?lang=ru")
    fr = client.get("/confirm/bad-token?lang=fr")
    assert ru.status_code == fr.status_code == 404
    assert "Эта ссылка не работает" in text_of(ru)
    assert "Вернуться к письмам" in text_of(ru)
    assert "Ce lien ne fonctionne pas" in text_of(fr)
    assert "Retour aux lettres" in text_of(fr)


def test_check_your_mail_page(client, app):
    make_letter()
    response = client.post("/letters/appeal/sign?lang=ru", data=sign_form())
    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"] + "?lang=ru"))
    assert "Проверьте почту" in page
    assert "Вернуться к письму: Libérez le mathématicien" in page


# --- mails ----------------------------------------------------------------------------------


def test_confirmation_mail_in_russian(client, app):
    make_letter()
    response = client.post("/letters/appeal/sign?lang=ru", data=sign_form())
    assert response.status_code == 303
    [mail] = outbox("confirm")
    assert rendered(mail).subject == "Ваша подпись"  # never the letter's title
    body = rendered(mail).text
    assert body.startswith("Здравствуйте!\n") and "Campagne #FREE120!" not in body
    assert "Чтобы подтвердить свою подпись под письмом «Libérez le mathématicien»" in body
    assert "Ссылка действительна 72 часа." in body  # plural form 2 of 3
    assert "ничего не будет опубликовано" in body
    assert "http://localhost/letters/appeal?lang=ru" in body
    assert "Hello" not in body and "Please" not in body
    assert html_lang(rendered(mail).html) == "ru"
    assert ">Подтвердить подпись</a>" in rendered(mail).html


def test_confirmation_mail_in_french(client, app):
    make_letter()
    response = client.post("/letters/appeal/sign?lang=fr", data=sign_form())
    assert response.status_code == 303
    [mail] = outbox("confirm")
    assert rendered(mail).subject == "Votre signature"  # never the letter's title
    body = rendered(mail).text
    assert body.startswith("Bonjour,\n") and "Bonjour Campagne" not in body
    assert f"la lettre «{NBSP}Libérez le mathématicien{NBSP}»" in body
    assert "Le lien est valable 72 heures." in body
    assert "Hello" not in body and "Please" not in body
    assert html_lang(rendered(mail).html) == "fr"
    assert ">Confirmer ma signature</a>" in rendered(mail).html


def test_already_signed_mail_in_russian(client, app):
    letter = make_letter()
    make_signature(letter, email="contact@free120.example")
    response = client.post("/letters/appeal/sign?lang=ru", data=sign_form())
    assert response.status_code == 303
    [mail] = outbox("already_signed")
    assert rendered(mail).subject == "Ваша подпись"  # as the confirmation's
    assert rendered(mail).text.startswith("Здравствуйте!")
    assert "С этого адреса уже подписано письмо «Libérez le mathématicien»" in rendered(mail).text
