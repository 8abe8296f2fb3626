"""`flask signatures import`: headers and countries in any language, dry run, all or nothing."""
from __future__ import annotations

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from petition import addresses
from petition.exporting.grouping import group_signatories
from petition.extensions import db
from petition.models import CONFIRMED, SOURCE_IMPORT, CountryLabel, OutboxMail, Signature
from petition.signatures.importing import ImportFailed, import_signatures

from .export_helpers import exported
from .factories import make_letter, make_signature

FRENCH_CSV = """Nom;Type;Pays;Affiliation;Courriel
Campagne #FREE120;organisation;Allemagne;;contact@free120.example
Confederación General del Trabajo;organisation;Etat espagnol;;
Peace Action;organisation;Etats-Unis;;
Мемориал;организация;Россия;;
Linke SDS;org;DE;;
Ada Lovelace;personne;Royaume-Uni;Analytical Society;ada@example.org
Comité Kagarlitsky;organisation;international;;
"""


def _letter():
    letter = make_letter()
    letter.labels.append(CountryLabel(lang="fr", code="ES", label="Etat espagnol"))
    db.session.commit()
    return letter


def _write(tmp_path, content: str, name: str = "list.csv"):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def _count(letter) -> int:
    return db.session.scalar(select(func.count()).select_from(Signature)
                             .where(Signature.letter_id == letter.id))


def test_import_resolves_headers_types_and_countries(app, tmp_path):
    letter = _letter()
    report = import_signatures("appeal", _write(tmp_path, FRENCH_CSV))
    assert (report.rows, report.imported, report.problems, report.duplicates) == (7, 7, [], [])
    rows = db.session.execute(
        select(Signature.name, Signature.signer_type, Signature.country, Signature.affiliation)
        .order_by(Signature.id)
    ).all()
    assert [(r.name, r.country) for r in rows] == [
        ("Campagne #FREE120", "DE"), ("Confederación General del Trabajo", "ES"),
        ("Peace Action", "US"), ("Мемориал", "RU"), ("Linke SDS", "DE"), ("Ada Lovelace", "GB"),
        ("Comité Kagarlitsky", "international"),
    ]
    assert rows[5].signer_type == "individual" and rows[5].affiliation == "Analytical Society"
    assert rows[3].signer_type == "organization"
    labels = [g.label for g in group_signatories(letter, "fr")[0].groups]
    assert labels == ["Allemagne", "Etat espagnol", "États-Unis", "Russie", "International"]


def test_imported_signatures_are_confirmed_unmailed_and_keep_no_address(app, tmp_path):
    _letter()
    import_signatures("appeal", _write(tmp_path, FRENCH_CSV))
    signatures = db.session.scalars(select(Signature)).all()
    assert {(s.status, s.source, s.moderation) for s in signatures} == {
        (CONFIRMED, SOURCE_IMPORT, "none")}
    assert all(s.email_encrypted is None and s.confirmed_at for s in signatures)
    assert all(s.collation_key for s in signatures)
    ada = next(s for s in signatures if s.name == "Ada Lovelace")
    assert ada.email_hash == addresses.email_hash("ada@example.org")
    assert sum(1 for s in signatures if s.email_hash) == 2
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0


def test_dry_run_reports_every_problem_and_changes_nothing(app, tmp_path, runner):
    letter = _letter()
    content = FRENCH_CSV + (
        "Nobody;organisation;Atlantis;;\n"
        ";organisation;France;;\n"
        "Bad Mail;organisation;France;;not-an-address\n"
        "Odd;robot;France;;\n"
    )
    path = _write(tmp_path, content)
    report = import_signatures("appeal", path, dry_run=True)
    assert report.problems == [
        "row 9, column country: 'Atlantis' is no country or region we know",
        "row 10, column name: empty",
        report.problems[2],
        "row 12, column type: 'robot' is neither organisation nor individual",
    ]
    assert report.problems[2].startswith("row 11, column email: ")
    assert report.imported == 0 and _count(letter) == 0
    result = runner.invoke(args=["signatures", "import", "appeal", str(path), "--dry-run"])
    assert result.exit_code == 1
    assert "problem: row 9, column country: 'Atlantis'" in result.output
    assert "nothing changed" in result.output and _count(letter) == 0


def test_dry_run_of_a_good_file(app, tmp_path, runner):
    letter = _letter()
    result = runner.invoke(args=["signatures", "import", "appeal",
                                 str(_write(tmp_path, FRENCH_CSV)), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "7 would be imported" in result.output and "Allemagne (DE): 2" in result.output
    assert _count(letter) == 0


def test_a_bad_file_imports_nothing(app, tmp_path, runner):
    letter = _letter()
    path = _write(tmp_path, FRENCH_CSV + "Last Row;organisation;Nowhere;;\n")
    with pytest.raises(ImportFailed) as failure:
        import_signatures("appeal", path)
    assert failure.value.problems == [
        "row 9, column country: 'Nowhere' is no country or region we know"]
    result = runner.invoke(args=["signatures", "import", "appeal", str(path)])
    assert result.exit_code == 1
    assert ("nothing imported: 1 problem(s)" in result.output
            and "row 9, column country" in result.output)
    assert _count(letter) == 0


@pytest.mark.parametrize("content, message", [
    ("Organisation,Land\nX,DE\n", "header: no name column"),
    ("Name\nX\n", "header: no country column"),
    ("Name,Country\nX,DE\n", "header: no type column"),
    ("Name,Country,Type\n", "no rows under the header"),
    ("Name,Country,Type\nX,DE,\n", "row 2, column type: empty"),
    ("Name,Country,Type\nBell\x07,DE,organization\n",
     "row 2, column name: contains invisible control characters"),
    ("Name,Country,Type\n" + "x" * 201 + ",DE,organization\n",
     "row 2, column name: longer than 200"),
])
def test_bad_headers_and_cells(app, tmp_path, content, message):
    _letter()
    with pytest.raises(ImportFailed, match=message):
        import_signatures("appeal", _write(tmp_path, content))


def test_undecodable_file(app, tmp_path):
    _letter()
    path = tmp_path / "latin1.csv"
    path.write_bytes("Nom;Pays;Type\nComité;France;organisation\n".encode("latin-1"))
    with pytest.raises(ImportFailed, match="not utf-8-sig text"):
        import_signatures("appeal", path)
    report = import_signatures("appeal", path, encoding="latin-1")
    assert report.imported == 1


def test_duplicates_are_reported_and_skipped(app, tmp_path):
    letter = _letter()
    make_signature(letter, name="Already There", country="FR", email="old@example.org")
    content = (
        "name,type,country,email\n"
        "Someone New,organization,FR,OLD@example.org\n"
        "already  there,organization,France,\n"
        "Twice,organization,FR,twice@example.org\n"
        "Twice Again,organization,FR,twice@example.org\n"
        "Fresh,organization,FR,\n"
    )
    path = _write(tmp_path, content)
    dry = import_signatures("appeal", path, dry_run=True)
    assert dry.duplicates == [
        "row 2: this email address has already signed",
        "row 3: 'already there' (FR) is already on the list",
        "row 5: this email address has already signed",
    ]
    assert dry.imported == 2 and _count(letter) == 1
    report = import_signatures("appeal", path)
    assert report.imported == 2 and _count(letter) == 3
    assert import_signatures("appeal", path).imported == 0  # importing twice adds nothing


def test_type_option_and_single_type_letters(app, tmp_path, runner):
    letter = _letter()
    path = _write(tmp_path, "name,country\nCGT,FR\nSUD,FR\n")
    result = runner.invoke(args=["signatures", "import", "appeal", str(path),
                                 "--type", "organization"])
    assert result.exit_code == 0, result.output
    assert "imported 2 of 2 rows" in result.output and "no mail sent" in result.output
    individuals = make_letter("people", accepts_organizations=False)
    import_signatures("people",
                      _write(tmp_path, "name,country,display\nA B,FR,initiales\n", "p.csv"))
    assert group_signatories(individuals, "fr")[0].groups[0].names == ["A. B."]
    with pytest.raises(ImportFailed, match="does not take organization"):
        import_signatures("people", _write(tmp_path, "name,country,type\nCGT,FR,org\n", "q.csv"))
    assert _count(letter) == 2


def test_xlsx_import(app, tmp_path):
    letter = _letter()
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Название", "Страна", "Тип"])
    sheet.append(["Мемориал", "Германия", "организация"])
    sheet.append(["Amnesty", "Соединенные Штаты", "организация"])
    sheet.append([None, None, None])
    path = tmp_path / "list.xlsx"
    workbook.save(path)
    assert import_signatures("appeal", path).imported == 2
    assert [g.code for g in group_signatories(letter, "ru")[0].groups] == ["DE", "US"]


def test_an_export_imports_back(app, tmp_path):
    source = _letter()
    make_signature(source, name="=SUM(A1)", country="DE")
    make_signature(source, name="Étoile", country="europe")
    path = tmp_path / "export.csv"
    path.write_bytes(exported(source, "csv"))
    make_letter("copy")
    assert import_signatures("copy", path).imported == 2
    names = db.session.scalars(select(Signature.name).where(Signature.letter_id != source.id)).all()
    assert sorted(names) == ["=SUM(A1)", "Étoile"]  # the apostrophe that guarded the cell is gone


def test_an_export_with_separators_in_names_imports_back(app, tmp_path):
    """Import an export back with its names unchanged, apostrophes after separators undone."""
    source = _letter()
    originals = ["Jean;=1+1;x", "Dupont, +33 1 23", "'=quoted", "＝1+1"]
    for name in originals:
        make_signature(source, name=name, country="DE")
    path = tmp_path / "export.csv"
    path.write_bytes(exported(source, "csv"))
    make_letter("copy")
    assert import_signatures("copy", path).imported == len(originals)
    names = db.session.scalars(select(Signature.name).where(Signature.letter_id != source.id)).all()
    assert sorted(names) == sorted(originals)


def test_unknown_letter(app, tmp_path, runner):
    result = runner.invoke(args=["signatures", "import", "nope", str(_write(tmp_path, FRENCH_CSV))])
    assert result.exit_code != 0 and "no letter with slug 'nope'" in result.output


def test_problems_carry_row_column_and_reason(app, tmp_path):
    _letter()
    content = FRENCH_CSV + "Nobody;organisation;Atlantis;;\n"
    report = import_signatures("appeal", _write(tmp_path, content), dry_run=True)
    [problem] = report.issues
    assert (problem.row, problem.column, problem.heading, problem.index, problem.cell) == (
        9, "country", "Pays", 2, "C9")
    assert problem.reason == "'Atlantis' is no country or region we know"
    assert problem.message == "%(value)s is no country or region we know"
    header = import_signatures("appeal", _write(tmp_path, "Nom,Type\nX,org\n", "h.csv"),
                               dry_run=True)
    assert [(p.row, p.column, p.cell) for p in header.issues] == [(1, None, "")]
    assert header.problems == ["header: no country column (found: Nom, Type)"]
    path = tmp_path / "latin1.csv"
    path.write_bytes("Nom;Pays;Type\nComité;France;organisation\n".encode("latin-1"))
    [whole] = import_signatures("appeal", path, dry_run=True).issues
    assert whole.row is None and str(whole).startswith("latin1.csv: not utf-8-sig text")


def test_provenance_is_kept_and_the_import_audited(app, tmp_path):
    from petition.models.accounts import AuditEvent

    letter = _letter()
    report = import_signatures("appeal", _write(tmp_path, FRENCH_CSV),
                               provenance="  Sent by the\nDresden group  ")
    assert report.provenance == "Sent by the Dresden group"
    assert set(db.session.scalars(select(Signature.provenance))) == {"Sent by the Dresden group"}
    event = db.session.scalars(select(AuditEvent)).one()
    assert (event.actor, event.action, event.letter_slug) == ("cli", "import", "appeal")
    assert event.detail == "file=list.csv rows=7 imported=7 provenance=Sent by the Dresden group"
    assert "example.org" not in event.detail and "free120" not in event.detail
    with pytest.raises(ImportFailed, match="provenance: longer than 500"):
        import_signatures("appeal", _write(tmp_path, "name,type,country\nNew,org,FR\n", "n.csv"),
                          provenance="x" * 501)
    assert _count(letter) == 7


def test_a_dry_run_writes_no_audit_event(app, tmp_path):
    from petition.models.accounts import AuditEvent

    _letter()
    import_signatures("appeal", _write(tmp_path, FRENCH_CSV), dry_run=True)
    assert db.session.scalars(select(AuditEvent)).all() == []


def test_an_upload_too_many_rows(app, tmp_path, monkeypatch):
    from petition.signatures import import_files, importing

    _letter()
    monkeypatch.setattr(import_files, "MAX_ROWS", 3)
    report = importing.import_file("appeal", FRENCH_CSV.encode(), "big.csv", dry_run=True)
    assert report.problems == ["big.csv: more than 3 rows; split the file"]


def test_the_command_line_keeps_the_provenance(app, tmp_path, runner):
    letter = _letter()
    path = _write(tmp_path, FRENCH_CSV)
    result = runner.invoke(args=["signatures", "import", "appeal", str(path),
                                 "--provenance", "Paper forms, Paris, 3 May"])
    assert result.exit_code == 0, result.output
    kept = db.session.scalars(select(Signature.provenance).where(Signature.letter_id == letter.id))
    assert set(kept) == {"Paper forms, Paris, 3 May"}


def test_a_provenance_with_an_address_is_refused_as_by_hand(app, tmp_path):
    letter = _letter()
    with pytest.raises(ImportFailed) as failure:
        import_signatures("appeal", _write(tmp_path, FRENCH_CSV),
                          provenance="sent by jane@union.example on 3 May")
    assert any("without an email address" in problem for problem in failure.value.problems)
    assert _count(letter) == 0
