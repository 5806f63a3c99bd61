"""``harmonize review``: the curator's review list of uncertain term mappings.

A curator accepts the proposed term, picks another, or marks the text unmappable; the
decision is stored with who made it and when, and every later ingest of the dataset
applies it. (The dashboard offers the same actions in a browser.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

review = typer.Typer(
    help="Review uncertain ontology mappings: list, accept, or mark unmappable.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
Workspace = Annotated[Path, typer.Option("--workspace", "-w", help="The workspace.")]
Curator = Annotated[str, typer.Option("--by", help="Who decides (recorded with the decision).")]


def _store(workspace: Path):  # type: ignore[no-untyped-def]
    from harmonize.settings import Settings
    from harmonize.state.review import ReviewStore

    return ReviewStore(Settings(workspace=workspace).registry)


@review.command("list")
def list_items(
    workspace: Workspace = Path("workspace"),
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    all_items: Annotated[bool, typer.Option("--all", help="Decided items too.")] = False,
) -> None:
    """Open review items, with their candidate terms."""
    items = _store(workspace).items(status=None if all_items else "open", dataset=dataset)
    if not items:
        typer.echo("nothing to review")
    for item in items:
        loc = item["location"] or {}
        typer.echo(
            f"#{item['id']} [{item['status']}] {item['dataset']}: {item['raw_text']!r} "
            f"({loc.get('file')}, row {loc.get('row')}, column {loc.get('column')})"
        )
        for c in item["candidates"] or []:
            typer.echo(f"    {c['term_id']} {c['label']!r} by {c['method']} ({c['score']:.2f})")


@review.command()
def accept(
    item: Annotated[int, typer.Argument(help="Review item number.")],
    by: Curator,
    term: Annotated[str | None, typer.Option(help="Another term than the best candidate.")] = None,
    workspace: Workspace = Path("workspace"),
) -> None:
    """Accept the best candidate term (or --term) for an item's text."""
    from harmonize.ontology import Ontologies
    from harmonize.settings import Settings

    store = _store(workspace)
    found = store.item(item)
    if found is None:
        raise typer.BadParameter(f"no review item {item}", param_hint="ITEM")
    settings = Settings(workspace=workspace)
    index = Ontologies.load(settings.ontologies_dir, settings.cache_dir).get(found["ontology"])
    term_id = term or next((c["term_id"] for c in found["candidates"] or []), None)
    code = index.code(term_id) if term_id else None
    if term_id is None or code is None:
        raise typer.BadParameter(
            f"{term_id!r} is not a {found['ontology']} term", param_hint="--term"
        )
    store.decide(item, term_id=index.term_id(code), label=index.label(code), by=by)
    typer.echo(
        f"#{item}: {found['raw_text']!r} -> {index.term_id(code)} {index.label(code)!r} "
        f"(by {by}); applies to later submissions of {found['dataset']}"
    )


@review.command()
def unmappable(
    item: Annotated[int, typer.Argument(help="Review item number.")],
    by: Curator,
    workspace: Workspace = Path("workspace"),
) -> None:
    """Mark an item's text as unmappable: later submissions leave it out with a note."""
    store = _store(workspace)
    if store.item(item) is None:
        raise typer.BadParameter(f"no review item {item}", param_hint="ITEM")
    store.decide(item, term_id=None, label=None, by=by)
    typer.echo(f"#{item}: marked unmappable (by {by})")
