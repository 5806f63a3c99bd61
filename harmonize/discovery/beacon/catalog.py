"""What a snapshot holds for the Beacon, derived once per publication.

- ``hz_days(d)``: a DuckDB macro turning ISO 8601 ages into days;
- ``hz_closure(term_id, ancestor_id)``: for every HPO term in the published features, the
  term itself and each of its ancestors at any depth in the pinned release, so a filter on
  a parent term is one join (not an ``IN`` list of descendants);
- ``hz_people`` (the ``individuals`` view in memory, with an integer ``hz_id`` and the
  age in days, ``hz_age_days``) and ``hz_features`` (``hz_id``, ``term_id``: the observed,
  not excluded features), so a term filter is an integer semi-join on memory, not a join of
  the published files on two string keys (:func:`index`);
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
    consents: tuple[str, ...] = ()  # its individuals' consent lists, as hz_consent keys


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


INDEX = (
    "CREATE OR REPLACE TABLE hz_people AS SELECT row_number() OVER ()::INTEGER AS hz_id, "
    "hz_days(age_at_last_encounter) AS hz_age_days, "
    "coalesce(array_to_string(consent, '|'), '') AS hz_consent, * FROM individuals",
    "CREATE OR REPLACE TABLE hz_features AS SELECT i.hz_id, f.term_id "
    "FROM phenotypic_features f JOIN hz_people i ON f.submission_id = i.submission_id "
    "AND f.phenopacket_id = i.phenopacket_id "
    "WHERE f.excluded IS NOT TRUE AND f.term_id IS NOT NULL ORDER BY f.term_id, i.hz_id",
)


def index(con: Any) -> None:
    """``hz_people`` and ``hz_features`` from the snapshot's views (``hz_days`` exists)."""
    for statement in INDEX:
        con.execute(statement)


def prepare(snapshot: Snapshot, hp: Any) -> None:
    """Build the macro, the closure table and the dataset list into ``snapshot``."""
    con = snapshot.con
    con.execute(DAYS_MACRO)
    index(con)
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
        "SELECT dataset, submission_id, list_distinct(flatten(list(consent))), "
        "list_distinct(list(hz_consent)) FROM hz_people GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    submissions: dict[str, list[str]] = {}
    duo: dict[str, set[str]] = {}
    consents: dict[str, set[str]] = {}
    for dataset, submission, codes, keys in rows:
        name = dataset or "default"
        submissions.setdefault(name, []).append(submission)
        duo.setdefault(name, set()).update(c for c in codes or [] if c)
        consents.setdefault(name, set()).update(keys or [])
    datasets = {}
    for name, sids in submissions.items():
        controlled = any(snapshot.access.get(s, "controlled") != "public" for s in sids)
        datasets[name] = Dataset(
            name,
            tuple(sids),
            "CONTROLLED" if controlled else "PUBLIC",
            tuple(sorted(duo[name])),
            tuple(sorted(consents[name])),
        )
    snapshot.extras["beacon.datasets"] = datasets


def datasets(snapshot: Snapshot) -> dict[str, Dataset]:
    found: dict[str, Dataset] = snapshot.extras["beacon.datasets"]
    return found
