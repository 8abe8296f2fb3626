"""txt, md, html and json exports: layouts, localisation, digest, and names that stay text."""
from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from petition.exporting.formats import UnknownFormat, UnknownLanguage, UnknownLayout
from petition.models import INDIVIDUAL

from .export_helpers import FRENCH_PRESS, exported, sample_letter
from .factories import make_letter, make_signature

NASTY = [
    "<script>alert(1)</script>",
    "**Bold** _it_ [link](javascript:x) `code` &amp; \\ | ~ $",
    "# Heading?",
    "1. Not a list",
    "- not an item",
    "> not a quote",
    "=HYPERLINK(\"http://evil\")",
]


def test_txt_press_is_the_press_layout(app):
    assert exported(sample_letter(), "txt").decode("utf-8") == FRENCH_PRESS


def test_txt_press_in_russian_with_plural_forms(app):
    letter = make_letter(lang="ru")
    for count, country in ((1, "DE"), (3, "FR"), (5, "IT"), (21, "ES")):
        for _ in range(count):
            make_signature(letter, country=country, signer_type=INDIVIDUAL, display="anonymous")
    make_signature(letter, country="IT", name="Мария Иванова", signer_type=INDIVIDUAL)
    lines = exported(letter, "txt", "ru").decode().splitlines()
    assert lines == [
        "Германия", "1 подписант", "",
        "Испания", "21 подписант", "",
        "Италия", "Мария Иванова", "и ещё 5 подписантов", "",
        "Франция", "3 подписанта",
    ]


def test_english_unlisted_line(app):
    letter = make_letter(lang="en")
    make_signature(letter, country="GB", name="Ann Lee", signer_type=INDIVIDUAL)
    for _ in range(3):
        make_signature(letter, country="GB", signer_type=INDIVIDUAL, display="anonymous")
    assert exported(letter, "txt", "en").decode().splitlines() == [
        "United Kingdom", "Ann Lee", "and 3 other signatories",
    ]


def test_submission_layout(app):
    letter = sample_letter()
    content = exported(letter, "txt", layout="submission").decode()
    digest = hashlib.sha256(FRENCH_PRESS.encode()).hexdigest()
    assert hashlib.sha256(exported(letter, "txt")).hexdigest() == digest  # anyone can check it
    head, _, rest = content.partition("ORGANISATIONS (6)")
    assert head == (
        "Libérez le mathématicien\n\nNous demandons sa libération.\n\nSans délai.\n\n"
        "Paris, le 21 mai 2026\n\n"
    )
    assert "\nAllemagne (2)\nBAG Russischsprachige Linke\nCampagne #FREE120\n" in rest
    assert "\nSIGNATAIRES INDIVIDUELS (3)\n\nFrance (3)\n" in rest
    tail = rest.splitlines()[-3:]
    assert tail[0] == "Total : 9 signataires"
    assert re.fullmatch(r"Liste exportée le \d+(?:er)? \w+ 20\d\d, \d\d:\d\d:\d\d TU\.", tail[1])
    assert tail[2] == f"Empreinte SHA-256 de la liste : {digest}"


def test_digest_tells_whether_two_lists_differ(app):
    letter = sample_letter()
    first = exported(letter, "json", layout="submission")
    again = exported(letter, "json", layout="submission")
    assert json.loads(first)["sha256"] == json.loads(again)["sha256"]
    make_signature(letter, country="DE", name="Neue Gruppe")
    assert (json.loads(exported(letter, "json", layout="submission"))["sha256"]
            != json.loads(first)["sha256"])


def _markdown_texts(source: str) -> list[tuple[str, str]]:
    """(block type, plain text) as a Markdown renderer sees the source."""
    tokens = MarkdownIt("commonmark").parse(source)
    blocks = []
    for index, token in enumerate(tokens):
        if token.type == "inline":
            opener = tokens[index - 1].type
            plain = "".join(
                child.content for child in token.children
                if child.type in ("text", "code_inline", "html_inline")
            )
            raw = [c.type for c in token.children if c.type not in ("text", "softbreak")]
            blocks.append((opener, plain, raw))
    return blocks


def test_markdown_headings_lists_and_escaped_names(app):
    letter = make_letter()
    for name in NASTY:
        make_signature(letter, country="DE", name=name)
    make_signature(letter, country="FR", name="Comité")
    source = exported(letter, "md").decode()
    assert source.startswith("### Allemagne\n\n- ")
    blocks = _markdown_texts(source)
    headings = [text for kind, text, _ in blocks if kind == "heading_open"]
    items = [text for kind, text, _ in blocks if kind == "paragraph_open"]
    assert headings == ["Allemagne", "France"]
    assert sorted(items) == sorted(NASTY + ["Comité"])  # rendered back to exactly the names
    assert all(raw == [] for _, _, raw in blocks)  # no emphasis, link, code or HTML came through


def test_html_escapes_and_keeps_order(app):
    letter = sample_letter()
    for name in NASTY:
        make_signature(letter, country="FR", name=name)
    page = exported(letter, "html").decode()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    class Collect(HTMLParser):
        def __init__(self):
            super().__init__()
            self.items, self.tag = [], None

        def handle_starttag(self, tag, attrs):
            self.tag = tag

        def handle_data(self, data):
            if self.tag in ("h2", "h3", "li", "p") and data.strip():
                self.items.append((self.tag, data))

    parser = Collect()
    parser.feed(page)
    assert parser.items[:4] == [
        ("h2", "Organisations"), ("h3", "Allemagne"), ("li", "BAG Russischsprachige Linke"),
        ("li", "Campagne #FREE120"),
    ]
    assert ("li", "<script>alert(1)</script>") in parser.items
    assert parser.items[-1] == ("p", "et 1 autre signataire")
    assert page.startswith('<!DOCTYPE html>\n<html lang="fr">')


def test_json_structure(app):
    data = json.loads(exported(sample_letter(), "json"))
    assert data["total"] == 9 and data["layout"] == "press" and "sha256" not in data
    organisations, individuals = data["sections"]
    assert [g["label"] for g in organisations["groups"]] == [
        "Allemagne", "Égypte", "Etat espagnol", "Europe", "International",
    ]
    assert individuals["groups"][0] == {
        "code": "FR", "label": "France", "count": 3, "names": ["Émile Zola, écrivain", "J.-P. S."],
        "unlisted": 1,
    }
    assert "Anne Secret" not in json.dumps(data) and "@" not in json.dumps(data)


def test_refusals(app):
    letter = make_letter()
    with pytest.raises(UnknownFormat):
        exported(letter, "rtf")
    with pytest.raises(UnknownLayout):
        exported(letter, "txt", layout="poster")
    with pytest.raises(UnknownLanguage):
        exported(letter, "txt", lang="xx-nowhere")


def test_empty_letter_exports_an_empty_list(app):
    letter = make_letter()
    assert exported(letter, "txt") == b""
    assert "Total : 0 signataire" in exported(letter, "txt", layout="submission").decode()
