"""The structure of one ontology release: ids, labels, obsolescence and the ancestor closure.

pronto takes seconds to parse HPO; a mapping run needs milliseconds. So a release is
parsed once (:meth:`TermStructure.build`), compiled to arrays and dicts, and cached on
disk under a name keyed by the release file's sha-256 (:mod:`harmonize.ontology.cache`);
later loads (:meth:`TermStructure.load`) unpickle the cache. Terms are addressed by
integer *codes* (position in the sorted list of primary ids), which keeps batch work
vectorized: :meth:`TermStructure.codes` maps a million ids with pyarrow, and the strict
ancestor closure is a pair of numpy CSR arrays.

Resolving text to terms is the job of a subclass, :class:`harmonize.ontology.index.TermIndex`.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from harmonize.errors import OntologyError
from harmonize.ontology.cache import cache_path, read_cache, write_cache
from harmonize.ontology.compile import CompiledIndex, compile_terms, read_pronto, release_version
from harmonize.ontology.manifest import file_sha256

_MAX_REPLACEMENT_HOPS = 16

Codes: TypeAlias = pa.Array | pa.ChunkedArray | npt.NDArray[np.integer[Any]] | Sequence[int]


class TermStructure:
    """Ids, labels, obsolescence and ancestors of one ontology release."""

    __slots__ = (
        "_closure",
        "_code_of",
        "_data",
        "_id_array",
        "_label_array",
        "_lookup_codes",
        "_lookup_ids",
        "_release",
    )

    def __init__(self, data: CompiledIndex) -> None:
        self._data = data
        self._release = f"{data.prefix} {data.version}"
        self._code_of = dict(zip(data.ids, range(len(data.ids)), strict=True))
        self._code_of.update(data.alt_ids)
        self._closure: tuple[list[int], list[int]] | None = None
        self._id_array = pa.array(data.ids, type=pa.string())
        self._label_array = pa.array(data.labels, type=pa.string())
        alt = list(data.alt_ids)
        self._lookup_ids = pa.array(data.ids + alt, type=pa.string())
        self._lookup_codes = pa.array(
            np.concatenate(
                [
                    np.arange(len(data.ids), dtype=np.int32),
                    np.fromiter(data.alt_ids.values(), dtype=np.int32, count=len(alt)),
                ]
            ),
            type=pa.int32(),
        )

    # -- building and caching -------------------------------------------------------

    @classmethod
    def build(cls, path: Path, prefix: str, version: str | None = None) -> Self:
        """Parse ``path`` with pronto and compile it.

        The version is the release named by the file's ``data-version``; ``version``,
        if given, must agree with it (or stands in when the file names none).
        """
        digest = file_sha256(path)
        data_version, terms = read_pronto(path)
        found = release_version(data_version)
        if version is not None and found is not None and version != found:
            raise OntologyError(
                f"{prefix} release file says version {found!r}, expected {version!r}",
                file=str(path),
                value=data_version,
                hint="fix the version in the ontology manifest or replace the file",
            )
        chosen = version or found
        if chosen is None:
            raise OntologyError(
                f"{prefix} release file has no data-version and no version was given",
                file=str(path),
                hint="add a data-version header or list the version in the manifest",
            )
        return cls(compile_terms(terms, prefix=prefix, version=chosen, sha256=digest))

    @classmethod
    def load(
        cls,
        path: Path,
        prefix: str,
        cache_dir: Path,
        *,
        version: str | None = None,
        sha256: str | None = None,
    ) -> Self:
        """The index for ``path``: from ``cache_dir`` if cached, else built and cached.

        ``sha256`` may be passed when the caller already verified the file (the
        manifest does); otherwise the file is hashed to find its cache entry.
        """
        digest = sha256 or file_sha256(path)
        cache_file = cache_path(cache_dir, prefix, digest)
        data = read_cache(cache_file, prefix, digest)
        if data is None:
            index = cls.build(path, prefix, version)
            if index._data.sha256 != digest:
                raise OntologyError(
                    f"{prefix} release file changed: expected sha256 {digest}, "
                    f"got {index._data.sha256}",
                    file=str(path),
                    hint="restore the release the manifest names",
                )
            write_cache(cache_file, index._data)
            return index
        if version is not None and data.version != version:
            raise OntologyError(
                f"{prefix} release file says version {data.version!r}, expected {version!r}",
                file=str(path),
                hint="fix the version in the ontology manifest or replace the file",
            )
        return cls(data)

    # -- identity -------------------------------------------------------------------

    @property
    def prefix(self) -> str:
        """CURIE prefix, e.g. ``'HP'``."""
        return self._data.prefix

    @property
    def version(self) -> str:
        """Release version, e.g. ``'2025-01-16'``."""
        return self._data.version

    @property
    def release(self) -> str:
        """Prefix and version, e.g. ``'HP 2025-01-16'``: what lineage records."""
        return self._release

    @property
    def sha256(self) -> str:
        """sha-256 of the release file the index was compiled from."""
        return self._data.sha256

    def __len__(self) -> int:
        return len(self._data.ids)

    def __contains__(self, term_id: object) -> bool:
        return isinstance(term_id, str) and term_id in self._code_of

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._release}: {len(self)} terms>"

    # -- ids and labels -------------------------------------------------------------

    def code(self, term_id: str) -> int | None:
        """Code of a primary or alternative id; ``None`` if unknown."""
        return self._code_of.get(term_id)

    def codes(self, ids: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> pa.Int32Array:
        """Codes for many ids at once (alt ids map to their primary); null if unknown."""
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        array = ids if isinstance(ids, pa.Array) else pa.array(ids, type=pa.string())
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        if not pa.types.is_string(array.type):
            array = array.cast(pa.string())
        positions = pc.index_in(pc.utf8_trim_whitespace(array), value_set=self._lookup_ids)
        return pc.take(self._lookup_codes, positions)

    def is_alt_id(self, term_id: str) -> bool:
        """Whether ``term_id`` is a secondary (alternative) id of some term."""
        return term_id in self._data.alt_ids

    def term_id(self, code: int) -> str:
        """Primary id of ``code``."""
        return self._data.ids[code]

    def label(self, code: int) -> str:
        """Label of ``code``."""
        return self._data.labels[code]

    def ids_for(self, codes: Codes) -> pa.StringArray:
        """Primary ids for many codes; nulls stay null."""
        return pc.take(self._id_array, _int_array(codes))

    def labels_for(self, codes: Codes) -> pa.StringArray:
        """Labels for many codes; nulls stay null."""
        return pc.take(self._label_array, _int_array(codes))

    # -- obsolescence ---------------------------------------------------------------

    def is_obsolete(self, code: int) -> bool:
        """Whether the term is obsolete."""
        return bool(self._data.obsolete[code])

    def obsolete_mask(self, codes: Codes) -> npt.NDArray[np.bool_]:
        """One bool per code; a null code counts as not obsolete."""
        array = _int_array(codes)
        valid = array.is_valid().to_numpy(zero_copy_only=False)
        positions = pc.fill_null(array, 0).to_numpy(zero_copy_only=False)
        mask: npt.NDArray[np.bool_] = self._data.obsolete[positions] & valid
        return mask

    def replaced_by(self, code: int) -> str | None:
        """The id an obsolete term names as its replacement, if any."""
        return self._data.replaced_by.get(code)

    def consider(self, code: int) -> list[str]:
        """Ids an obsolete term suggests considering instead (no single replacement)."""
        return list(self._data.consider.get(code, ()))

    # -- hierarchy ------------------------------------------------------------------

    def ancestors(self, code: int) -> npt.NDArray[np.int32]:
        """Codes of the strict ancestors over ``is_a`` (sorted, without ``code``)."""
        offsets = self._data.anc_offsets
        return self._data.anc_indices[offsets[code] : offsets[code + 1]]

    def is_ancestor(self, anc_code: int, desc_code: int) -> bool:
        """Whether ``anc_code`` is a strict ancestor of ``desc_code``."""
        if self._closure is None:  # plain lists: bisect on them beats numpy per call
            data = self._data
            self._closure = (data.anc_offsets.tolist(), data.anc_indices.tolist())
        offsets, indices = self._closure
        stop = offsets[desc_code + 1]
        at = bisect.bisect_left(indices, anc_code, offsets[desc_code], stop)
        return at < stop and indices[at] == anc_code

    def ancestor_pairs(
        self, codes: npt.NDArray[np.integer[Any]] | Sequence[int]
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """``(descendant, ancestor)`` pairs among ``codes``, ancestor strictly above.

        Meant for the distinct terms of a batch: a pair means one term is redundant
        given the other (or, with opposite negation, that they conflict).
        """
        members = np.unique(np.asarray(codes, dtype=np.int64))
        offsets = self._data.anc_offsets
        starts = offsets[members].astype(np.int64)
        lengths = offsets[members + 1].astype(np.int64) - starts
        total = int(lengths.sum())
        if total == 0:
            empty = np.empty(0, dtype=np.int32)
            return empty, empty.copy()
        run_starts = np.cumsum(lengths) - lengths
        positions = np.repeat(starts - run_starts, lengths) + np.arange(total, dtype=np.int64)
        ancestors = self._data.anc_indices[positions]
        descendants = np.repeat(members.astype(np.int32), lengths)
        inside = np.zeros(len(self), dtype=np.bool_)
        inside[members] = True
        keep = inside[ancestors]
        return descendants[keep], ancestors[keep]

    def _follow(self, code: int) -> int:
        """Follow ``replaced_by`` from an obsolete term to a live one (bounded hops)."""
        data = self._data
        target = code
        for _ in range(_MAX_REPLACEMENT_HOPS):
            if not data.obsolete[target]:
                break
            replacement = self._code_of.get(data.replaced_by.get(target, ""))
            if replacement is None:
                break
            target = replacement
        return target


def _int_array(codes: Codes) -> pa.Array:
    if isinstance(codes, pa.ChunkedArray):
        codes = codes.combine_chunks()
    if isinstance(codes, pa.Array):
        return codes
    return pa.array(np.asarray(codes, dtype=np.int32), type=pa.int32())
