"""What an import tells about its file: each problem with its place (row, column, cell), the
report of what was (or would be) imported, and the refusals. importing.py fills them,
import_files.py reads the file; the CLI and the back office show them.
"""
from __future__ import annotations

from dataclasses import dataclass, field


def N_(message: str) -> str:
    """Mark a message for translation: the CLI prints it in English, the back office
    translates it when it shows it (pybabel finds it by this name)."""
    return message


HEADER_ROW = 1  # rows count as a spreadsheet counts them: the header is row 1


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
