"""What a snapshot holds for the Beacon, derived once per publication.

- ``hz_days(d)``: a DuckDB macro turning ISO 8601 ages into days;
- ``hz_closure(term_id, ancestor_id)``: for every HPO term in the published features and
  every ICD-10 code in the published diseases, the term itself and each of its ancestors
  at any depth in the pinned release (HPO) or code list (ICD-10: its category, block and
  chapter), so a filter on a parent term is one join (not an ``IN`` list of descendants);
- ``hz_people`` (the ``individuals`` view in memory, with an integer ``hz_id`` and the
  age in days, ``hz_age_days``), ``hz_features`` (``hz_id``, ``term_id``: the observed,
  not excluded features) and ``hz_disease_terms`` (the same for diseases), so a term
  filter is an integer semi-join on memory, not a join of the published files on two
  string keys (:func:`index`);
- the sets of individuals (:class:`.sets.People`): bitmaps per observed term, per sex,
  dataset and consent key, and the ages by ``hz_id``, so a count query whose filters all
  have a set form is a few bitmap operations (:func:`people`);
- the datasets: their submissions, security level (CONTROLLED when any current submission
  is controlled) and the DUO codes their individuals' consent carries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pyarrow as pa

from harmonize.discovery.beacon.definitions import ONTOLOGY
from harmonize.discovery.beacon.filters import DAYS_MACRO
from harmonize.discovery.beacon.sets import People
from harmonize.discovery.tables import Snapshot


@dataclass(frozen=True)
class Dataset:
    id: str
    submissions: tuple[str, ...]
    security: str  # PUBLIC | CONTROLLED
    duo: tuple[str, ...]
    consents: tuple[str, ...] = ()  # its individuals' consent lists, as hz_consent keys


Lineage = Callable[[str], list[str]]  # a term -> its primary id and every ancestor


def closure_table(lineages: dict[str, Lineage], term_ids: list[str]) -> pa.Table:
    """(term, ancestor-or-self) pairs of the given terms, each expanded by its prefix's
    lineage (a term of a prefix without one is only its own ancestor); may repeat a pair."""
    terms: list[str] = []
    ancestors: list[str] = []
    for term in term_ids:
        lineage = lineages.get(term.partition(":")[0])
        above = [term, *(lineage(term) if lineage is not None else [])]
        terms.extend([term] * len(above))
        ancestors.extend(above)
    return pa.table(
        {"term_id": pa.array(terms, pa.string()), "ancestor_id": pa.array(ancestors, pa.string())}
    )


def _index_lineage(release: Any, term: str) -> list[str]:
    code = release.code(term)
    if code is None:
        return []
    above: list[str] = release.ids_for(release.ancestors(code)).to_pylist()
    return [release.term_id(code), *above]


def lineages(ontologies: Any) -> dict[str, Lineage]:
    """The lineage of each prefix ``definitions.ONTOLOGY`` expands (``closure``): from its
    pinned release's term index (HPO), or from its code list's hierarchy (ICD-10)."""
    found: dict[str, Lineage] = {}
    for prefix in sorted({spec.closure for spec in ONTOLOGY.values() if spec.closure}):
        if ontologies.has_index(prefix):
            found[prefix] = partial(_index_lineage, ontologies.get(prefix))
        elif (codes := ontologies.code_list(prefix)) is not None:
            found[prefix] = codes.lineage
    return found


INDEX = (
    "CREATE OR REPLACE TABLE hz_people AS SELECT row_number() OVER ()::INTEGER AS hz_id, "
    "hz_days(age_at_last_encounter) AS hz_age_days, "
    "coalesce(array_to_string(consent, '|'), '') AS hz_consent, * FROM individuals",
    "CREATE OR REPLACE TABLE hz_features AS SELECT i.hz_id, f.term_id "
    "FROM phenotypic_features f JOIN hz_people i ON f.submission_id = i.submission_id "
    "AND f.phenopacket_id = i.phenopacket_id "
    "WHERE f.excluded IS NOT TRUE AND f.term_id IS NOT NULL ORDER BY f.term_id, i.hz_id",
    "CREATE OR REPLACE TABLE hz_disease_terms AS SELECT i.hz_id, d.term_id "
    "FROM diseases d JOIN hz_people i ON d.submission_id = i.submission_id "
    "AND d.phenopacket_id = i.phenopacket_id "
    "WHERE d.excluded IS NOT TRUE AND d.term_id IS NOT NULL ORDER BY d.term_id, i.hz_id",
)
INDEXES = ("hz_features", "hz_disease_terms")  # the term index tables INDEX makes


def index(con: Any) -> None:
    """``hz_people``, ``hz_features`` and ``hz_disease_terms`` from the snapshot's views
    (``hz_days`` exists)."""
    for statement in INDEX:
        con.execute(statement)


def prepare(snapshot: Snapshot, lineage: dict[str, Lineage]) -> None:
    """Build the macro, the indexes, the closure table, the sets of individuals and the
    dataset list into ``snapshot``; ``lineage`` expands the terms of each prefix that
    ``definitions.ONTOLOGY`` gives a closure (:func:`lineages`)."""
    con = snapshot.con
    con.execute(DAYS_MACRO)
    index(con)
    found: list[str] = []
    for prefix, spec in ONTOLOGY.items():
        if spec.closure:
            found += [
                row[0]
                for row in con.execute(
                    f'SELECT DISTINCT "{spec.column}" FROM "{spec.table}" '
                    f'WHERE "{spec.column}" LIKE ?',
                    [f"{prefix}:%"],
                ).fetchall()
            ]
    pairs = closure_table(lineage, found)
    con.register("hz_closure_pairs", pairs)
    con.execute(
        "CREATE OR REPLACE TABLE hz_closure AS SELECT DISTINCT * FROM hz_closure_pairs "
        "ORDER BY ancestor_id"
    )
    con.unregister("hz_closure_pairs")
    snapshot.extras["beacon.people"] = People.build(con, INDEXES)
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


def people(snapshot: Snapshot) -> People | None:
    """The snapshot's sets of individuals (None before :func:`prepare` ran)."""
    found: People | None = snapshot.extras.get("beacon.people")
    return found
