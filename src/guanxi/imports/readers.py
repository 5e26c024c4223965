"""Reading an import file as a header and batches of rows of text.

- CSV in UTF-8 (with or without a BOM), UTF-16 with a BOM, or GB18030 (the superset of GBK that
  Chinese Excel writes when it saves "CSV"): the encoding is detected from the first megabytes, the
  delimiter (comma, tab, semicolon, bar) from the header line. Read with the csv module in batches.
- XLSX streamed with openpyxl (``read_only``): the first sheet, cells turned into text the way the
  CSV of the same sheet would have them (dates as ISO dates, whole numbers without ``.0``).

Rows are numbered as a spreadsheet shows them: the header is row 1 when it is the first line.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import itertools
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext as _

from guanxi.core.errors import ValidationFailed

SAMPLE = 4 << 20
csv.field_size_limit(16 << 20)


def _fail(message: str):
    raise ValidationFailed({"file": [message]})


def detect_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        _fail(_("The file is neither UTF-8 nor GBK text: save it as CSV (UTF-8) or XLSX."))


def _delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


class Table:
    """An open file: ``headers``, then ``batches(n)`` of (first row number, rows)."""

    format = ""
    encoding = ""
    headers: list[str]
    header_row = 1
    total_rows: int | None = None

    def batches(self, size: int) -> Iterator[tuple[int, list[list[str]]]]:  # pragma: no cover
        raise NotImplementedError

    def fraction(self) -> float:  # pragma: no cover
        return 0.0

    def close(self) -> None:  # pragma: no cover
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class CsvTable(Table):
    format = "csv"

    def __init__(self, path: Path):
        self.size = max(1, path.stat().st_size)
        self.raw = open(path, "rb")  # noqa: SIM115 (closed by close())
        try:
            self.encoding = detect_encoding(self.raw.read(SAMPLE))
            self.raw.seek(0)
            self.text = io.TextIOWrapper(self.raw, encoding=self.encoding, newline="")
            first = self.text.readline()
            self.header_row = 1
            while first and not first.strip():
                first = self.text.readline()
                self.header_row += 1
            self.delimiter = _delimiter(first)
            self.headers = [h.strip() for h in next(csv.reader([first], delimiter=self.delimiter), [])]
            if self.headers and self.headers[0].startswith("\ufeff"):
                self.headers[0] = self.headers[0][1:]
            if not any(self.headers):
                _fail(_("The file is empty: the first row should name the columns."))
            self.reader = csv.reader(self.text, delimiter=self.delimiter)
        except UnicodeDecodeError:
            self.close()
            _fail(_("The file is neither UTF-8 nor GBK text: save it as CSV (UTF-8) or XLSX."))
        except Exception:
            self.close()
            raise

    def batches(self, size: int) -> Iterator[tuple[int, list[list[str]]]]:
        rn = self.header_row + 1
        reader = self.reader
        try:
            while True:
                batch = list(itertools.islice(reader, size))
                if not batch:
                    return
                yield rn, batch
                rn += len(batch)
        except UnicodeDecodeError:
            _fail(
                _("Row %(row)s is not in the file's encoding (%(encoding)s): save the file again as UTF-8.")
                % {"row": rn, "encoding": self.encoding}
            )
        except csv.Error as e:
            _fail(_("The file is not valid CSV near row %(row)s: %(error)s") % {"row": rn, "error": e})

    def fraction(self) -> float:
        try:
            return min(1.0, self.raw.tell() / self.size)
        except (OSError, ValueError):
            return 0.0

    def close(self) -> None:
        self.raw.close()


class XlsxTable(Table):
    format = "xlsx"

    def __init__(self, path: Path):
        import openpyxl

        try:
            self.book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception:
            _fail(_("This is not an Excel workbook (.xlsx) that can be read."))
        sheet = self.book.worksheets[0]
        self.rows = sheet.iter_rows(values_only=True)
        self.header_row = 1
        self.done = 0
        for values in self.rows:
            if any(v not in (None, "") for v in values):
                break
            self.header_row += 1
        else:
            self.book.close()
            _fail(_("The file is empty: the first row should name the columns."))
        self.headers = [cell_text(v).strip() for v in values]
        while self.headers and not self.headers[-1]:
            self.headers.pop()
        try:
            self.total_rows = max(0, (sheet.max_row or 0) - self.header_row) or None
        except Exception:
            self.total_rows = None

    def batches(self, size: int) -> Iterator[tuple[int, list[list[str]]]]:
        rn = self.header_row + 1
        width = len(self.headers)
        while True:
            chunk = list(itertools.islice(self.rows, size))
            if not chunk:
                return
            batch = [[cell_text(v) for v in values[:width]] for values in chunk]
            self.done += len(batch)
            yield rn, batch
            rn += len(batch)

    def fraction(self) -> float:
        return min(1.0, self.done / self.total_rows) if self.total_rows else 0.0

    def close(self) -> None:
        self.book.close()


def open_table(path: Path | str, name: str | None = None) -> Table:
    """Open a CSV or XLSX file (by its name's extension, else by its first bytes)."""
    path = Path(path)
    suffix = Path(name or path.name).suffix.lower()
    with open(path, "rb") as f:
        magic = f.read(4)
    if suffix in (".xlsx", ".xlsm") or (suffix not in (".csv", ".txt", ".tsv") and magic == b"PK\x03\x04"):
        return XlsxTable(path)
    if suffix == ".xls" or magic == b"\xd0\xcf\x11\xe0":
        _fail(_("Old Excel files (.xls) cannot be read: save the sheet as .xlsx or CSV."))
    return CsvTable(path)


def preview(path: Path | str, name: str | None = None, rows: int = 10) -> tuple[list[str], list[list[str]]]:
    """The header and the first ``rows`` rows (for the mapping page)."""
    with open_table(path, name) as table:
        first: list[list[str]] = []
        for _rn, batch in table.batches(rows):
            first = batch
            break
        return table.headers, first
