"""Settings: built by the edges (CLI, DAGs, service) and passed into the library.

The library never reads the environment itself. :meth:`Settings.from_env` is for the edges.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

UnmappedPolicy = Literal["flag", "drop", "reject"]
# an observed term with an excluded ancestor: reject, or keep the observation and drop the
# exclusion with a warning (what curators using pyphetools get)
ConflictPolicy = Literal["reject", "keep-observed"]
# a low-confidence term match (fuzzy, or a weak synonym): hold the submission for a
# curator's review, or accept it with a warning
LowConfidencePolicy = Literal["review", "accept"]
# an obsolete term with a replaced_by: replace it (a warning), or reject and propose the
# replacement (submitted Phenopackets are never rewritten: always the latter)
ObsoletePolicy = Literal["replace", "reject"]
# who may read a submission's published objects
Access = Literal["public", "controlled"]


class Settings(BaseModel):
    """Where things live and how strict the pipeline is."""

    workspace: Path = Path("workspace")
    ontologies_dir: Path = Field(
        default_factory=lambda: Path(__file__).resolve().parent.parent / "ontologies"
    )
    expectations_dir: Path = Field(
        default_factory=lambda: Path(__file__).resolve().parent.parent / "expectations"
    )
    ontology_cache: Path | None = None  # compiled term indexes; default WORKSPACE/cache
    registry_url: str | None = None  # SQLAlchemy URL; default: SQLite in the workspace
    max_file_bytes: int = 2 * 1024**3
    batch_size: int = 20_000
    # a JSON document that must be read whole (a FHIR Bundle file, one NDJSON line, the
    # loose resources of an NDJSON file): larger ones are refused, to bound memory
    max_document_bytes: int = 256 * 1024**2
    remove_redundant_ancestors: bool = True
    unmapped_policy: UnmappedPolicy = "reject"
    on_conflict: ConflictPolicy = "reject"
    low_confidence: LowConfidencePolicy = "review"
    obsolete: ObsoletePolicy = "replace"
    require_subject: bool = True  # a policy: Phenopacket v2 makes subject optional
    reject_on: tuple[str, ...] = ("error",)  # finding levels that reject a submission
    created_by: str = "harmonize"
    # the access of a submission whose manifest is synthesized (a single data file); a
    # written manifest must always say ``access`` itself
    default_access: Access = "controlled"
    run_great_expectations: bool = True
    data_docs: bool = True
    # events and intake: kafka://host:port or a local log directory (default WORKSPACE/events);
    # the landing store: a local directory (default WORKSPACE/landing) or s3://bucket/prefix
    events_url: str | None = None
    landing_url: str | None = None
    s3_endpoint_url: str | None = None  # an S3-compatible endpoint (MinIO, moto); None: AWS
    # where everything published lives (tables, Phenopackets, inputs, reports), mirroring
    # the workspace layout: None for the workspace itself, or s3://bucket/prefix
    warehouse_url: str | None = None

    @property
    def registry(self) -> str:
        return self.registry_url or f"sqlite:///{(self.workspace / 'registry.sqlite').resolve()}"

    @property
    def published_dir(self) -> Path:
        return self.workspace / "published"

    @property
    def staging_dir(self) -> Path:
        return self.workspace / "staging"

    @property
    def reports_dir(self) -> Path:
        return self.workspace / "reports"

    @property
    def cache_dir(self) -> Path:
        return self.ontology_cache or self.workspace / "cache"

    @property
    def events(self) -> str:
        """The event bus URL (:func:`harmonize.events.open_bus`)."""
        return self.events_url or str(self.workspace / "events")

    @property
    def landing(self) -> str:
        """Where submitted files land: a local directory or ``s3://bucket/prefix``."""
        return self.landing_url or str(self.workspace / "landing")
