"""Import lists gathered elsewhere (CSV or XLSX) as confirmed signatures of a letter.

Columns are found by their header in English, French or Russian; countries in any language,
with or without accents, as ISO codes, or as the letter's own labels. Every row is checked
before anything is written: one bad row and nothing is imported, with every problem listed
(row, column, why). Imported signatures are confirmed, marked source "import" and never
mailed. An email, when given, is kept only as the keyed hash that finds duplicates.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import insert, select

from . import addresses, countries
from .exporting.text import uncell
from .extensions import db
from .letters import bump_list_version, get_letter
from .models import (
    ANONYMOUS, CONFIRMED, FULL, INDIVIDUAL, INITIALS, MOD_NONE, ORGANIZATION, SOURCE_IMPORT,
    Letter, Signature, list_key, new_nonce, new_public_id, utcnow,
)

MAX_LENGTH = 200
# Header (normalised like country names) → field.
HEADERS = {
    "name": ("name", "full name", "signatory", "nom", "nom complet", "signataire", "имя", "фио",
             "название", "подписант"),
    "type": ("type", "signer type", "kind", "type de signataire", "тип"),
    "country": ("country", "country code", "pays", "страна"),
    "affiliation": ("affiliation", "institution", "qualite", "fonction", "organisation d appartenance",
                    "должность", "аффилиация"),
    "email": ("email", "e mail", "mail", "courriel", "adresse e mail", "адрес электронной почты",
              "электронная почта", "почта"),
    "display": ("display", "affichage", "показ", "отображение"),
}
TYPES = {
    ORGANIZATION: ("organization", "organisation", "org", "association", "организация"),
    INDIVIDUAL: ("individual", "person", "personne", "individu", "particulier", "частное лицо",
                 "физическое лицо", "человек"),
}
DISPLAYS = {
    FULL: ("full", "complet", "nom complet", "полностью", "yes", "oui", "да"),
    INITIALS: ("initials", "initiales", "инициалы"),
    ANONYMOUS: ("anonymous", "anonyme", "no", "non", "анонимно", "нет"),
}


class ImportFailed(Exception):
    """The file cannot be imported; `problems` lists every reason (nothing was written)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportReport:
    """What an import did, or would do in a dry run."""

    rows: int = 0
    imported: int = 0
    duplicates: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    by_country: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False


def _lookup(options: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {countries.normalize_name(word): key for key, words in options.items() for word in words}


_HEADER_INDEX, _TYPE_INDEX, _DISPLAY_INDEX = _lookup(HEADERS), _lookup(TYPES), _lookup(DISPLAYS)


def read_table(path: Path, encoding: str = "utf-8-sig") -> list[list[str]]:
    """The file's rows as lists of strings (CSV of any common delimiter, or XLSX)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            return [["" if value is None else str(value) for value in row]
                    for row in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
    try:
        content = path.read_text(encoding=encoding)
    except UnicodeDecodeError as error:
        raise ImportFailed([
            f"{path.name}: not {encoding} text (byte {error.start}); save it as "
            "'CSV UTF-8' or give --encoding"
        ]) from None
    try:
        dialect = csv.Sniffer().sniff(content[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return list(csv.reader(io.StringIO(content), dialect))


def _columns(header: list[str], report: ImportReport) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        key = _HEADER_INDEX.get(countries.normalize_name(title))
        if key and key not in found:
            found[key] = index
        elif title.strip():
            report.ignored_columns.append(title.strip())
    return found


# As the sign form: zero-width (non-)joiners and direction marks are part of some scripts.
_ALLOWED_FORMAT = frozenset("\u200c\u200d\u200e\u200f")


def _text(value: str, number: int, column: str, problems: list[str], required: bool = False) -> str:
    # Line breaks inside a spreadsheet cell become spaces: a name is one line.
    value = unicodedata.normalize("NFC", uncell(" ".join(value.split())))
    if required and not value:
        problems.append(f"row {number}, column {column}: empty")
    elif len(value) > MAX_LENGTH:
        problems.append(f"row {number}, column {column}: longer than {MAX_LENGTH} characters")
    elif any(unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs") and char not in _ALLOWED_FORMAT
             for char in value):
        problems.append(f"row {number}, column {column}: contains invisible control characters")
    return value


@dataclass
class _Row:
    number: int
    values: dict


def _parse(letter: Letter, table: list[list[str]], default_type: str | None,
           report: ImportReport) -> list[_Row]:
    columns = _columns(table[0] if table else [], report)
    problems = report.problems
    for needed in ("name", "country"):
        if needed not in columns:
            problems.append(f"header: no {needed} column (found: {', '.join(table[0]) if table else 'nothing'})")
    if "type" not in columns and default_type is None and len(letter.signer_types) > 1:
        problems.append("header: no type column; add one or give --type organization|individual")
    if problems:
        return []
    labels = [(label.code, label.label) for label in letter.labels]
    parsed = []
    for number, raw in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in raw):
            continue  # blank lines are common at the end of exported sheets
        report.rows += 1
        cell = lambda key: raw[columns[key]] if key in columns and columns[key] < len(raw) else ""  # noqa: E731
        row_problems: list[str] = []
        name = _text(cell("name"), number, "name", row_problems, required=True)
        affiliation = _text(cell("affiliation"), number, "affiliation", row_problems) or None
        only_type = letter.signer_types[0] if len(letter.signer_types) == 1 else None
        signer_type = default_type or only_type
        if "type" in columns and cell("type").strip():
            signer_type = _TYPE_INDEX.get(countries.normalize_name(cell("type")), "")
            if not signer_type:
                row_problems.append(f"row {number}, column type: {cell('type')!r} is neither organisation nor individual")
        elif signer_type is None:
            row_problems.append(f"row {number}, column type: empty (or give --type)")
        if signer_type and signer_type not in letter.signer_types:
            row_problems.append(f"row {number}, column type: this letter does not take {signer_type} signatures")
        country = countries.resolve(cell("country"), labels) if cell("country").strip() else None
        if country is None:
            row_problems.append(f"row {number}, column country: {cell('country')!r} is no country or region we know")
        display = FULL
        if signer_type == INDIVIDUAL and cell("display").strip():
            display = _DISPLAY_INDEX.get(countries.normalize_name(cell("display")), "")
            if not display:
                row_problems.append(f"row {number}, column display: {cell('display')!r} is not full, initials or anonymous")
        email_hash = None
        if cell("email").strip():
            try:
                email = validate_email(cell("email").strip(), check_deliverability=False).normalized
                email_hash = addresses.email_hash(email)
            except EmailNotValidError as error:
                row_problems.append(f"row {number}, column email: {error}")
        problems.extend(row_problems)
        if not row_problems:
            parsed.append(_Row(number, {
                "signer_type": signer_type, "name": name, "affiliation": affiliation,
                "country": country, "display": display, "email_hash": email_hash,
            }))
    return parsed


def _identity(values: dict) -> tuple:
    return (values["signer_type"], countries.normalize_name(values["name"]),
            countries.normalize_name(values["affiliation"] or ""), values["country"])


def _drop_duplicates(letter: Letter, rows: list[_Row], report: ImportReport) -> list[_Row]:
    """Rows that are not already on the letter (same email, or same name, affiliation and country)."""
    existing = db.session.execute(
        select(Signature.email_hash, Signature.signer_type, Signature.name, Signature.affiliation,
               Signature.country).where(Signature.letter_id == letter.id)
    ).all()
    hashes = {row.email_hash for row in existing if row.email_hash}
    identities = {_identity(row._asdict()) for row in existing}
    kept = []
    for row in rows:
        email_hash, identity = row.values["email_hash"], _identity(row.values)
        if email_hash and email_hash in hashes:
            report.duplicates.append(f"row {row.number}: this email address has already signed")
        elif identity in identities:
            report.duplicates.append(
                f"row {row.number}: {row.values['name']!r} ({row.values['country']}) is already on the list"
            )
        else:
            kept.append(row)
            if email_hash:
                hashes.add(email_hash)
            identities.add(identity)
    return kept


def import_signatures(slug: str, path: Path, *, dry_run: bool = False,
                      default_type: str | None = None, encoding: str = "utf-8-sig") -> ImportReport:
    """Check every row of `path`, then import them all in one transaction, or nothing."""
    letter = get_letter(slug)
    report = ImportReport(dry_run=dry_run)
    rows = _parse(letter, read_table(path, encoding), default_type, report)
    if not report.problems and not rows and not report.rows:
        report.problems.append(f"{path.name}: no rows under the header")
    rows = _drop_duplicates(letter, rows, report)
    for row in rows:
        report.by_country[row.values["country"]] = report.by_country.get(row.values["country"], 0) + 1
    if dry_run:
        report.imported = 0 if report.problems else len(rows)
        return report
    if report.problems:
        raise ImportFailed(report.problems)
    now = utcnow()
    records = [
        {
            **row.values, "letter_id": letter.id, "lang": letter.default_lang, "status": CONFIRMED,
            "moderation": MOD_NONE, "source": SOURCE_IMPORT, "token_nonce": new_nonce(),
            "public_id": new_public_id(), "created_at": now, "updated_at": now, "confirmed_at": now,
            # A bulk insert skips the model's listener: set the sort key here.
            "collation_key": list_key(row.values["signer_type"], row.values["name"],
                                      row.values["display"]),
        }
        for row in rows
    ]
    if records:
        try:
            db.session.execute(insert(Signature), records)
            bump_list_version(letter)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    report.imported = len(records)
    return report
