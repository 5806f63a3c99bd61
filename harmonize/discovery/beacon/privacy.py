"""The privacy rules every Beacon answer passes through: small counts, rounding, budgets.

A count below the record level is :func:`protect`-ed: below the dataset's threshold it
becomes 0 (and ``exists`` false), else it is rounded down to the dataset's multiple.
Booleans are derived from the protected count, so a boolean never says "at least one"
about fewer individuals than the threshold.

The per-client query :class:`Budget` is one counter per client and fixed window in the
registry database (``beacon_budget``), bumped by one atomic upsert per query, so every
worker process (and every app on the same registry) spends from the same budget.

>>> from harmonize.discovery.beacon.config import DatasetPolicy
>>> protect(3, DatasetPolicy()), protect(7, DatasetPolicy(rounding=5))
(Shown(count=0, suppressed=True), Shown(count=5, suppressed=False))
>>> protect(0, DatasetPolicy())
Shown(count=0, suppressed=False)
>>> from sqlalchemy import create_engine
>>> from harmonize.db import upgrade
>>> engine = create_engine("sqlite://")
>>> upgrade(engine)
>>> budget = Budget(engine, 2, 60)
>>> budget.spend("a", now=0), budget.spend("a", now=1), budget.spend("a", now=2)
(True, True, False)
>>> budget.spend("a", now=61)
True
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Column, Engine, Integer, MetaData, String, Table, delete
from sqlalchemy.exc import SQLAlchemyError

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


metadata = MetaData()
budget_table = Table(
    "beacon_budget",
    metadata,
    Column("client", String(64), primary_key=True),  # a hash of the token, or the address
    Column("window_start", BigInteger, primary_key=True),  # epoch seconds
    Column("spent", Integer, nullable=False),
)


class BudgetUnavailable(Exception):
    """The budget's database cannot be reached: the query is refused, not let through."""


class Budget:
    """At most ``queries`` per client in each fixed ``window`` of seconds (0: unlimited).

    Windows start at multiples of ``window`` seconds of the epoch, the same in every process
    (wall-clock time). Each query is one ``INSERT ... ON CONFLICT DO UPDATE SET spent =
    spent + 1 RETURNING spent`` (PostgreSQL and SQLite alike), so concurrent workers never
    lose a spend. A fixed window lets a client spend two budgets back to back across a
    window's edge; no more.
    """

    def __init__(self, engine: Engine | None, queries: int, window: float) -> None:
        self.engine = engine
        self.queries = queries
        self.window = int(window)
        self._swept = -1  # the window whose older rows this process has deleted

    def _upsert(self, client: str, start: int) -> Any:
        values = {"client": client, "window_start": start, "spent": 1}
        if self.engine is not None and self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            pg = pg_insert(budget_table).values(values)
            return pg.on_conflict_do_update(
                index_elements=["client", "window_start"],
                set_={"spent": budget_table.c.spent + 1},
            ).returning(budget_table.c.spent)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        lite = sqlite_insert(budget_table).values(values)
        return lite.on_conflict_do_update(
            index_elements=["client", "window_start"],
            set_={"spent": budget_table.c.spent + 1},
        ).returning(budget_table.c.spent)

    def spend(self, client: str, *, now: float | None = None) -> bool:
        """Record one query of ``client``; False when its budget is already used up.

        Raises :class:`BudgetUnavailable` when the database cannot be reached."""
        if self.queries <= 0 or self.engine is None:
            return True
        moment = time.time() if now is None else now
        start = int(moment // self.window) * self.window
        try:
            with self.engine.begin() as conn:
                spent = int(conn.execute(self._upsert(client[:64], start)).scalar_one())
        except SQLAlchemyError as exc:
            raise BudgetUnavailable(str(exc).splitlines()[0]) from exc
        if start != self._swept:  # once per window and process: drop the windows gone by
            self._swept = start
            try:
                with self.engine.begin() as conn:
                    conn.execute(delete(budget_table).where(budget_table.c.window_start < start))
            except SQLAlchemyError:  # housekeeping only; another process may be at it
                self._swept = -1
        return spent <= self.queries
