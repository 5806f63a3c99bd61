"""The database schema of the registry, the submission state and the review list.

Every store brings its database to the newest Alembic revision with :func:`upgrade`
(idempotent, safe when several processes start at once); ``harmonize db upgrade`` does
the same from the command line.

The migrations (``migrations/versions/``) spell their tables out and import none of the
features whose tables they create; ``tests/db/models.py`` gathers the features' models,
and a test checks that a migrated database has exactly their schema.
"""

from harmonize.db.migrate import current_revision, head_revision, upgrade

__all__ = ["current_revision", "head_revision", "upgrade"]
