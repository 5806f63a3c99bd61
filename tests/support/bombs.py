"""Hostile workbooks built in the test itself: small on disk, huge when inflated.

:func:`workbook` writes a minimal valid .xlsx by hand (content types, relationships, the
workbook, one sheet per name, optionally shared strings). A member may be given as a
:class:`Repeated` deflate stream: a chunk compressed once after a full flush is byte for
byte the same every time, so a gigabyte of XML costs a few megabytes and no time to build.
``declared`` makes the zip directory lie about a member's inflated size.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
STRINGS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
BOOK_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
SHEET_REL = f"{REL}/worksheet"
STRINGS_REL = f"{REL}/sharedStrings"


@dataclass
class Repeated:
    """``prefix + chunk * times + suffix``, deflated without ever building it."""

    prefix: bytes
    chunk: bytes
    times: int
    suffix: bytes

    @property
    def size(self) -> int:
        return len(self.prefix) + len(self.chunk) * self.times + len(self.suffix)

    def deflate(self) -> tuple[bytes, int]:
        """The raw deflate stream and the CRC-32 of what it inflates to."""
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        head = c.compress(self.prefix) + c.flush(zlib.Z_FULL_FLUSH)
        block = c.compress(self.chunk) + c.flush(zlib.Z_FULL_FLUSH)
        again = c.compress(self.chunk) + c.flush(zlib.Z_FULL_FLUSH)
        assert block == again, "a full flush did not make the blocks independent"
        tail = c.compress(self.suffix) + c.flush()
        crc = zlib.crc32(self.prefix)
        for _ in range(self.times):
            crc = zlib.crc32(self.chunk, crc)
        crc = zlib.crc32(self.suffix, crc)
        return head + block * self.times + tail, crc


def _deflate(data: bytes) -> tuple[bytes, int]:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(), zlib.crc32(data)


def write_zip(
    path: Path, members: dict[str, bytes | Repeated], declared: dict[str, int] | None = None
) -> Path:
    """A zip of deflated members; ``declared`` overrides sizes in the directory (a lie)."""
    declared = declared or {}
    out = bytearray()
    central = bytearray()
    for name, content in members.items():
        if isinstance(content, Repeated):
            data, crc = content.deflate()
            size = content.size
        else:
            data, crc = _deflate(content)
            size = len(content)
        size = declared.get(name, size)
        encoded = name.encode()
        offset = len(out)
        out += struct.pack(
            "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), size, len(encoded), 0
        )
        out += encoded + data
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            20,
            20,
            0,
            8,
            0,
            0,
            crc,
            len(data),
            size,
            len(encoded),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += encoded
    count = len(members)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(central), len(out), 0)
    path.write_bytes(bytes(out + central + end))
    return path


def sheet_xml(rows: list[list[str]]) -> bytes:
    """A worksheet with inline strings."""
    body = []
    for number, cells in enumerate(rows, start=1):
        inner = "".join(f'<c t="inlineStr"><is><t>{value}</t></is></c>' for value in cells)
        body.append(f'<row r="{number}">{inner}</row>')
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'
        + "".join(body)
        + "</sheetData></worksheet>"
    ).encode()


SHARED_PREFIX = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode()
SHARED_SUFFIX = b"</sst>"


def workbook(
    path: Path,
    sheets: dict[str, bytes | Repeated],
    *,
    shared: bytes | Repeated | None = None,
    declared: dict[str, int] | None = None,
) -> Path:
    """A minimal .xlsx with these sheets, in order (:func:`workbook_named` for repeats)."""
    return workbook_named(path, list(sheets.items()), shared=shared, declared=declared)


def workbook_named(
    path: Path,
    sheets: list[tuple[str, bytes | Repeated]],
    *,
    shared: bytes | Repeated | None = None,
    declared: dict[str, int] | None = None,
) -> Path:
    """A minimal .xlsx whose sheets are written in order, names as given (repeats allowed)."""
    overrides = [f'<Override PartName="/xl/workbook.xml" ContentType="{BOOK_CT}"/>']
    book_rels = []
    entries = []
    members: dict[str, bytes | Repeated] = {}
    for index, (name, content) in enumerate(sheets, start=1):
        part = f"xl/worksheets/sheet{index}.xml"
        members[part] = content
        overrides.append(f'<Override PartName="/{part}" ContentType="{SHEET_CT}"/>')
        book_rels.append(
            f'<Relationship Id="rId{index}" Type="{SHEET_REL}" Target="worksheets/sheet{index}.xml"/>'
        )
        entries.append(f'<sheet name={quoteattr(name)} sheetId="{index}" r:id="rId{index}"/>')
    if shared is not None:
        members["xl/sharedStrings.xml"] = shared
        overrides.append(f'<Override PartName="/xl/sharedStrings.xml" ContentType="{STRINGS_CT}"/>')
        book_rels.append(
            f'<Relationship Id="rId{len(sheets) + 1}" Type="{STRINGS_REL}" Target="sharedStrings.xml"/>'
        )
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    fixed: dict[str, bytes | Repeated] = {
        "[Content_Types].xml": (
            f'{head}<Types xmlns="{CT}">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(overrides)
            + "</Types>"
        ).encode(),
        "_rels/.rels": (
            f'{head}<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
            f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ).encode(),
        "xl/workbook.xml": (
            f'{head}<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
            + "".join(entries)
            + "</sheets></workbook>"
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'{head}<Relationships xmlns="{PKG_REL}">' + "".join(book_rels) + "</Relationships>"
        ).encode(),
    }
    return write_zip(path, {**fixed, **members}, declared)


def shared_strings_bomb(path: Path, inflated: int = 1_150_000_000) -> Path:
    """The incident's shape: a small workbook whose sharedStrings.xml inflates to ~1.15 GB."""
    chunk = b"<si><t>" + b"A" * 1000 + b"</t></si>"
    chunk *= (1 << 20) // len(chunk)
    bomb = Repeated(SHARED_PREFIX, chunk, inflated // len(chunk), SHARED_SUFFIX)
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'
        '<row r="1"><c t="s"><v>0</v></c></row><row r="2"><c t="s"><v>1</v></c></row>'
        "</sheetData></worksheet>"
    ).encode()
    return workbook(path, {"cases": sheet}, shared=bomb)


def sheet_bomb(path: Path, inflated: int = 3_000_000_000) -> Path:
    """A small workbook whose one sheet's XML inflates to ~3 GB of rows."""
    row = b'<row><c t="inlineStr"><is><t>P</t></is></c><c t="inlineStr"><is><t>x</t></is></c></row>'
    chunk = row * ((1 << 20) // len(row))
    prefix = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'
        '<row r="1"><c t="inlineStr"><is><t>id</t></is></c>'
        '<c t="inlineStr"><is><t>sex</t></is></c></row>'
    ).encode()
    bomb = Repeated(prefix, chunk, inflated // len(chunk), b"</sheetData></worksheet>")
    return workbook(path, {"cases": bomb})
