"""Build Phenopacket v2 documents (plain dicts, proto3 JSON names) from the harmonized tables.

Dicts written with orjson are about 50x faster than protobuf's ``json_format``; the
structure follows the Phenopacket v2 schema and is checked against it in the tests.

Consent: the Phenopacket schema has no consent field, so an individual's DUO codes (its
row's own, else the submission's) are carried as ``metaData.externalReferences``, one
entry per code after the publication reference:
``{"id": "DUO:0000042", "reference": "http://purl.obolibrary.org/obo/DUO_0000042",
"description": "data use permission: general research use"}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from harmonize.allocation import gc_paused
from harmonize.mapping import phenopackets_rows as rows
from harmonize.mapping import times

SCHEMA_VERSION = "2.0.2"
# A document that names no term (a row with only an id and sex) still lists this resource:
# every profile checks phenotypes against the pinned HPO release, and the v2 JSON Schema
# requires metaData.resources to list at least one resource.
CHECKED_AGAINST = "HP"
PUBMED = "https://pubmed.ncbi.nlm.nih.gov/"


def _cols(table: pa.Table, names: list[str]) -> list[list[Any]]:
    return [table.column(n).to_pylist() for n in names]


# variants table column -> VcfRecord field (every one set, or no vcfRecord)
_VCF = {
    "vcf_assembly": "genomeAssembly",
    "vcf_chrom": "chrom",
    "vcf_pos": "pos",
    "vcf_ref": "ref",
    "vcf_alt": "alt",
}
_ANNOTATION = [
    "phenopacket_id",
    "term_id",
    "term_label",
    "excluded",
    *(times.column("onset", part) for part in times.PARTS),
    *(times.column("resolution", part) for part in times.PARTS),
]
_NPARTS = len(times.PARTS)
# the CURIE columns of each table that end up in a phenopacket
_CURIE_COLUMNS = {
    "individuals": ("last_encounter_term_id", "cause_of_death_id", "time_of_death_term_id"),
    "phenotypic_features": ("term_id", "onset_term_id", "resolution_term_id"),
    "diseases": ("term_id", "onset_term_id", "resolution_term_id"),
    "variants": ("gene_id", "allelic_state_id", "disease_id"),
    "measurements": ("assay_id", "unit_id", "time_observed_term_id"),
}


def _prefixes(tables: dict[str, pa.Table]) -> dict[str, list[str]]:
    """Each phenopacket's CURIE prefixes, found column-wise (one MetaData resource each)."""
    parts = []
    for name, columns in _CURIE_COLUMNS.items():
        table = tables[name]
        if table.num_rows == 0:
            continue
        for column in columns:
            ids = table.column(column)
            has = pc.fill_null(pc.match_substring(ids, ":"), False)
            prefix = pc.list_element(pc.split_pattern(pc.fill_null(ids, ""), ":", max_splits=1), 0)
            parts.append(pa.table({"pp": table.column("phenopacket_id"), "p": prefix}).filter(has))
    out: dict[str, list[str]] = {}
    if not parts:
        return out
    pairs = pa.concat_tables(parts).group_by(["pp", "p"], use_threads=False).aggregate([])
    for pid, prefix in zip(
        pairs.column("pp").to_pylist(), pairs.column("p").to_pylist(), strict=True
    ):
        out.setdefault(pid, []).append(prefix)
    return out


def _class_prefixes(obj: Any) -> set[str]:
    """The CURIE prefixes of the ontology classes (``{"id", "label"}``) anywhere in ``obj``.

    >>> sorted(_class_prefixes({"a": [{"code": {"id": "MAXO:0001175", "label": "x"}}]}))
    ['MAXO']
    """
    found: set[str] = set()
    if isinstance(obj, dict):
        tid = obj.get("id")
        if "label" in obj and isinstance(tid, str) and ":" in tid:
            found.add(tid.split(":", 1)[0])
        for value in obj.values():
            found |= _class_prefixes(value)
    elif isinstance(obj, list):
        for value in obj:
            found |= _class_prefixes(value)
    return found


def _annotation(
    key: str, tid: str, label: str | None, excluded: bool | None, *when: Any
) -> dict[str, Any]:
    """A phenotypic feature or a disease: its term, excluded, onset and resolution."""
    item: dict[str, Any] = {key: {"id": tid, "label": label or ""}}
    if excluded:
        item["excluded"] = True
    onset = times.element(dict(zip(times.PARTS, when[:_NPARTS], strict=True)))
    if onset:
        item["onset"] = onset
    resolution = times.element(dict(zip(times.PARTS, when[_NPARTS:], strict=True)))
    if resolution:
        item["resolution"] = resolution
    return item


def _annotations(table: pa.Table, key: str) -> Callable[[Any], list[dict[str, Any]]]:
    """``values(rows)`` for :func:`~.phenopackets_rows.grouped`: the annotation dict of each
    of ``rows``, one dict per distinct annotation (shared by the rows that have it)."""
    code, first = rows.distinct_rows(table, _ANNOTATION[1:])
    picked = table.select(_ANNOTATION[1:]).take(pa.array(first))
    made = [
        _annotation(key, *values) for values in zip(*_cols(picked, _ANNOTATION[1:]), strict=True)
    ]

    def values(at: Any) -> list[dict[str, Any]]:
        return [made[c] for c in code[at].tolist()]

    return values


def _times(table: pa.Table, stem: str) -> list[dict[str, Any] | None]:
    """Each row's ``TimeElement`` of ``stem`` (None where it has none)."""
    out: list[dict[str, Any] | None] = [None] * table.num_rows
    names = [times.column(stem, part) for part in times.PARTS]
    present = [table.column(n) for n in names if table.column(n).null_count < table.num_rows]
    if not present:  # the usual case: no time of this kind at all
        return out
    has = present[0].is_valid()
    for values in present[1:]:
        has = pc.or_(has, values.is_valid())
    rows = np.flatnonzero(has.to_numpy(zero_copy_only=False))
    picked = table.select(names).take(pa.array(rows))
    made: dict[tuple[Any, ...], dict[str, Any] | None] = {}
    for i, row in zip(rows.tolist(), zip(*_cols(picked, names), strict=True), strict=True):
        if row not in made:
            made[row] = times.element(dict(zip(times.PARTS, row, strict=True)))
        out[i] = made[row]
    return out


def _vital(
    status: str, death: dict[str, Any] | None, cause: str | None, label: str | None
) -> dict[str, Any]:
    """A ``VitalStatus``: the status, and a time and cause of death when there are."""
    out: dict[str, Any] = {"status": status}
    if death:
        out["timeOfDeath"] = death
    if cause:
        out["causeOfDeath"] = {"id": cause, "label": label or cause}
    return out


@gc_paused()
def build_documents(
    tables: dict[str, pa.Table],
    *,
    created: str,
    created_by: str,
    resource: Callable[[str], dict[str, Any] | None],
    consent: Sequence[str] = (),
    references: Callable[[Sequence[str]], list[dict[str, str]]] | None = None,
    extras: dict[str, dict[str, Any]] | None = None,
    prefixes: dict[str, set[str]] | None = None,
) -> list[dict[str, Any]]:
    """One Phenopacket per row of ``individuals``, in that order (built with the garbage
    collector paused: see :func:`harmonize.allocation.gc_paused`).

    ``resource(prefix)`` gives the MetaData Resource for a CURIE prefix (None if unknown).
    ``consent`` are the submission's DUO codes, which apply where a row has none of its
    own; ``references(codes)`` makes their ``externalReferences`` entries (none without it).
    ``extras`` adds fields no table holds to the documents, by phenopacket id (see
    :class:`~harmonize.mapping.profiles.base.MappedBatch`); MetaData lists the prefixes of
    their ontology classes, and ``prefixes`` adds, by phenopacket id, those MetaData must
    list although neither a table column nor an extra shows them. A document that names no
    term lists the HPO release (:data:`CHECKED_AGAINST`) rather than no resource at all.
    """
    ind = tables["individuals"]
    docs: dict[str, dict[str, Any]] = {}
    used = _prefixes(tables)
    pid_, sid, sex, vital, ref, refdesc = _cols(
        ind,
        [
            "phenopacket_id",
            "subject_id",
            "sex",
            "vital_status",
            "reference_id",
            "reference_description",
        ],
    )
    last_encounter = _times(ind, "last_encounter")
    death = _times(ind, "time_of_death")
    cause_id, cause_label, alternate = _cols(
        ind, ["cause_of_death_id", "cause_of_death_label", "alternate_ids"]
    )
    own_consent = ind.column("consent").to_pylist() if references else [None] * ind.num_rows
    made_refs: dict[tuple[str, ...], list[dict[str, str]]] = {}
    ordinal = [-1] * ind.num_rows  # each individuals row's document, -1: it makes none
    for i, pid in enumerate(pid_):
        if pid is None or pid in docs:
            continue
        ordinal[i] = len(docs)
        subject: dict[str, Any] = {"id": sid[i] if sid[i] is not None else pid}
        if alternate[i]:
            subject["alternateIds"] = list(alternate[i])
        if last_encounter[i]:
            subject["timeAtLastEncounter"] = last_encounter[i]
        if vital[i]:
            subject["vitalStatus"] = _vital(vital[i], death[i], cause_id[i], cause_label[i])
        if sex[i]:
            subject["sex"] = sex[i]
        meta: dict[str, Any] = {"created": created, "createdBy": created_by}
        if ref[i]:
            number = ref[i].split(":", 1)[-1]
            external = {"id": ref[i]}
            if ref[i].startswith("PMID:"):
                external["reference"] = PUBMED + number
            if refdesc[i]:
                external["description"] = refdesc[i]
            meta["externalReferences"] = [external]
        own: list[str] | None = own_consent[i]
        codes = tuple(own if own is not None else consent)
        if codes and references is not None:
            if codes not in made_refs:
                made_refs[codes] = references(codes)
            meta["externalReferences"] = meta.get("externalReferences", []) + made_refs[codes]
        docs[pid] = {"id": pid, "subject": subject, "metaData": meta}

    # phenotypic features and diseases share a shape: an ontology class, excluded, an onset.
    # The same (term, excluded, onset) recurs across thousands of individuals: build each
    # such dict once and share it (nothing mutates them; orjson writes shared objects fine),
    # and give each document its list in one slice (see phenopackets_rows)
    listed = list(docs.values())
    ids = ind.column("phenopacket_id").combine_chunks()
    for table_name, field, key in (
        ("phenotypic_features", "phenotypicFeatures", "type"),
        ("diseases", "diseases", "term"),
    ):
        table = tables[table_name]
        if table.num_rows == 0:
            continue
        owner = rows.document_rows(table, ids, np.asarray(ordinal, dtype=np.int64))
        named = pc.is_valid(table.column("term_id")).to_numpy(zero_copy_only=False)
        for at, items in rows.grouped(owner, named, _annotations(table, key)):
            listed[at][field] = items

    v = tables["variants"]
    for (
        pid,
        vid,
        did,
        dlabel,
        gid,
        gsym,
        hgvs,
        syntax,
        desc,
        zid,
        zlabel,
        status,
        progress,
        *vcf,
    ) in zip(
        *_cols(
            v,
            [
                "phenopacket_id",
                "variant_id",
                "disease_id",
                "disease_label",
                "gene_id",
                "gene_symbol",
                "hgvs",
                "hgvs_syntax",
                "description",
                "allelic_state_id",
                "allelic_state_label",
                "interpretation_status",
                "progress_status",
                *_VCF,
            ],
        ),
        strict=True,
    ):
        doc = docs.get(pid)
        if doc is None or not did:
            # a diagnosis always names its disease: a variant without one stays in the
            # variants table only (the checks report it)
            continue
        descriptor: dict[str, Any] = {"id": vid or f"{pid}:variant"}
        if gid or gsym:
            descriptor["geneContext"] = {"valueId": gid or "", "symbol": gsym or ""}
        if hgvs:
            descriptor["expressions"] = [{"syntax": syntax or "hgvs", "value": hgvs}]
        if None not in vcf:
            descriptor["vcfRecord"] = {
                key: str(x) for key, x in zip(_VCF.values(), vcf, strict=True)
            }
        if desc:
            descriptor["label"] = desc
        descriptor["moleculeContext"] = "genomic"
        if zid:
            descriptor["allelicState"] = {"id": zid, "label": zlabel or ""}
        interps = doc.setdefault("interpretations", [])
        interp = None
        for x in interps:
            if x["diagnosis"]["disease"]["id"] == did:
                interp = x
                break
        if interp is None:
            interp = {
                "id": doc["subject"]["id"] if not interps else f"{doc['subject']['id']}:{did}",
                "progressStatus": progress or "UNKNOWN_PROGRESS",
                "diagnosis": {"disease": {"id": did, "label": dlabel or ""}},
            }
            interps.append(interp)
        interp["diagnosis"].setdefault("genomicInterpretations", []).append(
            {
                "subjectOrBiosampleId": doc["subject"]["id"],
                "interpretationStatus": status or "UNKNOWN_STATUS",
                "variantInterpretation": {"variationDescriptor": descriptor},
            }
        )

    m = tables["measurements"]
    for pid, aid, alabel, value, uid, ulabel, when in zip(
        *_cols(m, ["phenopacket_id", "assay_id", "assay_label", "value", "unit_id", "unit_label"]),
        _times(m, "time_observed"),
        strict=True,
    ):
        doc = docs.get(pid)
        if doc is None or aid is None:
            continue
        measurement: dict[str, Any] = {
            "assay": {"id": aid, "label": alabel or ""},
            "value": {
                "quantity": {"unit": {"id": uid or "", "label": ulabel or ""}, "value": value}
            },
        }
        if when:
            measurement["timeObserved"] = when
        doc.setdefault("measurements", []).append(measurement)

    for pid, extra in (extras or {}).items():
        doc = docs.get(pid)
        if doc is not None:
            for key, value in extra.items():  # a list extends the tables' (measurements)
                had = doc.get(key)
                doc[key] = (
                    had + value if isinstance(had, list) and isinstance(value, list) else value
                )
            used[pid] = sorted(set(used.get(pid, ())) | _class_prefixes(extra))
    for pid, more in (prefixes or {}).items():
        if pid in docs:
            used[pid] = sorted(set(used.get(pid, ())) | more)

    out = []
    listed_resources: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for pid, doc in docs.items():
        meta = doc.pop("metaData")
        names = tuple(sorted(used.get(pid, ()))) or (CHECKED_AGAINST,)
        found = listed_resources.get(names)
        if found is None:
            found = listed_resources[names] = [r for r in map(resource, names) if r is not None]
        meta = {
            "created": meta["created"],
            "createdBy": meta["createdBy"],
            "resources": list(found),  # its own list, of the shared resource dicts
            "phenopacketSchemaVersion": SCHEMA_VERSION,
            **(
                {"externalReferences": meta["externalReferences"]}
                if "externalReferences" in meta
                else {}
            ),
        }
        doc["metaData"] = meta
        out.append(doc)
    return out


# individuals per slice of :func:`document_slices`: a slice's dicts are written and dropped
# before the next is built (a whole 20,000-individual batch of dicts was ~120 MB)
SLICE = 2_000
# the tables :func:`build_documents` reads beside ``individuals``
_DOC_TABLES = tuple(name for name in _CURIE_COLUMNS if name != "individuals")


def document_slices(
    tables: dict[str, pa.Table],
    *,
    size: int | None = None,
    extras: dict[str, dict[str, Any]] | None = None,
    prefixes: dict[str, set[str]] | None = None,
    **build: Any,
) -> Iterator[list[dict[str, Any]]]:
    """:func:`build_documents` for ``size`` individuals at a time: the same documents, in
    the same order, each byte for byte the same, without holding all of them at once.

    Each slice gets its individuals' rows of the other tables, in their table order (a
    stable sort by individual); an id that recurs among ``individuals`` keeps its first
    row, as :func:`build_documents` does. ``build`` are its other keyword arguments.
    """
    size = size or SLICE
    ind = tables["individuals"]
    pids = ind.column("phenopacket_id")
    if ind.num_rows <= size:
        yield build_documents(tables, extras=extras, prefixes=prefixes, **build)
        return
    first = pc.index_in(pids, value_set=pids, skip_nulls=True)
    keep = np.equal(first.to_numpy(zero_copy_only=False), np.arange(ind.num_rows))
    if not keep.all():  # a repeated or missing id: only first sightings make documents
        ind = ind.filter(pa.array(keep))
        pids = ind.column("phenopacket_id")
    order: dict[str, tuple[pa.Table, np.ndarray[Any, Any], np.ndarray[Any, Any]]] = {}
    for name in _DOC_TABLES:
        table = tables[name]
        at = pc.index_in(table.column("phenopacket_id"), value_set=pids, skip_nulls=True)
        position = pc.fill_null(at, -1).to_numpy(zero_copy_only=False)
        rows = np.argsort(position, kind="stable")
        order[name] = (table, rows, position[rows])
    for start in range(0, ind.num_rows, size):
        stop = min(start + size, ind.num_rows)
        part = {"individuals": ind.slice(start, stop - start)}
        for name, (table, rows, position) in order.items():
            lo, hi = np.searchsorted(position, [start, stop])
            part[name] = table.take(pa.array(rows[lo:hi]))
        ids = part["individuals"].column("phenopacket_id").to_pylist()
        yield build_documents(
            part,
            extras={p: extras[p] for p in ids if p in extras} if extras else None,
            prefixes={p: prefixes[p] for p in ids if p in prefixes} if prefixes else None,
            **build,
        )
