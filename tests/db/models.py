"""Every table Harmonize keeps, in one :class:`~sqlalchemy.MetaData`: what the migrations
must produce. Gathered here, from each feature's models, so that ``harmonize.db`` (the
migration runner) imports none of the features whose tables it migrates.

>>> sorted(target_metadata().tables)  # doctest: +NORMALIZE_WHITESPACE
['beacon_budget', 'dashboard_audit', 'dashboard_finding_counts', 'dashboard_summaries',
 'drs_bundle_members', 'drs_objects', 'mapping_decisions', 'publications', 'review_items',
 'subject_objects', 'submission_events', 'submissions', 'withdrawals']
"""

from __future__ import annotations

from sqlalchemy import MetaData


def target_metadata() -> MetaData:
    """The registry, state, review and dashboard tables together, as the models declare them."""
    from harmonize.dashboard import audit, summaries
    from harmonize.discovery.beacon import privacy
    from harmonize.drs.models import Base
    from harmonize.state import review, store
    from harmonize.warehouse import ledger  # noqa: F401  (its tables join Base.metadata)

    combined = MetaData()
    for metadata in (
        Base.metadata,
        store.metadata,
        review.metadata,
        summaries.metadata,
        audit.metadata,
        privacy.metadata,
    ):
        for table in metadata.tables.values():
            table.to_metadata(combined)
    return combined
