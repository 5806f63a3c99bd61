"""A workbook's zip archive, bounded: checked from its directory first, counted as it inflates.

Before openpyxl sees a workbook, :func:`open_archive` reads the zip's end record (how many
members) and directory (each member's inflated size) and refuses the file when either is
over :class:`~harmonize.settings.Limits`: too many members, a worksheet over
``max_zip_member_bytes``, any other part (shared strings, styles, the workbook: what
openpyxl loads whole before a sheet streams) over ``max_xlsx_part_bytes``, or all of them
over ``max_zip_total_bytes``. Directories lie, so every member opened through the archive
also counts what it really inflates to, and checks the file's time budget as it goes.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path
from typing import IO, Any

from harmonize.errors import LimitExceeded
from harmonize.readers.limits import Guard

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_TAIL = 22 + 65_535  # the end record and the longest comment
_CHUNK = 1 << 20
WORKSHEETS = "xl/worksheets/"  # parts that stream row by row; every other part loads whole


def member_count(path: Path) -> int | None:
    """How many members the zip's end record says it has (``None`` if there is none).

    Read from the end of the file, before :class:`zipfile.ZipFile` parses the directory
    entry by entry.
    """
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        start = max(0, size - _TAIL)
        fh.seek(start)
        tail = fh.read()
        at = tail.rfind(_EOCD)
        if at < 0 or len(tail) - at < 22:
            return None
        count = int(struct.unpack_from("<H", tail, at + 10)[0])
        if count != 0xFFFF or at < 20 or tail[at - 20 : at - 16] != _EOCD64_LOCATOR:
            return count
        (offset,) = struct.unpack_from("<Q", tail, at - 20 + 8)
        if offset + 56 > size:
            return None
        fh.seek(offset)
        record = fh.read(56)
        if record[:4] != _EOCD64:
            return None
        return int(struct.unpack_from("<Q", record, 32)[0])


def part_limit(name: str, guard: Guard) -> tuple[int, str]:
    """The inflated-size limit of one member, and the limit's name."""
    if name.startswith(WORKSHEETS):
        return guard.limits.max_zip_member_bytes, "max_zip_member_bytes"
    return guard.limits.max_xlsx_part_bytes, "max_xlsx_part_bytes"


class BoundedArchive(zipfile.ZipFile):
    """A read-only zip whose members raise :class:`LimitExceeded` past their limits."""

    guard: Guard
    inflated: int = 0

    def open(  # type: ignore[override]
        self, name: str | zipfile.ZipInfo, mode: str = "r", pwd: bytes | None = None, **kw: Any
    ) -> IO[bytes]:
        opener: Any = super().open
        stream = opener(name, mode, pwd, **kw)
        if mode != "r":
            return stream  # type: ignore[no-any-return]
        member = name.filename if isinstance(name, zipfile.ZipInfo) else name
        return _Inflating(stream, self, member)  # type: ignore[return-value]


class _Inflating:
    """One member being inflated, with its bytes counted against the limits."""

    def __init__(self, stream: Any, archive: BoundedArchive, name: str) -> None:
        self.stream = stream
        self.archive = archive
        self.name = name
        self.limit, self.limit_name = part_limit(name, archive.guard)
        self.count = 0

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            parts = []
            while chunk := self.read(_CHUNK):
                parts.append(chunk)
            return b"".join(parts)
        data: bytes = self.stream.read(size)
        self.count += len(data)
        self.archive.inflated += len(data)
        guard = self.archive.guard
        if self.count > self.limit:
            raise too_big(guard, self.name, self.limit, self.limit_name)
        total = guard.limits.max_zip_total_bytes
        if self.archive.inflated > total:
            raise too_big(guard, "the workbook", total, "max_zip_total_bytes")
        guard.tick()
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.stream.close()

    def __enter__(self) -> _Inflating:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def too_big(
    guard: Guard, what: str, limit: int, name: str, size: int | None = None
) -> LimitExceeded:
    """``what`` inflates past ``limit``: by ``size`` bytes (the directory), or as it streams."""
    if size is None:
        return guard.exceeded(f"{what} inflates to more than {limit:,} bytes", name)
    return guard.exceeded(f"{what} inflates to {size:,} bytes, over the limit of {limit:,}", name)


def open_archive(path: Path, guard: Guard) -> BoundedArchive:
    """The workbook's archive, once its end record and directory are within the limits.

    Raises :class:`LimitExceeded`, or :class:`zipfile.BadZipFile` for a damaged archive.
    """
    limits = guard.limits
    count = member_count(path)
    if count is not None and count > limits.max_zip_members:
        raise guard.exceeded(
            f"the workbook's zip holds {count:,} members, more than {limits.max_zip_members:,}",
            "max_zip_members",
        )
    archive = BoundedArchive(path)
    try:
        archive.guard = guard
        members = archive.infolist()
        if len(members) > limits.max_zip_members:
            raise guard.exceeded(
                f"the workbook's zip holds {len(members):,} members, "
                f"more than {limits.max_zip_members:,}",
                "max_zip_members",
            )
        total = 0
        for info in members:
            limit, name = part_limit(info.filename, guard)
            if info.file_size > limit:
                raise too_big(guard, info.filename, limit, name, info.file_size)
            total += info.file_size
        if total > limits.max_zip_total_bytes:
            raise too_big(
                guard, "the workbook", limits.max_zip_total_bytes, "max_zip_total_bytes", total
            )
    except BaseException:
        archive.close()
        raise
    return archive
