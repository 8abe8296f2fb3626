"""An import's file read and its problems told: rows of text from a CSV or XLSX file, bounded
in size, and the report that lists what is wrong with them (importing.py checks the rows).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path


def N_(message: str) -> str:
    """Mark a message for translation: the CLI prints it in English, the back office
    translates it when it shows it (pybabel finds it by this name)."""
    return message


HEADER_ROW = 1  # rows count as a spreadsheet counts them: the header is row 1
MAX_ROWS = 100_000  # more is a mistake or a bomb (a small XLSX can hold millions of rows)


@dataclass
class Problem:
    """One thing wrong with (or skipped in) a file: where, and why.

    `message` is English with %(name)s placeholders filled from `params`. `row` is None for
    the file as a whole; `column` is the field (name, country...) or None for the whole row,
    `heading` and `index` what the file calls that column and where it is.
    """

    row: int | None
    column: str | None
    message: str
    params: dict[str, object] = field(default_factory=dict)
    heading: str = ""
    index: int | None = None
    source: str = ""  # the file's name, for problems with the file as a whole

    @property
    def reason(self) -> str:
        return self.message % self.params if self.params else self.message

    @property
    def cell(self) -> str:
        """The spreadsheet's name of the cell, e.g. "C9" (empty when there is none)."""
        if self.row is None or self.index is None:
            return ""
        return column_letter(self.index) + str(self.row)

    def __str__(self) -> str:
        if self.row is None:
            place = self.column or self.source or "file"  # an option (provenance), or the file
        elif self.column is None:
            place = "header" if self.row == HEADER_ROW else f"row {self.row}"
        else:
            place = f"row {self.row}, column {self.column}"
        return f"{place}: {self.reason}"


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass
class ImportReport:
    """What an import did, or would do in a dry run (`imported` is then what it would add)."""

    rows: int = 0
    imported: int = 0
    issues: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)  # duplicates, left out
    ignored_columns: list[str] = field(default_factory=list)
    by_country: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    provenance: str | None = None

    @property
    def problems(self) -> list[str]:
        return [str(problem) for problem in self.issues]

    @property
    def duplicates(self) -> list[str]:
        return [str(duplicate) for duplicate in self.skipped]


class ImportFailed(Exception):
    """The file cannot be imported; `issues` lists every reason (nothing was written)."""

    def __init__(self, issues: list[Problem], report: ImportReport | None = None) -> None:
        self.issues = issues
        self.problems = [str(problem) for problem in issues]
        self.report = report
        super().__init__("\n".join(self.problems))


class ImportChanged(Exception):
    """The list changed between the check and the import: it would now add `report.imported`
    signatures, not the number confirmed. Nothing was written; `report` is the new check."""

    def __init__(self, report: ImportReport, expected: int) -> None:
        self.report = report
        self.expected = expected
        super().__init__(f"{report.imported} would now be imported, not {expected}")


def read_table(path: Path, encoding: str = "utf-8-sig") -> list[list[str]]:
    """The file's rows as lists of strings (CSV of any common delimiter, or XLSX)."""
    return read_data(path.read_bytes(), path.suffix, encoding)


def read_data(data: bytes, suffix: str, encoding: str = "utf-8-sig") -> list[list[str]]:
    """As read_table, from the bytes of a file whose name ends with `suffix` (an upload)."""
    if suffix.lower() in (".xlsx", ".xlsm"):
        return _read_workbook(data)
    try:
        content = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise ImportFailed([Problem(None, None, N_(
            "not %(encoding)s text (byte %(byte)s); save it as 'CSV UTF-8' or choose its "
            "encoding (--encoding)"), {"encoding": encoding, "byte": error.start})]) from None
    except LookupError:
        raise ImportFailed([Problem(None, None, N_("unknown encoding %(encoding)s"),
                                    {"encoding": encoding})]) from None
    try:
        dialect = csv.Sniffer().sniff(content[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = []
    try:
        for row in csv.reader(io.StringIO(content, newline=""), dialect):
            rows.append(row)
            _check_size(rows)
    except csv.Error as error:
        raise ImportFailed([Problem(None, None, N_("not a CSV file we can read (%(error)s)"),
                                    {"error": str(error)})]) from None
    return rows


def _read_workbook(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises a zoo of errors (zip, XML, KeyError) for a bad file
        raise ImportFailed([Problem(None, None, N_("not an XLSX workbook we can read"))]) from None
    try:
        rows: list[list[str]] = []
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            rows.append(["" if value is None else str(value) for value in row])
            _check_size(rows)
        return rows
    finally:
        workbook.close()


def _check_size(rows: list) -> None:
    if len(rows) > MAX_ROWS + 1:
        raise ImportFailed([Problem(None, None, N_("more than %(max)s rows; split the file"),
                                    {"max": MAX_ROWS})])
