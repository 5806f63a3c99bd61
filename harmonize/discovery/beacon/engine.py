"""The Beacon itself, apart from HTTP: a query in, a Beacon response body out.

:meth:`Beacon.answer` reads the current snapshot, compiles the query into one plan
(:mod:`.plan`), counts per dataset, and decides what the caller may see:

- **record** granularity only for the datasets whose ``ControlledAccessGrants`` visa the
  caller holds (the DRS visa value of the dataset); the search is then limited to those
  datasets and counts are true counts;
- otherwise **count** (or **boolean** where a dataset's policy says so), every count of a
  dataset the caller holds no grant for passing through :func:`.privacy.protect`.

``harmonize discover`` and the HTTP routes both call :meth:`Beacon.answer`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harmonize.discovery.beacon import catalog, records
from harmonize.discovery.beacon.config import BeaconSettings
from harmonize.discovery.beacon.errors import BeaconRequestError
from harmonize.discovery.beacon.filters import Terms
from harmonize.discovery.beacon.plan import compile_query
from harmonize.discovery.beacon.privacy import SUPPRESSED_NOTE, protect
from harmonize.discovery.beacon.request import Query
from harmonize.discovery.beacon.responses import meta
from harmonize.discovery.tables import Snapshot, Snapshots
from harmonize.settings import Settings


class Beacon:
    """A Beacon v2 over the published tables of one warehouse."""

    def __init__(
        self,
        pipeline: Settings,
        registry: Any,
        settings: BeaconSettings,
        *,
        visa_value: Callable[[str], str],
    ) -> None:
        from harmonize.ontology import Ontologies

        self.pipeline = pipeline
        self.settings = settings
        self.visa_value = visa_value
        self.ontologies = Ontologies.load(pipeline.ontologies_dir, pipeline.cache_dir)
        self.snapshots = Snapshots(
            pipeline, registry, prepare=self._prepare, recheck_seconds=settings.recheck_seconds
        )
        self.terms = Terms(self._known, self._primary)

    def _prepare(self, snapshot: Snapshot) -> None:
        catalog.prepare(snapshot, self.ontologies.get("HP"))

    def _known(self, curie: str) -> bool:
        return self.ontologies.check_curie(curie)

    def _primary(self, curie: str) -> str:
        """The primary id of an HPO term (an alt_id names it); other ids unchanged."""
        if not curie.startswith("HP:"):
            return curie
        hp = self.ontologies.get("HP")
        code = hp.code(curie)
        return hp.term_id(code) if code is not None else curie

    def snapshot(self) -> Snapshot:
        return self.snapshots.current()

    def datasets(self) -> dict[str, catalog.Dataset]:
        return catalog.datasets(self.snapshot())

    # -- answering ------------------------------------------------------------------

    def _searched(self, query: Query, known: dict[str, catalog.Dataset]) -> list[str]:
        if query.dataset_id is not None:
            if query.dataset_id not in known:
                raise BeaconRequestError(f"no dataset {query.dataset_id!r}", status=404)
            return [query.dataset_id]
        if query.datasets is None:
            return sorted(known)
        unknown = [d for d in query.datasets if d not in known]
        if unknown:
            raise BeaconRequestError(
                f"unknown dataset(s) {', '.join(map(repr, unknown))}",
                hint="/datasets lists the datasets this Beacon holds",
            )
        return sorted(set(query.datasets))

    def answer(self, query: Query, grants: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The response body for ``query`` as a caller holding visas ``grants`` may see it."""
        if query.limit > self.settings.max_limit:
            raise BeaconRequestError(
                f"limit {query.limit} is above this Beacon's maximum {self.settings.max_limit}"
            )
        if query.limit == 0:
            query.limit = self.settings.default_limit
        snapshot = self.snapshot()
        if query.entry == "datasets":
            return records.dataset_collection(self, snapshot, query)
        known = catalog.datasets(snapshot)
        searched = self._searched(query, known)
        granted = [d for d in searched if self.visa_value(d) in grants]
        if query.granularity == "record" and granted:
            return self._records(snapshot, query, granted)
        return self._aggregate(snapshot, query, searched, set(granted))

    def _counts(
        self, snapshot: Snapshot, query: Query, datasets: list[str]
    ) -> tuple[Any, dict[str, int]]:
        plan = compile_query(
            query, self.terms, datasets=datasets, max_filters=self.settings.max_filters
        )
        cursor = snapshot.cursor()
        counts = {d: int(n) for d, n in cursor.execute(plan.counts, plan.count_params).fetchall()}
        return (plan, cursor), counts

    def _aggregate(
        self, snapshot: Snapshot, query: Query, searched: list[str], granted: set[str]
    ) -> dict[str, Any]:
        _, counts = self._counts(snapshot, query, searched)
        total = 0
        allows_count = True
        for dataset in searched:
            found = counts.get(dataset, 0)
            if dataset in granted:
                total += found
                continue
            policy = self.settings.policy(dataset)
            allows_count &= policy.anonymous_granularity == "count"
            total += protect(found, policy).count
        returned = "boolean" if query.granularity == "boolean" or not allows_count else "count"
        summary: dict[str, Any] = {"exists": total > 0}
        if returned == "count":
            summary["numTotalResults"] = total
        body: dict[str, Any] = {
            "meta": meta(self.settings, query, returned, query.entry),
            "responseSummary": summary,
            "info": {
                "smallCountSuppression": SUPPRESSED_NOTE,
                "threshold": {d: self.settings.policy(d).threshold for d in searched},
            },
        }
        if query.granularity == "record":
            body["info"]["granularity"] = (
                "records are returned only from datasets whose ControlledAccessGrants visa "
                "the caller presents"
            )
        return body

    def _records(self, snapshot: Snapshot, query: Query, granted: list[str]) -> dict[str, Any]:
        (plan, cursor), counts = self._counts(snapshot, query, granted)
        total = sum(counts.values())
        if query.individual_id is not None and query.entry == "individuals" and total == 0:
            raise BeaconRequestError(
                f"no individual {query.individual_id!r} in the datasets your visas grant",
                status=404,
            )
        rows = cursor.execute(plan.page, plan.page_params).fetchall()
        if query.entry == "g_variants":
            built = records.variant_records(rows)
        else:
            built = records.individual_records(cursor, rows)
        by_dataset: dict[str, list[dict[str, Any]]] = {}
        for dataset, record in built:
            by_dataset.setdefault(dataset, []).append(record)
        sets = []
        for dataset in granted:
            count = counts.get(dataset, 0)
            hit = count > 0
            if query.include == "NONE" or (query.include == "HIT" and not hit):
                continue
            if query.include == "MISS" and hit:
                continue
            sets.append(
                {
                    "id": dataset,
                    "setType": "dataset",
                    "exists": hit,
                    "resultsCount": count,
                    "results": by_dataset.get(dataset, []),
                }
            )
        return {
            "meta": meta(self.settings, query, "record", query.entry),
            "responseSummary": {"exists": total > 0, "numTotalResults": total},
            "response": {"resultSets": sets},
        }
