"""The text encoding of a delimited file, and where its bad bytes are.

What the CSV/TSV reader accepts (the README's "Text encodings" says the same):

- **UTF-8**, with or without a byte order mark (the mark is dropped). A file with UTF-8
  characters and also bytes that are not UTF-8 is damaged UTF-8: it is rejected at the row
  and column of the first bad byte, never guessed as another encoding.
- **UTF-16 and UTF-32 with a byte order mark**: transcoded to UTF-8; an invalid sequence is
  an error.
- **A legacy 8-bit encoding** (a file with no UTF-8 character at all): Windows-1252 when it
  reads plausibly, else the encoding charset_normalizer detects; transcoded strictly, so a
  byte the encoding does not define is an error.
- **NUL characters** are never data: a NUL anywhere is rejected at its row and column.

>>> scan = Scan("cases.csv")
>>> scan.feed(b"id,name\\nP1,M\\xc3\\xbcller\\nP2,M\\xfcller\\n")
>>> scan.done()
'damaged'
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

from harmonize.errors import ReadError
from harmonize.readers.limits import Guard

HEAD_BYTES = 64 * 1024  # what delimiter detection looks at
SCAN_BYTES = 1 << 20  # chunk size when checking that a whole file is UTF-8
MAX_LEGACY_MESS = 0.2  # charset_normalizer mess ratio above which Windows-1252 is rejected
UTF8_HINT = "save the file as UTF-8 (or name its encoding in the submission profile)"
# a well-formed multi-byte UTF-8 character: a file holding one was meant to be UTF-8
_UTF8_CHAR = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_SURROGATE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class Detected:
    """What a whole-file scan found.

    ``encoding`` is a Python codec name. ``nul`` says whether the raw bytes hold a NUL
    (``None``: not known, the encoding is not ASCII-compatible; check the decoded text).
    ``damaged`` says the file is UTF-8 with bytes that are not.
    """

    encoding: str
    nul: bool | None
    damaged: bool = False


def ascii_compatible(encoding: str) -> bool:
    """Whether ``encoding`` writes ASCII (and NUL) as single bytes of the same value.

    >>> ascii_compatible("cp1252"), ascii_compatible("utf-8-sig"), ascii_compatible("utf-16")
    (True, True, False)
    """
    try:
        return "\x00a,\n".encode(encoding).removeprefix(codecs.BOM_UTF8) == b"\x00a,\n"
    except (UnicodeError, LookupError):
        return False


class Scan:
    """Checks a file chunk by chunk: is it UTF-8, does it hold NUL bytes."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.offset = 0
        self.bad_at: int | None = None
        self.nul = False
        self.utf8_chars = False
        self.tail = b""

    def feed(self, chunk: bytes) -> None:
        self.nul = self.nul or b"\x00" in chunk
        if self.bad_at is None:
            try:
                self.decoder.decode(chunk)
            except UnicodeDecodeError as err:
                self.bad_at = self.offset + err.start
            else:
                # a chunk that decoded and holds a non-ASCII byte holds a UTF-8 character
                self.utf8_chars = self.utf8_chars or not chunk.isascii()
        if self.bad_at is not None and not self.utf8_chars:
            self.utf8_chars = _UTF8_CHAR.search(self.tail + chunk) is not None
        self.tail = chunk[-3:]
        self.offset += len(chunk)

    def done(self) -> str | None:
        """``None`` if the whole file was UTF-8, else why not (``"legacy"`` or ``"damaged"``)."""
        if self.bad_at is None:
            try:
                self.decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.bad_at = self.offset
        if self.bad_at is None:
            return None
        return "damaged" if self.utf8_chars else "legacy"


def detect(path: Path, guard: Guard) -> Detected:
    """The file's text encoding, as a Python codec name, with what the scan saw.

    A UTF-16/32 byte order mark decides; otherwise the whole file is checked to be UTF-8 (in
    chunks, so memory stays bounded). If it is not and holds no UTF-8 character at all,
    Windows-1252 is preferred when it decodes the text plausibly, else charset_normalizer's
    best guess.
    """
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            return Detected("utf-32", None)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return Detected("utf-16", None)
        bom = head.startswith(codecs.BOM_UTF8)
        fh.seek(0)
        scan = Scan(guard.label)
        while chunk := fh.read(SCAN_BYTES):
            guard.tick()
            scan.feed(chunk)
        verdict = scan.done()
        if verdict is None:
            return Detected("utf-8-sig" if bom else "utf-8", scan.nul)
        if verdict == "damaged":
            return Detected("utf-8-sig" if bom else "utf-8", scan.nul, damaged=True)
        assert scan.bad_at is not None
        sample = head
        if scan.bad_at >= len(head):
            fh.seek(max(0, scan.bad_at - HEAD_BYTES // 2))
            sample += b"\n" + fh.read(HEAD_BYTES)
    try:
        encoding = _guess_legacy(sample, guard.label)
    except ReadError:
        if not scan.nul:
            raise
        encoding = "latin-1"  # NULs read as binary: latin-1 decodes any byte, to point at one
    return Detected(encoding, scan.nul if ascii_compatible(encoding) else None)


def has_nul(path: Path, guard: Guard) -> bool:
    """Whether the raw bytes hold a NUL (for an ASCII-compatible encoding named up front)."""
    with path.open("rb") as fh:
        while chunk := fh.read(SCAN_BYTES):
            guard.tick()
            if b"\x00" in chunk:
                return True
    return False


def _guess_legacy(sample: bytes, label: str) -> str:
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        pass
    else:
        if mess_ratio(text, MAX_LEGACY_MESS) < MAX_LEGACY_MESS:
            return "cp1252"
    best = from_bytes(sample).best()
    if best is None:
        raise ReadError("cannot tell the file's text encoding", file=label, hint=UTF8_HINT)
    return str(best.encoding)


def shown(value: str) -> str:
    """A cell with NULs and undecodable bytes written out, safe for a JSON report.

    >>> shown("a\\x00b"), shown("M\\udce9ller")
    ('a\\\\x00b', 'M\\\\xe9ller')
    """
    value = value.replace("\x00", "\\x00")
    return _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", value)


def locate(
    path: Path,
    encoding: str,
    delimiter: str,
    bad: Callable[[str], bool],
    guard: Guard,
) -> tuple[int, int, str, list[str]] | None:
    """The first cell ``bad`` says yes to: ``(row, column index, cell, first record)``.

    Reads the file again with the csv module (which numbers records as pyarrow does),
    keeping undecodable bytes as lone surrogates. ``None`` when no cell is found (or the
    file is too malformed for the csv module to say).
    """
    first: list[str] = []
    try:
        with path.open(encoding=encoding, errors="surrogateescape", newline="") as fh:
            for number, record in enumerate(csv.reader(fh, delimiter=delimiter), start=1):
                if number % 1024 == 0:
                    guard.tick()
                if number == 1:
                    first = record
                for index, cell in enumerate(record):
                    if bad(cell):
                        return number, index, cell, first
    except (csv.Error, UnicodeError):
        return None
    return None


def is_damaged(cell: str) -> bool:
    return _SURROGATE.search(cell) is not None


def is_nul(cell: str) -> bool:
    return "\x00" in cell
