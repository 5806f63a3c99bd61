"""The options several commands share: the policy options ``harmonize ingest`` and
``harmonize worker`` take, and their checks; the workspace option; their settings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from harmonize.drs.registry import Registry
    from harmonize.settings import Settings

Workspace = Annotated[
    Path,
    typer.Option("--workspace", "-w", help="Where published data, reports and the registry live."),
]

RegistryUrl = Annotated[
    str | None,
    typer.Option(
        "--registry-url",
        envvar="HARMONIZE_REGISTRY_URL",
        help="The registry database (SQLAlchemy URL); default SQLite in the workspace.",
    ),
]
Warehouse = Annotated[
    str | None,
    typer.Option(
        "--warehouse",
        envvar="HARMONIZE_WAREHOUSE",
        help="Where published data lives: s3://bucket/prefix; default the workspace.",
    ),
]
Landing = Annotated[
    str | None,
    typer.Option(
        "--landing",
        envvar="HARMONIZE_LANDING_URL",
        help="The landing store (a directory or s3://bucket/prefix); default WORKSPACE/landing.",
    ),
]
S3Endpoint = Annotated[
    str | None,
    typer.Option(
        "--s3-endpoint-url",
        envvar="HARMONIZE_S3_ENDPOINT_URL",
        help="An S3-compatible endpoint (MinIO, moto) for s3:// locations.",
    ),
]

OnConflict = Annotated[
    str,
    typer.Option(help="An observed term with an excluded ancestor: reject | keep-observed."),
]
Unmapped = Annotated[
    str, typer.Option(help="A value no ontology term matches: reject | flag | drop.")
]
Obsolete = Annotated[
    str,
    typer.Option(help="An obsolete term with a replacement: replace (warn) | reject."),
]
LowConfidence = Annotated[
    str,
    typer.Option(help="A fuzzy or weak term match: review (hold for a curator) | accept."),
]


LimitOptions = Annotated[
    list[str] | None,
    typer.Option(
        "--limit",
        help="NAME=VALUE: a reader limit (README, Limits), e.g. --limit max_rows=2000000. "
        "Repeatable.",
    ),
]


def limits(values: list[str] | None) -> Any:
    """``--limit NAME=VALUE`` options as :class:`~harmonize.settings.Limits` (None: defaults)."""
    if not values:
        return None
    from harmonize.errors import ConfigurationError
    from harmonize.settings import parse_limits

    pairs: dict[str, str] = {}
    for value in values:
        key, sep, number = value.partition("=")
        if not sep:
            raise typer.BadParameter(f"{value!r}: write NAME=VALUE", param_hint="--limit")
        pairs[key.strip()] = number.strip()
    try:
        return parse_limits(pairs)
    except ConfigurationError as exc:
        raise typer.BadParameter(exc.message, param_hint="--limit") from exc


def policies(on_conflict: str, unmapped: str, low_confidence: str, obsolete: str) -> dict[str, Any]:
    """The options as :class:`~harmonize.settings.Settings` fields; a bad value is a usage error."""
    return {
        "on_conflict": choice("--on-conflict", on_conflict, ("reject", "keep-observed")),
        "unmapped_policy": choice("--unmapped", unmapped, ("reject", "flag", "drop")),
        "low_confidence": choice("--low-confidence", low_confidence, ("review", "accept")),
        "obsolete": choice("--obsolete", obsolete, ("replace", "reject")),
    }


def choice(option: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"use one of {', '.join(allowed)}", param_hint=option)
    return value


def settings_for(workspace: Path, **overrides: Any) -> Settings:
    """The settings of ``workspace`` with the options given (``None``: not given)."""
    from harmonize.settings import Settings

    return Settings(workspace=workspace, **{k: v for k, v in overrides.items() if v is not None})


def open_workspace(
    workspace: Path, *, create: bool = True, **overrides: Any
) -> tuple[Settings, Registry]:
    """The settings of ``workspace`` (as :func:`settings_for`) and its registry.

    ``create`` makes the registry's tables when missing; a read-only command such as
    ``harmonize discover`` passes ``False`` and never writes to the registry.
    """
    from harmonize.drs.registry import Registry

    settings = settings_for(workspace, **overrides)
    registry = Registry(settings.registry)
    if create:
        registry.create_all()
    return settings, registry
