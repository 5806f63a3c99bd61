"""``harmonize verify`` finds what was changed behind the registry's back, on local disk and
on S3 (where it reads the objects several at a time)."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from harmonize.drs.registry import Registry
from harmonize.lifecycle.verify import verify
from harmonize.pipeline import ingest
from harmonize.settings import Settings
from harmonize.warehouse import Warehouse

pytestmark = pytest.mark.integration


def test_verify_names_a_changed_a_deleted_and_a_stray_file(
    backend: Settings, submissions: Path, tmp_path: Path
) -> None:
    source = shutil.copytree(submissions / "suox-isod", tmp_path / "suox")
    assert ingest(source, backend).status == "published"
    registry = Registry(backend.registry)
    assert verify(backend, registry) == []

    files = Warehouse.of(backend).files
    docs = sorted(files.list("published/phenopackets/"))
    assert len(docs) > 2
    changed, deleted = docs[0], docs[1]
    files.put_bytes(files.get_bytes(changed) + b" ", changed)
    files.delete(deleted)
    stray = "published/inputs/suox-isod/v1/stray.csv"  # (not a Phenopacket: the schema check
    files.put_bytes(b"id\n", stray)  # of every published one runs after each test)

    problems = {(p.kind, p.where): p.detail for p in verify(backend, registry)}
    assert set(problems) == {("missing", changed), ("missing", deleted), ("orphan", stray)}
    assert "the file has" in problems[("missing", changed)]
    assert problems[("missing", deleted)].endswith("has no file")
    # a quick check (presence only, no checksums) still sees the deleted file
    quick = {(p.kind, p.where) for p in verify(backend, registry, checksums=False)}
    assert ("missing", deleted) in quick and ("missing", changed) not in quick


def test_an_unreachable_store_is_a_publish_error_naming_the_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A lost connection while verifying is Harmonize's error with a hint, not botocore's."""
    from harmonize.errors import PublishError
    from harmonize.warehouse.files import S3Files

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = S3Files("bucket", "warehouse", endpoint_url=f"http://127.0.0.1:{port}")
    with pytest.raises(PublishError) as err:
        store.digest("published/phenopackets/x/v1/a.json")
    assert "S3 get failed" in err.value.message
