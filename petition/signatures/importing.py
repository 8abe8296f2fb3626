"""Import lists gathered elsewhere (CSV or XLSX) as confirmed signatures of a letter.

Columns are found by their header in English, French or Russian; countries in any language,
with or without accents, as ISO codes, or as the letter's own labels. Every row is checked
before anything is written: one bad row and nothing is imported, with every problem listed
(row, column, why). Imported signatures are confirmed, marked source "import" and never
mailed. An email, when given, is kept only as the keyed hash that finds duplicates.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError
from flask_babel import force_locale, gettext
from sqlalchemy import insert, select

from petition import addresses, countries, names
from petition.accounts import audit
from petition.extensions import babel, db
from petition.letters import counting
from petition.letters.operations import get_letter
from petition.models import (
    ANONYMOUS,
    CONFIRMED,
    FULL,
    INDIVIDUAL,
    INITIALS,
    MOD_NONE,
    ORGANIZATION,
    PROVENANCE_MAX,
    SOURCE_IMPORT,
    Letter,
    Signature,
    derived_columns,
    new_nonce,
    new_public_id,
    utcnow,
)
from petition.privacy import hidden_names

# ImportChanged, ImportFailed and ImportReport are this module's interface too.
from petition.signatures.import_files import read_data
from petition.signatures.import_report import (
    HEADER_ROW,
    N_,
    ImportChanged,
    ImportFailed,
    ImportReport,
    Problem,
)
from petition.signatures.submissions import Submission, display_on
from petition.text import uncell

MAX_LENGTH = 200
# Header (normalised like country names) → field.
HEADERS = {
    "name": ("name", "full name", "signatory", "nom", "nom complet", "signataire", "имя", "фио",
             "название", "подписант"),
    "type": ("type", "signer type", "kind", "type de signataire", "тип"),
    "country": ("country", "country code", "pays", "страна"),
    "affiliation": ("affiliation", "institution", "qualite", "fonction",
                    "organisation d appartenance",
                    "должность", "аффилиация"),
    "email": ("email", "e mail", "mail", "courriel", "adresse e mail", "адрес электронной почты",
              "электронная почта", "почта"),
    "display": ("display", "affichage", "показ", "отображение"),
}
TYPES = {
    ORGANIZATION: ("organization", "organisation", "org", "association", "organisme",
                   "организация", "юридическое лицо"),
    INDIVIDUAL: ("individual", "person", "personne", "individu", "individuel", "individuelle",
                 "particulier", "частное лицо", "физическое лицо", "человек"),
}
# What the sign form and the back office call each type: accepted in a type column too, in
# every language the interface is translated into ("à titre individuel", "частное лицо"), so
# that a list typed from the form's own words imports. Read from the catalogues at each import.
TYPE_LABELS = {
    ORGANIZATION: (N_("an organisation"), N_("Organisation")),
    INDIVIDUAL: (N_("an individual"), N_("Individual")),
}
DISPLAYS = {
    FULL: ("full", "complet", "nom complet", "полностью", "yes", "oui", "да"),
    INITIALS: ("initials", "initiales", "инициалы"),
    ANONYMOUS: ("anonymous", "anonyme", "no", "non", "анонимно", "нет"),
}


def _lookup(options: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {countries.normalize_name(word): key for key, words in options.items() for word in words}


_HEADER_INDEX, _TYPE_INDEX, _DISPLAY_INDEX = _lookup(HEADERS), _lookup(TYPES), _lookup(DISPLAYS)


def type_words() -> dict[str, str]:
    """Normalised word → signer type: TYPES, then the form's labels in every UI language
    (a label that would contradict TYPES is left out)."""
    words = dict(_TYPE_INDEX)
    for locale in babel.list_translations():
        with force_locale(str(locale)):
            for signer_type, labels in TYPE_LABELS.items():
                for label in labels:
                    words.setdefault(countries.normalize_name(gettext(label)), signer_type)
    return words


def _columns(header: list[str], report: ImportReport) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        key = _HEADER_INDEX.get(countries.normalize_name(title))
        if key and key not in found:
            found[key] = index
        elif title.strip():
            report.ignored_columns.append(title.strip())
    return found


_MISSING_COLUMN = {
    "name": N_("no name column (found: %(found)s)"),
    "country": N_("no country column (found: %(found)s)"),
}


def _clean(value: str) -> str:
    # Line breaks inside a spreadsheet cell become spaces: a name is one line.
    return unicodedata.normalize("NFC", uncell(" ".join(value.split())))


def _text_problem(value: str, limit: int = MAX_LENGTH) -> str | None:
    """Why `value` (cleaned) cannot be stored, or None."""
    if len(value) > limit:
        return N_("longer than %(max)s characters")
    if names.has_hidden_controls(value):  # as the sign form
        return N_("contains invisible control characters")
    return None


@dataclass
class _Row:
    number: int
    values: dict
    # Every hash the row's address may be stored under (addresses.email_hashes).
    email_hashes: tuple[str, ...] = ()


class _Cells:
    """One row of the table, read by field, noting its problems with their place."""

    def __init__(self, number: int, raw: list[str], columns: dict[str, int], header: list[str]):
        self.number, self.raw, self.columns, self.header = number, raw, columns, header
        self.problems: list[Problem] = []

    def __call__(self, key: str) -> str:
        index = self.columns.get(key)
        return self.raw[index] if index is not None and index < len(self.raw) else ""

    def problem(self, key: str, message: str, **params: object) -> None:
        index = self.columns.get(key)
        heading = self.header[index].strip() if index is not None else ""
        self.problems.append(Problem(self.number, key, message, params, heading, index))

    def text(self, key: str, required: bool = False) -> str:
        value = _clean(self(key))
        if required and not value:
            self.problem(key, N_("empty"))
        elif (why := _text_problem(value)):
            self.problem(key, why, max=MAX_LENGTH)
        elif (why := names.problem(value)):  # what the list shows: no link, no defacing
            self.problem(key, why)
        return value


def _parse(letter: Letter, table: list[list[str]], default_type: str | None,
           report: ImportReport) -> list[_Row]:
    header = table[0] if table else []
    columns = _columns(header, report)
    problems = report.issues
    found = ", ".join(header) if table else "nothing"
    for needed in ("name", "country"):
        if needed not in columns:
            problems.append(Problem(HEADER_ROW, None, _MISSING_COLUMN[needed], {"found": found}))
    if "type" not in columns and default_type is None and len(letter.signer_types) > 1:
        problems.append(Problem(HEADER_ROW, None, N_(
            "no type column; add one or choose the type of every row (--type)")))
    if problems:
        return []
    labels = [(label.code, label.label) for label in letter.labels]
    only_type = letter.signer_types[0] if len(letter.signer_types) == 1 else None
    types = type_words()
    parsed = []
    for number, raw in enumerate(table[1:], start=HEADER_ROW + 1):
        if not any(cell.strip() for cell in raw):
            continue  # blank lines are common at the end of exported sheets
        report.rows += 1
        cell = _Cells(number, raw, columns, header)
        name = cell.text("name", required=True)
        affiliation = cell.text("affiliation") or None
        signer_type = default_type or only_type
        if "type" in columns and cell("type").strip():
            signer_type = types.get(countries.normalize_name(cell("type")), "")
            if not signer_type:
                cell.problem("type", N_("%(value)s is neither organisation nor individual"),
                             value=repr(cell("type")))
        elif signer_type is None:
            cell.problem("type", N_("empty; fill it in or choose the type of every row (--type)"))
        if signer_type and signer_type not in letter.signer_types:
            cell.problem("type", N_("this letter does not take %(type)s signatures"),
                         type=signer_type)
        country = countries.resolve(cell("country"), labels) if cell("country").strip() else None
        if country is None:
            cell.problem("country", N_("%(value)s is no country or region we know"),
                         value=repr(cell("country")))
        display: str | None = None  # the letter's default (display_on) unless given
        if signer_type == INDIVIDUAL and cell("display").strip():
            display = _DISPLAY_INDEX.get(countries.normalize_name(cell("display")), "")
            if not display:
                cell.problem("display", N_("%(value)s is not full, initials or anonymous"),
                             value=repr(cell("display")))
        email_hash, email_hashes = None, []
        if cell("email").strip():
            try:
                email_hashes = addresses.email_hashes(addresses.canonical_email(cell("email")))
                email_hash = email_hashes[0]
            except EmailNotValidError as error:
                # The address itself stays out of the report: it may be shown and logged.
                cell.problem("email", N_("not a valid email address (%(error)s)"), error=str(error))
        problems.extend(cell.problems)
        if not cell.problems:
            parsed.append(_Row(number, {
                "signer_type": signer_type, "name": name, "affiliation": affiliation,
                "country": country, "display": display_on(letter, signer_type or "", display),
                "email_hash": email_hash,
            }, tuple(email_hashes)))
    return parsed


def _identity(values: dict) -> tuple:
    return (values["signer_type"], countries.normalize_name(values["name"]),
            countries.normalize_name(values["affiliation"] or ""), values["country"])


def _real(values: dict) -> dict:
    """A stored row's values with its hidden name decrypted."""
    name, affiliation = hidden_names.unseal(values["name"], values["affiliation"],
                                            values["private_encrypted"])
    return {**values, "name": name, "affiliation": affiliation}


def _drop_duplicates(letter: Letter, rows: list[_Row], report: ImportReport) -> list[_Row]:
    """Rows that are not already on the letter (same email, or same name, affiliation and
    country)."""
    existing = db.session.execute(
        select(Signature.email_hash, Signature.signer_type, Signature.name, Signature.affiliation,
               Signature.country, Signature.private_encrypted)
        .where(Signature.letter_id == letter.id)
    ).all()
    hashes = {row.email_hash for row in existing if row.email_hash}
    identities = {_identity(_real(row._asdict())) for row in existing}
    kept = []
    for row in rows:
        email_hash, identity = row.values["email_hash"], _identity(row.values)
        if hashes.intersection(row.email_hashes):
            report.skipped.append(Problem(row.number, None, N_(
                "this email address has already signed")))
        elif identity in identities:
            report.skipped.append(Problem(row.number, None, N_(
                "%(name)s (%(country)s) is already on the list"),
                {"name": repr(row.values["name"]), "country": row.values["country"]}))
        else:
            kept.append(row)
            if email_hash:
                hashes.add(email_hash)
            identities.add(identity)
    return kept


def clean_provenance(text: str | None) -> str | None:
    """Where a list came from, one line; None when not given."""
    return _clean(text or "") or None


def import_signatures(slug: str, path: Path, **options: Any) -> ImportReport:
    """import_file for a file on disk (the command line)."""
    return import_file(slug, path.read_bytes(), path.name, **options)


def import_file(slug: str, data: bytes, filename: str, *, dry_run: bool = False,
                default_type: str | None = None, encoding: str = "utf-8-sig",
                provenance: str | None = None, actor: str = "cli",
                expected: int | None = None) -> ImportReport:
    """Check every row of the file, then import them all in one transaction, or nothing.

    `provenance` is stored on every imported row; the import is recorded in the audit log
    under `actor`, in the same transaction. With `expected`, the number confirmed after a
    dry run, ImportChanged is raised (and nothing written) if the list changed meanwhile so
    that another number would be imported.
    """
    letter = get_letter(slug)
    provenance = clean_provenance(provenance)
    report = ImportReport(dry_run=dry_run, provenance=provenance)
    try:
        table = read_data(data, Path(filename).suffix, encoding)
    except ImportFailed as failure:
        report.issues.extend(replace(issue, source=filename) for issue in failure.issues)
        table = None
    rows = _parse(letter, table, default_type, report) if table is not None else []
    if not report.issues and not rows and not report.rows:
        report.issues.append(Problem(None, None, N_("no rows under the header"), source=filename))
    if provenance and (why := _text_problem(provenance, PROVENANCE_MAX)):
        report.issues.append(Problem(None, "provenance", why, {"max": PROVENANCE_MAX}))
    elif provenance and names.holds_address(provenance):
        report.issues.append(Problem(None, "provenance", N_(
            "say who sent the list without an email address: none is kept in plain text")))
    rows = _drop_duplicates(letter, rows, report)
    for row in rows:
        report.by_country[row.values["country"]] = (
            report.by_country.get(row.values["country"], 0) + 1
        )
    report.imported = 0 if report.issues else len(rows)
    if dry_run:
        return report
    if report.issues:
        raise ImportFailed(report.issues, report)
    if expected is not None and expected != len(rows):
        report.dry_run = True
        raise ImportChanged(report, expected)
    if rows:
        try:
            added = _write(letter, rows, provenance)
            audit.record(actor, "import", letter_slug=letter.slug, commit=False,
                         detail=f"file={filename} rows={report.rows} imported={len(rows)} "
                                f"provenance={provenance or ''}")
            counting.changed(letter, added=added)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return report


def _stored(letter: Letter, values: dict) -> dict:
    """The stored columns of one imported row: a hidden name encrypted, its sort key from
    what the list shows (a bulk insert skips the model's listener)."""
    submission = Submission.make(signer_type=values["signer_type"], name=values["name"],
                                 affiliation=values["affiliation"], country=values["country"],
                                 display=values["display"], lang=letter.default_lang)
    columns = submission.columns()
    derived = derived_columns(submission.signer_type, columns["name"], submission.display)
    return {**columns, "email_hash": values["email_hash"], **derived}


def _write(letter: Letter, rows: list[_Row], provenance: str | None) -> list[counting.Entry]:
    """Insert the rows, all public; return what they add to the letter's counts."""
    now = utcnow()
    stored = [
        {
            **_stored(letter, row.values), "letter_id": letter.id, "status": CONFIRMED,
            "moderation": MOD_NONE, "source": SOURCE_IMPORT, "provenance": provenance,
            "token_nonce": new_nonce(), "public_id": new_public_id(), "created_at": now,
            "updated_at": now, "confirmed_at": now,
        }
        for row in rows
    ]
    db.session.execute(insert(Signature), stored)
    return [counting.entry_of(columns) for columns in stored]
