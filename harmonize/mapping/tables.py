"""The harmonized tables: the columnar form every profile maps into.

Profiles turn raw rows into these Arrow tables; validators check them column-wise;
the publisher writes them as Parquet and builds Phenopacket JSON from them. Every row
keeps its lineage: the submitter's file, sheet, row and column that produced it.
The ``submission_id`` is not a column: it is the hive partition of the published dataset.
"""

from __future__ import annotations

import pyarrow as pa

from harmonize.mapping.times import fields_for

_SOURCE = [
    pa.field("source_file", pa.string()),
    pa.field("source_sheet", pa.string()),
    pa.field("source_row", pa.int64()),
]

INDIVIDUALS = pa.schema(
    [
        pa.field("phenopacket_id", pa.string(), nullable=False),
        pa.field("subject_id", pa.string()),
        pa.field("sex", pa.string()),  # FEMALE | MALE | OTHER_SEX | UNKNOWN_SEX
        pa.field("date_of_birth", pa.string()),
        # the time at last encounter, in any TimeElement form (age_at_last_encounter is the
        # ISO 8601 age; last_encounter_age_range_start, ..., last_encounter_timestamp the rest)
        *fields_for("last_encounter"),
        pa.field("vital_status", pa.string()),  # ALIVE | DECEASED | UNKNOWN_STATUS
        pa.field("cause_of_death_id", pa.string()),  # e.g. ICD10:I21.9
        pa.field("cause_of_death_label", pa.string()),
        *fields_for("time_of_death"),  # time_of_death_age, ..._timestamp
        pa.field("alternate_ids", pa.list_(pa.string())),  # CURIEs: subject.alternateIds
        pa.field("reference_id", pa.string()),  # e.g. PMID:16965330
        pa.field("reference_description", pa.string()),
        pa.field("profile", pa.string()),
        # the row's own DUO codes (a mapping's consent column); null: the submission's
        # apply. Published as the individuals table's `consent` (harmonize.warehouse.rows)
        pa.field("consent", pa.list_(pa.string())),
        *_SOURCE,
    ]
)

PHENOTYPIC_FEATURES = pa.schema(
    [
        pa.field("phenopacket_id", pa.string(), nullable=False),
        pa.field("term_id", pa.string()),
        pa.field("term_label", pa.string()),
        pa.field("excluded", pa.bool_()),
        # onset and resolution, each in any TimeElement form: onset_age (ISO 8601),
        # onset_age_range_start/_end, onset_gestational_weeks/_days, onset_term_id/_label
        # (e.g. HP:0003577 Congenital onset), onset_timestamp; the same for resolution_*
        *fields_for("onset"),
        *fields_for("resolution"),
        *_SOURCE,
        pa.field("source_column", pa.string()),
        pa.field("raw_value", pa.string()),  # the submitter's text that produced the term
        pa.field("resolution_method", pa.string()),  # id | alt_id | label | synonym | ...
        pa.field("ontology_release", pa.string()),  # e.g. HP 2025-01-16
    ]
)

DISEASES = pa.schema(
    [
        pa.field("phenopacket_id", pa.string(), nullable=False),
        pa.field("term_id", pa.string()),
        pa.field("term_label", pa.string()),
        pa.field("excluded", pa.bool_()),
        *fields_for("onset"),
        *fields_for("resolution"),
        *_SOURCE,
        pa.field("source_column", pa.string()),
    ]
)

VARIANTS = pa.schema(
    [
        pa.field("phenopacket_id", pa.string(), nullable=False),
        pa.field("variant_id", pa.string()),
        pa.field("disease_id", pa.string()),
        pa.field("disease_label", pa.string()),
        pa.field("gene_id", pa.string()),  # HGNC:360
        pa.field("gene_symbol", pa.string()),
        pa.field("transcript", pa.string()),
        pa.field("hgvs", pa.string()),  # NM_000383.4:c.769C>T, when an HGVS expression
        pa.field("hgvs_syntax", pa.string()),  # hgvs.c | hgvs.n | hgvs.g | hgvs.p
        # the descriptor's VCF record (vcfRecord), when it has one: hg38, chr6, 98875673, G, A
        pa.field("vcf_assembly", pa.string()),
        pa.field("vcf_chrom", pa.string()),
        pa.field("vcf_pos", pa.int64()),  # 1-based, as VCF counts
        pa.field("vcf_ref", pa.string()),
        pa.field("vcf_alt", pa.string()),
        pa.field("description", pa.string()),  # free text, e.g. "exon 1 deletion"
        pa.field("allelic_state_id", pa.string()),  # GENO:0000135 heterozygous
        pa.field("allelic_state_label", pa.string()),
        pa.field("interpretation_status", pa.string()),  # CAUSATIVE | ...
        pa.field("progress_status", pa.string()),  # SOLVED | ...
        *_SOURCE,
        pa.field("source_column", pa.string()),
    ]
)

MEASUREMENTS = pa.schema(
    [
        pa.field("phenopacket_id", pa.string(), nullable=False),
        pa.field("assay_id", pa.string()),
        pa.field("assay_label", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("unit_id", pa.string()),
        pa.field("unit_label", pa.string()),
        *fields_for("time_observed"),  # time_observed_age (ISO 8601), ..._timestamp
        *_SOURCE,
        pa.field("source_column", pa.string()),
    ]
)

# Phenopacket medicalActions (harmonize.mapping.actions): one row per procedure, one per
# treatment (its agent and route; dose intervals stay in the Phenopacket)
PROCEDURES = pa.schema(
    [
        pa.field("phenopacket_id", pa.string(), nullable=False),
        pa.field("term_id", pa.string()),  # the procedure's code, e.g. SNOMEDCT:80146002
        pa.field("term_label", pa.string()),
        pa.field("body_site_id", pa.string()),
        pa.field("body_site_label", pa.string()),
        *fields_for("performed"),  # performed_age, ..., performed_timestamp
        *_SOURCE,
        pa.field("source_column", pa.string()),
    ]
)

TREATMENTS = pa.schema(
    [
        pa.field("phenopacket_id", pa.string(), nullable=False),
        pa.field("agent_id", pa.string()),  # e.g. RXNORM:6809
        pa.field("agent_label", pa.string()),
        pa.field("route_id", pa.string()),
        pa.field("route_label", pa.string()),
        pa.field("drug_type", pa.string()),  # PRESCRIPTION | EHR_MEDICATION_LIST | ...
        *_SOURCE,
        pa.field("source_column", pa.string()),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {
    "individuals": INDIVIDUALS,
    "phenotypic_features": PHENOTYPIC_FEATURES,
    "diseases": DISEASES,
    "variants": VARIANTS,
    "measurements": MEASUREMENTS,
    "procedures": PROCEDURES,
    "treatments": TREATMENTS,
}
TABLES = tuple(SCHEMAS)


def empty(name: str) -> pa.Table:
    """An empty table with the named schema.

    >>> empty("diseases").num_rows
    0
    """
    return SCHEMAS[name].empty_table()


def conform(name: str, table: pa.Table) -> pa.Table:
    """Give ``table`` exactly the named schema: missing columns become nulls, order fixed."""
    schema = SCHEMAS[name]
    n = table.num_rows
    columns = []
    for f in schema:
        if f.name in table.column_names:
            columns.append(table.column(f.name).cast(f.type))
        else:
            columns.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(columns, schema=schema)
