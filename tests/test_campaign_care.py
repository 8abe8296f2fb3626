"""Issue 22, item 5: the small things that tell a campaign it is cared for. Each on SQLite
and PostgreSQL (the `app` fixture)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from petition.extensions import db
from petition.models import (
    CLOSED,
    INDIVIDUAL,
    INITIALS,
    ORGANIZATION,
    PENDING,
    Letter,
    Signature,
    utcnow,
)
from petition.models.accounts import AuditEvent
from petition.signatures.importing import ImportFailed, import_signatures, type_words
from tests.admin_helpers import signed_in_client
from tests.factories import make_letter, make_signature
from tests.helpers import assert_valid_html
from tests.test_admin_imports import _confirm, _confirm_fields, _upload


@pytest.fixture
def letter(app) -> Letter:
    return make_letter("appeal")


def row_ids(page: str) -> set[str]:
    return set(re.findall(r'href="/admin/letters/appeal/signatures/([\w-]+)"', page))


# b. The back office's name search ignores accents and case in every script.

def test_the_name_search_ignores_accents_and_case_in_every_script(app, letter):
    people = {name: make_signature(letter, signer_type=INDIVIDUAL, name=name, country="FR")
              for name in ("Elise Durand", "ÉLISE MARTIN", "Élise Petit", "Мария Иванова",
                           "МАРИЯ СИДОРОВА", "Ёлкина Анна", "Maria Müller")}
    make_signature(letter, name="Comité de soutien", affiliation="Société Générale",
                   country="FR")
    organiser = signed_in_client(app)

    def found(query: str) -> set[str]:
        response = organiser.get("/admin/letters/appeal/signatures", query_string={"q": query})
        assert response.status_code == 200, query
        page = response.get_data(as_text=True)
        return {name for name in people if people[name].public_id in row_ids(page)} | (
            {"Comité"} if "Comité de soutien" in page else set())

    elises = {"Elise Durand", "ÉLISE MARTIN", "Élise Petit"}
    assert found("élise") == found("ELISE") == found("Elise") == elises
    assert found("мария") == found("МАРИЯ") == {"Мария Иванова", "МАРИЯ СИДОРОВА"}
    assert found("елкина") == found("ЁЛКИНА") == {"Ёлкина Анна"}
    assert found("MULLER") == found("müller") == {"Maria Müller"}
    assert found("societe generale") == {"Comité"}  # the affiliation too
    # % and _ are searched for as typed, not as wildcards.
    assert found("é%e") == found("_lise") == set()


# a. The import takes the form's own words for the signer type, in every UI language.

FORM_WORDS_CSV = """Name,Type,Country
Org One,an organisation,DE
Org Two,au nom d’une organisation,FR
Org Three,ОРГАНИЗАЦИЯ,RU
Org Four,Organisation,DE
Org Five,Организация,RU
Person One,an individual,DE
Person Two,À titre individuel,FR
Person Three,a titre INDIVIDUEL,FR
Person Four,individuel,FR
Person Five,частное лицо,RU
Person Six,Частное Лицо,RU
Person Seven,INDIVIDUAL,DE
"""


def test_the_import_takes_the_forms_words_for_the_signer_type(app, letter, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(FORM_WORDS_CSV, encoding="utf-8")
    report = import_signatures("appeal", path)
    assert (report.rows, report.imported, report.problems) == (12, 12, [])
    types = dict(db.session.execute(select(Signature.name, Signature.signer_type)
                                    .where(Signature.letter_id == letter.id)).all())
    assert {name for name, kind in types.items() if kind == ORGANIZATION} == {
        f"Org {n}" for n in ("One", "Two", "Three", "Four", "Five")}
    assert len([kind for kind in types.values() if kind == INDIVIDUAL]) == 7


def test_the_back_office_import_takes_them_too(app, letter):
    client = signed_in_client(app)
    content = "Имя;Тип;Страна\nМемориал;Организация;Россия\nМария Иванова;Частное лицо;Россия\n"
    page = _upload(client, content).get_data(as_text=True)
    assert "Import 2 signatures" in page
    assert _confirm(client, _confirm_fields(page)).status_code in (200, 302, 303)
    assert sorted(db.session.execute(select(Signature.signer_type, Signature.name)).all()) == [
        (INDIVIDUAL, "Мария Иванова"), (ORGANIZATION, "Мемориал")]


def test_the_type_words_come_from_every_catalogue(app):
    words = type_words()
    for word, kind in (("au nom d une organisation", ORGANIZATION),
                       ("a titre individuel", INDIVIDUAL), ("организация", ORGANIZATION),
                       ("частное лицо", INDIVIDUAL), ("an individual", INDIVIDUAL)):
        assert words[word] == kind, word


def test_an_unknown_type_word_still_gets_its_row_error(app, letter, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("Name,Type,Country\nSomeone,individual,DE\nRobot,un robot,DE\n",
                    encoding="utf-8")
    report = import_signatures("appeal", path, dry_run=True)
    assert report.problems == [
        "row 3, column type: 'un robot' is neither organisation nor individual"]
    with pytest.raises(ImportFailed):
        import_signatures("appeal", path)
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0


# c. `flask export` is in the audit log like a download from the back office.

def export_events() -> list[tuple[str, str | None, str]]:
    return [(event.actor, event.letter_slug, event.detail) for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id))]


def test_a_command_line_export_is_audited_above_all_a_private_one(app, runner, letter):
    make_signature(letter, signer_type=INDIVIDUAL, name="Anne Secret", display=INITIALS)
    result = runner.invoke(args=["export", "appeal", "--format", "csv", "--private"])
    assert result.exit_code == 0, result.output
    assert "Anne Secret" in Path(result.output.strip()).read_text(encoding="utf-8-sig")
    result = runner.invoke(args=["export", "appeal", "--format", "txt", "--layout", "submission",
                                 "--lang", "en", "--out", "-"])
    assert result.exit_code == 0, result.output
    assert export_events() == [
        ("cli", "appeal", "format=csv layout=press lang=fr private=1 to=file"),
        ("cli", "appeal", "format=txt layout=submission lang=en private=0 to=stdout"),
    ]
    # A refused export leaves no trace of a download.
    result = runner.invoke(args=["export", "appeal", "--format", "csv", "--lang", "xx-nope"])
    assert result.exit_code == 1 and len(export_events()) == 2
    # The same words as a download from the back office, under the organiser's address.
    organiser = signed_in_client(app)
    response = organiser.get("/admin/letters/appeal/export?format=csv&private=1")
    assert response.status_code == 200
    assert export_events()[-1] == ("org@example.org", "appeal",
                                   "format=csv layout=press lang=fr private=1")


# d. A key that no longer opens the hidden names: one line, not a traceback.

def test_a_private_export_under_a_changed_key_says_so_in_one_line(app, runner, letter):
    make_signature(letter, signer_type=INDIVIDUAL, name="Anne Secret", display=INITIALS)
    organiser = signed_in_client(app)
    app.config["EMAIL_KEY"] = Fernet.generate_key().decode()  # changed without `keys rotate`
    result = runner.invoke(args=["export", "appeal", "--format", "xlsx", "--private"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.strip().count("\n") == 0
    assert "cannot be decrypted with the current EMAIL_KEY" in result.output
    assert "Traceback" not in result.output
    assert not list(Path(app.config["EXPORT_DIR"]).glob("*private*"))  # nothing half-written
    response = organiser.get("/admin/letters/appeal/export?format=csv&private=1")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "The private names cannot be decrypted" in page and "Anne" not in page
    # The public list needs no key: it still downloads.
    result = runner.invoke(args=["export", "appeal", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert export_events() == [("cli", "appeal", "format=csv layout=press lang=fr private=0 "
                                                 "to=file")]


# e. The organiser's overview: progress toward the goal and the days left, above the tables.

def overview_page(client, lang: str = "en") -> str:
    response = client.get("/admin/letters/appeal", headers={"Accept-Language": lang})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def progress_section(page: str) -> str:
    match = re.search(r'<section aria-labelledby="progress-heading" id="progress">.*?</section>',
                      page, re.S)
    assert match, "no progress section"
    return " ".join(match[0].split())


def test_the_overview_shows_the_goal_and_the_days_left_above_the_tables(app):
    letter = make_letter("appeal", goal=8, deadline=utcnow().date() + dt.timedelta(days=5))
    for number in range(3):
        make_signature(letter, name=f"Org {number}", country="FR")
    make_signature(letter, name="Waiting", status=PENDING)  # not public: not counted
    organiser = signed_in_client(app)
    page = overview_page(organiser)
    section = progress_section(page)
    assert page.index('id="progress"') < page.index("Confirmed signatures by country")
    assert '<progress id="admin-goal-progress" max="8" value="3">' in section
    assert "3 public signatures so far." in section
    assert "Goal: 8" in section and "37% of the goal" in section
    assert "5 days left." in section
    assert_valid_html(page)
    french = progress_section(overview_page(organiser, "fr"))
    assert "Progression" in french and "Objectif" in french and "Encore 5 jours." in french
    russian = progress_section(overview_page(organiser, "ru"))
    assert "Ход кампании" in russian and "Цель: 8" in russian
    assert "Осталось 5 дней." in russian

    letter.deadline = utcnow().date()
    for number in range(3, 9):
        make_signature(letter, name=f"Org {number}", country="DE", commit=False)
    db.session.commit()
    section = progress_section(overview_page(organiser))
    assert "Goal reached" in section and "Today is the last day." in section
    assert 'value="8"' in section  # 9 signatures, the bar full

    letter.deadline = None
    letter.goal = None
    db.session.commit()
    section = progress_section(overview_page(organiser))
    assert "No goal set." in section and "No deadline" in section and "<progress" not in section

    letter.status = CLOSED
    letter.closed_at = dt.datetime(2026, 3, 1, 12)
    db.session.commit()
    assert "Closed on March 1, 2026." in progress_section(overview_page(organiser))
