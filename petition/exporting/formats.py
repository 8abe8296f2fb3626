"""The export use case: a letter's list in one format, language and layout, to a stream or file."""
from __future__ import annotations

import importlib
import os
import tempfile
from pathlib import Path
from types import ModuleType
from typing import BinaryIO

from babel import Locale, UnknownLocaleError
from cryptography.fernet import InvalidToken
from sqlalchemy import select

from petition import addresses
from petition.exporting.document import LAYOUTS, PRESS, Document, build
from petition.extensions import db
from petition.models import Letter, Signature

FORMATS = ("txt", "md", "html", "docx", "odt", "pdf", "csv", "xlsx", "json")
# What the public page offers: the press list, nothing with per-signature data.
PUBLIC_FORMATS = ("txt", "md", "html")


class ExportError(Exception):
    """The export was refused; the message says why."""


class UnknownFormat(ExportError):
    """No such export format."""


class UnknownLayout(ExportError):
    """No such layout (press or submission)."""


class UnknownLanguage(ExportError):
    """Babel knows no such language."""


class KeyMismatch(ExportError):
    """A private export whose hidden names the current EMAIL_KEY cannot decrypt."""

    def __init__(self) -> None:
        super().__init__("the private names cannot be decrypted with the current EMAIL_KEY: "
                         "it was changed without `flask keys rotate`; set the old key back, "
                         "then rotate")


def check_private_key(letter: Letter) -> None:
    """KeyMismatch unless EMAIL_KEY opens the letter's hidden names (one is tried): said
    before a private export writes anything, rather than as a traceback halfway."""
    token = db.session.scalar(select(Signature.private_encrypted).where(
        Signature.letter_id == letter.id, Signature.private_encrypted.is_not(None)).limit(1))
    if token is not None:
        try:
            addresses.decrypt(token)
        except InvalidToken:
            raise KeyMismatch() from None


# Formats whose writer's module is not named after the format: a module named csv, json or
# html would read as the standard library's.
WRITER_MODULES = {"csv": "csv_rows", "json": "json_list", "html": "html_page"}


def renderer(fmt: str) -> ModuleType:
    """The module that writes `fmt` (it has render(document, out) and MEDIA_TYPE)."""
    if fmt not in FORMATS:
        raise UnknownFormat(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return importlib.import_module(f"{__package__}.{WRITER_MODULES.get(fmt, fmt)}")


def check_lang(lang: str) -> str:
    """`lang` in Babel's spelling ("pt_BR"), or UnknownLanguage."""
    normalized = lang.strip().replace("-", "_")
    try:
        Locale.parse(normalized)
    except (UnknownLocaleError, ValueError):
        raise UnknownLanguage(f"unknown language {lang!r}") from None
    return normalized


def export(letter: Letter, fmt: str, lang: str, layout: str, out: BinaryIO,
           private: bool = False, public: bool = False) -> Document:
    """Write the letter's list to `out`; public=True (a file anyone may fetch) raises
    grouping.ListEmbargoed while the letter's embargo runs, before anything is written."""
    module = renderer(fmt)
    if layout not in LAYOUTS:
        raise UnknownLayout(f"unknown layout {layout!r}; choose press or submission")
    document = build(letter, check_lang(lang), layout, private, public)
    if public:
        _ = document.sections  # the embargo check, before a single byte is written
    if private:
        check_private_key(letter)
    try:
        module.render(document, out)
    except InvalidToken:  # some names sealed under another key than the one tried
        raise KeyMismatch() from None
    return document


def export_detail(fmt: str, layout: str, lang: str, private: bool, to: str = "") -> str:
    """The audit log's detail of an export, alike from the back office and the command line."""
    detail = f"format={fmt} layout={layout} lang={lang} private={int(private)}"
    return f"{detail} to={to}" if to else detail


def default_name(letter: Letter, fmt: str, lang: str, layout: str = PRESS,
                 private: bool = False) -> str:
    suffix = "-private" if private else ""
    return f"{letter.slug}-{layout}-{lang}{suffix}.{fmt}"


def export_to_path(letter: Letter, fmt: str, lang: str, layout: str, path: Path,
                   private: bool = False) -> Path:
    """Export into `path`, replacing it only once the whole file is written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            export(letter, fmt, lang, layout, out, private)
        # Private rows stay readable by their owner only.
        os.chmod(temporary, 0o600 if private else 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path

