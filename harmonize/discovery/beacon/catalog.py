"""What a snapshot holds for the Beacon, derived once per publication.

- ``hz_days(d)``: a DuckDB macro turning ISO 8601 ages into days;
- ``hz_closure(term_id, ancestor_id)``: for every HPO term in the published features, the
  term itself and each of its ancestors at any depth in the pinned release, so a filter on
  a parent term is one join (not an ``IN`` list of descendants);
- the datasets: their submissions, security level (CONTROLLED when any current submission
  is controlled) and the DUO codes their individuals' consent carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from harmonize.discovery.beacon.filters import DAYS_MACRO
from harmonize.discovery.tables import Snapshot


@dataclass(frozen=True)
class Dataset:
    id: str
    submissions: tuple[str, ...]
    security: str  # PUBLIC | CONTROLLED
    duo: tuple[str, ...]


def closure_table(hp: Any, term_ids: list[str]) -> pa.Table:
    """(term, ancestor-or-self) pairs of the given HPO terms in release ``hp``."""
    terms: list[str] = []
    ancestors: list[str] = []
    for term in term_ids:
        terms.append(term)
        ancestors.append(term)
        code = hp.code(term)
        if code is None:
            continue
        primary = hp.term_id(code)
        if primary != term:
            terms.append(term)
            ancestors.append(primary)
        above = hp.ids_for(hp.ancestors(code)).to_pylist()
        terms.extend([term] * len(above))
        ancestors.extend(above)
    return pa.table(
        {"term_id": pa.array(terms, pa.string()), "ancestor_id": pa.array(ancestors, pa.string())}
    )


def prepare(snapshot: Snapshot, hp: Any) -> None:
    """Build the macro, the closure table and the dataset list into ``snapshot``."""
    con = snapshot.con
    con.execute(DAYS_MACRO)
    found = con.execute(
        "SELECT DISTINCT term_id FROM phenotypic_features WHERE term_id LIKE 'HP:%'"
    ).fetchall()
    pairs = closure_table(hp, [row[0] for row in found])
    con.register("hz_closure_pairs", pairs)
    con.execute(
        "CREATE OR REPLACE TABLE hz_closure AS SELECT DISTINCT * FROM hz_closure_pairs "
        "ORDER BY ancestor_id"
    )
    con.unregister("hz_closure_pairs")
    rows = con.execute(
        "SELECT dataset, submission_id, list_distinct(flatten(list(consent))) "
        "FROM individuals GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    submissions: dict[str, list[str]] = {}
    duo: dict[str, set[str]] = {}
    for dataset, submission, codes in rows:
        name = dataset or "default"
        submissions.setdefault(name, []).append(submission)
        duo.setdefault(name, set()).update(c for c in codes or [] if c)
    datasets = {}
    for name, sids in submissions.items():
        controlled = any(snapshot.access.get(s, "controlled") != "public" for s in sids)
        datasets[name] = Dataset(
            name, tuple(sids), "CONTROLLED" if controlled else "PUBLIC", tuple(sorted(duo[name]))
        )
    snapshot.extras["beacon.datasets"] = datasets


def datasets(snapshot: Snapshot) -> dict[str, Dataset]:
    found: dict[str, Dataset] = snapshot.extras["beacon.datasets"]
    return found
