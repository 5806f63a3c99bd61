"""``harmonize``: the command line, one module per command group.

``ingest``, ``validate`` and ``recover`` live in :mod:`~.ingest`; ``serve``, ``worker``,
``submit``, ``discover`` and ``report`` in modules of their names; the groups ``ontologies``, ``review``, ``drs``,
``events``, ``db`` and ``tables`` each in its own module; :mod:`~.options` holds the options several
commands share. The command modules import only Typer at their top level and heavy
libraries inside the commands, so that ``harmonize --help`` answers at once.
"""

from __future__ import annotations

import typer

from harmonize.cli import (
    db,
    discover,
    drs,
    events,
    ingest,
    lifecycle,
    ontologies,
    report,
    review,
    serve,
    submit,
    tables,
    worker,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="harmonize",
    help="Clinical submissions to validated GA4GH Phenopackets, Parquet tables and DRS objects.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: importing rich for it costs most of a second
)

app.command()(ingest.ingest)
app.command()(ingest.validate)
app.command()(ingest.recover)
app.command()(serve.serve)
app.command()(worker.worker)

app.add_typer(ontologies.ontologies, name="ontologies")
app.add_typer(review.review, name="review")
app.add_typer(drs.drs, name="drs")
app.command()(submit.submit)
app.add_typer(events.events, name="events")
app.add_typer(db.db, name="db")
app.add_typer(tables.tables, name="tables")
app.command()(lifecycle.withdraw)
app.command()(lifecycle.verify)
app.command()(discover.discover)
app.command()(report.report)


def main() -> None:  # pragma: no cover
    app()
