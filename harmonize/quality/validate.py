"""``harmonize validate``: check Phenopacket files without publishing anything."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from harmonize.errors import ReadError
from harmonize.quality.collect import FindingCollector
from harmonize.quality.findings import QualityReport
from harmonize.settings import Settings

BATCH = 500


def validate_files(paths: list[Path], settings: Settings) -> QualityReport:
    """Run the ``phenopacket`` profile's checks over files, directories or JSON Lines."""
    from harmonize.mapping.profiles import MappingContext
    from harmonize.mapping.profiles.phenopacket import PhenopacketProfile
    from harmonize.ontology import Ontologies
    from harmonize.quality.checks import Checker
    from harmonize.readers import reader_for

    # batches of a few hundred documents: memory stays flat with the number of files, and
    # each document's protobuf message is parsed once (schema.MESSAGES_KEPT holds a batch)
    settings = settings.model_copy(
        update={"run_great_expectations": False, "data_docs": False, "batch_size": BATCH}
    )
    ontologies = Ontologies.load(settings.ontologies_dir, settings.cache_dir)
    findings = FindingCollector()
    profile = PhenopacketProfile()  # not get_profile: it imports every profile (FHIR's models)
    ctx = MappingContext("validate", ontologies, settings, findings)
    report = QualityReport(submission_id="validate")
    checker = Checker(settings, ontologies, findings, report, profile, ctx, mode="validate")
    count = 0
    for path in paths:
        if not path.exists():
            raise ReadError("file not found", file=str(path), hint="check the path")
        reader = reader_for(path, prefer="phenopacket")
        options = profile.read_options(ctx)
        options = replace(options, label=path.name)
        for batch in reader.read(path, options):
            mapped = checker.harmonized(profile.map_batch(batch, ctx))
            count += mapped.tables["individuals"].num_rows
    report.add(findings.findings())
    report.stats = {"phenopackets": count}
    return report
