"""The column-wise helpers of build_documents against plain Python on random tables."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from harmonize.mapping import phenopackets_rows as rows


def _random_table(rng: random.Random, n: int) -> pa.Table:
    def pick(values: list[object]) -> list[object]:
        return [rng.choice(values) for _ in range(n)]

    return pa.table(
        {
            "phenopacket_id": pick(["a", "b", "c", "d", None]),
            "term": pick(["HP:1", "HP:2", "HP:3", None]),
            "excluded": pick([True, False, None]),
            "weeks": pa.array(pick([1, 2, None]), pa.int64()),
            "wide": pick([f"v{k}" for k in range(40)] + [None]),
            "empty": pa.array([None] * n, pa.string()),
        }
    )


@pytest.mark.parametrize("limit", [1 << 62, 50])  # 50: codes compacted column by column
@pytest.mark.parametrize("seed", range(6))
def test_distinct_rows_codes_equal_exactly_when_values_do(
    seed: int, limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rows, "_CODE_LIMIT", limit)
    rng = random.Random(seed)
    table = _random_table(rng, rng.randint(0, 300))
    names = ["term", "excluded", "weeks", "wide", "empty"]
    code, first = rows.distinct_rows(table, names)
    values = list(zip(*(table.column(n).to_pylist() for n in names), strict=True))
    assert len(code) == table.num_rows
    seen: dict[tuple[object, ...], int] = {}
    for i, value in enumerate(values):
        seen.setdefault(value, int(code[i]))
        assert seen[value] == code[i]
    assert len(set(seen.values())) == len(seen)  # different values, different codes
    assert sorted(code[first].tolist()) == list(range(len(first)))
    for c, row in enumerate(first.tolist()):
        assert values[row] == next(v for v, k in seen.items() if k == c)


@pytest.mark.parametrize("seed", range(6))
def test_grouped_gives_each_document_its_kept_rows_in_table_order(seed: int) -> None:
    rng = random.Random(seed)
    table = _random_table(rng, rng.randint(0, 300))
    individuals = pa.array(["c", "a", None, "c", "b"])  # "c" twice: its first row counts
    ordinal = np.array([0, 1, -1, -1, 2], dtype=np.int64)
    docs = rows.document_rows(table, individuals, ordinal)
    keep = np.array([t is not None for t in table.column("term").to_pylist()], dtype=bool)
    got = dict(rows.grouped(docs, keep, lambda at: at.tolist()))
    owner = {"c": 0, "a": 1, "b": 2}
    want: dict[int, list[int]] = {}
    for i, (pid, term) in enumerate(
        zip(
            table.column("phenopacket_id").to_pylist(),
            table.column("term").to_pylist(),
            strict=True,
        )
    ):
        if pid in owner and term is not None:
            want.setdefault(owner[pid], []).append(i)
    assert got == want
