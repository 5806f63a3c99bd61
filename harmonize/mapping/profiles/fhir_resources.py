"""The clinical resources of the ``fhir`` profile: Condition, Observation, Procedure and
MedicationStatement, each mapped for its Patient (see :mod:`harmonize.mapping.profiles.fhir`).

:class:`ResourceMapping` is the profile's half that knows the resources: it turns codings
into CURIEs (an unknown system is an error at the record's field), dates into ages, and
adds table rows with their lineage (file, record index, field).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from harmonize.mapping import times
from harmonize.mapping.actions import with_source
from harmonize.mapping.profiles import fhir_codes as codes
from harmonize.mapping.profiles.base import MappingContext
from harmonize.readers.base import SourceBatch

VALIDATOR = "profile:fhir"
SKIPPED_STATUS = {"entered-in-error", "not-done", "not-taken", "cancelled"}


@dataclass
class Record:
    """One resource and where it came from."""

    index: int  # its row in the batch
    row: int  # the submitter's record index
    kind: str
    data: dict[str, Any]
    path: str | None
    url: str | None
    file: str | None = None  # its file (None: the batch's)


@dataclass
class Patient:
    pid: str
    birth: date | None
    actions: list[dict[str, Any]] = field(default_factory=list)


def _coding_label(coding: dict[str, Any], concept: dict[str, Any], cid: str) -> str:
    return str(coding.get("display") or concept.get("text") or cid)


class ResourceMapping:
    """Maps the clinical resources of one batch; the profile sets the attributes per batch."""

    _ctx: MappingContext
    _batch: SourceBatch
    _rows: dict[str, list[dict[str, Any]]]
    _onsets: times.TimeReader

    # -- findings and lineage ----------------------------------------------------------
    def _where(self, rec: Record, fld: str) -> dict[str, Any]:
        """A table row's lineage: file, record index, field."""
        column = f"{rec.path}.{fld}" if rec.path else f"{rec.kind}.{fld}"
        return {
            "source_file": rec.file or self._batch.file,
            "source_sheet": None,
            "source_row": rec.row,
            "source_column": column,
        }

    def _find(
        self,
        level: str,
        category: str,
        rec: Record,
        fld: str,
        message: str,
        hint: str,
        value: Any = None,
    ) -> None:
        name = f"{rec.kind}/{rec.data.get('id')}" if rec.data.get("id") else rec.kind
        self._ctx.findings.add(
            level,  # type: ignore[arg-type]
            category,
            f"{name}: {message}",
            VALIDATOR,
            hint=hint,
            file=rec.file or self._batch.file,
            row=rec.row,
            column=f"{rec.kind}.{fld}" if fld else rec.kind,
            path=(f"{rec.path}.{fld}" if fld else rec.path) if rec.path else None,
            value=None if value is None else str(value),
        )

    def _add(self, table: str, row: dict[str, Any]) -> None:
        self._rows.setdefault(table, []).append(row)

    # -- codings and times -------------------------------------------------------------
    def _codings(
        self, rec: Record, fld: str, concept: dict[str, Any] | None
    ) -> list[tuple[str, str, str]]:
        """``(curie, label, field)`` of each coding; unknown systems and bad ids are errors."""
        out = []
        concept = concept or {}
        for j, coding in enumerate(concept.get("coding") or []):
            here = f"{fld}.coding[{j}]"
            system = coding.get("system")
            cid = codes.curie(system, coding.get("code"))
            if codes.prefix_of(system) is None:
                self._find(
                    "error",
                    "unknown-code-system",
                    rec,
                    f"{here}.system",
                    f"coding system {system!r} is not one Harmonize maps to a CURIE prefix"
                    if system
                    else "a coding without a system",
                    f"use a system Harmonize maps ({codes.known_systems()}), or drop the coding",
                    value=system,
                )
            elif cid is None or not self._ctx.ontologies.check_curie(cid):
                self._find(
                    "error",
                    "unknown-term",
                    rec,
                    f"{here}.code",
                    f"{coding.get('code')!r} is not a valid {codes.prefix_of(system)} code",
                    "fix the code, or the coding's system",
                    value=coding.get("code"),
                )
            else:
                out.append((cid, _coding_label(coding, concept, cid), here))
        return out

    def _time(self, rec: Record, patient: Patient, stem: str, key: str) -> dict[str, Any]:
        """The ``stem`` time columns from the resource's ``<key>[x]`` (dateTime, Age, ...)."""
        d, found = rec.data, None
        start = (d.get(f"{key}Period") or {}).get("start")
        for fld, value in ((f"{key}DateTime", d.get(f"{key}DateTime")), (f"{key}Period", start)):
            if value is not None:
                found = codes.when(value, patient.birth)
                if found is None:
                    self._find(
                        "warning",
                        "partial-date",
                        rec,
                        fld,
                        f"{value!r} is not a full date after the birth date: left out",
                        "give the full date",
                        value=value,
                    )
        if d.get(f"{key}Age") is not None:
            age = codes.age_quantity(d[f"{key}Age"])
            found = times.Time(age=age) if age else None
        if isinstance(d.get(f"{key}String"), str):
            found = self._onsets(d[f"{key}String"])
        row = (found or times.Time()).as_row()
        return {times.column(stem, part): row[part] for part in times.PARTS}

    def _skipped(self, rec: Record) -> bool:
        status = rec.data.get("status")
        if status in SKIPPED_STATUS:
            self._find(
                "info",
                "status-not-mapped",
                rec,
                "status",
                f"status {status!r}: not mapped",
                "nothing to do",
                value=status,
            )
            return True
        return False

    # -- the resources -----------------------------------------------------------------
    def _condition(self, rec: Record, patient: Patient) -> None:
        d = rec.data
        verification = {
            c.get("code") for c in (d.get("verificationStatus") or {}).get("coding") or []
        }
        if "entered-in-error" in verification:
            return
        excluded = "refuted" in verification
        when = {
            **self._time(rec, patient, "onset", "onset"),
            **self._time(rec, patient, "resolution", "abatement"),
        }
        # one Condition is one phenotype and/or one disease: its first coding of each kind
        # (the others code the same condition in another system)
        mapped: set[str] = set()
        for cid, label, fld in self._codings(rec, "code", d.get("code")):
            prefix = cid.split(":", 1)[0]
            kind = "phenotypic_features" if prefix in codes.PHENOTYPES else "diseases"
            if kind in mapped or (kind == "diseases" and prefix not in codes.DISEASES):
                continue
            row = {
                "phenopacket_id": patient.pid,
                "term_id": cid,
                "term_label": label,
                "excluded": excluded,
                **when,
                **self._where(rec, fld),
            }
            mapped.add(kind)
            if kind == "phenotypic_features":
                row.update(raw_value=cid, resolution_method="id")
            self._add(kind, row)
        if not mapped and d.get("code"):
            self._find(
                "warning",
                "condition-not-mapped",
                rec,
                "code",
                "no HPO, OMIM, ORPHA, MONDO or ICD-10 coding: not a phenotype or a disease here",
                "add an HPO coding (a phenotype) or a disease coding to Condition.code",
            )

    def _observation(self, rec: Record, patient: Patient) -> None:
        if self._skipped(rec):
            return
        d = rec.data
        when = self._time(rec, patient, "time_observed", "effective")
        if d.get("effectiveInstant"):
            found = codes.when(d["effectiveInstant"], patient.birth) or times.Time()
            when = {times.column("time_observed", p): v for p, v in found.as_row().items()}
        parts = [("", d)] + [
            (f"component[{k}].", c) for k, c in enumerate(d.get("component") or [])
        ]
        mapped = 0
        for prefix, part in parts:
            assays = [
                c
                for c in self._codings(rec, f"{prefix}code", part.get("code"))
                if c[0].startswith("LOINC:")
            ]
            quantity = part.get("valueQuantity")
            if not assays or not quantity or quantity.get("value") is None:
                continue
            unit_id, unit_label = None, quantity.get("unit") or quantity.get("code")
            system = quantity.get("system")
            if system is not None and codes.prefix_of(system) != "UCUM":
                self._find(
                    "error",
                    "unknown-code-system",
                    rec,
                    f"{prefix}valueQuantity.system",
                    f"unit system {system!r} is not UCUM",
                    "write the unit as a UCUM code (system http://unitsofmeasure.org)",
                    value=system,
                )
                continue
            if system is not None and quantity.get("code"):
                unit_id = f"UCUM:{quantity['code']}"
            cid, label, fld = assays[0]
            mapped += 1
            self._add(
                "measurements",
                {
                    "phenopacket_id": patient.pid,
                    "assay_id": cid,
                    "assay_label": label,
                    "value": float(quantity["value"]),
                    "unit_id": unit_id,
                    "unit_label": unit_label or unit_id,
                    **when,
                    **self._where(rec, fld),
                },
            )
        if not mapped:
            self._find(
                "warning",
                "observation-not-mapped",
                rec,
                "code",
                "no LOINC code with a valueQuantity: not a measurement here",
                "give the Observation a LOINC coding and a valueQuantity",
            )

    def _action(
        self, rec: Record, patient: Patient, fld: str, concept: Any, what: str
    ) -> dict[str, str] | None:
        found = self._codings(rec, fld, concept)
        if not found:
            if concept and not (concept.get("coding") or []):
                self._find(
                    "warning",
                    f"{what}-not-mapped",
                    rec,
                    fld,
                    "no coding: not mapped",
                    f"code the {what} (SNOMED CT, NCIT or RxNorm)",
                )
            return None
        cid, label, _ = found[0]
        return {"id": cid, "label": label}

    def _procedure(self, rec: Record, patient: Patient) -> None:
        if self._skipped(rec):
            return
        code = self._action(rec, patient, "code", rec.data.get("code"), "procedure")
        if code is None:
            return
        procedure: dict[str, Any] = {"code": code}
        sites = [
            c for c in self._codings(rec, "bodySite[0]", (rec.data.get("bodySite") or [None])[0])
        ]
        if sites:
            procedure["bodySite"] = {"id": sites[0][0], "label": sites[0][1]}
        performed = times.element(
            {
                part[len("performed_") :]: v
                for part, v in self._time(rec, patient, "performed", "performed").items()
            }
        )
        if performed:
            procedure["performed"] = performed
        patient.actions.append(
            with_source(
                {"procedure": procedure},
                rec.file or self._batch.file,
                None,
                rec.row,
                "Procedure.code",
            )
        )

    def _medicationstatement(self, rec: Record, patient: Patient) -> None:
        if self._skipped(rec):
            return
        concept = rec.data.get("medicationCodeableConcept")
        if concept is None:
            self._find(
                "warning",
                "treatment-not-mapped",
                rec,
                "medicationReference",
                "a medication by reference is not mapped",
                "write the medication as medicationCodeableConcept (RxNorm)",
            )
            return
        agent = self._action(rec, patient, "medicationCodeableConcept", concept, "treatment")
        if agent is not None:
            column = "MedicationStatement.medicationCodeableConcept"
            action = with_source(
                {"treatment": {"agent": agent}}, rec.file or self._batch.file, None, rec.row, column
            )
            patient.actions.append(action)
