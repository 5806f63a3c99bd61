"""Staging Phenopackets: a large batch is written by two threads, with the same records."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson

from harmonize.publish.stage import PARALLEL_DOCUMENTS, Stage, staged_files


def docs(n: int, prefix: str = "P") -> list[dict[str, object]]:
    return [{"id": f"{prefix}{i}", "subject": {"id": f"S{i}"}} for i in range(n)]


def test_a_large_batch_is_recorded_in_order_with_each_files_hash(tmp_path: Path) -> None:
    batch = docs(PARALLEL_DOCUMENTS + 501)
    stage = Stage(tmp_path, "sub")
    stage.write_documents(
        batch, {"P7": ["DUO:0000007"]}, {f"P{i}": f"S{i}" for i in range(0, len(batch), 2)}
    )
    stage.seal()
    records = list(staged_files(tmp_path))
    assert [r.name for r in records] == [f"P{i}.json" for i in range(len(batch))]
    for i, r in enumerate(records):
        data = (tmp_path / r.rel).read_bytes()
        assert data == orjson.dumps(batch[i], option=orjson.OPT_INDENT_2)
        assert (r.size, r.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        assert r.subject == (f"S{i}" if i % 2 == 0 else None)
        assert r.consent == (["DUO:0000007"] if i == 7 else None)
    assert stage.count == len(batch)


def test_documents_sharing_a_file_name_are_written_in_order(tmp_path: Path) -> None:
    """Two ids with the same safe file name: the later document's file is kept, as before."""
    batch = [*docs(PARALLEL_DOCUMENTS), {"id": "a/b", "n": 1}, {"id": "a_b", "n": 2}]
    stage = Stage(tmp_path, "sub")
    stage.write_documents(batch)
    stage.seal()
    assert orjson.loads((tmp_path / stage.pp_dir / "a_b.json").read_bytes())["n"] == 2
    assert [r.name for r in staged_files(tmp_path)][-2:] == ["a_b.json", "a_b.json"]
