"""The database schema of the registry, the submission state and the review list.

Every store brings its database to the newest Alembic revision with :func:`upgrade`
(idempotent, safe when several processes start at once); ``harmonize db upgrade`` does
the same from the command line.
"""

from harmonize.db.migrate import current_revision, head_revision, upgrade
from harmonize.db.schema import target_metadata

__all__ = ["current_revision", "head_revision", "target_metadata", "upgrade"]
