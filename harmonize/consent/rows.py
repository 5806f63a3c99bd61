"""A batch's own consent: the DUO codes its rows give, which replace the submission's.

>>> import pyarrow as pa
>>> people = pa.table({"phenopacket_id": ["a", "b"],
...                    "consent": pa.array([["DUO:0000006"], None], pa.list_(pa.string()))})
>>> own_consent(people)
{'a': ['DUO:0000006']}
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def own_consent(individuals: pa.Table) -> dict[str, list[str]]:
    """Phenopacket id -> the row's own DUO codes, for the rows that have some."""
    if "consent" not in individuals.column_names:
        return {}
    has = individuals.filter(pc.is_valid(individuals.column("consent")))
    return dict(
        zip(
            has.column("phenopacket_id").to_pylist(),
            has.column("consent").to_pylist(),
            strict=True,
        )
    )
