"""Which published rows a Data Connect caller may read, decided per submission.

A submission's access (``public`` or ``controlled``) and dataset are those of its newest
DRS bundle in the registry. A row is readable when its submission is public, or when the
caller's credentials carry a ``ControlledAccessGrants`` visa for the submission's dataset
(the same JWT and Passport checks as DRS: :class:`harmonize.drs.auth.Authority`). A
submission with rows but no bundle (a migration, a hand-made publication) has no known
access or dataset, and is served to no one: unknown access never opens anything.

>>> scope = Scope.of({"a": ("open", "public"), "b": ("closed", "controlled")}, set(), lambda d: d)
>>> scope.submissions, scope.datasets, scope.controlled
(('a',), ('open',), ())
>>> Scope.of({"b": ("closed", "controlled")}, {"closed"}, lambda d: d).controlled
('closed',)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import select

from harmonize.drs.models import DrsObjectRow
from harmonize.drs.registry import Registry


@dataclass(frozen=True)
class Scope:
    """What one caller may read: submissions, their datasets, and the controlled ones granted."""

    submissions: tuple[str, ...]
    datasets: tuple[str, ...]
    controlled: tuple[str, ...]  # controlled datasets the caller's grants cover
    by_dataset: Mapping[str, tuple[str, ...]]  # dataset -> its readable submissions

    @classmethod
    def of(
        cls,
        access: Mapping[str, tuple[str, str]],
        grants: Collection[str],
        visa_value: Callable[[str], str],
    ) -> Scope:
        """``access``: submission -> (dataset, access); ``grants``: the caller's visa values."""
        by_dataset: dict[str, list[str]] = {}
        controlled: set[str] = set()
        for submission, (dataset, level) in sorted(access.items()):
            granted = visa_value(dataset) in grants
            if level == "public" or granted:
                by_dataset.setdefault(dataset, []).append(submission)
            if level != "public" and granted:
                controlled.add(dataset)
        return cls(
            submissions=tuple(s for subs in by_dataset.values() for s in subs),
            datasets=tuple(sorted(by_dataset)),
            controlled=tuple(sorted(controlled)),
            by_dataset={d: tuple(s) for d, s in sorted(by_dataset.items())},
        )


def submission_access(registry: Registry) -> dict[str, tuple[str, str]]:
    """submission -> (dataset, access), from each submission's newest bundle."""
    query = (
        select(
            DrsObjectRow.submission_id,
            DrsObjectRow.dataset,
            DrsObjectRow.access,
            DrsObjectRow.created_time,
        )
        .where(DrsObjectRow.is_bundle.is_(True))
        .order_by(DrsObjectRow.submission_id, DrsObjectRow.created_time, DrsObjectRow.id)
    )
    found: dict[str, tuple[str, str]] = {}
    with registry.session() as session:
        for submission, dataset, level, _created in session.execute(query):
            found[submission] = (dataset, "public" if level == "public" else "controlled")
    return found
