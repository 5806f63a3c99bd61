"""References between the files of one FHIR submission (a Condition in one file, its Patient
in another), resolved before any batch is mapped.

A FHIR submission often comes as several files: a Bulk Data export writes
``Patient.ndjson``, ``Condition.ndjson``, ``Observation.ndjson``; a hospital sends one
Bundle per file. The reader hands out one *group* at a time (a Bundle, or an NDJSON file's
loose resources), and a resource's ``subject`` is looked up among the Patients of its
group. For a submission of more than one file, :func:`plan_links` first reads every file
(twice, keeping only what it needs) and finds each Patient whose resources lie in more than
one group. Such a Patient and every resource that refers to it are then mapped together,
at the last of those groups in reading order (:attr:`Links.at`), and skipped where they
are read (:attr:`Links.moved`). Every process that maps batches (``harmonize ingest``, or
the DAG's fanned-out tasks) makes the same plan, so each resource is mapped exactly once.
A reference to a Patient that no file holds stays an error at its file, record and field.

Memory: the moved resources are held from the plan until their group is mapped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson

from harmonize.errors import HarmonizeError
from harmonize.mapping.profiles.base import MappingContext
from harmonize.mapping.profiles.fhir_resources import Record

Key = tuple[str, int, str | None]  # (file, record, path in its Bundle)


@dataclass
class Links:
    moved: set[Key] = field(default_factory=set)  # mapped at another group than their own
    at: dict[str, list[Record]] = field(default_factory=dict)  # group -> resources to map there
    patients: set[str] = field(default_factory=set)  # every way the submission names a Patient


def patient_keys(url: str | None, data: dict[str, object]) -> list[str]:
    """The references that name this Patient: its fullUrl and ``Patient/<id>``."""
    keys = [url] if url else []
    if data.get("id"):
        keys.append(f"Patient/{data['id']}")
    return keys


def reference_keys(data: dict[str, object]) -> list[str]:
    """What a resource's ``subject.reference`` may match (an absolute URL as Patient/<id>)."""
    subject = data.get("subject")
    ref = subject.get("reference") if isinstance(subject, dict) else None
    if not isinstance(ref, str):
        return []
    keys = [ref]
    if "/Patient/" in ref:
        keys.append("Patient/" + ref.rsplit("/Patient/", 1)[1])
    return keys


def _records(ctx: MappingContext, mapped: tuple[str, ...]) -> Iterator[tuple[str, Record]]:
    """Every resource of a mapped kind in the submission's files, with its group."""
    from harmonize.readers import reader_for
    from harmonize.readers.base import ReadOptions

    for name, path in ctx.files.items():
        options = ReadOptions(
            label=name, limits=ctx.settings.limits, batch_size=ctx.settings.batch_size
        )
        for batch in reader_for(path, prefer="fhir").read(path, options):
            t = batch.table
            columns = [
                t.column(c).to_pylist()
                for c in ("resource", "resource_type", "path", "group", "full_url")
            ]
            for i, (text, kind, where, group, url) in enumerate(zip(*columns, strict=True)):
                if kind in mapped:
                    row = batch.rows[i].as_py()
                    yield group, Record(i, row, kind, orjson.loads(text), where, url, batch.file)


def plan_links(ctx: MappingContext, mapped: tuple[str, ...]) -> Links | None:
    """The plan for a submission of several files; None for one file, or when a file cannot
    be read (the reading proper then reports why)."""
    if len(ctx.files) < 2:
        return None
    try:
        # pass 1: which Patient each resource belongs to, and the groups of each Patient
        alias: dict[str, str] = {}
        refs: list[tuple[str, Key, list[str]]] = []
        for group, rec in _records(ctx, mapped):
            key = (rec.file or "", rec.row, rec.path)
            if rec.kind == "Patient":
                names = patient_keys(rec.url, rec.data)
                for name in names:
                    alias.setdefault(name, names[0])
                refs.append((group, key, names[:1]))
            else:
                refs.append((group, key, reference_keys(rec.data)))
        owner: dict[Key, str] = {}
        groups: dict[str, list[str]] = {}
        for group, key, names in refs:
            patient = next((alias[n] for n in names if n in alias), None)
            if patient is None:
                continue
            owner[key] = patient
            seen = groups.setdefault(patient, [])
            if group not in seen:
                seen.append(group)
        release = {p: found[-1] for p, found in groups.items() if len(found) > 1}
        links = Links(patients=set(alias))
        if not release:
            return links
        links.moved = {key for key, p in owner.items() if p in release}
        # pass 2: keep the moved resources, in reading order, for their Patient's last group
        for _, rec in _records(ctx, mapped):
            key = (rec.file or "", rec.row, rec.path)
            if key in links.moved:
                links.at.setdefault(release[owner[key]], []).append(rec)
        return links
    except HarmonizeError:
        return None
