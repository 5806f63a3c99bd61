"""``harmonize drs ls``: the registry as JSON Lines, all of it or one submission's."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from harmonize.cli import app
from harmonize.drs.ids import bundle_id, drs_id
from harmonize.drs.registration import bundle_checksum
from harmonize.drs.registry import BundleSpec, ObjectSpec, Registry
from harmonize.settings import Settings

runner = CliRunner()
CREATED = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
KEYS = {
    "consent",
    "id",
    "name",
    "size",
    "checksums",
    "is_bundle",
    "access",
    "submission_id",
    "role",
    "deleted",
    "created_time",
}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _spec(submission: str, name: str, size: int, **overrides: Any) -> ObjectSpec:
    values: dict[str, Any] = {
        "id": drs_id(submission, name, _sha(submission + name)),
        "name": name,
        "path": f"published/{name}",
        "size": size,
        "sha256": _sha(submission + name),
        "mime_type": "application/json",
        "submission_id": submission,
        "dataset": "demo",
        "access": "public",
        "role": "published",
        "created_time": CREATED,
    }
    values.update(overrides)
    return ObjectSpec(**values)


def _registry(workspace: Path) -> Registry:
    registry = Registry(Settings(workspace=workspace).registry)
    registry.create_all()
    return registry


def _ls(*args: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["drs", "ls", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def _populate(workspace: Path) -> tuple[list[ObjectSpec], BundleSpec]:
    registry = _registry(workspace)
    s1 = [
        _spec("s1", "a.json", 3, consent=["DUO:0000006", "DUO:0000021"]),
        _spec("s1", "b.parquet", 5, role="report"),
    ]
    bundle = BundleSpec(
        id=bundle_id("s1", _sha("manifest")),
        name="s1",
        submission_id="s1",
        dataset="demo",
        access="controlled",
        member_ids=[spec.id for spec in s1],
        created_time=CREATED,
    )
    registry.register(s1, bundle)
    other = _spec("s2", "c.json", 7, access="controlled", role="input")
    registry.register([other])
    registry.mark_deleted([other.id])
    registry.dispose()
    return [*s1, other], bundle


def test_ls_lists_objects_and_bundles_in_id_order(tmp_path: Path) -> None:
    objects, bundle = _populate(tmp_path)
    lines = _ls("-w", str(tmp_path))
    assert [line["id"] for line in lines] == sorted([*(o.id for o in objects), bundle.id])
    assert all(set(line) == KEYS for line in lines)
    by_id = {line["id"]: line for line in lines}

    a = by_id[objects[0].id]
    assert a == {
        "id": objects[0].id,
        "name": "a.json",
        "size": 3,
        "checksums": [{"type": "sha-256", "checksum": objects[0].sha256}],
        "is_bundle": False,
        "access": "public",
        "submission_id": "s1",
        "role": "published",
        "deleted": False,
        "created_time": "2024-05-01T12:30:00Z",
        "consent": ["DUO:0000006", "DUO:0000021"],
    }
    assert by_id[objects[1].id]["role"] == "report"
    assert by_id[objects[1].id]["consent"] is None  # none recorded, not "no restriction"

    b = by_id[bundle.id]
    assert b["is_bundle"] is True and b["role"] is None and b["access"] == "controlled"
    assert b["size"] == 8
    assert b["checksums"] == [
        {"type": "sha-256", "checksum": bundle_checksum(o.sha256 for o in objects[:2])}
    ]
    assert by_id[objects[2].id]["deleted"] is True
    assert [line for line in lines if line["is_bundle"]] == [b]


def test_ls_filters_by_submission(tmp_path: Path) -> None:
    objects, bundle = _populate(tmp_path)
    s1 = _ls("--submission", "s1", "--workspace", str(tmp_path))
    assert [line["id"] for line in s1] == sorted([objects[0].id, objects[1].id, bundle.id])
    assert {line["submission_id"] for line in s1} == {"s1"}
    s2 = _ls("-w", str(tmp_path), "--submission", "s2")
    assert [line["id"] for line in s2] == [objects[2].id]
    assert _ls("-w", str(tmp_path), "--submission", "nope") == []


def test_ls_of_an_empty_registry_prints_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["drs", "ls", "-w", str(tmp_path / "new")])
    assert result.exit_code == 0 and result.stdout == ""
    assert not (tmp_path / "new").exists()  # an audit writes nothing
    _registry(tmp_path / "empty").dispose()
    result = runner.invoke(app, ["drs", "ls", "-w", str(tmp_path / "empty")])
    assert result.exit_code == 0 and result.stdout == ""


def test_iter_objects_pages_by_id(tmp_path: Path) -> None:
    objects, bundle = _populate(tmp_path)
    registry = _registry(tmp_path)
    everything = sorted([*(o.id for o in objects), bundle.id])
    for page in (1, 2, 3, 4, 1000):
        assert [row.id for row in registry.iter_objects(page=page)] == everything
    assert [row.id for row in registry.iter_objects("s2", page=1)] == [objects[2].id]
    registry.dispose()
