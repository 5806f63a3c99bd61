"""Where does a value survive? A search of every file under a table, decompressed.

Each file is searched as raw bytes, and then in its decoded content:

- Parquet (data files, Delta checkpoints): read with pyarrow, every value of every column
  (strings matched directly, nested columns through their Python form). The footer's
  min/max statistics are plain bytes, so the raw search sees them;
- Avro (Iceberg manifests and manifest lists): the object container is parsed by hand and
  each block inflated (deflate, zstd, snappy or none), so no schema and no fastavro are
  needed (fastavro is not installed);
- gzip or zstd files, by their magic bytes.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import zstandard

from formats.data import TABLES, Publication, new_version, schema_of, sid_of

AVRO_MAGIC = b"Obj\x01"


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """An Avro long (zigzag varint) at ``pos``; the value and the next position."""
    shift = result = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7


def avro_blocks(data: bytes) -> list[bytes]:
    """The decompressed data blocks of an Avro object container file."""
    pos, meta = len(AVRO_MAGIC), {}
    while True:  # the header's metadata map: blocks of (key, value) pairs, then 0
        count, pos = _varint(data, pos)
        if count == 0:
            break
        if count < 0:
            count = -count
            _, pos = _varint(data, pos)  # the block's size in bytes
        for _ in range(count):
            n, pos = _varint(data, pos)
            key = data[pos : pos + n].decode()
            pos += n
            n, pos = _varint(data, pos)
            meta[key] = data[pos : pos + n]
            pos += n
    codec = meta.get("avro.codec", b"null").decode()
    pos += 16  # the sync marker
    blocks = []
    while pos < len(data):
        _, pos = _varint(data, pos)  # objects in the block
        size, pos = _varint(data, pos)
        raw = data[pos : pos + size]
        pos += size + 16
        if codec == "deflate":
            raw = zlib.decompress(raw, -15)
        elif codec == "zstandard":
            raw = zstandard.ZstdDecompressor().decompress(raw, max_output_size=1 << 30)
        elif codec == "snappy":  # a 4-byte CRC at the end; the length leads, as a varint
            length = shift = i = 0
            while True:
                length |= (raw[i] & 0x7F) << shift
                shift, i = shift + 7, i + 1
                if not raw[i - 1] & 0x80:
                    break
            raw = pa.decompress(raw[:-4], length, codec="snappy", asbytes=True)
        elif codec != "null":
            raise ValueError(f"unknown Avro codec {codec}")
        blocks.append(raw)
    return blocks


def _parquet_columns(path: Path, needle: str) -> list[str]:
    """The columns of a Parquet file holding ``needle`` (as a whole value or inside one)."""
    table = pq.read_table(path)
    hits = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            if pc.any(pc.match_substring(column, needle)).as_py():
                hits.append(name)
        elif pa.types.is_nested(kind) and needle in repr(column.to_pylist()):
            hits.append(name)
    return hits


def search_file(path: Path, needle: str) -> list[str]:
    """How ``needle`` appears in the file: raw bytes, decoded Parquet columns, Avro blocks."""
    data = path.read_bytes()
    token = needle.encode()
    found = ["bytes"] if token in data else []
    if data[:4] == b"PAR1":
        found += [f"parquet column {c}" for c in _parquet_columns(path, needle)]
    elif data[:4] == AVRO_MAGIC:
        if any(token in block for block in avro_blocks(data)):
            found.append("avro block (inflated)")
    elif data[:2] == b"\x1f\x8b":
        if token in gzip.decompress(data):
            found.append("gzip content")
    elif data[:4] == b"\x28\xb5\x2f\xfd":
        reader = zstandard.ZstdDecompressor().stream_reader(data)
        if token in reader.read():
            found.append("zstd content")
    return found


def search(roots: list[Path], needle: str) -> dict[str, list[str]]:
    """Every file under ``roots`` (folders or files) holding ``needle``, and how."""
    hits: dict[str, list[str]] = {}
    for root in roots:
        paths = [root] if root.is_file() else sorted(_walk(root))
        for path in paths:
            found = search_file(path, needle)
            if found:
                hits[str(path)] = found
    return hits


def _walk(root: Path) -> list[Path]:
    return [Path(d) / n for d, _, names in os.walk(root) for n in names]


def file_count(roots: list[Path]) -> int:
    return sum(1 if r.is_file() else len(_walk(r)) for r in roots)


def describe(hits: dict[str, list[str]], base: Path) -> list[str]:
    """One line per file: its path relative to ``base``, and how the value appears."""
    out = []
    for path, how in hits.items():
        rel = os.path.relpath(path, base)
        out.append(f"{rel}: {', '.join(dict.fromkeys(how))}")
    return out


# -- the scenario ---------------------------------------------------------------------------

KINDS = (
    ("delta log commit", re.compile(r"_delta_log/\d+\.json$")),
    ("delta checkpoint", re.compile(r"_delta_log/.*checkpoint.*\.parquet$")),
    ("delta _last_checkpoint", re.compile(r"_last_checkpoint$")),
    ("iceberg manifest list", re.compile(r"metadata/snap-.*\.avro$")),
    ("iceberg manifest", re.compile(r"metadata/.*\.avro$")),
    ("iceberg table metadata", re.compile(r"\.metadata\.json$")),
    ("catalog database", re.compile(r"\.db$")),
    ("data file", re.compile(r"\.parquet$")),
)


def kind_of(path: str) -> str:
    return next((kind for kind, pattern in KINDS if pattern.search(path)), "other file")


def summary(hits: dict[str, list[str]]) -> dict[str, list[str]]:
    """Files holding the value, by kind of file, with how it was found (once per kind)."""
    out: dict[str, list[str]] = {}
    for path, how in hits.items():
        kind = kind_of(path)
        out.setdefault(kind, [])
        out[kind] += [h for h in how if h not in out[kind]]
        out.setdefault(f"#{kind}", []).append(path)
    return out


BIRTH = "1911-11-11"  # the deleted individual's date of birth, nobody else's


def with_birth_date(pub: Publication, pid: str) -> Publication:
    """``pub`` with ``pid``'s ``date_of_birth`` set to :data:`BIRTH` (every other is null).

    A short value, unique in its file, so that it is the file's min and max: what column
    statistics keep (Iceberg's default metrics keep 16 characters of a string, so a longer
    id never shows whole in a manifest, but a date does).
    """
    table = pub["individuals"]
    i = table.schema.get_field_index("date_of_birth")
    births = pc.if_else(pc.equal(table["phenopacket_id"], pid), BIRTH, table[i])
    return {**pub, "individuals": table.set_column(i, table.schema.field(i), births)}


def scenario(fmt: Any, pubs: list[Publication], victim: str, control: str) -> dict[str, Any]:
    """Three publications, one replaced, ``victim`` deleted; then expiry, and a search.

    ``victim`` is an individual of ``pubs[2]``, searched for by id and by date of birth;
    ``control`` one that stays, which the search must find (else it proves nothing).
    """
    pubs = [*pubs[:2], with_birth_date(pubs[2], victim)]
    for name in TABLES:
        fmt.create(name, schema_of(name))
    for pub in pubs:
        fmt.publish(pub)
    v2 = new_version(pubs[1])
    for name in TABLES:
        fmt.replace_submission(name, sid_of(pubs[1]), v2[name])
    before = {name: fmt.version(name) for name in TABLES}
    sid = sid_of(pubs[2])
    for name in TABLES:
        fmt.delete_individual(name, sid, victim)
    roots = [fmt.location(name) for name in TABLES] + fmt.extra_files()

    def look() -> dict[str, Any]:
        return {
            what: summary(search(roots, value))
            for what, value in (("id", victim), ("birth", BIRTH))
        }

    out: dict[str, Any] = {"levels": [{"level": "after delete", "steps": [], "hits": look()}]}
    for level, expire in (("usual maintenance", fmt.expire_default), ("full expiry", fmt.expire)):
        done = [expire(name) for name in TABLES]  # the same steps on every table
        out["levels"].append({"level": level, "steps": done[0], "hits": look()})
    out["files_searched"] = file_count(roots)
    out["control"] = summary(search(roots, control))
    expected = {n: sum(p[n].num_rows for p in pubs) for n in TABLES}
    for name in TABLES:
        fmt.reopen(name)
        gone = pubs[2][name].filter(pc.equal(pubs[2][name]["phenopacket_id"], victim)).num_rows
        expected[name] -= gone
    out["rows_ok"] = {n: fmt.read(n).num_rows for n in TABLES} == expected
    try:
        fmt.read("individuals", None, before["individuals"])
        out["travel_before_delete"] = "still readable"
    except Exception as exc:
        out["travel_before_delete"] = f"{type(exc).__name__}: {str(exc).strip()[:90]}"
    return out
