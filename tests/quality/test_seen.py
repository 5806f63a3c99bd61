"""The compact set of phenopacket ids seen: repeats found, and hash collisions are not."""

from __future__ import annotations

import random

import numpy as np

from harmonize.quality.seen import SeenIds


def _reference(batches: list[list[str | None]]) -> list[list[bool]]:
    seen: set[str] = set()
    out = []
    for ids in batches:
        marks = []
        for pid in ids:
            marks.append(pid is not None and pid in seen)
            if pid is not None:
                seen.add(pid)
        out.append(marks)
    return out


def _batches(rng: random.Random) -> list[list[str | None]]:
    pool = [f"PMID_{rng.randrange(10**6)}_patient_{i}" for i in range(400)]
    return [
        [rng.choice(pool) if rng.random() > 0.05 else None for _ in range(rng.randrange(0, 90))]
        for _ in range(12)
    ]


def test_repeats_as_a_set_finds_them() -> None:
    rng = random.Random(1)
    batches = _batches(rng)
    seen = SeenIds()
    got = [seen.repeats(ids).tolist() for ids in batches]
    assert got == _reference(batches)
    assert any(any(marks) for marks in got) and any(not all(marks) for marks in got)
    distinct = {p for ids in batches for p in ids if p is not None}
    assert len(seen) == len(distinct)
    assert all(p in seen for p in distinct) and "never-seen" not in seen


def test_a_hash_collision_is_no_repeat() -> None:
    """With a hash that collides nearly always, only equal ids are repeats."""
    rng = random.Random(2)
    batches = _batches(rng)
    seen = SeenIds(key=lambda pid: len(pid) % 3)
    got = [seen.repeats(ids).tolist() for ids in batches]
    assert got == _reference(batches)
    assert "PMID_1_patient_9999" not in seen  # its hash is stored; the id is not


def test_an_empty_batch() -> None:
    seen = SeenIds()
    assert seen.repeats([]).dtype == np.bool_
    assert seen.repeats([None, "a", "a"]).tolist() == [False, False, True]
    assert seen.repeats(["a", "b"]).tolist() == [True, False]
