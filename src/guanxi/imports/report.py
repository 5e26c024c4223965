"""The error report of an import: one line per problem (row, column, value, problem), written to a
CSV file as the problems are found (a file with a million bad rows must not fill the memory), the
first few kept for the result page. Excel opens the CSV in Chinese because it starts with a BOM."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from django.utils.translation import gettext as _

KEEP = 200


def report_header() -> list[str]:
    return [_("Row"), _("Column"), _("Value"), _("Problem")]


class Report:
    def __init__(self, path: Path | None = None):
        self.path = path
        self.file = open(path, "w", encoding="utf-8-sig", newline="") if path else None  # noqa: SIM115
        self.writer = csv.writer(self.file) if self.file else None
        if self.writer:
            self.writer.writerow(report_header())
        self.first: list[tuple[int, str, str, str]] = []
        self.rows: set[int] = set()
        self.count = 0

    def add(self, row: int, column: str, value: object, problem: object) -> None:
        value = "" if value is None else str(value)
        if len(value) > 200:
            value = value[:200] + "…"
        item = (row, str(column or ""), value, str(problem))
        self.count += 1
        self.rows.add(row)
        if len(self.first) < KEEP:
            self.first.append(item)
        if self.writer:
            self.writer.writerow(item)

    @property
    def bad_rows(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return self.count > 0

    def close(self) -> None:
        if self.file:
            self.file.close()
            self.file = None


def read_report(path: Path, offset: int = 0, limit: int | None = None) -> tuple[list[dict], int]:
    """Items of a stored report (for the API and the result page) and how many there are."""
    items: list[dict] = []
    total = 0
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        next(reader, None)
        for row in reader:
            if len(row) < 4:
                continue
            if total >= offset and (limit is None or len(items) < limit):
                items.append({"row": int(row[0]), "column": row[1], "value": row[2], "problem": row[3]})
            total += 1
    return items, total


def report_as_xlsx(path: Path) -> bytes:
    """The stored CSV report as an Excel workbook (up to Excel's row limit)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(_("Errors"))
    with open(path, encoding="utf-8-sig", newline="") as f:
        for i, row in enumerate(csv.reader(f)):
            if i >= 1_048_575:
                break
            if i > 0 and row:
                row = [int(row[0]), *row[1:]]
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
