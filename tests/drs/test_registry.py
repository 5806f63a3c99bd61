"""The registry: deterministic ids, idempotent one-transaction registration, bundles."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from harmonize.drs.ids import bundle_id, drs_id
from harmonize.drs.registration import bundle_checksum
from harmonize.drs.registry import BundleSpec, ObjectSpec, Registry
from harmonize.errors import RegistryError

SHA = hashlib.sha256(b"x").hexdigest()


def _spec(**overrides: Any) -> ObjectSpec:
    values: dict[str, Any] = {
        "id": drs_id("s9", "a.json", SHA),
        "name": "a.json",
        "path": "published/a.json",
        "size": 1,
        "sha256": SHA,
        "mime_type": "application/json",
        "submission_id": "s9",
        "dataset": "demo",
        "access": "public",
        "role": "published",
    }
    values.update(overrides)
    return ObjectSpec(**values)


def _bundle(member_ids: list[str], **overrides: Any) -> BundleSpec:
    values: dict[str, Any] = {
        "id": bundle_id("s9", SHA),
        "name": "s9",
        "submission_id": "s9",
        "dataset": "demo",
        "access": "public",
        "member_ids": member_ids,
    }
    values.update(overrides)
    return BundleSpec(**values)


@pytest.fixture
def memory() -> Registry:
    registry = Registry("sqlite://")
    registry.create_all()
    return registry


def test_ids_are_deterministic_url_safe_and_distinct() -> None:
    first = drs_id("s1", "cases.parquet", SHA)
    assert first == drs_id("s1", "cases.parquet", SHA)
    assert first != drs_id("s2", "cases.parquet", SHA)
    assert first != drs_id("s1", "other.parquet", SHA)
    for value in (first, bundle_id("s1", SHA)):
        assert value.isascii() and value.isalnum() and value == value.lower()
    assert bundle_id("s1", SHA) != bundle_id("s1", hashlib.sha256(b"y").hexdigest())
    with pytest.raises(ValueError, match="sha-256"):
        drs_id("s1", "a", "not-a-digest")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"id": "a/b"}, "must match"),
        ({"path": "/etc/passwd"}, "inside the workspace"),
        ({"path": "published/../../etc/passwd"}, "inside the workspace"),
        ({"path": "."}, "inside the workspace"),
        ({"access": "secret"}, "access"),
        ({"role": "other"}, "role"),
        ({"sha256": "ABC"}, "sha256"),
        ({"size": -1}, "negative"),
        ({"created_time": datetime(2024, 1, 1)}, "timezone"),
    ],
)
def test_bad_specs_fail_when_built(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _spec(**overrides)


def test_registration_is_idempotent(published: Any) -> None:
    registry = published.registry
    before = (registry.count(), registry.total_size())
    # 3 files + their bundle, 1 controlled file + its bundle; bundles add no bytes
    assert before == (6, sum(len(data) for data in published.contents.values()))
    registry.register(published.specs, published.bundle)
    registry.register(list(reversed(published.specs)), published.bundle)
    assert (registry.count(), registry.total_size()) == before
    with registry.engine.connect() as conn:
        members = conn.execute(text("SELECT count(*) FROM drs_bundle_members")).scalar_one()
    assert members == 4


def test_bundle_checksum_size_and_members(published: Any) -> None:
    registry = published.registry
    row = registry.get(published.bundle.id)
    assert row is not None and row.is_bundle and row.path is None
    assert row.sha256 == bundle_checksum(spec.sha256 for spec in published.specs)
    joined = "".join(sorted(spec.sha256 for spec in published.specs))
    assert row.sha256 == hashlib.sha256(joined.encode()).hexdigest()
    assert row.size == sum(spec.size for spec in published.specs)
    expected = sorted(((spec.id, spec.name) for spec in published.specs), key=lambda p: p[1])
    assert registry.bundle_members(published.bundle.id) == expected
    assert registry.has_bundle(published.bundle.id)
    assert not registry.has_bundle(published.specs[0].id)
    assert registry.bundle_members(published.specs[0].id) == []


def test_rows_keep_what_was_registered(published: Any) -> None:
    spec = published.specs[0]
    row = published.registry.get(spec.id)
    assert row is not None
    assert (row.name, row.path, row.size, row.sha256, row.mime_type) == (
        spec.name,
        spec.path,
        spec.size,
        spec.sha256,
        spec.mime_type,
    )
    assert (row.role, row.access, row.dataset, row.submission_id) == (
        "published",
        "public",
        "demo",
        "s1",
    )
    assert row.created_time == spec.created_time and row.created_time.tzinfo is not None
    assert row.version == spec.sha256
    assert row.aliases == list(spec.aliases)
    assert not row.deleted
    assert published.registry.get("hz-missing") is None


def test_objects_for_submission(published: Any) -> None:
    rows = published.registry.objects_for_submission("s1")
    assert rows[0].id == published.bundle.id
    assert {row.id for row in rows} == {published.bundle.id, *(s.id for s in published.specs)}
    assert published.registry.objects_for_submission("nope") == []


def test_times_are_stored_in_utc(memory: Registry) -> None:
    local = datetime(2024, 5, 1, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    memory.register([_spec(created_time=local)])
    row = memory.get(_spec().id)
    assert row is not None
    assert row.created_time == local
    assert row.created_time.utcoffset() == timedelta(0)
    assert row.created_time.tzinfo is not None


def test_bundle_with_unknown_member_rolls_everything_back(memory: Registry) -> None:
    spec = _spec()
    with pytest.raises(ValueError, match="not registered"):
        memory.register([spec], _bundle([spec.id, "hzunknown"]))
    assert memory.count() == 0


def test_bundle_members_may_be_registered_earlier(memory: Registry) -> None:
    spec = _spec()
    memory.register([spec])
    memory.register([], _bundle([spec.id]))
    assert memory.bundle_members(_bundle([]).id) == [(spec.id, spec.name)]


def test_bundle_cannot_change_members(memory: Registry) -> None:
    first = _spec()
    second = _spec(id="hzsecond", name="b.json", path="published/b.json")
    memory.register([first, second], _bundle([first.id]))
    with pytest.raises(ValueError, match="other members"):
        memory.register([], _bundle([first.id, second.id]))


def test_conflicting_specs_and_names_are_refused(memory: Registry) -> None:
    spec = _spec()
    with pytest.raises(ValueError, match="share the DRS id"):
        memory.register([spec, _spec(description="different")])
    with pytest.raises(ValueError, match="duplicate"):
        _bundle([spec.id, spec.id])
    assert memory.count() == 0


def test_shared_member_names_are_made_unique(memory: Registry) -> None:
    spec = _spec()
    clash = _spec(id="hzclash", path="published/other/a.json")
    other = _spec(id="hzother", name="b.json", path="published/b.json")
    memory.register([spec, clash, other], _bundle([spec.id, clash.id, other.id]))
    names = dict(memory.bundle_members(_bundle([]).id))
    assert names == {spec.id: f"a.{spec.id}.json", clash.id: "a.hzclash.json", other.id: "b.json"}


def test_mark_deleted(published: Any) -> None:
    registry = published.registry
    target = published.specs[1]
    assert registry.mark_deleted([target.id, target.id]) == 1
    assert registry.mark_deleted([target.id]) == 0
    row = registry.get(target.id)
    assert row is not None and row.deleted and row.updated_time > row.created_time
    assert registry.count() == 5
    assert target.id not in {r.id for r in registry.objects_for_submission("s1")}
    assert target.id in {r.id for r in registry.objects_for_submission("s1", include_deleted=True)}


def test_many_objects_register_in_one_call(tmp_path: Path) -> None:
    registry = Registry(f"sqlite:///{tmp_path / 'deep' / 'registry.sqlite'}")
    registry.create_all()
    created = datetime(2024, 1, 1, tzinfo=UTC)
    specs = []
    for index in range(5000):
        sha = hashlib.sha256(str(index).encode()).hexdigest()
        name = f"P{index}.json"
        specs.append(
            _spec(
                id=drs_id("big", name, sha),
                name=name,
                path=f"published/big/{name}",
                sha256=sha,
                size=index,
                submission_id="big",
                created_time=created,
            )
        )
    bundle = _bundle([spec.id for spec in specs], id=bundle_id("big", SHA))
    registry.register(specs, bundle)
    registry.register(specs, bundle)
    assert registry.count() == 5001
    assert registry.total_size() == sum(range(5000))
    assert len(registry.bundle_members(bundle.id)) == 5000
    assert len(registry.get_many([spec.id for spec in specs[:1200]])) == 1200
    with registry.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    registry.dispose()


def test_unreachable_database_is_a_transient_registry_error(tmp_path: Path) -> None:
    blocked = tmp_path / "registry.sqlite"
    blocked.mkdir()  # a directory where the database file should be
    registry = Registry(f"sqlite:///{blocked}")
    with pytest.raises(RegistryError) as caught:
        registry.create_all()
    assert caught.value.transient
    with pytest.raises(RegistryError):
        registry.count()


def test_concurrent_writers_wait_for_each_other(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    Registry(url).create_all()

    def publish(submission: str) -> None:
        registry = Registry(url)
        specs = []
        for index in range(300):
            sha = hashlib.sha256(f"{submission}{index}".encode()).hexdigest()
            name = f"P{index}.json"
            specs.append(
                _spec(
                    id=drs_id(submission, name, sha),
                    name=name,
                    path=f"published/{submission}/{name}",
                    sha256=sha,
                    submission_id=submission,
                )
            )
        bundle = _bundle(
            [spec.id for spec in specs], id=bundle_id(submission, SHA), submission_id=submission
        )
        for _ in range(3):
            registry.register(specs, bundle)
            registry.register([], bundle)
        registry.dispose()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(publish, [f"sub{n}" for n in range(4)]))
    assert Registry(url).count() == 4 * 301


def test_postgresql_statements_compile() -> None:
    """No PostgreSQL driver in the dev environment: at least the DDL and the upsert compile."""
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.schema import CreateTable

    from harmonize.drs.models import Base

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    tables = Base.metadata.sorted_tables
    ddl = [str(CreateTable(table).compile(dialect=dialect)) for table in tables]
    assert any("TIMESTAMP WITH TIME ZONE" in statement for statement in ddl)
    upsert = pg_insert(Base.metadata.tables["drs_objects"]).on_conflict_do_nothing()
    assert "ON CONFLICT DO NOTHING" in str(upsert.compile(dialect=dialect))
