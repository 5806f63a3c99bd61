"""Settings: built by the edges (CLI, DAGs, service) and passed into the library.

The library never reads the environment itself. :meth:`Settings.from_env` is for the edges.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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


MiB = 1024 * 1024


class Limits(BaseModel):
    """Bounds on what one submission may make the readers do; exceeding one rejects it.

    Every reader checks these before it commits to work (the zip directory of a workbook,
    a file's size) and again while it streams, since directories and headers lie. A limit
    that is hit is a terminal :class:`~harmonize.errors.LimitExceeded` naming the file and
    the limit, and nothing is published. The README's "Limits" table lists each with the
    environment variable and CLI option that set it.

    >>> Limits().max_rows, Limits(max_rows=10).max_rows
    (10000000, 10)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_files: int = Field(default=10_000, ge=1)  # data files in a submission (dirs expanded)
    max_read_seconds: float = Field(default=600.0, gt=0)  # a reader's own time on one file
    max_rows: int = Field(default=10_000_000, ge=1)  # rows of a file or sheet, headers included
    max_columns: int = Field(default=16_384, ge=1)  # Excel's own limit
    max_cell_chars: int = Field(default=32_767, ge=1)  # Excel's own limit
    max_json_bytes: int = Field(default=256 * MiB, ge=1)  # one JSON document (or line)
    max_json_depth: int = Field(default=64, ge=1)  # nested arrays and objects
    max_zip_members: int = Field(default=10_000, ge=1)  # entries in a workbook's zip directory
    max_zip_member_bytes: int = Field(default=1024 * MiB, ge=1)  # each member, inflated
    max_zip_total_bytes: int = Field(default=2048 * MiB, ge=1)  # the whole workbook, inflated
    # each part openpyxl loads whole before a sheet streams (shared strings, styles,
    # the workbook): everything but the worksheets
    max_xlsx_part_bytes: int = Field(default=64 * MiB, ge=1)
    # FHIR JSON read whole: a Bundle file, one NDJSON line, an NDJSON file's loose resources
    # (they reference each other, so they are read together)
    max_fhir_document_bytes: int = Field(default=256 * MiB, ge=1)
    # one Beacon individual as written (or a file holding one individual alone)
    max_beacon_record_chars: int = Field(default=64 * MiB, ge=1)


LIMIT_ENV_PREFIX = "HARMONIZE_LIMIT_"


def limit_variable(field: str) -> str:
    """The environment variable of a limit.

    >>> limit_variable("max_rows")
    'HARMONIZE_LIMIT_MAX_ROWS'
    """
    return LIMIT_ENV_PREFIX + field.upper()


def parse_limits(
    values: Mapping[str, str],
    base: Limits | None = None,
    *,
    name: Callable[[str], str] = lambda field: field,
) -> Limits:
    """``base`` with ``values`` (text, by field name) applied; fails closed.

    An unknown name is an error naming the nearest valid one, as ``name`` spells it.

    >>> parse_limits({"max_rows": "5"}).max_rows
    5
    >>> parse_limits({"max_row": "5"}, name=limit_variable)
    Traceback (most recent call last):
    ...
    harmonize.errors.ConfigurationError: HARMONIZE_LIMIT_MAX_ROW: unknown limit; did you mean HARMONIZE_LIMIT_MAX_ROWS?. set one of the limits in the README's Limits table
    """
    from harmonize.errors import ConfigurationError
    from harmonize.strict import suggest

    fields = list(Limits.model_fields)
    for key in values:
        if key not in fields:
            near = suggest(key, fields)
            hint = (
                f"did you mean {name(near)}?" if near else f"known: {', '.join(map(name, fields))}"
            )
            raise ConfigurationError(
                f"{name(key)}: unknown limit; {hint}",
                value=key,
                hint="set one of the limits in the README's Limits table",
            )
    try:
        return Limits.model_validate({**(base or Limits()).model_dump(), **values})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        raise ConfigurationError(
            f"{name(field)}={first.get('input')!r}: {first['msg']}",
            value=first.get("input"),
            hint=f"set {name(field)} to a positive number, or unset it for the default",
        ) from exc


def limits_from_env(env: Mapping[str, str], base: Limits | None = None) -> Limits:
    """``HARMONIZE_LIMIT_<FIELD>`` variables over ``base`` (for the edges); fails closed."""
    values = {
        var.removeprefix(LIMIT_ENV_PREFIX).lower(): value
        for var, value in env.items()
        if var.startswith(LIMIT_ENV_PREFIX)
    }
    return parse_limits(values, base, name=limit_variable)


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
    limits: Limits = Field(default_factory=Limits)
    # rows per batch; 10,000 rather than 20,000 (issue #14): the peak RSS is one batch in
    # flight on top of the warm process, and the CPU time measured no higher
    batch_size: int = 10_000
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

    @model_validator(mode="before")
    @classmethod
    def _old_document_limit(cls, data: Any) -> Any:
        """``max_document_bytes=N``, its name before it joined the limits, still sets it (warning)."""
        if not isinstance(data, dict) or "max_document_bytes" not in data:
            return data
        data = dict(data)
        value = data.pop("max_document_bytes")
        warnings.warn(
            "Settings.max_document_bytes is now Settings.limits.max_fhir_document_bytes "
            "(HARMONIZE_LIMIT_MAX_FHIR_DOCUMENT_BYTES, --limit max_fhir_document_bytes=N)",
            DeprecationWarning,
            stacklevel=2,
        )
        limits = data.get("limits", Limits())
        if isinstance(limits, Limits):
            limits = limits.model_dump()
        data["limits"] = {**limits, "max_fhir_document_bytes": value}
        return data

    @property
    def max_document_bytes(self) -> int:
        """Deprecated: :attr:`Limits.max_fhir_document_bytes`."""
        return self.limits.max_fhir_document_bytes

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
