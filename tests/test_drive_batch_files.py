"""A batch's files: the PDF read back with poppler (pdftotext, pdffonts) — one letter from
the top of a page, the recipient's header, the Russian text, the signature, fonts embedded,
black only; the ZIP's entries and their encoding; the CSV manifest, its pages matching the
PDF's and a formula in a signature kept as text."""
from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pypdf
import pytest
from babel.dates import format_date

from petition.drive import batch_files, batches, review
from petition.drive.batches import BatchContents
from petition.drive.values import DriveError
from tests.conftest import skip_or_fail
from tests.drive_helpers import LETTER_EN, LETTER_RU, make_drive, written

SLUG = "letters-to-azat"
TRANSLATION = "Дорогой Азат!\n\nМы думаем о вас каждый день. Ваши студенты скучают по лекциям " \
              "по топологии.\n\nС тёплыми пожеланиями из Лиона."
PARAGRAPH = ("Дорогой Азат, сегодня в Париже шёл снег, и мы вспоминали ваши задачи о "
             "графах. Студенты семинара решили ещё три из них и передают вам привет. ")
# About four A4 pages of Russian, in paragraphs, with one word wider than a line.
LONG_RU = "\n\n".join([*((PARAGRAPH * 4).strip() for _ in range(12)), "а" * 120, "Обнимаем!"])
FORMULA = '=HYPERLINK("x";"Marie")'
MM = 72 / 25.4  # points


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        skip_or_fail(f"{tool} is not installed (Debian package poppler-utils)")
    assert path is not None
    return path


def _pdf_pages(data: bytes, folder: Path) -> list[str]:
    """The PDF's pages as pdftotext reads them, in order."""
    source = folder / "batch.pdf"
    source.write_bytes(data)
    text = subprocess.run([_poppler("pdftotext"), "-enc", "UTF-8", str(source), "-"],
                          check=True, capture_output=True).stdout.decode("utf-8")
    return text.split("\f")[:-1]  # every page ends with a form feed


def _words(text: str) -> str:
    return " ".join(text.split())


def _bare(text: str) -> str:
    """`text` without its spaces and line breaks: what stays however lines are wrapped."""
    return "".join(text.split())


def _lines(page: str) -> list[str]:
    """A page's non-empty lines; the last is its footer."""
    return [line.strip() for line in page.splitlines() if line.strip()]


def _batch() -> BatchContents:
    """Three letters: English (translated), long Russian, and one signed with a formula."""
    make_drive(body_max=10000)
    english = written(SLUG, email="marie@example.org", name="Marie Dupont")
    russian = written(SLUG, email="ivan@example.org", name="Иван Петров", country="DE",
                      letter_lang="ru", body=LONG_RU, lang="ru")
    formula = written(SLUG, email="eve@example.org", name=FORMULA, country="BE",
                      letter_lang="ru", body=LETTER_RU, lang="ru")
    for row in (english, russian, formula):
        review.approve(row.public_id)
    review.translate(english.public_id, TRANSLATION, actor="translator@example.org")
    batch = batches.create_batch(SLUG)
    return batches.contents(batch)


def test_pdf_one_letter_per_page_start_with_header_text_and_signature(app, tmp_path):
    contents = _batch()
    data, mimetype, name = batch_files.render(contents, "pdf")
    assert (mimetype, name) == ("application/pdf",
                                f"{SLUG}-batch-{contents.batch.public_id}.pdf")
    pages = _pdf_pages(data, tmp_path)
    counts = batch_files.page_counts(contents)
    assert counts[1] >= 3 and counts[0] == counts[2] == 1
    assert len(pages) == sum(counts) == len(pypdf.PdfReader(io.BytesIO(data)).pages)
    date = format_date(contents.batch.created_at.date(), "long", locale="ru")
    assert date.endswith("г.")  # the delivery language's way of writing a date

    start = 0
    for letter, count in zip(contents.letters, counts, strict=True):
        own = [_lines(page) for page in pages[start:start + count]]
        start += count
        # The recipient's header at the top of the letter's first page, then the date.
        assert own[0][:3] == ["Азат Мифтахов", "ФКУ СИЗО-1", "г. Москва"]
        assert _words(own[0][3]) == _words(date)  # "7 декабря 2026 г.", a narrow space in it
        # Each page numbered within its letter.
        assert [lines[-1] for lines in own] == [f"{number}/{count}"
                                                for number in range(1, count + 1)]
        # The text whole and in order across its pages (a word wider than the line is cut,
        # not lost), then the signature.
        printed = _bare(" ".join(line for lines in own for line in lines[:-1]))
        assert printed.endswith(_bare(letter.text) + _bare(letter.signature))
    # The English letter is printed in its translation, never the original.
    assert _words(TRANSLATION) in _words(pages[0])
    assert "Dear Azat" not in "".join(pages)


def test_pdf_fonts_embedded_black_only_no_personal_data_in_metadata(app, tmp_path):
    contents = _batch()
    data, _, _ = batch_files.render(contents, "pdf")
    source = tmp_path / "batch.pdf"
    source.write_bytes(data)
    fonts = subprocess.run([_poppler("pdffonts"), str(source)], check=True,
                           capture_output=True, text=True).stdout.splitlines()[2:]
    assert fonts and all("DejaVuSans" in line for line in fonts)
    for line in fonts:  # name type… encoding emb sub uni: embedded, as a subset
        assert line.split()[-5:-2] == ["yes", "yes", "yes"], line
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert reader.metadata.title == f"{SLUG}, batch {contents.batch.public_id}"
    metadata = repr(dict(reader.metadata))
    assert "Азат" not in metadata and "Marie" not in metadata and "Иван" not in metadata
    for page in reader.pages:
        stream = page.get_contents().get_data()
        operators = re.sub(rb"\((?:\\.|[^\\)])*\)", b"()", stream)  # the text strings out
        assert re.search(rb"\s(rg|RG|k|K|sc|scn|SC|SCN|cs|CS)\s", operators) is None
        # Every line inside the margins (25 mm left, 20 mm top and bottom), the page number
        # alone in the bottom margin, 10 mm from the edge (points from the bottom left).
        places = [(float(x), float(y)) for x, y in re.findall(rb"BT ([\d.]+) ([\d.]+) Td",
                                                              operators)]
        footer = [y for _, y in places if y < MM * 20]
        assert footer == [pytest.approx(MM * 10, abs=0.1)]
        assert all(MM * 25 - 0.1 <= x < MM * 190 and MM * 20 <= y <= 841.89 - MM * 20
                   for x, y in places if y >= MM * 20)
        assert page.mediabox.width == pytest.approx(595.28, abs=0.1)
        assert page.mediabox.height == pytest.approx(841.89, abs=0.1)
    # The same batch twice: the same bytes (no time of the download in the file).
    assert batch_files.render(contents, "pdf")[0] == data


def test_pdf_shows_what_the_font_lacks_as_a_replacement(app, tmp_path):
    contents = _batch()
    letter = contents.letters[2]
    odd = BatchContents(contents.batch, contents.drive, [
        batches.PrintedLetter(letter.public_id, "Ли 李", "CN", "zh", None, "Привет 你好 мир")])
    page = _pdf_pages(batch_files.render(odd, "pdf")[0], tmp_path)[0]
    assert "Привет \ufffd\ufffd мир" in page and "Ли \ufffd" in page


def test_pdf_without_fonts_is_a_clear_refusal(app, tmp_path):
    contents = _batch()
    app.config["PDF_FONT_DIR"] = str(tmp_path)
    with pytest.raises(DriveError, match="DejaVuSans.ttf.*fonts-dejavu-core"):
        batch_files.render(contents, "pdf")
    with pytest.raises(DriveError, match="fonts-dejavu-core"):
        batch_files.render(contents, "csv")  # its page counts come from the same fonts
    # The ZIP needs no font.
    assert batch_files.render(contents, "zip")[0].startswith(b"PK")


def test_zip_one_utf8_text_per_letter_in_batch_order(app):
    contents = _batch()
    data, mimetype, name = batch_files.render(contents, "zip")
    assert (mimetype, name) == ("application/zip",
                                f"{SLUG}-batch-{contents.batch.public_id}.zip")
    date = format_date(contents.batch.created_at.date(), "long", locale="ru")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert names == [f"{number:03d}-{letter.public_id}.txt"
                         for number, letter in enumerate(contents.letters, start=1)]
        texts = [archive.read(entry).decode("utf-8") for entry in names]  # strict UTF-8
    for text, letter in zip(texts, contents.letters, strict=True):
        assert not text.startswith("\ufeff")  # pasted into a form: no byte-order mark
        assert text == (f"Азат Мифтахов\nФКУ СИЗО-1\nг. Москва\n\n{date}\n\n{letter.text}\n\n"
                        f"{letter.signature}\n")
    assert TRANSLATION in texts[0] and LETTER_EN not in texts[0]
    assert LONG_RU in texts[1] and texts[2].endswith(FORMULA + "\n")
    assert batch_files.render(contents, "zip")[0] == data  # the same bytes again


def test_csv_manifest_pages_match_the_pdf_and_formulas_stay_text(app, tmp_path):
    contents = _batch()
    data, mimetype, name = batch_files.render(contents, "csv")
    assert mimetype == "text/csv; charset=utf-8" and name.endswith(".csv")
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, as the project's other CSVs
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["public_id", "signature", "country", "language", "translator",
                       "characters", "pages"]
    english, russian, formula = contents.letters
    assert rows[1][:6] == [english.public_id, "Marie Dupont", "FR", "en",
                           "translator@example.org", str(len(TRANSLATION))]
    assert rows[2][:6] == [russian.public_id, "Иван Петров", "DE", "ru", "", str(len(LONG_RU))]
    assert rows[3][1] == "'" + FORMULA  # never run as a formula by a spreadsheet
    # Pages as the PDF has them: count each letter's pages from its footers ("1/3" starts one).
    pages = _pdf_pages(batch_files.render(contents, "pdf")[0], tmp_path)
    footers = [_lines(page)[-1] for page in pages]
    from_pdf = [int(footer.split("/")[1]) for footer in footers if footer.startswith("1/")]
    assert [int(row[6]) for row in rows[1:]] == from_pdf
    assert from_pdf[1] >= 3


def test_an_unknown_format_is_refused(app):
    contents = _batch()
    with pytest.raises(DriveError, match="Unknown format docx; choose one of pdf, zip, csv"):
        batch_files.render(contents, "docx")
