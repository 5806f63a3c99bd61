"""Ontology stage: pinned releases, compiled term indexes and term resolution.

``ontologies/manifest.yaml`` pins each release; :class:`Ontologies` loads it and hands
out one :class:`TermIndex` per prefix, compiled from pronto once and cached on disk.
"""

from harmonize.ontology.index import TermIndex
from harmonize.ontology.manifest import OntologyEntry, OntologyManifest, load_manifest
from harmonize.ontology.registry import Ontologies
from harmonize.ontology.resolution import Method, Resolution

__all__ = [
    "Method",
    "Ontologies",
    "OntologyEntry",
    "OntologyManifest",
    "Resolution",
    "TermIndex",
    "load_manifest",
]
