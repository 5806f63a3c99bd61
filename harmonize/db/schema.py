"""Every table Harmonize keeps, in one :class:`~sqlalchemy.MetaData` (what migrations target).

>>> sorted(target_metadata().tables)  # doctest: +NORMALIZE_WHITESPACE
['drs_bundle_members', 'drs_objects', 'mapping_decisions', 'review_items',
 'submission_events', 'submissions']
"""

from __future__ import annotations

from sqlalchemy import MetaData


def target_metadata() -> MetaData:
    """The registry, state and review tables together, as the models declare them today."""
    from harmonize.drs.models import Base
    from harmonize.state import review, store

    combined = MetaData()
    for metadata in (Base.metadata, store.metadata, review.metadata):
        for table in metadata.tables.values():
            table.to_metadata(combined)
    return combined
