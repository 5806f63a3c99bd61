"""The Beacon's settings: who it says it is, and the privacy rules, per dataset.

Defaults are the safe ones: counts below 5 are suppressed, at most 10 filters a query,
1,000 queries per client per hour. A dataset's entry in ``datasets`` overrides the
defaults for that dataset only.

>>> settings = BeaconSettings(datasets={"rare": DatasetPolicy(threshold=10, rounding=5)})
>>> settings.policy("rare").threshold, settings.policy("other").threshold
(10, 5)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from harmonize.strict import StrictModel

Granularity = Literal["boolean", "count", "record"]
AnonymousGranularity = Literal["boolean", "count"]

API_VERSION = "v2.1.1"
PREFIX = "/ga4gh/beacon/v2"


class DatasetPolicy(StrictModel):
    """What callers without a grant for a dataset may learn of it."""

    threshold: int = Field(default=5, ge=1)  # counts below it are reported as 0, exists false
    rounding: int = Field(default=0, ge=0)  # round counts down to a multiple of it (0: off)
    anonymous_granularity: AnonymousGranularity = "count"  # the most a non-grantee gets


class BeaconSettings(StrictModel):
    """Identity of the Beacon, its privacy rules and its limits."""

    beacon_id: str = "org.example.harmonize.beacon"
    name: str = "Harmonize Beacon"
    description: str = "Beacon v2 over the current published Harmonize tables"
    organization_id: str = "org.example"
    organization_name: str = "Example data centre"
    environment: Literal["prod", "test", "dev", "staging"] = "dev"
    threshold: int = Field(default=5, ge=1)
    rounding: int = Field(default=0, ge=0)
    anonymous_granularity: AnonymousGranularity = "count"
    datasets: dict[str, DatasetPolicy] = Field(default_factory=dict)  # per-dataset overrides
    max_filters: int = Field(default=10, ge=1, le=100)
    default_limit: int = Field(default=10, ge=1)
    max_limit: int = Field(default=1000, ge=1)
    budget_queries: int = Field(default=1000, ge=0)  # per client and window; 0: unlimited
    budget_window_seconds: int = Field(default=3600, ge=1)
    recheck_seconds: float = Field(default=1.0, ge=0)  # how often a new publication is looked for
    # records (and true counts) need a declared data use that consent permits (see engine)
    require_data_use: bool = True

    def policy(self, dataset: str) -> DatasetPolicy:
        """The rules of ``dataset``: its own entry, else the Beacon-wide defaults."""
        found = self.datasets.get(dataset)
        if found is not None:
            return found
        return DatasetPolicy(
            threshold=self.threshold,
            rounding=self.rounding,
            anonymous_granularity=self.anonymous_granularity,
        )


ENV_FILE = "HARMONIZE_BEACON_FILE"
ENV_ENABLED = "HARMONIZE_BEACON_ENABLED"


def settings_from_env(environ: Mapping[str, str]) -> BeaconSettings | None:
    """The service's Beacon settings: defaults, or the YAML/JSON file ``HARMONIZE_BEACON_FILE``
    names; None when ``HARMONIZE_BEACON_ENABLED`` is ``false`` (no Beacon is served)."""
    import yaml

    from harmonize.errors import ConfigurationError
    from harmonize.strict import StrictModel, first_error, refuse_unknown_env

    class _Variables(StrictModel):  # the HARMONIZE_BEACON_* variables there are
        file: str | None = None
        enabled: str | None = None

    refuse_unknown_env(environ, "HARMONIZE_BEACON_", _Variables)
    enabled = environ.get(ENV_ENABLED, "true").strip().lower()
    if enabled not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigurationError(f"{ENV_ENABLED}={enabled!r} is not true or false")
    if enabled in ("false", "0", "no"):
        return None
    where = environ.get(ENV_FILE)
    if not where:
        return BeaconSettings()
    try:
        values = yaml.safe_load(Path(where).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"cannot read {ENV_FILE} {where}: {exc}", file=where) from exc
    try:
        return BeaconSettings.model_validate(values)
    except ValidationError as exc:
        key, message = first_error(exc, BeaconSettings)
        raise ConfigurationError(
            f"Beacon settings, {key or 'top level'}: {message}",
            file=where,
            hint="see README, Beacon v2: settings",
        ) from exc
