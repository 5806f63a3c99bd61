"""Registry.register_stream: a bundle and its members from an iterable, in bounded memory."""

from __future__ import annotations

import gc
import hashlib
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from harmonize.drs.ids import bundle_id, drs_id
from harmonize.drs.registration import bundle_checksum, member_totals, unique_member_names
from harmonize.drs.registry import BundleHeader, BundleSpec, ObjectSpec, Registry

CREATED = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
SUBMISSION = "s7"
BUNDLE_ID = bundle_id(SUBMISSION, hashlib.sha256(b"manifest").hexdigest())

# names shared by several members, and the forms member_name() treats specially
NAMES = [
    "a.json",
    "a.json",
    "a.json",
    "a.tar.gz",
    "a.tar.gz",
    "noext",
    "noext",
    ".hidden",
    ".hidden",
    "a.",
    "a.",
    "",
    "",
    "é 1.json",
    "é 1.json",
    "b.json",  # not shared
    "c.json",  # not shared, same content as b.json
]


def _spec(index: int, name: str, *, content: bytes | None = None, **overrides: Any) -> ObjectSpec:
    sha = hashlib.sha256(content if content is not None else str(index).encode()).hexdigest()
    values: dict[str, Any] = {
        "id": drs_id(SUBMISSION, f"{index}/{name}", sha),
        "name": name,
        "path": f"published/{SUBMISSION}/{index}/{name or 'unnamed'}",
        "size": index * 10 + 1,
        "sha256": sha,
        "mime_type": "application/json",
        "submission_id": SUBMISSION,
        "dataset": "demo",
        "access": "public",
        "role": "published",
        "description": f"file {index}",
        "created_time": CREATED,
        "aliases": (f"harmonize:{SUBMISSION}/{index}",),
    }
    values.update(overrides)
    return ObjectSpec(**values)


def _specs() -> list[ObjectSpec]:
    specs = [_spec(index, name) for index, name in enumerate(NAMES[:-1])]
    specs.append(_spec(len(NAMES) - 1, NAMES[-1], content=b"%d" % (len(NAMES) - 2)))
    assert specs[-1].sha256 == specs[-2].sha256
    return specs


HEADER = BundleHeader(
    id=BUNDLE_ID,
    name=SUBMISSION,
    submission_id=SUBMISSION,
    dataset="demo",
    access="public",
    description="submission s7",
    created_time=CREATED,
    aliases=("harmonize:s7",),
)


def _bundle_spec(member_ids: list[str]) -> BundleSpec:
    return BundleSpec(
        id=HEADER.id,
        name=HEADER.name,
        submission_id=HEADER.submission_id,
        dataset=HEADER.dataset,
        access=HEADER.access,
        member_ids=member_ids,
        description=HEADER.description,
        created_time=HEADER.created_time,
        aliases=HEADER.aliases,
    )


def _registry(tmp_path: Path, name: str = "registry.sqlite") -> Registry:
    registry = Registry(f"sqlite:///{tmp_path / name}")
    registry.create_all()
    return registry


def _dump(registry: Registry) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with registry.engine.connect() as conn:
        objects = conn.execute(text("SELECT * FROM drs_objects ORDER BY id")).all()
        members = conn.execute(
            text("SELECT * FROM drs_bundle_members ORDER BY bundle_id, member_id")
        ).all()
    return [tuple(row) for row in objects], [tuple(row) for row in members]


@pytest.fixture
def memory() -> Registry:
    registry = Registry("sqlite://")
    registry.create_all()
    return registry


@pytest.mark.parametrize("chunk", [1, 4, 5000])
def test_same_rows_as_register(tmp_path: Path, chunk: int) -> None:
    specs = _specs()
    listed, streamed = _registry(tmp_path, "listed.sqlite"), _registry(tmp_path, "streamed.sqlite")
    listed.register(specs, _bundle_spec([spec.id for spec in specs]))
    assert streamed.register_stream(iter(specs), HEADER, chunk=chunk) == len(specs)
    assert _dump(streamed) == _dump(listed)

    row = streamed.get(HEADER.id)
    assert row is not None and row.is_bundle
    assert row.sha256 == row.version == bundle_checksum(spec.sha256 for spec in specs)
    assert row.size == sum(spec.size for spec in specs)
    assert (row.name, row.description, row.aliases) == ("s7", "submission s7", ["harmonize:s7"])
    names = dict(streamed.bundle_members(HEADER.id))
    assert len(set(names.values())) == len(specs)
    first, hidden, bare, trailing, empty = (
        specs[0].id,
        specs[7].id,
        specs[5].id,
        specs[9],
        specs[11],
    )
    assert names[first] == f"a.{first}.json"
    assert names[specs[3].id] == f"a.{specs[3].id}.tar.gz"
    assert names[bare] == f"noext.{bare}"
    assert names[hidden] == f".hidden.{hidden}"
    assert names[trailing.id] == f"a.{trailing.id}."
    assert names[empty.id] == f".{empty.id}"
    assert names[specs[13].id] == f"é 1.{specs[13].id}.json"
    assert names[specs[-2].id] == "b.json" and names[specs[-1].id] == "c.json"


def test_members_registered_earlier_keep_their_rows(memory: Registry) -> None:
    specs = _specs()
    earlier = _spec(0, "a.json", description="registered before")
    assert earlier.id == specs[0].id
    memory.register([earlier])
    assert memory.register_stream(specs, HEADER, chunk=3) == len(specs)
    row = memory.get(earlier.id)
    assert row is not None and row.description == "registered before"  # as register() does
    assert memory.count() == len(specs) + 1
    bundle = memory.get(HEADER.id)
    assert bundle is not None and bundle.sha256 == bundle_checksum(s.sha256 for s in specs)


def test_replay_is_a_no_op(tmp_path: Path) -> None:
    specs = _specs()
    registry = _registry(tmp_path)
    assert registry.register_stream(iter(specs), HEADER, chunk=4) == len(specs)
    before = _dump(registry)
    assert registry.register_stream(reversed(specs), HEADER, chunk=3) == len(specs)
    assert registry.register_stream(iter(specs), HEADER, chunk=100) == len(specs)
    # the list-based path accepts the streamed bundle as the same bundle, and vice versa
    registry.register(specs, _bundle_spec([spec.id for spec in reversed(specs)]))
    assert _dump(registry) == before

    other = _registry(tmp_path, "other.sqlite")
    other.register(specs, _bundle_spec([spec.id for spec in specs]))
    assert other.register_stream(iter(specs), HEADER) == len(specs)
    assert _dump(other) == before


@pytest.mark.parametrize(
    "stream",
    [
        pytest.param(lambda specs: specs[:-1], id="fewer"),
        pytest.param(lambda specs: [*specs, _spec(99, "new.json")], id="more"),
        pytest.param(lambda specs: [*specs[:-1], _spec(99, "new.json")], id="other"),
        pytest.param(lambda specs: [*specs[:-1], specs[0]], id="repeated-instead"),
        pytest.param(lambda specs: [], id="empty"),
    ],
)
def test_replay_with_other_members_raises(memory: Registry, stream: Any) -> None:
    specs = _specs()
    memory.register_stream(specs, HEADER, chunk=4)
    before = _dump(memory)
    with pytest.raises(ValueError, match="already registered with other members"):
        memory.register_stream(iter(stream(specs)), HEADER, chunk=4)
    assert _dump(memory) == before


def test_inconsistent_streams_are_refused_and_roll_back(memory: Registry) -> None:
    specs = _specs()
    with pytest.raises(ValueError, match="share the DRS id"):
        memory.register_stream([specs[0], _spec(0, "a.json", description="other")], HEADER)
    with pytest.raises(ValueError, match="streamed more than once"):
        memory.register_stream([specs[0], specs[1], specs[0]], HEADER)  # in one chunk
    with pytest.raises(ValueError, match="1 DRS id"):
        memory.register_stream([specs[0], specs[1], specs[0]], HEADER, chunk=2)  # across chunks
    with pytest.raises(ValueError, match="cannot contain itself"):
        memory.register_stream([specs[0], _spec(5, "x", id=HEADER.id)], HEADER)
    with pytest.raises(ValueError, match="chunk"):
        memory.register_stream(specs, HEADER, chunk=0)
    assert _dump(memory) == ([], [])


def test_a_failing_iterable_rolls_everything_back(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    specs = _specs()

    def broken() -> Iterator[ObjectSpec]:
        yield from specs[:10]
        raise OSError("staged file vanished")

    with pytest.raises(OSError, match="vanished"):
        registry.register_stream(broken(), HEADER, chunk=3)
    assert not registry.has_bundle(HEADER.id)
    assert registry.get(HEADER.id) is None
    assert _dump(registry) == ([], [])
    assert registry.register_stream(specs, HEADER, chunk=3) == len(specs)  # a retry works


def test_bundle_row_is_written_last(memory: Registry) -> None:
    statements: list[str] = []

    @event.listens_for(memory.engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.split("(")[0].strip())

    memory.register_stream(_specs(), HEADER, chunk=4)
    writes = [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes[-1] == "INSERT INTO drs_objects"
    assert writes.count("INSERT INTO drs_objects") == 6  # 5 chunks of objects, then the bundle
    assert writes[-2].startswith("UPDATE drs_bundle_members")


def test_empty_stream_registers_an_empty_bundle(memory: Registry) -> None:
    assert memory.register_stream(iter([]), HEADER) == 0
    row = memory.get(HEADER.id)
    assert row is not None and row.size == 0 and row.sha256 == bundle_checksum([])
    assert memory.register_stream([], HEADER) == 0


def _many(count: int) -> Iterator[ObjectSpec]:
    """Small specs, made on the fly; every name is shared by two members."""
    for index in range(count):
        sha = hashlib.sha256(index.to_bytes(4, "big")).hexdigest()
        name = f"P{index % (count // 2)}.json"
        yield ObjectSpec(
            id=f"hz{index:08d}",
            name=name,
            path=f"published/big/{index}/{name}",
            size=index,
            sha256=sha,
            mime_type="application/json",
            submission_id="big",
            dataset="demo",
            access="public",
            role="published",
            created_time=CREATED,
        )


@pytest.mark.slow
def test_a_large_stream_registers_in_bounded_memory(tmp_path: Path) -> None:
    count = 200_000
    registry = _registry(tmp_path)
    header = BundleHeader(
        id=bundle_id("big", "ab" * 32),
        name="big",
        submission_id="big",
        dataset="demo",
        access="public",
        created_time=CREATED,
    )
    gc.collect()
    tracemalloc.start()
    try:
        started = time.perf_counter()
        assert registry.register_stream(_many(count), header) == count
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # holding the 200k specs alone would take ~100 MiB, their rows several times more
    print(f"register_stream: {count} objects in {elapsed:.1f}s, peak {peak / 2**20:.1f} MiB")
    assert peak < 50 * 2**20

    started = time.perf_counter()
    assert registry.register_stream(_many(count), header) == count  # a replay
    print(f"replay: {time.perf_counter() - started:.1f}s")

    row = registry.get(header.id)
    assert row is not None
    assert row.size == sum(range(count))
    expected = bundle_checksum(
        hashlib.sha256(index.to_bytes(4, "big")).hexdigest() for index in range(count)
    )
    assert row.sha256 == expected
    assert registry.count() == count + 1
    with registry.engine.connect() as conn:
        names = conn.execute(
            text(
                "SELECT count(*), count(DISTINCT name), sum(name GLOB 'P*.hz*.json') "
                "FROM drs_bundle_members WHERE bundle_id = :id"
            ),
            {"id": header.id},
        ).one()
    assert tuple(names) == (count, count, count)
    registry.dispose()


class _Recorder:
    """A stand-in connection that records statements and returns no rows."""

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect
        self.statements: list[Any] = []

    def execute(self, statement: Any) -> Any:
        self.statements.append(statement)
        return self

    def partitions(self) -> list[Any]:
        return []

    def scalars(self) -> list[str]:
        return ["a.json"]  # a name two members share


def test_postgresql_statements_compile() -> None:
    from sqlalchemy.dialects import postgresql

    recorder = _Recorder(postgresql.dialect())  # type: ignore[no-untyped-call]
    unique_member_names(recorder, BUNDLE_ID)  # type: ignore[arg-type]
    assert member_totals(recorder, BUNDLE_ID, 10) == (0, 0, bundle_checksum([]))  # type: ignore[arg-type]
    shared, rename, totals = (str(s.compile(dialect=recorder.dialect)) for s in recorder.statements)
    assert "HAVING count(*) >" in shared
    assert "strpos(drs_bundle_members.name" in rename
    assert "drs_bundle_members.name IN (" in rename
    assert 'ORDER BY drs_objects.sha256 COLLATE "C"' in totals
