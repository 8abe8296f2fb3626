"""The export use case: a letter's list in one format, language and layout, to a stream or file."""
from __future__ import annotations

import importlib
import os
import tempfile
from pathlib import Path
from types import ModuleType
from typing import BinaryIO

from babel import Locale, UnknownLocaleError

from petition.exporting.document import LAYOUTS, PRESS, Document, build
from petition.models import Letter

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
    module.render(document, out)
    return document


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

