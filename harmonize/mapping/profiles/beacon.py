"""``beacon``: Beacon v2 individuals (the "BFF" JSON of the Beacon v2 default model).

Each record (read by :mod:`harmonize.readers.formats.beacon`: a JSON array, an
``{"individuals": [...]}`` object or JSON Lines) becomes one Phenopacket:

============================== =================================================
Beacon individual              Phenopacket v2
============================== =================================================
``id``                         ``id`` (unsafe characters as ``_``), ``subject.id``
``sex`` (NCIT term)            ``subject.sex``: C16576 FEMALE, C20197 MALE,
                               C17998 UNKNOWN_SEX, C17649 OTHER_SEX
``phenotypicFeatures``         ``phenotypicFeatures``: ``featureType`` -> ``type``,
                               ``excluded``, ``onset``, ``resolution``
``diseases``                   ``diseases``: ``diseaseCode`` -> ``term``,
                               ``ageOfOnset`` -> ``onset``
``measures``                   ``measurements``: ``assayCode`` -> ``assay``, a
                               quantity ``measurementValue`` -> ``value``,
                               ``observationMoment`` (else ``date``) -> ``timeObserved``
``interventionsOrProcedures``  ``medicalActions[].procedure``: ``procedureCode`` ->
                               ``code``, ``bodySite``, ``ageAtProcedure`` (else
                               ``dateOfProcedure``) -> ``performed``
============================== =================================================

Times are Beacon ``TimeElement`` s, wrapped as in Phenopackets (``{"age":
{"iso8601duration": "P3Y"}}``, ``ageRange``, ``gestationalAge``, ``ageGroup`` or
``ontologyClass``, ``timestamp``) or flat as the Beacon schema writes them
(``{"iso8601duration": "P3Y"}``, ``{"start": ..., "end": ...}``, ``{"id", "label"}``, a date
string); each is read with :class:`~harmonize.mapping.times.TimeReader`. Every term id then
goes through the same checks as every profile's (:mod:`harmonize.mapping.terms`). A
``featureType`` with a label and no id is resolved against HPO with evidence. Fields with no
place in a Phenopacket v2 or the tables (``ethnicity``, ``geographicOrigin``, a disease's
``severity`` ...) are listed in one ``not-carried-over`` info finding per record. Every
finding names the file, the record number (``row``) and the field (``column``).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pyarrow as pa

from harmonize.mapping import times
from harmonize.mapping.actions import with_source
from harmonize.mapping.ages import onset_terms
from harmonize.mapping.profiles.base import MappedBatch, MappingContext, Profile, register
from harmonize.mapping.terms import harmonize_terms
from harmonize.readers.base import SourceBatch

VALIDATOR = "profile:beacon"
SEX = {
    "NCIT:C16576": "FEMALE",
    "NCIT:C20197": "MALE",
    "NCIT:C17998": "UNKNOWN_SEX",
    "NCIT:C17649": "OTHER_SEX",
}
MAPPED = ("id", "sex", "phenotypicFeatures", "diseases", "measures", "interventionsOrProcedures")
SKIPPED = ("$schema",)  # says nothing about the individual
_FEATURE_KEYS = ("featureType", "excluded", "onset", "resolution")
_DISEASE_KEYS = ("diseaseCode", "ageOfOnset")
_MEASURE_KEYS = ("assayCode", "measurementValue", "observationMoment", "date")
_PROCEDURE_KEYS = ("procedureCode", "bodySite", "ageAtProcedure", "dateOfProcedure")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_TIME_HINT = (
    'write a Beacon TimeElement: {"age": {"iso8601duration": "P3Y6M"}}, an ageRange, a '
    "gestationalAge, an HPO onset term or a date"
)


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


class _Record:
    """Maps one Beacon individual into rows of the harmonized tables."""

    def __init__(self, profile: BeaconProfile, ctx: MappingContext, file: str, row: int) -> None:
        self.profile, self.ctx, self.file, self.row = profile, ctx, file, row
        self.pid: str | None = None
        self.left_out: list[str] = []

    def find(
        self, level: str, category: str, message: str, hint: str, field: str, value: Any = None
    ) -> None:
        self.ctx.findings.add(
            level,  # type: ignore[arg-type]
            category,
            message,
            VALIDATOR,
            hint=hint,
            file=self.file,
            row=self.row,
            column=field,
            value=None if value is None else _shown(value),
            phenopacket_id=self.pid,
        )

    @property
    def where(self) -> dict[str, Any]:
        return {"source_file": self.file, "source_sheet": None, "source_row": self.row}

    def items(self, doc: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
        """The objects of the array ``doc[key]``, each with its field path."""
        value = doc.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.find(
                "error", "bad-value", f"{key} must be an array", "write [ {...}, ... ]", key, value
            )
            return []
        out = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                out.append((f"{key}[{i}]", item))
            else:
                self.find(
                    "error",
                    "bad-value",
                    f"{key}[{i}] must be an object",
                    "write {...}",
                    f"{key}[{i}]",
                    item,
                )
        return out

    def keep_known(self, obj: dict[str, Any], field: str, known: tuple[str, ...]) -> None:
        self.left_out += [f"{field}.{k}" for k in obj if k not in known]

    def term(
        self, obj: Any, field: str, *, required: bool = True, resolve: bool = False
    ) -> tuple[str, str | None, str] | None:
        """``(id, label, method)`` of an ontology term; a finding when it is unusable."""
        if obj is None:
            if required:
                self.find(
                    "error",
                    "missing-required-field",
                    f"{field} is missing",
                    'give an ontology term {"id": "PREFIX:ACCESSION", "label": ...}',
                    field,
                )
            return None
        label = obj.get("label") if isinstance(obj, dict) else None
        label = label if isinstance(label, str) and label.strip() else None
        tid = obj.get("id") if isinstance(obj, dict) else None
        if isinstance(tid, str) and tid.strip():
            return tid.strip(), label, "id"
        if resolve and label is not None and tid is None:
            assert self.ctx.resolver is not None, "the pipeline gives every profile a resolver"
            where = {"file": self.file, "row": self.row, "column": field, "value": label}
            hit = self.ctx.resolver.resolve("HP", label, where, VALIDATOR)
            return None if hit is None else (hit.term_id, hit.label, hit.method)
        self.find(
            "error",
            "missing-required-field",
            f"{field} has no ontology id",
            'give the term\'s CURIE as "id", e.g. HP:0001250',
            field,
            obj,
        )
        return None

    def time(self, obj: Any, field: str) -> times.Time | None:
        """A Beacon TimeElement, wrapped or flat; a finding when it is not one."""
        if obj is None:
            return None
        found = self.profile.reader_of_times.from_json(obj)
        if found is None:
            self.find(
                "error",
                "malformed-age",
                f"{field} is not a time the Phenopacket schema can hold",
                _TIME_HINT,
                field,
                obj,
            )
        return found


_PROCEDURES = pa.schema(
    [
        pa.field("phenopacket_id", pa.string()),
        pa.field("term_id", pa.string()),
        pa.field("term_label", pa.string()),
        pa.field("body_site_id", pa.string()),
        pa.field("body_site_label", pa.string()),
        *times.fields_for("performed"),
        pa.field("source_file", pa.string()),
        pa.field("source_sheet", pa.string()),
        pa.field("source_row", pa.int64()),
        pa.field("source_column", pa.string()),
    ]
)


def _time_columns(stem: str, found: times.Time | None) -> dict[str, Any]:
    row = (found or times.Time()).as_row()
    return {times.column(stem, part): row[part] for part in times.PARTS}


@register
class BeaconProfile(Profile):
    name = "beacon"
    description = "Beacon v2 individuals (BFF JSON: an array, {individuals: [...]}, or JSON Lines)"
    raw_suite = None
    reader = "beacon"

    def configure(self, ctx: MappingContext) -> None:
        self.reader_of_times = times.TimeReader(onset_terms(ctx.ontologies.get("HP")))

    # -- records ------------------------------------------------------------------------
    def map_batch(self, batch: SourceBatch, ctx: MappingContext) -> MappedBatch:
        out: dict[str, list[dict[str, Any]]] = {
            k: []
            for k in (
                "individuals",
                "phenotypic_features",
                "diseases",
                "measurements",
                "procedures",
            )
        }
        for text, row in zip(
            batch.table.column("document").to_pylist(), batch.rows.to_pylist(), strict=True
        ):
            record = _Record(self, ctx, batch.file, row)
            self._record(record, orjson.loads(text), out)
        tables = {k: pa.Table.from_pylist(v) for k, v in out.items() if v and k != "procedures"}
        sexed = [r["phenopacket_id"] for r in out["individuals"] if r["sex"] is not None]
        return MappedBatch.of(
            extras=self._procedures(ctx, out["procedures"]),
            prefixes={pid: {"NCIT"} for pid in sexed},  # the sex codes are NCIT's
            **tables,
        )

    def _record(
        self, rec: _Record, doc: dict[str, Any], out: dict[str, list[dict[str, Any]]]
    ) -> None:
        subject = doc.get("id")
        if isinstance(subject, int) and not isinstance(subject, bool):
            subject = str(subject)
        if not isinstance(subject, str) or not subject.strip():
            rec.find(
                "error",
                "missing-required-field",
                "the individual has no id",
                'give every individual its "id" (a string)',
                "id",
                subject,
            )
            return
        subject = subject.strip()
        rec.pid = _UNSAFE.sub("_", subject)
        out["individuals"].append(
            {
                "phenopacket_id": rec.pid,
                "subject_id": subject,
                "sex": self._sex(rec, doc.get("sex")),
                "profile": self.name,
                **rec.where,
            }
        )
        rec.left_out += [k for k in doc if k not in MAPPED and k not in SKIPPED]
        for field, f in rec.items(doc, "phenotypicFeatures"):
            rec.keep_known(f, field, _FEATURE_KEYS)
            term = rec.term(f.get("featureType"), f"{field}.featureType", resolve=True)
            excluded = f.get("excluded", False)
            if not isinstance(excluded, bool):
                rec.find(
                    "error",
                    "bad-value",
                    f"{field}.excluded must be true or false",
                    "write true or false",
                    f"{field}.excluded",
                    excluded,
                )
                continue
            onset, resolution = (
                rec.time(f.get("onset"), f"{field}.onset"),
                rec.time(f.get("resolution"), f"{field}.resolution"),
            )
            if term is None:
                continue
            raw = (f.get("featureType") or {}).get("id") or (f.get("featureType") or {}).get(
                "label"
            )
            out["phenotypic_features"].append(
                {
                    "phenopacket_id": rec.pid,
                    "term_id": term[0],
                    "term_label": term[1],
                    "excluded": excluded,
                    **_time_columns("onset", onset),
                    **_time_columns("resolution", resolution),
                    **rec.where,
                    "source_column": f"{field}.featureType",
                    "raw_value": raw,
                    "resolution_method": term[2],
                }
            )
        for field, d in rec.items(doc, "diseases"):
            rec.keep_known(d, field, _DISEASE_KEYS)
            term = rec.term(d.get("diseaseCode"), f"{field}.diseaseCode")
            onset = rec.time(d.get("ageOfOnset"), f"{field}.ageOfOnset")
            if term is not None:
                out["diseases"].append(
                    {
                        "phenopacket_id": rec.pid,
                        "term_id": term[0],
                        "term_label": term[1],
                        "excluded": False,
                        **_time_columns("onset", onset),
                        **rec.where,
                        "source_column": f"{field}.diseaseCode",
                    }
                )
        for field, m in rec.items(doc, "measures"):
            rec.keep_known(m, field, _MEASURE_KEYS)
            self._measure(rec, field, m, out)
        for field, p in rec.items(doc, "interventionsOrProcedures"):
            rec.keep_known(p, field, _PROCEDURE_KEYS)
            code = rec.term(p.get("procedureCode"), f"{field}.procedureCode")
            site = rec.term(p.get("bodySite"), f"{field}.bodySite", required=False)
            when = p.get("ageAtProcedure", p.get("dateOfProcedure"))
            performed = rec.time(
                when, f"{field}.{'ageAtProcedure' if 'ageAtProcedure' in p else 'dateOfProcedure'}"
            )
            if code is not None:
                out["procedures"].append(
                    {
                        "phenopacket_id": rec.pid,
                        "term_id": code[0],
                        "term_label": code[1],
                        "body_site_id": site[0] if site else None,
                        "body_site_label": site[1] if site else None,
                        **_time_columns("performed", performed),
                        **rec.where,
                        "source_column": f"{field}.procedureCode",
                    }
                )
        if rec.left_out:
            rec.find(
                "info",
                "not-carried-over",
                f"{', '.join(rec.left_out)}: no place in a Phenopacket v2 or the tables; not carried over",
                "nothing to do; the submitted file is published with the inputs",
                rec.left_out[0],
            )

    def _sex(self, rec: _Record, sex: Any) -> str | None:
        if sex is None:
            rec.find(
                "warning",
                "missing-sex",
                "the individual has no sex (the Beacon schema requires it)",
                "give sex as NCIT:C16576 female, NCIT:C20197 male or NCIT:C17998 unknown",
                "sex",
            )
            return None
        code = sex.get("id") if isinstance(sex, dict) else None
        if code in SEX:
            return SEX[code]
        rec.find(
            "error",
            "bad-sex",
            f"sex {_shown(code if code is not None else sex)} is not a Beacon sex code",
            "use NCIT:C16576 (female), NCIT:C20197 (male), NCIT:C17998 (unknown) or NCIT:C17649 (other)",
            "sex.id" if code is not None else "sex",
            code if code is not None else sex,
        )
        return None

    def _measure(
        self, rec: _Record, field: str, m: dict[str, Any], out: dict[str, list[dict[str, Any]]]
    ) -> None:
        assay = rec.term(m.get("assayCode"), f"{field}.assayCode")
        value = m.get("measurementValue")
        if isinstance(value, dict) and isinstance(value.get("quantity"), dict):
            value = value["quantity"]
        if isinstance(value, dict) and "id" in value and "value" not in value:
            rec.left_out.append(f"{field}.measurementValue")  # an ontology term: no quantity
            return
        number = value.get("value") if isinstance(value, dict) else None
        unit_obj = (value.get("unit") or value.get("units")) if isinstance(value, dict) else None
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            rec.find(
                "error",
                "bad-value",
                f"{field}.measurementValue has no numeric value",
                'write {"unit": {"id": ..., "label": ...}, "value": 12.5}',
                f"{field}.measurementValue",
                value,
            )
            return
        unit = rec.term(unit_obj, f"{field}.measurementValue.unit")
        when = m.get("observationMoment", m.get("date"))
        observed = rec.time(
            when, f"{field}.{'observationMoment' if 'observationMoment' in m else 'date'}"
        )
        if assay is None or unit is None:
            return
        out["measurements"].append(
            {
                "phenopacket_id": rec.pid,
                "assay_id": assay[0],
                "assay_label": assay[1],
                "value": float(number),
                "unit_id": unit[0],
                "unit_label": unit[1],
                **_time_columns("time_observed", observed),
                **rec.where,
                "source_column": field,
            }
        )

    # -- procedures: checked here, published as medicalActions --------------------------
    def _procedures(
        self, ctx: MappingContext, rows: list[dict[str, Any]]
    ) -> dict[str, dict[str, Any]]:
        if not rows:
            return {}
        table = pa.Table.from_pylist(rows, schema=_PROCEDURES)
        replace = ctx.settings.obsolete == "replace"
        for id_column, label_column in (
            ("term_id", "term_label"),
            ("body_site_id", "body_site_label"),
            ("performed_term_id", "performed_term_label"),
        ):
            table = harmonize_terms(
                table,
                ctx.ontologies,
                ctx.findings,
                id_column=id_column,
                label_column=label_column,
                replace=replace,
            )
        extras: dict[str, dict[str, Any]] = {}
        for row in table.to_pylist():
            if row["term_label"] is None:
                ctx.findings.add(
                    "warning",
                    "missing-label",
                    f"{row['term_id']} has no label; labelled with its id",
                    VALIDATOR,
                    hint="give the term's label",
                    file=row["source_file"],
                    row=row["source_row"],
                    column=row["source_column"],
                    value=row["term_id"],
                    phenopacket_id=row["phenopacket_id"],
                )
            procedure: dict[str, Any] = {
                "code": {"id": row["term_id"], "label": row["term_label"] or row["term_id"]}
            }
            if row["body_site_id"]:
                procedure["bodySite"] = {
                    "id": row["body_site_id"],
                    "label": row["body_site_label"] or row["body_site_id"],
                }
            performed = times.element(times.row_parts("performed", row))
            if performed:
                procedure["performed"] = performed
            action = with_source(
                {"procedure": procedure},
                row["source_file"],
                None,
                row["source_row"],
                row["source_column"],
            )
            extras.setdefault(row["phenopacket_id"], {"medicalActions": []})[
                "medicalActions"
            ].append(action)
        return extras
