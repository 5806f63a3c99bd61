"""The privacy rules every Beacon answer passes through: small counts, rounding, budgets.

A count below the record level is :func:`protect`-ed: below the dataset's threshold it
becomes 0 (and ``exists`` false), else it is rounded down to the dataset's multiple.
Booleans are derived from the protected count, so a boolean never says "at least one"
about fewer individuals than the threshold.

>>> from harmonize.discovery.beacon.config import DatasetPolicy
>>> protect(3, DatasetPolicy()), protect(7, DatasetPolicy(rounding=5))
(Shown(count=0, suppressed=True), Shown(count=5, suppressed=False))
>>> protect(0, DatasetPolicy())
Shown(count=0, suppressed=False)
>>> budget = Budget(2, 60)
>>> budget.spend("a", now=0), budget.spend("a", now=1), budget.spend("a", now=2)
(True, True, False)
>>> budget.spend("a", now=61)
True
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from harmonize.discovery.beacon.config import DatasetPolicy

SUPPRESSED_NOTE = (
    "counts below the threshold are reported as 0 with exists false (small-count "
    "suppression); booleans follow the suppressed counts"
)


@dataclass(frozen=True, slots=True)
class Shown:
    """A count as it may be shown, and whether a true non-zero count was hidden."""

    count: int
    suppressed: bool

    @property
    def exists(self) -> bool:
        return self.count > 0


def protect(count: int, policy: DatasetPolicy) -> Shown:
    """``count`` as a caller without record access may see it."""
    if 0 < count < policy.threshold:
        return Shown(0, True)
    if policy.rounding > 1:
        count -= count % policy.rounding
    return Shown(count, False)


class Budget:
    """At most ``queries`` per client in any ``window`` seconds (0 queries: unlimited).

    Kept in the worker's memory: with N workers a client may spend up to N budgets.
    """

    def __init__(self, queries: int, window: float) -> None:
        self.queries = queries
        self.window = window
        self._spent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def spend(self, client: str, *, now: float | None = None) -> bool:
        """Record one query of ``client``; False when its budget is already used up."""
        if self.queries <= 0:
            return True
        moment = time.monotonic() if now is None else now
        with self._lock:
            spent = self._spent.setdefault(client, deque())
            while spent and spent[0] <= moment - self.window:
                spent.popleft()
            if len(spent) >= self.queries:
                return False
            spent.append(moment)
            return True
