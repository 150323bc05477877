"""Reading a CSV file in bounded memory, whatever the file holds.

Python's ``csv`` reads a file line by line, and a line has no length limit: a file with no
line break (a sparse or binary file, a wrong export) was read whole into memory. Here lines
are read with a limit, a row (with any line breaks inside quotes) has a limit, each line is
decoded on its own so an encoding fault is reported at its own line, and the csv module's
strict mode reports quoting faults instead of guessing. Every refusal names the file, the
line and the limit."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from iom.errors import UserError

#: Bytes in one line of a file, its line break included (a register row is a few hundred;
#: two 4,000-character reasons in four-byte characters are 32 KiB).
MAX_LINE_BYTES = 128 * 1024
#: Bytes in one row: a quoted field may span lines, but a row may not grow without end. No
#: more than the csv module's own field limit (131,072 characters), so this is met first.
MAX_ROW_BYTES = 128 * 1024


class CsvFault(UserError):
    """A line or row the reader refuses: ``line`` where, ``reason`` why, in words."""

    def __init__(self, name: str, line: int, reason: str) -> None:
        self.name, self.line, self.reason = name, line, reason
        super().__init__(f"{name} line {line}: {reason}")


class _Lines:
    """The file's lines, decoded one at a time, each within the limits (for ``csv.reader``)."""

    def __init__(self, binary: BinaryIO, name: str, max_line: int, max_row: int) -> None:
        self.binary, self.name, self.max_line, self.max_row = binary, name, max_line, max_row
        self.line = 0
        self.bytes_read = 0
        self.row_start = 1
        self.row_bytes = 0

    def start_row(self) -> None:
        self.row_start = self.line + 1
        self.row_bytes = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        data = self.binary.readline(self.max_line + 1)
        if not data:
            raise StopIteration
        self.line += 1
        self.bytes_read += len(data)
        if len(data) > self.max_line:
            raise CsvFault(self.name, self.line, f"longer than {self.max_line:,} bytes, the most a line may hold "
                           "(is this a CSV file?)")
        self.row_bytes += len(data)
        if self.row_bytes > self.max_row:
            raise CsvFault(self.name, self.row_start, f"the row starting here is longer than {self.max_row:,} bytes, "
                           "the most a row may hold (a quote not closed?)")
        if self.line == 1:
            data = data.removeprefix(codecs.BOM_UTF8)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CsvFault(self.name, self.line, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at byte {exc.start + 1} "
                           f"of the line: {exc.reason}); save the file as UTF-8") from None


class CsvReader:
    """Rows of a CSV file (lists of strings), read within the limits. ``line`` is the line
    the last row ended on, ``bytes_read`` how far into the file reading has got."""

    def __init__(self, binary: BinaryIO, name: str, *, max_line: int = MAX_LINE_BYTES,
                 max_row: int = MAX_ROW_BYTES) -> None:
        self._lines = _Lines(binary, name, max_line, max_row)
        self._reader = csv.reader(self._lines, strict=True)
        self.name = name

    @property
    def line(self) -> int:
        return self._lines.line

    @property
    def bytes_read(self) -> int:
        return self._lines.bytes_read

    def __iter__(self) -> Iterator[list[str]]:
        while True:
            self._lines.start_row()
            try:
                yield next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "unexpected end of data" in str(exc):
                    raise CsvFault(self.name, self._lines.row_start,
                                   "a quoted field opened in this row is never closed") from None
                if "field larger than field limit" in str(exc):
                    raise CsvFault(self.name, self._lines.row_start, f"a field in the row starting here is longer "
                                   f"than {csv.field_size_limit():,} characters, the most a field may hold") from None
                if "new-line character seen in unquoted field" in str(exc):
                    raise CsvFault(self.name, self.line, "a line break of a carriage return alone (old Mac files): "
                                   "save the file with LF or CRLF line breaks") from None
                raise CsvFault(self.name, self.line, f"malformed CSV: {exc}") from None


def open_csv(path: Path | str, **limits: int) -> tuple[BinaryIO, CsvReader]:
    """``path`` opened for reading (close the file) and its rows; ``limits`` as ``CsvReader``."""
    binary = Path(path).open("rb")
    return binary, CsvReader(binary, str(path), **limits)


def text_lines(path: Path | str, *, max_line: int = MAX_LINE_BYTES) -> Iterator[str]:
    """The lines of a text file, decoded, without their line breaks, each within ``max_line``
    bytes (a list of ids, one a line)."""
    with Path(path).open("rb") as binary:
        lines = _Lines(binary, str(path), max_line, max_line)
        for line in lines:
            lines.start_row()
            yield line.rstrip("\r\n")


def check_csv(path: Path | str, **limits: int) -> int:
    """Read the whole file within the limits (for readers that load it whole, such as
    pandas, which would otherwise take any line whole); the number of rows, header included."""
    binary, reader = open_csv(path, **limits)
    with binary:
        return sum(1 for _ in reader)
