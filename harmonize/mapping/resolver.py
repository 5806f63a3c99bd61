"""Resolve a submitter's text to a term: mapping memory first, then the pinned release.

``ontology`` is a prefix with a term index (HP) or with a code list (OMIM, ORPHA,
DECIPHER, ICD10: names from their pinned lists, no fuzzy tier). Every resolution is
evidence in the report (raw text, term, method, score, release).
Low-confidence matches are never silent: under the ``review`` policy they hold the
submission (an error finding) and open a review item with the candidate terms; once a
curator decides, the decision is re-applied to this and every later submission of the
dataset. Text no term matches is an ``unmapped-term`` finding and a review item too.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from harmonize.ontology import Ontologies, Resolution
from harmonize.quality.collect import POLICY_LEVEL, FindingCollector
from harmonize.settings import Settings
from harmonize.state.review import ReviewStore


class Resolver:
    def __init__(
        self,
        *,
        ontologies: Ontologies,
        settings: Settings,
        findings: FindingCollector,
        mappings: list[dict[str, Any]],
        dataset: str,
        submission_id: str,
        store: ReviewStore | None,
    ) -> None:
        self.ontologies = ontologies
        self.settings = settings
        self.findings = findings
        self.mappings = mappings
        self.dataset = dataset
        self.submission_id = submission_id
        self.store = store

    def resolve(
        self, ontology: str, text: str, where: dict[str, Any], validator: str, count: int = 1
    ) -> Resolution | None:
        index = self.ontologies.terms(ontology)  # a term index, or a code list (OMIM, ICD10)
        decided = self.store.decision(self.dataset, ontology, text) if self.store else None
        if decided is not None:
            evidence = {
                "decided_by": decided["decided_by"],
                "decided_at": decided["decided_at"].isoformat(),
            }
            if decided["term_id"] is None:
                self.findings.add(
                    "info",
                    "curated-unmappable",
                    f"{text!r} was marked unmappable by {decided['decided_by']}; left out",
                    validator,
                    data={**evidence, "count": count},
                    **where,
                )
                return None
            curated = Resolution(
                decided["term_id"], decided["label"] or "", "curated", 1.0, index.release
            )
            self.mappings.append({**self._evidence(text, curated, count), **evidence, **where})
            return curated
        hit = index.resolve(text)
        if hit is None:
            self.findings.add(
                POLICY_LEVEL[self.settings.unmapped_policy],
                "unmapped-term",
                f"{text!r} matches no {ontology} id, label or synonym",
                validator,
                hint="use the term's id or its exact label; a curator can also map it in review",
                data={"count": count, "review_item": self._review(ontology, text, where, index)},
                **where,
            )
            return None
        self.mappings.append({**self._evidence(text, hit, count), **where})
        if hit.low_confidence and self.settings.low_confidence == "review":
            item = self._review(ontology, text, where, index)
            self.findings.add(
                "error",
                "needs-review",
                f"{text!r} matched {hit.term_id} {hit.label!r} only by {hit.method} "
                f"(score {hit.score:.2f}); a curator must confirm it",
                validator,
                hint="a curator accepts or corrects the mapping (harmonize review), "
                "then the submission is run again",
                data={
                    "method": hit.method,
                    "score": hit.score,
                    "term_id": hit.term_id,
                    "review_item": item,
                    "count": count,
                },
                **where,
            )
        elif hit.method not in ("id", "label"):
            self.findings.add(
                "warning" if hit.score < 0.95 else "info",
                "inexact-term-match",
                f"{text!r} mapped to {hit.term_id} {hit.label!r} by {hit.method} "
                f"(score {hit.score:.2f})",
                validator,
                hint="write the exact label or the id to silence this",
                data={
                    "method": hit.method,
                    "score": hit.score,
                    "term_id": hit.term_id,
                    "count": count,
                },
                **where,
            )
        return hit

    def _evidence(self, text: str, hit: Resolution, count: int) -> dict[str, Any]:
        return {
            "raw": text,
            "term_id": hit.term_id,
            "label": hit.label,
            "method": hit.method,
            "score": hit.score,
            "release": hit.release,
            "replaced_from": hit.replaced_from,
            "count": count,
        }

    def _review(self, ontology: str, text: str, where: dict[str, Any], index: Any) -> int | None:
        if self.store is None:
            return None
        candidates = [asdict(c) for c in index.candidates(text, limit=5)]
        return self.store.add(
            dataset=self.dataset,
            ontology=ontology,
            text=text,
            submission_id=self.submission_id,
            location=where,
            candidates=candidates,
        )
