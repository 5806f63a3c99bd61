"""``redcap``: a REDCap data dictionary plus a records export (CSV) to Phenopackets.

The submission lists both files; the profile finds the dictionary by its header
(:mod:`.redcap_dictionary`), and the mapping YAML (:mod:`.redcap_mapping`) names which
fields become sex, phenotypic features, diseases, measurements and exposures. The records
are read by the ``redcap`` reader, which keeps each record's rows (events, repeating
instances) in one batch; one record is one individual.

What the dictionary decides, cell by cell, in every column of the export:

- a dictionary field missing from the export, and an export column the dictionary does not
  have (besides ``redcap_*`` and ``<form>_complete``), is an error: the export is not from
  this dictionary;
- a value of a radio, dropdown, yesno, truefalse or checkbox field must be one of its
  choices, by code (raw export) or label (label export); any other is an error at its row
  and column;
- a field whose branching logic is false for its row but holds a value is a warning at
  the row and field, and the value is **not mapped**: REDCap hides such a field, so the value
  is left over from before the answer it depends on changed. Logic outside the subset
  :mod:`.redcap_logic` reads is named once (info) and the field is mapped as it is.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from harmonize.errors import ConfigurationError
from harmonize.mapping.profiles import fhir_codes
from harmonize.mapping.profiles import redcap_logic as logic
from harmonize.mapping.profiles.base import MappedBatch, MappingContext, Profile, register
from harmonize.mapping.profiles.redcap_dictionary import (
    SYSTEM_COLUMNS,
    Dictionary,
    Field,
    load_dictionary,
)
from harmonize.mapping.profiles.redcap_mapping import (
    REDCapMapping,
    check_against,
    load_redcap_mapping,
)
from harmonize.mapping.profiles.redcap_terms import Record, Terms, sanitize
from harmonize.readers.base import ReadOptions, SourceBatch
from harmonize.readers.formats.redcap import first_data_row, is_dictionary

VALIDATOR = "profile:redcap"
CHECKED = {"1": "1", "0": "0", "checked": "1", "unchecked": "0"}


@register
class REDCapProfile(Profile):
    name = "redcap"
    description = "a REDCap data dictionary plus a records export (CSV), with a mapping YAML"
    raw_suite = None
    reader = "redcap"

    def configure(self, ctx: MappingContext) -> None:
        if ctx.config_path is None:
            raise ConfigurationError(
                "the redcap profile needs a mapping file",
                hint="name it in manifest.yaml as 'mapping: mapping.yaml' or pass --mapping",
            )
        mapping = load_redcap_mapping(ctx.config_path)
        found = [name for name, path in ctx.files.items() if is_dictionary(path)]
        if len(found) != 1:
            raise ConfigurationError(
                "the redcap profile needs exactly one REDCap data dictionary among the files"
                + (f", found {len(found)}: {', '.join(found)}" if found else ", found none"),
                hint="list REDCap's Data Dictionary CSV download (header 'Variable / Field "
                "Name', 'Form Name', 'Field Type', ...) and the records export in the manifest",
            )
        options = ReadOptions(label=found[0], limits=ctx.settings.limits)
        self.dictionary: Dictionary = load_dictionary(found[0], ctx.files[found[0]], options)
        check_against(mapping, self.dictionary, ctx.config_path)
        check_codes(mapping, ctx)
        self._ctx_files = ctx.files
        self.mapping: REDCapMapping = mapping
        self._columns = self.dictionary.by_column()
        self._parse_logic()
        self._first_rows: dict[str, int | None] = {}

    # -- the export against the dictionary ---------------------------------------------
    def _check_header(self, batch: SourceBatch, ctx: MappingContext) -> None:
        # once per file, in the batch that holds its first row (batches may be mapped in
        # separate processes: the DAG's fan-out)
        if batch.file not in self._first_rows:
            path = self._ctx_files.get(batch.file)
            self._first_rows[batch.file] = first_data_row(path) if path else None
        if not batch.num_rows or batch.rows[0].as_py() != self._first_rows[batch.file]:
            return
        have = set(batch.table.column_names)
        d = self.dictionary
        for f in d.fields.values():
            missing = [c for c in f.columns() if c not in have]
            if missing:
                ctx.findings.add(
                    "error",
                    "missing-column",
                    f"field {f.name!r} (form {f.form!r}) of the data dictionary is not in the "
                    f"export {batch.file}"
                    + (f" (no column {', '.join(missing)})" if missing != [f.name] else ""),
                    VALIDATOR,
                    hint="export all instruments with the dictionary they came from, or submit "
                    "the dictionary of the project the records were exported from",
                    file=d.file,
                    row=f.row,
                    column="Variable / Field Name",
                    value=f.name,
                )
        forms = {f"{form}_complete" for form in d.forms()}
        for column in batch.table.column_names:
            if column not in self._columns and column not in SYSTEM_COLUMNS and column not in forms:
                ctx.findings.add(
                    "error",
                    "unknown-column",
                    f"column {column!r} of the export is not a field of the data dictionary "
                    f"{d.file}",
                    VALIDATOR,
                    hint="submit the dictionary of the project the records were exported from",
                    file=batch.file,
                    row=1,
                    column=column,
                )
        self._tell_unsupported(ctx)

    def _parse_logic(self) -> None:
        """Each field's branching logic, parsed once; logic outside the subset is kept to
        be named with the export's header check."""
        self._logic: dict[str, logic.Logic | None] = {}
        self._unsupported: list[tuple[Field, str]] = []
        for f in self.dictionary.fields.values():
            shows = None
            if f.branching:
                try:
                    shows = logic.parse(f.branching)
                except logic.Unsupported as exc:
                    self._unsupported.append((f, str(exc)))
            self._logic[f.name] = shows

    def _tell_unsupported(self, ctx: MappingContext) -> None:
        for f, why in self._unsupported:
            ctx.findings.add(
                "info",
                "branching-logic-not-evaluated",
                f"the branching logic of {f.name!r} is not evaluated ({why}): its "
                "values are mapped as they are",
                VALIDATOR,
                hint="nothing to do; check by hand that hidden fields are blank",
                file=self.dictionary.file,
                row=f.row,
                column="Branching Logic (Show field only if...)",
                value=f.branching,
            )

    # -- cells -------------------------------------------------------------------------
    def _cells(self, batch: SourceBatch, ctx: MappingContext) -> list[Record]:
        """Each record's rows with every value checked against the dictionary."""
        t = batch.table
        names = t.column_names
        columns = [t.column(c).to_pylist() for c in names]
        records: dict[str, Record] = {}
        for i in range(t.num_rows):
            row = int(batch.rows[i].as_py())
            raw = {n: (columns[j][i] or "").strip() for j, n in enumerate(names)}
            rid = raw[names[0]]
            rec = records.setdefault(rid, Record(rid, row))
            values: dict[str, str] = {}
            for column, value in raw.items():
                if value == "" or column not in self._columns:
                    continue
                f, code = self._columns[column]
                if code is not None:  # a checkbox choice
                    norm = CHECKED.get(value.casefold())
                    if norm is None and f.choices[code].casefold() == value.casefold():
                        norm = "1"  # a label export names the checked choice
                elif f.choices:
                    norm = f.code_of(value)
                else:
                    norm = value
                if norm is None:
                    ctx.findings.add(
                        "error",
                        "bad-value",
                        f"{column} value {value!r} is not one of the field's choices "
                        f"({', '.join(f'{c}, {label}' for c, label in f.choices.items())})"
                        if code is None
                        else f"{column} value {value!r} is not a checkbox value (1, 0, "
                        "Checked, Unchecked)",
                        VALIDATOR,
                        hint="use the choice codes (raw export) or labels (label export) of the "
                        f"data dictionary {self.dictionary.file}",
                        file=batch.file,
                        row=row,
                        column=column,
                        value=value,
                    )
                    continue
                values[column] = norm
            rec.rows.append((row, values))
        for rec in records.values():
            self._hide(rec, batch, ctx)
        return list(records.values())

    def _hide(self, rec: Record, batch: SourceBatch, ctx: MappingContext) -> None:
        """Drop, with a warning, each value its field's branching logic hides."""
        everywhere: dict[str, str] = {}
        for _, values in rec.rows:
            for k, v in values.items():
                everywhere.setdefault(k, v)
        for row, values in rec.rows:

            def get(column: str, values: dict[str, str] = values) -> str | None:
                return values.get(column) or everywhere.get(column)

            for column in list(values):
                f, code = self._columns[column]
                shows = self._logic[f.name]
                if shows is None or (code is not None and values[column] == "0") or shows(get):
                    continue
                ctx.findings.add(
                    "warning",
                    "hidden-by-branching-logic",
                    f"{column} holds {values[column]!r} although its branching logic "
                    f"({f.branching}) hides it for this row: not mapped",
                    VALIDATOR,
                    hint="clear the value in REDCap, or correct the answer the logic depends on",
                    file=batch.file,
                    row=row,
                    column=column,
                    value=values[column],
                )
                del values[column]

    # -- the batch ---------------------------------------------------------------------
    def map_batch(self, batch: SourceBatch, ctx: MappingContext) -> MappedBatch:
        self._check_header(batch, ctx)
        terms = Terms(ctx, batch, self.dictionary, VALIDATOR)
        extras: dict[str, dict[str, Any]] = {}
        for rec in self._cells(batch, ctx):
            if not rec.id:
                ctx.findings.add(
                    "error",
                    "missing-required-field",
                    "a row without a record id",
                    VALIDATOR,
                    hint=f"every row names its record in {self.dictionary.record_id}",
                    file=batch.file,
                    row=rec.row,
                    column=batch.table.column_names[0],
                )
                continue
            pid = sanitize((self.mapping.id_prefix or "") + rec.id)
            terms.individual(pid, rec, self.mapping.sex)
            for entry in self.mapping.phenotypes:
                terms.terms(pid, rec, entry, "phenotypic_features")
            for entry in self.mapping.diseases:
                terms.terms(pid, rec, entry, "diseases")
            for m in self.mapping.measurements:
                terms.measurement(pid, rec, m)
            exposures = [x for e in self.mapping.exposures for x in terms.exposure(rec, e)]
            if exposures:
                extras[pid] = {"measurements": exposures}
        tables = {name: pa.Table.from_pylist(rows) for name, rows in terms.rows.items() if rows}
        return MappedBatch.of(extras=extras, **tables)


def check_codes(mapping: REDCapMapping, ctx: MappingContext) -> None:
    """Every code the mapping names is a valid CURIE of a system its use allows."""
    assert ctx.config_path is not None
    uses: list[tuple[str, str, frozenset[str] | None]] = []
    kinds: tuple[tuple[str, frozenset[str]], ...] = (
        ("phenotypes", fhir_codes.PHENOTYPES),
        ("diseases", fhir_codes.DISEASES),
    )
    for key, kind in kinds:
        for i, entry in enumerate(getattr(mapping, key)):
            uses += [(f"{key}[{i}]", code, kind) for code in entry.codes()]
    for i, m in enumerate(mapping.measurements):
        uses += [(f"measurements[{i}]", m.assay, None), (f"measurements[{i}]", m.unit, None)]
    for i, e in enumerate(mapping.exposures):
        uses += [(f"exposures[{i}]", c, None) for c in [e.assay, *e.choices.values()]]
    for where, code, allowed in uses:
        prefix = code.partition(":")[0]
        if (allowed is not None and prefix not in allowed) or not ctx.ontologies.check_curie(code):
            raise ConfigurationError(
                f"mapping field {where!r}: {code!r} is not a valid "
                + (f"{'/'.join(sorted(allowed))} id" if allowed else "CURIE of a known system"),
                file=ctx.config_path.name,
                column=where,
                value=code,
                hint="use a CURIE whose prefix is in ontologies/manifest.yaml"
                + (f" and one of {', '.join(sorted(allowed))}" if allowed else ""),
            )
