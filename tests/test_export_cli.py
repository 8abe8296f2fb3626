"""`flask export` and GET /letters/<slug>/signatories.<fmt>."""
from __future__ import annotations

import io
import json
from pathlib import Path

import docx
import pytest

from petition.exporting.formats import FORMATS
from petition.models import DRAFT

from .export_helpers import FRENCH_PRESS, sample_letter
from .factories import make_letter, make_signature


def test_export_writes_into_export_dir_and_prints_the_path(app, runner):
    sample_letter()
    result = runner.invoke(args=["export", "appeal", "--format", "txt", "--lang", "fr"])
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    assert path == Path(app.config["EXPORT_DIR"]) / "appeal-press-fr.txt"
    assert path.read_text(encoding="utf-8") == FRENCH_PRESS
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temporary left


def test_private_export_is_named_so_and_readable_by_its_owner_only(app, runner):
    sample_letter()
    result = runner.invoke(args=["export", "appeal", "--format", "csv", "--private"])
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    assert path.name == "appeal-press-fr-private.csv"
    assert path.stat().st_mode & 0o077 == 0
    assert "Anne Secret" in path.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_from_the_command(app, runner, fmt, tmp_path):
    sample_letter()
    target = tmp_path / f"list.{fmt}"
    result = runner.invoke(args=["export", "appeal", "--format", fmt, "--lang", "fr",
                                 "--layout", "submission", "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(target)
    assert target.stat().st_size > 100


def test_export_to_stdout(app, runner):
    sample_letter()
    result = runner.invoke(args=["export", "appeal", "--format", "json", "--lang", "ru",
                                 "--out", "-"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout_bytes)["sections"][0]["groups"][0]["label"] == "Германия"
    result = runner.invoke(args=["export", "appeal", "--format", "docx", "--out", "-"])
    paragraphs = docx.Document(io.BytesIO(result.stdout_bytes)).paragraphs
    assert paragraphs[1].text == "Allemagne"  # the letter's language when --lang is left out


def test_export_refusals(app, runner):
    make_letter()
    result = runner.invoke(args=["export", "nope", "--format", "txt", "--lang", "fr"])
    assert result.exit_code != 0 and "no letter with slug 'nope'" in result.output
    result = runner.invoke(args=["export", "appeal", "--format", "rtf", "--lang", "fr"])
    assert result.exit_code != 0 and "rtf" in result.output
    result = runner.invoke(args=["export", "appeal", "--format", "txt", "--lang", "xx-nowhere"])
    assert result.exit_code != 0 and "unknown language" in result.output


def test_public_press_list(app, client):
    letter = sample_letter()
    response = client.get("/letters/appeal/signatories.txt?lang=fr")
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.get_data(as_text=True) == FRENCH_PRESS
    assert response.headers["Content-Language"] == "fr"
    response = client.get("/letters/appeal/signatories.html?lang=ru")
    assert (response.mimetype == "text/html"
            and "<h3>Германия</h3>" in response.get_data(as_text=True))
    # A new visitor (no language cookie yet): the browser's language.
    response = app.test_client().get("/letters/appeal/signatories.md",
                                     headers={"Accept-Language": "en"})
    assert response.mimetype == "text/markdown" and "### Germany" in response.get_data(as_text=True)
    make_signature(letter, country="DE", name="Neue Gruppe")
    assert "Neue Gruppe" in client.get("/letters/appeal/signatories.txt").get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/letters/appeal/signatories.csv", "/letters/appeal/signatories.xlsx",
    "/letters/appeal/signatories.docx", "/letters/appeal/signatories.json",
    "/letters/appeal/signatories.exe", "/letters/nope/signatories.txt",
    "/letters/draft/signatories.txt",
])
def test_public_press_list_refusals(app, client, path):
    make_letter()
    make_letter("draft", status=DRAFT)
    assert client.get(path).status_code == 404
