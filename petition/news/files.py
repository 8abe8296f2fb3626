"""An update written as files: one Markdown file per language in a folder (`flask news send`).

`fr.md`, `en.md`…: the first line is the subject (a leading "# " dropped), the rest the
body. Anything else in the folder, or a language the letter has no text in, is refused
before anything is written, so a typo never sends half an update.
"""
from __future__ import annotations

import re
from pathlib import Path

from petition.models import Letter
from petition.news.updates import BODY_MAX, NewsError, Text

# A language code as letters store them: "fr", "pt_BR".
_FILE_NAME = re.compile(r"([a-z]{2,3}(?:_[A-Za-z0-9]{2,8})?)\.md")
# Bytes read per file at most: the body's limit in four-byte characters, and the subject.
_MAX_BYTES = BODY_MAX * 4 + 4096


def texts_from_dir(folder: Path, letter: Letter) -> dict[str, Text]:
    """The update in `folder`, by language; NewsError for a file that is not `<lang>.md`
    of one of the letter's languages, an unreadable or oversized one, or an empty folder.
    Hidden files (an editor's .swp) are ignored."""
    if not folder.is_dir():
        raise NewsError("%(folder)s is not a folder", folder=str(folder))
    texts: dict[str, Text] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        match = _FILE_NAME.fullmatch(path.name)
        if match is None or not path.is_file():
            raise NewsError("%(name)s: expected one file per language named like fr.md or "
                            "en.md, and nothing else", name=path.name)
        lang = match[1]
        if lang not in letter.languages:
            raise NewsError("%(name)s: the letter has no text in %(lang)s (its languages: "
                            "%(languages)s)", name=path.name, lang=lang,
                            languages=", ".join(letter.languages))
        texts[lang] = _read(path)
    if not texts:
        raise NewsError("%(folder)s holds no update: put one file per language in it, e.g. "
                        "fr.md, its first line the subject", folder=str(folder))
    return texts


def _read(path: Path) -> Text:
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_BYTES + 1)
        content = data.decode("utf-8-sig")
    except OSError as error:
        raise NewsError("%(name)s cannot be read: %(reason)s", name=path.name,
                        reason=error.strerror or str(error)) from None
    except UnicodeDecodeError:
        raise NewsError("%(name)s is not UTF-8 text", name=path.name) from None
    if len(data) > _MAX_BYTES:
        raise NewsError("%(name)s is too long", name=path.name)
    subject, _newline, body = content.replace("\r\n", "\n").partition("\n")
    subject = subject.strip()
    if subject.startswith("#"):
        subject = subject.lstrip("#").strip()
    return Text(subject=subject, body=body.strip())
