"""All ontologies of a manifest, each term index loaded on first use.

:meth:`Ontologies.load` reads and verifies the manifest; :meth:`Ontologies.get`
loads (or builds and caches) one :class:`TermIndex`. Both are memoized for the whole
process, so every stage that asks for HPO gets the same index without reloading.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import ClassVar

from harmonize.errors import OntologyError
from harmonize.ontology.codelists import CodeList, ListedTerms
from harmonize.ontology.index import TermIndex
from harmonize.ontology.manifest import MANIFEST_NAME, OntologyManifest, load_manifest
from harmonize.ontology.prefixes import PREFIXES_NAME


class Ontologies:
    """The ontologies and code systems one manifest lists."""

    _loaded: ClassVar[dict[tuple[Path, Path, str], Ontologies]] = {}
    _loaded_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, manifest: OntologyManifest, cache_dir: Path) -> None:
        self.manifest = manifest
        self.cache_dir = cache_dir
        self._indexes: dict[str, TermIndex] = {}
        self._code_lists: dict[str, CodeList] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, ontologies_dir: Path, cache_dir: Path) -> Ontologies:
        """The (process-wide memoized) ontologies of ``ontologies_dir/manifest.yaml``.

        The memo is keyed by both directories and the content of the manifest and of
        ``prefixes.yaml``, so an edited manifest is read and verified again.
        """
        try:
            manifest_bytes = (ontologies_dir / MANIFEST_NAME).read_bytes()
        except FileNotFoundError as err:
            raise OntologyError(
                "ontology manifest not found",
                file=str(ontologies_dir / MANIFEST_NAME),
                hint="pass the directory that holds manifest.yaml (the repository's ontologies/)",
            ) from err
        prefixes = ontologies_dir / PREFIXES_NAME  # Bioregistry's patterns fill the manifest
        if prefixes.is_file():
            manifest_bytes += prefixes.read_bytes()
        key = (
            ontologies_dir.resolve(),
            cache_dir.resolve(),
            hashlib.sha256(manifest_bytes).hexdigest(),
        )
        with cls._loaded_lock:
            found = cls._loaded.get(key)
            if found is None:
                found = cls(load_manifest(ontologies_dir), cache_dir)
                cls._loaded[key] = found
            return found

    @classmethod
    def forget(cls) -> None:
        """Drop the process-wide memo (for tests and long-lived workers after a refresh)."""
        with cls._loaded_lock:
            cls._loaded.clear()

    def prefixes(self) -> list[str]:
        """Every prefix in the manifest, in manifest order."""
        return self.manifest.prefixes()

    def has_index(self, prefix: str) -> bool:
        """Whether ``prefix`` has a release file (and so a term index)."""
        return any(e.prefix == prefix and e.file is not None for e in self.manifest.ontologies)

    def get(self, prefix: str) -> TermIndex:
        """The term index for ``prefix``, loaded once; OntologyError if it has no file."""
        index = self._indexes.get(prefix)
        if index is not None:
            return index
        entry = self.manifest.entry(prefix)
        path = self.manifest.path(prefix)
        if path is None:
            raise OntologyError(
                f"{prefix} is a code system without a release file; no term index",
                value=prefix,
                hint="use check_curie() for its ids, or add a release file to the manifest",
            )
        with self._lock:
            index = self._indexes.get(prefix)
            if index is None:
                index = TermIndex.load(
                    path, prefix, self.cache_dir, version=entry.version, sha256=entry.sha256
                )
                self._indexes[prefix] = index
        return index

    def code_list(self, prefix: str) -> CodeList | None:
        """The code list ``prefix``'s ids are checked against (loaded once), if it has one."""
        entry = next((e for e in self.manifest.ontologies if e.prefix == prefix), None)
        if entry is None or entry.codes is None:
            return None
        found = self._code_lists.get(entry.codes)
        if found is not None:
            return found
        with self._lock:
            found = self._code_lists.get(entry.codes)
            if found is None:
                listed = self.manifest.code_list(entry.codes)
                found = CodeList.load(listed, self.manifest.directory, self.cache_dir)
                self._code_lists[entry.codes] = found
        return found

    def terms(self, prefix: str) -> TermIndex | ListedTerms:
        """What text for ``prefix`` resolves against: its term index, or its code list.

        :class:`OntologyError` when ``prefix`` has neither (a syntax-only code system).
        """
        if self.has_index(prefix):
            return self.get(prefix)
        codes = self.code_list(prefix)
        if codes is None:
            self.manifest.entry(prefix)  # an unknown prefix: the manifest's error
            raise OntologyError(
                f"{prefix} has no release file and no code list; text cannot be resolved",
                value=prefix,
                hint="write its ids, or add a release or a code list to the manifest",
            )
        return ListedTerms(codes, prefix)

    def check_curie(self, curie: str) -> bool:
        """Whether ``curie`` names a known term (indexed prefix or code list), or, for a
        code system with neither, fits its id syntax."""
        prefix, sep, local = curie.partition(":")
        if not sep or not local:
            return False
        entry = next((e for e in self.manifest.ontologies if e.prefix == prefix), None)
        if entry is None:
            return False
        if entry.file is not None:
            return curie in self.get(prefix)
        codes = self.code_list(prefix)
        if codes is not None:
            return curie in codes
        return entry.matches_local_id(local)

    def resource(self, prefix: str) -> dict[str, str]:
        """The Phenopacket ``MetaData.resources`` entry for ``prefix`` (camelCase keys)."""
        entry = self.manifest.entry(prefix)
        return {
            "id": prefix.lower(),
            "name": entry.name,
            "url": entry.url,
            "version": entry.version,
            "namespacePrefix": prefix,
            "iriPrefix": entry.iri_prefix,
        }
