"""``fhir``: FHIR R4 Bundles (JSON, or NDJSON of Bundles or resources) to Phenopackets.

Each resource is parsed with the ``fhir.resources`` models (the R4B package, which reads R4
Patient, Condition, Observation, Procedure and MedicationStatement unchanged); a resource
they refuse is a finding naming its record and field. Within a Bundle (or an NDJSON file's
loose resources), references to the Patient are resolved:

- ``Patient.gender`` -> sex; ``deceased[x]`` -> vital status; ``birthDate`` turns the
  other resources' dates into ages (without it, dates stay timestamps);
- ``Condition`` with an HPO coding -> a phenotypic feature (``verificationStatus``
  ``refuted`` -> excluded); with an OMIM, ORPHA, MONDO or ICD-10 coding -> a disease;
- ``Observation`` with a LOINC code and a ``valueQuantity`` (or components with both) ->
  measurements;
- ``Procedure`` -> ``medicalActions`` procedure; ``MedicationStatement`` -> treatment.

Medical actions are published in the Phenopackets and in the ``procedures`` and
``treatments`` tables (each row naming its record and field). A coding
from a system not mapped to a CURIE prefix (:mod:`.fhir_codes`), a reference to a Patient
that is not there and a malformed resource are errors at the record's row and field.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from typing import Any

import orjson
import pyarrow as pa

from harmonize.mapping import times
from harmonize.mapping.ages import onset_terms
from harmonize.mapping.profiles import fhir_codes as codes
from harmonize.mapping.profiles.base import MappedBatch, MappingContext, Profile, register
from harmonize.mapping.profiles.fhir_links import plan_links
from harmonize.mapping.profiles.fhir_resources import (
    VALIDATOR,
    Patient,
    Record,
    ResourceMapping,
)
from harmonize.readers.base import SourceBatch

MAPPED = ("Patient", "Condition", "Observation", "Procedure", "MedicationStatement")
SEX = {"male": "MALE", "female": "FEMALE", "other": "OTHER_SEX", "unknown": "UNKNOWN_SEX"}


@functools.cache
def _model(resource_type: str) -> Any:
    """The ``fhir.resources`` R4B model class of a resource type (KeyError if none)."""
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


def _field(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a FHIRPath: ``code.coding[0].system``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@register
class FHIRProfile(ResourceMapping, Profile):
    name = "fhir"
    description = "FHIR R4 Bundles: JSON, or NDJSON of Bundles or resources"
    raw_suite = None
    reader = "fhir"

    def configure(self, ctx: MappingContext) -> None:
        self._onsets = times.TimeReader(onset_terms(ctx.ontologies.get("HP")))
        self._links = plan_links(ctx, MAPPED)  # references across files (fhir_links)

    # -- the batch ---------------------------------------------------------------------
    def map_batch(self, batch: SourceBatch, ctx: MappingContext) -> MappedBatch:
        self._ctx, self._batch = ctx, batch
        t = batch.table
        columns = [
            t.column(c).to_pylist()
            for c in ("resource", "resource_type", "path", "group", "full_url")
        ]
        groups: dict[str, list[Record]] = {}
        unmapped: Counter[str] = Counter()
        links = self._links
        moved = links.moved if links is not None else set()
        for i, (text, kind, path, group, url) in enumerate(zip(*columns, strict=True)):
            row = batch.rows[i].as_py()
            if group not in groups:  # resources of other files mapped here come first
                here = links.at.get(group, []) if links is not None else []
                groups[group] = [r for r in here if self._valid(r)]
            if kind in MAPPED and (batch.file, row, path) in moved:
                continue  # mapped with its Patient, at their last group
            rec = Record(i, row, kind or "resource", orjson.loads(text), path, url, batch.file)
            if kind in MAPPED:
                if self._valid(rec):
                    groups[group].append(rec)
            elif self._known(rec):
                unmapped[rec.kind] += 1
        for kind, n in sorted(unmapped.items()):
            ctx.findings.add(
                "info",
                "resource-not-mapped",
                f"{n} {kind} resource{'s' if n > 1 else ''} not mapped: the fhir profile maps "
                + ", ".join(MAPPED),
                VALIDATOR,
                hint="nothing to do; they are kept with the published inputs",
                file=batch.file,
                value=kind,
            )
        self._rows: dict[str, list[dict[str, Any]]] = {}
        extras: dict[str, dict[str, Any]] = {}
        for records in groups.values():
            patients = self._patients(records)
            for rec in records:
                if rec.kind == "Patient":
                    continue
                patient = self._subject(rec, patients)
                if patient is not None:
                    getattr(self, f"_{rec.kind.lower()}")(rec, patient)
            for patient in {id(p): p for p in patients.values()}.values():
                if patient.actions:
                    extras[patient.pid] = {"medicalActions": patient.actions}
        tables = {name: pa.Table.from_pylist(rows) for name, rows in self._rows.items() if rows}
        return MappedBatch.of(extras=extras, **tables)

    def _known(self, rec: Record) -> bool:
        """Whether the resource type exists in FHIR at all (an unknown one is an error)."""
        try:
            _model(rec.kind)
        except (KeyError, ValueError, AttributeError, ImportError):
            self._find(
                "error",
                "fhir-validation",
                rec,
                "resourceType",
                f"{rec.kind!r} is not a FHIR R4 resource type",
                "fix resourceType (FHIR names resources in UpperCamelCase, e.g. Condition)",
                value=rec.data.get("resourceType"),
            )
            return False
        return True

    def _valid(self, rec: Record) -> bool:
        """Parse the resource with its ``fhir.resources`` model; each complaint is an error."""
        from pydantic import ValidationError

        try:
            _model(rec.kind).model_validate(rec.data)
        except ValidationError as exc:
            for error in exc.errors():
                fld = _field(tuple(error["loc"]))
                value = error.get("input")
                self._find(
                    "error",
                    "fhir-validation",
                    rec,
                    fld,
                    f"{fld or 'the resource'}: {error['msg']} (FHIR R4 {rec.kind})",
                    "fix the field named; see the FHIR R4 resource definition",
                    value=value if isinstance(value, str | int | float) else None,
                )
            return False
        return True

    # -- patients and references -------------------------------------------------------
    def _patients(self, records: list[Record]) -> dict[str, Patient]:
        """Every way a reference may name each Patient of a group -> the patient."""
        found: dict[str, Patient] = {}
        for rec in records:
            if rec.kind != "Patient":
                continue
            rid = rec.data.get("id")
            sid = rid or (rec.url.rsplit(":", 1)[-1].rsplit("/", 1)[-1] if rec.url else None)
            if not sid:
                self._find(
                    "error",
                    "missing-required-field",
                    rec,
                    "id",
                    "the Patient has neither an id nor a fullUrl",
                    "give the Patient an id",
                )
                continue
            patient = self._patient(rec, sid)
            keys = [rec.url] if rec.url else []
            if rid:
                keys.append(f"Patient/{rid}")
            for key in keys:
                found[key] = patient
        return found

    def _patient(self, rec: Record, sid: str) -> Patient:
        d = rec.data
        pid = re.sub(r"[^A-Za-z0-9._-]", "_", sid)
        gender = d.get("gender")
        sex = SEX.get(gender) if isinstance(gender, str) else None
        if gender is not None and sex is None:
            self._find(
                "error",
                "bad-value",
                rec,
                "gender",
                f"gender {gender!r} is not an AdministrativeGender code",
                "use male, female, other or unknown",
                value=gender,
            )
        vital = None
        if d.get("deceasedBoolean") is not None:
            vital = "DECEASED" if d["deceasedBoolean"] else "ALIVE"
        elif d.get("deceasedDateTime"):
            vital = "DECEASED"
        birth = codes.full_date(d.get("birthDate"))
        if d.get("birthDate") and birth is None:
            self._find(
                "warning",
                "partial-date",
                rec,
                "birthDate",
                "the birth date is partial, so dates are not turned into ages",
                "give the full birth date to publish ages instead of dates",
                value=d.get("birthDate"),
            )
        self._add(
            "individuals",
            {
                "phenopacket_id": pid,
                "subject_id": sid,
                "sex": sex,
                "vital_status": vital,
                "profile": self.name,
                **self._where(rec, "id"),
            },
        )
        return Patient(pid, birth)

    def _subject(self, rec: Record, patients: dict[str, Patient]) -> Patient | None:
        ref = (rec.data.get("subject") or {}).get("reference")
        patient = patients.get(ref) if isinstance(ref, str) else None
        if patient is None and isinstance(ref, str) and "/Patient/" in ref:
            patient = patients.get("Patient/" + ref.rsplit("/Patient/", 1)[1])  # absolute URL
        if patient is None:
            self._find(
                "error",
                "missing-patient",
                rec,
                "subject.reference",
                (
                    f"the subject {ref!r} is no Patient of this submission"
                    if self._links is not None
                    else f"the subject {ref!r} is no Patient of this Bundle"
                )
                if ref
                else "the resource names no subject",
                "add the Patient to the submission (any of its files), or fix the reference"
                if self._links is not None
                else "put the Patient in the same Bundle (or NDJSON file), or fix the reference",
                value=ref,
            )
        return patient
