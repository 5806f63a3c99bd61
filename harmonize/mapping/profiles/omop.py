"""``omop``: OMOP CDM v5.4 CSV tables to Phenopackets, one person per Phenopacket.

The submission lists one CSV per CDM table (PERSON, CONDITION_OCCURRENCE, OBSERVATION,
MEASUREMENT, PROCEDURE_OCCURRENCE, DRUG_EXPOSURE) and, when the submitter includes it, the
CONCEPT table (:mod:`harmonize.readers.formats.omop` reads them as batches of whole
persons). Each concept id is looked up in CONCEPT (:mod:`.omop_concepts`):

- PERSON: ``person_id`` -> the Phenopacket and subject id; ``gender_concept_id`` -> sex;
  a whole birth date (``birth_datetime``, or year, month and day of birth) turns the other
  tables' dates into ages (without it, dates stay timestamps);
- CONDITION_OCCURRENCE: an HPO concept -> a phenotypic feature; an OMIM, OrphaNet,
  ICD10, SNOMED or MONDO concept -> a disease; ``condition_start_date`` -> onset,
  ``condition_end_date`` -> resolution. When ``condition_concept_id`` is not mapped (0, or
  a vocabulary Harmonize does not know), ``condition_source_concept_id`` is tried;
- OBSERVATION: an HPO concept -> a phenotypic feature, a disease concept -> a disease, a
  LOINC concept with ``value_as_number`` -> a measurement; others are counted, not mapped;
- MEASUREMENT: ``measurement_concept_id`` (LOINC) with ``value_as_number`` and
  ``unit_concept_id`` (UCUM) -> a measurement at ``measurement_date``;
- PROCEDURE_OCCURRENCE -> ``medicalActions`` procedure (performed at ``procedure_date``);
  DRUG_EXPOSURE -> ``medicalActions`` treatment (its agent the drug concept).

A concept id with no CONCEPT row, a vocabulary Harmonize does not map, a record whose
person is not in PERSON and a value that is not a number are errors at the record's file,
row and field.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import orjson
import pyarrow as pa

from harmonize.errors import ConfigurationError, MappingError
from harmonize.mapping import times
from harmonize.mapping.actions import with_source
from harmonize.mapping.profiles import fhir_codes
from harmonize.mapping.profiles.base import MappedBatch, MappingContext, Profile, register
from harmonize.mapping.profiles.omop_concepts import (
    GENDER,
    GENDER_CODES,
    Concept,
    birth_date,
    known_vocabularies,
    load_concepts,
)
from harmonize.mapping.profiles.redcap_terms import sanitize
from harmonize.readers.base import ReadOptions, SourceBatch
from harmonize.readers.formats.omop import COLUMNS, TABLES, table_of

VALIDATOR = "profile:omop"
DISEASES = fhir_codes.DISEASES | {"SNOMEDCT"}
ACTIONS = frozenset({"SNOMEDCT", "NCIT", "MAXO", "RXNORM"})


class _Record:
    def __init__(self, table: str, file: str, row: int, cells: dict[str, str]) -> None:
        self.table, self.file, self.row, self.cells = table, file, row, cells


@register
class OMOPProfile(Profile):
    name = "omop"
    description = "OMOP CDM v5.4 CSV tables (PERSON, CONDITION_OCCURRENCE, ...) with CONCEPT"
    raw_suite = None
    reader = "omop"

    def configure(self, ctx: MappingContext) -> None:
        self.concepts: dict[str, Concept] = {}
        unknown = [n for n in ctx.files if table_of(n) not in TABLES]
        if unknown:
            raise ConfigurationError(
                f"{unknown[0]!r} is not named after an OMOP CDM table the omop profile reads",
                file=unknown[0],
                hint="name each file after its table: "
                + ", ".join(f"{t.upper()}.csv" for t in TABLES),
            )
        for name, path in ctx.files.items():
            if table_of(name) == "concept":
                options = ReadOptions(label=name, limits=ctx.settings.limits)
                self.concepts = load_concepts(name, path, options)

    def read_options(self, ctx: MappingContext) -> ReadOptions:
        return ReadOptions(batch_size=ctx.settings.batch_size, companions=tuple(ctx.files.items()))

    # -- findings, lineage, concepts ---------------------------------------------------
    def _find(
        self,
        level: str,
        category: str,
        rec: _Record,
        fld: str,
        message: str,
        hint: str,
        value: Any = None,
    ) -> None:
        self._ctx.findings.add(
            level,  # type: ignore[arg-type]
            category,
            f"{rec.table} row {rec.row}: {message}",
            VALIDATOR,
            hint=hint,
            file=rec.file,
            row=rec.row,
            column=fld,
            value=None if value is None else str(value),
        )

    def _where(self, rec: _Record, fld: str) -> dict[str, Any]:
        return {
            "source_file": rec.file,
            "source_sheet": None,
            "source_row": rec.row,
            "source_column": fld,
        }

    def _concept(self, rec: _Record, fld: str) -> tuple[str, str, str] | None:
        """``(curie, label, field)`` of a concept id field; None (with a finding) if not usable."""
        cid = rec.cells.get(fld)
        if cid is None or cid == "0":
            return None
        concept = self.concepts.get(cid)
        if concept is None:
            self._find(
                "error",
                "unknown-concept",
                rec,
                fld,
                f"concept id {cid} is not in the CONCEPT table",
                "add the concept's row to CONCEPT.csv (from the OMOP vocabularies), or fix the id",
                cid,
            )
            return None
        curie = concept.curie
        if curie is None:
            self._find(
                "error",
                "unknown-code-system",
                rec,
                fld,
                f"concept {cid} ({concept.name}) is from vocabulary {concept.vocabulary!r}, "
                "which Harmonize does not map to a CURIE prefix",
                f"use a concept of a vocabulary Harmonize maps: {known_vocabularies()}",
                concept.vocabulary,
            )
            return None
        if not self._ctx.ontologies.check_curie(curie):
            self._find(
                "error",
                "unknown-term",
                rec,
                fld,
                f"concept {cid}: {concept.code!r} is not a valid {curie.split(':')[0]} code",
                "fix the concept's concept_code in CONCEPT.csv",
                concept.code,
            )
            return None
        return curie, concept.name or curie, fld

    def _time(self, rec: _Record, fld: str, birth: date | None, stem: str) -> dict[str, Any]:
        text = rec.cells.get(fld)
        found = fhir_codes.when(text, birth) if text else None
        if text and found is None:
            self._find(
                "warning",
                "partial-date",
                rec,
                fld,
                f"{text!r} is not a date on or after the birth date: left out",
                "give the full date (YYYY-MM-DD)",
                text,
            )
        row = (found or times.Time()).as_row()
        return {times.column(stem, part): row[part] for part in times.PARTS}

    # -- the batch ---------------------------------------------------------------------
    def map_batch(self, batch: SourceBatch, ctx: MappingContext) -> MappedBatch:
        self._ctx = ctx
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._seen: set[tuple[str, str, str]] = set()
        t = batch.table
        if t.column_names != list(COLUMNS):
            raise MappingError(
                "the omop profile reads its tables with the omop reader, not as plain tables",
                file=batch.file,
                hint="remove 'format:' from this file's entry in manifest.yaml",
            )
        people: dict[str, list[_Record]] = {}
        for table, file, person, text, row in zip(
            *(t.column(c).to_pylist() for c in ("table", "file", "person_id", "record")),
            batch.rows.to_pylist(),
            strict=True,
        ):
            people.setdefault(person, []).append(_Record(table, file, row, orjson.loads(text)))
        extras: dict[str, dict[str, Any]] = {}
        skipped: Counter[tuple[str, str]] = Counter()
        for person, records in people.items():
            head = next((r for r in records if r.table == "PERSON"), None)
            if head is None:
                for rec in records:
                    self._find(
                        "error",
                        "missing-person",
                        rec,
                        "person_id",
                        f"person_id {person!r} has no row in PERSON",
                        "add the person to PERSON.csv, or fix person_id",
                        person,
                    )
                continue
            for again in [r for r in records if r.table == "PERSON"][1:]:
                self._find(
                    "error",
                    "duplicate-id",
                    again,
                    "person_id",
                    f"person_id {person!r} is in PERSON already, at row {head.row}",
                    "give each person one PERSON row",
                    person,
                )
            pid = sanitize(person)
            birth = self._person(pid, head)
            actions: list[dict[str, Any]] = []
            for rec in records:
                if rec.table == "PERSON":
                    continue
                kind = rec.table.lower()
                if kind == "condition_occurrence":
                    self._condition(pid, rec, birth)
                elif kind == "observation":
                    if not self._observation(pid, rec, birth):
                        skipped[rec.table, rec.file] += 1
                elif kind == "measurement":
                    self._measurement(pid, rec, birth, "measurement")
                elif kind == "procedure_occurrence":
                    actions += self._procedure(rec, birth)
                elif kind == "drug_exposure":
                    actions += self._drug(rec)
            if actions:
                extras[pid] = {"medicalActions": actions}
        for (table, file), n in skipped.items():
            ctx.findings.add(
                "info",
                "record-not-mapped",
                f"{n} {table} row{'s' if n > 1 else ''} without an HPO, disease or "
                "LOINC-with-number concept: not mapped",
                VALIDATOR,
                hint="nothing to do",
                file=file,
                value=table,
            )
        tables = {name: pa.Table.from_pylist(rows) for name, rows in self._rows.items() if rows}
        return MappedBatch.of(extras=extras, **tables)

    def _add(self, table: str, row: dict[str, Any]) -> None:
        self._rows.setdefault(table, []).append(row)

    def _person(self, pid: str, rec: _Record) -> date | None:
        cid = rec.cells.get("gender_concept_id")
        sex = None
        if cid and cid != "0":
            concept = self.concepts.get(cid)
            if concept is not None and concept.vocabulary.lower() == "gender":
                sex = GENDER_CODES.get(concept.code.upper())
            elif concept is None:
                sex = GENDER.get(cid)
            if sex is None:
                self._find(
                    "error",
                    "unknown-concept",
                    rec,
                    "gender_concept_id",
                    f"gender_concept_id {cid} is not an OMOP Gender concept"
                    + ("" if concept or not self.concepts else " and not in the CONCEPT table"),
                    "use 8532 FEMALE, 8507 MALE, 8551 UNKNOWN or 8521 OTHER, or 0 when not known",
                    cid,
                )
        birth = birth_date(rec.cells)
        if birth is None:
            self._find(
                "info",
                "partial-birth-date",
                rec,
                "day_of_birth",
                "the birth date is not whole: this person's dates are published as dates, not ages",
                "nothing to do; give year, month and day of birth to publish ages",
            )
        self._add(
            "individuals",
            {
                "phenopacket_id": pid,
                "subject_id": rec.cells.get("person_id"),
                "sex": sex,
                "profile": self.name,
                **self._where(rec, "person_id"),
            },
        )
        return birth

    def _term(
        self,
        pid: str,
        rec: _Record,
        hit: tuple[str, str, str],
        birth: date | None,
        start: str,
        end: str | None,
        diseases: frozenset[str] = DISEASES,
    ) -> bool:
        curie, label, fld = hit
        prefix = curie.split(":", 1)[0]
        kind = (
            "phenotypic_features"
            if prefix in fhir_codes.PHENOTYPES
            else "diseases"
            if prefix in diseases
            else None
        )
        if kind is None:
            return False
        key = (kind, pid, curie)
        if key in self._seen:  # the same term again (a later occurrence): the first stands
            return True
        self._seen.add(key)
        row = {
            "phenopacket_id": pid,
            "term_id": curie,
            "term_label": label,
            "excluded": False,
            **self._time(rec, start, birth, "onset"),
            **(self._time(rec, end, birth, "resolution") if end else {}),
            **self._where(rec, fld),
        }
        if kind == "phenotypic_features":
            row.update(raw_value=curie, resolution_method="id")
        self._add(kind, row)
        return True

    def _condition(self, pid: str, rec: _Record, birth: date | None) -> None:
        for fld in ("condition_concept_id", "condition_source_concept_id"):
            hit = self._concept(rec, fld)
            if hit is not None and self._term(
                pid, rec, hit, birth, "condition_start_date", "condition_end_date"
            ):
                return
        self._find(
            "warning",
            "condition-not-mapped",
            rec,
            "condition_concept_id",
            "neither condition_concept_id nor condition_source_concept_id is an HPO or disease concept: not mapped",
            "give the condition an HPO, OMIM, OrphaNet, ICD10 or SNOMED concept",
        )

    def _observation(self, pid: str, rec: _Record, birth: date | None) -> bool:
        hit = self._concept(rec, "observation_concept_id")
        if hit is None:
            return (
                "observation_concept_id" in rec.cells and rec.cells["observation_concept_id"] != "0"
            )
        if self._term(pid, rec, hit, birth, "observation_date", None, fhir_codes.DISEASES):
            return True
        if hit[0].startswith("LOINC:") and "value_as_number" in rec.cells:
            self._measurement(pid, rec, birth, "observation")
            return True
        return False

    def _measurement(self, pid: str, rec: _Record, birth: date | None, stem: str) -> None:
        assay = self._concept(rec, f"{stem}_concept_id")
        text = rec.cells.get("value_as_number")
        if assay is None or text is None:
            if assay is not None:
                self._find(
                    "warning",
                    "measurement-not-mapped",
                    rec,
                    "value_as_number",
                    "no value_as_number: not mapped",
                    "give the value as a number",
                )
            return
        try:
            value = float(text)
        except ValueError:
            self._find(
                "error",
                "bad-value",
                rec,
                "value_as_number",
                f"value_as_number {text!r} is not a number",
                "write the value as a number",
                text,
            )
            return
        unit = self._concept(rec, "unit_concept_id")
        if assay[0].split(":")[0] != "LOINC":
            self._find(
                "error",
                "unknown-code-system",
                rec,
                assay[2],
                f"a measurement needs a LOINC concept, not {assay[0]}",
                "use a LOINC measurement concept",
                assay[0],
            )
            return
        if unit is None or not unit[0].startswith("UCUM:"):
            unit_id = rec.cells.get("unit_concept_id", "0")
            if unit is None and unit_id != "0":
                return  # the unit concept's own finding says why
            self._find(
                "error" if unit else "warning",
                "unknown-code-system" if unit else "measurement-not-mapped",
                rec,
                "unit_concept_id",
                f"the unit {unit[0]} is not UCUM" if unit else "no unit: not mapped",
                "give the unit as a UCUM concept (a Phenopacket quantity needs a unit)",
                unit[0] if unit else None,
            )
            return
        self._add(
            "measurements",
            {
                "phenopacket_id": pid,
                "assay_id": assay[0],
                "assay_label": assay[1],
                "value": value,
                "unit_id": unit[0],
                "unit_label": unit[1],
                **self._time(rec, f"{stem}_date", birth, "time_observed"),
                **self._where(rec, assay[2]),
            },
        )

    def _action_code(self, rec: _Record, fld: str) -> dict[str, str] | None:
        hit = self._concept(rec, fld)
        if hit is None:
            return None
        if hit[0].split(":")[0] not in ACTIONS:
            self._find(
                "error",
                "unknown-code-system",
                rec,
                fld,
                f"{hit[0]} is not a procedure or drug code Harmonize publishes",
                f"use a concept of {', '.join(sorted(ACTIONS))}",
                hit[0],
            )
            return None
        return {"id": hit[0], "label": hit[1]}

    def _procedure(self, rec: _Record, birth: date | None) -> list[dict[str, Any]]:
        code = self._action_code(rec, "procedure_concept_id")
        if code is None:
            return []
        procedure: dict[str, Any] = {"code": code}
        performed = times.element(
            {
                k[len("performed_") :]: v
                for k, v in self._time(rec, "procedure_date", birth, "performed").items()
            }
        )
        if performed:
            procedure["performed"] = performed
        return [
            with_source({"procedure": procedure}, rec.file, None, rec.row, "procedure_concept_id")
        ]

    def _drug(self, rec: _Record) -> list[dict[str, Any]]:
        agent = self._action_code(rec, "drug_concept_id")
        if agent is None:
            return []
        return [
            with_source({"treatment": {"agent": agent}}, rec.file, None, rec.row, "drug_concept_id")
        ]
