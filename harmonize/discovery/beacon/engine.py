"""The Beacon itself, apart from HTTP: a query in, a Beacon response body out.

:meth:`Beacon.answer` reads the current snapshot, compiles the query into one plan
(:mod:`.plan`), counts per dataset, and decides what the caller may see:

- **record** granularity only for the datasets whose ``ControlledAccessGrants`` visa the
  caller holds (the DRS visa value of the dataset) *and* whose consent permits the data use
  the caller declares (``dataUse``, a DUO permission, with the ``dataUseModifiers`` the
  caller meets; :meth:`harmonize.consent.DataUse.permits`, with the pinned DUO release's
  hierarchy when there is one). Records then come only from the individuals whose consent
  permits that use; the search is limited to those datasets and counts are true counts.
  A grant without a declared use (when ``require_data_use``), or for a dataset none of
  whose individuals' consent permits the use, counts as no grant: public rules apply;
- otherwise **count** (or **boolean** where a dataset's policy says so), every count of a
  dataset the caller holds no grant for passing through :func:`.privacy.protect`.

``harmonize discover`` and the HTTP routes both call :meth:`Beacon.answer`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from harmonize.discovery.beacon import catalog, records
from harmonize.discovery.beacon.config import BeaconSettings
from harmonize.discovery.beacon.errors import BeaconRequestError
from harmonize.discovery.beacon.filters import Terms
from harmonize.discovery.beacon.plan import Plan, compile_query
from harmonize.discovery.beacon.privacy import SUPPRESSED_NOTE, protect
from harmonize.discovery.beacon.request import Query
from harmonize.discovery.beacon.responses import meta
from harmonize.discovery.tables import Snapshot, Snapshots
from harmonize.settings import Settings

log = logging.getLogger(__name__)


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
        self.lineages = catalog.lineages(self.ontologies)
        from harmonize.consent import DataUse

        self.data_use = DataUse.of(self.ontologies)

    def _prepare(self, snapshot: Snapshot) -> None:
        catalog.prepare(snapshot, self.lineages)

    def _known(self, curie: str) -> bool:
        """A term of a pinned release or code list, an id of a syntax-only prefix, or a
        group of a code list with a hierarchy (an ICD-10 chapter or block)."""
        if self.ontologies.check_curie(curie):
            return True
        codes = self.ontologies.code_list(curie.partition(":")[0])
        return codes is not None and curie in codes.groups

    def _primary(self, curie: str) -> str:
        """The primary id of a term (an HPO alt_id, or another written form a code list
        knows, names it); other ids unchanged."""
        prefix = curie.partition(":")[0]
        if prefix == "HP":
            hp = self.ontologies.get("HP")
            code = hp.code(curie)
            return hp.term_id(code) if code is not None else curie
        codes = self.ontologies.code_list(prefix)
        return (codes.primary(curie) if codes is not None else None) or curie

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
        held = [d for d in searched if self.visa_value(d) in grants]
        consents = self._consents(query, known, held)
        granted = [d for d in held if consents is None or set(known[d].consents) & consents]
        if query.granularity == "record" and granted:
            log.info(
                "beacon records of %s for dataUse %s, modifiers met %s",
                ",".join(granted),
                query.data_use,
                ",".join(query.data_use_modifiers) or "none",
            )
            allowed = None if consents is None else sorted(consents)
            return self._records(snapshot, query, granted, allowed)
        body = self._aggregate(snapshot, query, searched, set(granted))
        if query.granularity == "record" and held:
            body["info"]["dataUse"] = (
                f"no records: {self._refusal(query)}; counts follow the public rules"
            )
        return body

    def _consents(
        self, query: Query, known: dict[str, catalog.Dataset], held: list[str]
    ) -> set[str] | None:
        """The consent lists (``hz_consent`` keys) that permit the declared use; None when
        no use is declared and none is required (every individual of a granted dataset)."""
        use = query.data_use
        if use is None:
            return set() if self.settings.require_data_use else None
        problem = self.data_use.use_problem(use)
        if problem is not None:
            raise BeaconRequestError(
                f"dataUse {use} {problem}", hint="declare a DUO data use permission"
            )
        for modifier in query.data_use_modifiers:
            if self.data_use.kind(modifier) != "modifier":
                raise BeaconRequestError(
                    f"dataUseModifiers {modifier} is not a DUO data use modifier",
                    hint="list the DUO modifiers (conditions) you meet, e.g. DUO:0000021",
                )
        keys = {key for d in held for key in known[d].consents}
        meets = set(query.data_use_modifiers)
        return {k for k in keys if k and self.data_use.permits(k.split("|"), use, meets)}

    def _refusal(self, query: Query) -> str:
        if query.data_use is None and self.settings.require_data_use:
            return "records need a declared data use (dataUse=DUO:...) that consent permits"
        return (
            f"the consent of the granted datasets does not permit {query.data_use} "
            f"for a caller meeting {list(query.data_use_modifiers) or 'no modifiers'}"
        )

    def _counts(
        self,
        snapshot: Snapshot,
        query: Query,
        datasets: list[str],
        consents: list[str] | None = None,
    ) -> tuple[Plan, dict[str, int]]:
        """The plan of ``query`` and its counts per dataset: from the snapshot's bitmaps
        when the plan has a selection (:mod:`.sets`), else by running its SQL."""
        plan = compile_query(
            query,
            self.terms,
            datasets=datasets,
            max_filters=self.settings.max_filters,
            consents=consents,
        )
        people = catalog.people(snapshot)
        if plan.selection is not None and people is not None:
            return plan, people.count(plan.selection)
        rows = snapshot.cursor().execute(plan.counts, plan.count_params).fetchall()
        return plan, {d: int(n) for d, n in rows}

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

    def _records(
        self, snapshot: Snapshot, query: Query, granted: list[str], consents: list[str] | None
    ) -> dict[str, Any]:
        plan, counts = self._counts(snapshot, query, granted, consents)
        total = sum(counts.values())
        if query.individual_id is not None and query.entry == "individuals" and total == 0:
            raise BeaconRequestError(
                f"no individual {query.individual_id!r} in the datasets your visas grant",
                status=404,
            )
        cursor = snapshot.cursor()
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
