"""``harmonize ontologies``: fetch pinned releases, diff releases against what is published."""

from __future__ import annotations

import typer

ontologies = typer.Typer(
    help="Pinned ontology releases: fetch them, and see what a new release changes.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
