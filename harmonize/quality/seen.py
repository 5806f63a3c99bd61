"""The phenopacket ids a submission has shown so far, kept compactly.

A ``set`` of a million id strings took ~110 MB (a str object and a hash-table slot each).
:class:`SeenIds` keeps one 64-bit hash per id in a sorted numpy array, the position of its
id, and the ids themselves in Arrow string arrays (the bytes and an offset each): ~45 MB at
a million. A hash only nominates a repeat: it is one only when the stored id is equal, so
two ids whose hashes collide are both first sightings.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa


class SeenIds:
    """Ids seen so far: :meth:`repeats` marks which of a batch's ids were, and adds them."""

    def __init__(self, key: Callable[[str], int] = hash) -> None:
        """``key`` is the 64-bit hash (tests pass one that collides)."""
        self._key = key
        self._hashes = np.empty(0, dtype=np.int64)  # sorted
        self._where = np.empty(0, dtype=np.int64)  # each hash's id: its sighting number
        self._chunks: list[pa.Array] = []  # the ids in the order first seen
        self._starts: list[int] = []  # the sighting number of each chunk's first id

    def _hashes_of(self, ids: Sequence[str]) -> np.ndarray[Any, np.dtype[np.int64]]:
        return np.fromiter(map(self._key, ids), dtype=np.int64, count=len(ids))

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, pid: object) -> bool:
        return isinstance(pid, str) and self._known(pid, self._key(pid))

    def _id(self, number: int) -> str:
        chunk = bisect.bisect_right(self._starts, number) - 1
        value: str = self._chunks[chunk][number - self._starts[chunk]].as_py()
        return value

    def _known(self, pid: str, h: int) -> bool:
        """Whether ``pid`` (of hash ``h``) is stored: every stored id of that hash compared."""
        at = int(np.searchsorted(self._hashes, h))
        while at < len(self._hashes) and self._hashes[at] == h:
            if self._id(int(self._where[at])) == pid:
                return True
            at += 1
        return False

    def repeats(self, ids: Sequence[str | None]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """For each of ``ids``: True if it was seen before (in an earlier call or earlier in
        ``ids``); None is never a repeat. The new ids are added."""
        out = np.zeros(len(ids), dtype=bool)
        present = [i for i, pid in enumerate(ids) if pid is not None]
        hashes = self._hashes_of([ids[i] for i in present])  # type: ignore[misc]
        if len(self._hashes) and len(hashes):
            at = np.searchsorted(self._hashes, hashes)
            found = self._hashes[np.minimum(at, len(self._hashes) - 1)] == hashes
            for k in np.flatnonzero(found).tolist():  # a known hash: is it the same id?
                out[present[k]] = self._known(ids[present[k]], int(hashes[k]))  # type: ignore[arg-type]
        new: dict[str, None] = {}
        for i in present:
            if out[i]:
                continue
            pid: str = ids[i]  # type: ignore[assignment]
            if pid in new:
                out[i] = True
            else:
                new[pid] = None
        if new:
            self._add(list(new))
        return out

    def _add(self, ids: list[str]) -> None:
        start = len(self._hashes)
        self._starts.append(start)
        self._chunks.append(pa.array(ids, type=pa.string()))
        hashes = np.concatenate([self._hashes, self._hashes_of(ids)])
        where = np.concatenate([self._where, np.arange(start, start + len(ids), dtype=np.int64)])
        order = np.argsort(hashes, kind="stable")  # two sorted runs: a merge
        self._hashes, self._where = hashes[order], where[order]
