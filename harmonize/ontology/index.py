"""A compiled, cached term index for one ontology release.

pronto takes seconds to parse HPO; a mapping run needs milliseconds. So a release is
parsed once (:meth:`TermIndex.build`), compiled to arrays and dicts, and cached on
disk under a name keyed by the release file's sha-256; later loads
(:meth:`TermIndex.load`) unpickle the cache. Terms are addressed by integer *codes*
(position in the sorted list of primary ids), which keeps batch work vectorized:
:meth:`TermIndex.codes` maps a million ids with pyarrow,
:meth:`TermIndex.resolve_ids_and_labels` does the same for ids and exact labels, and
the strict ancestor closure is a pair of numpy CSR arrays.

Text resolution (:meth:`TermIndex.resolve`) tries, in order: ids (in any usual
spelling), exact labels, case-folded and normalized labels and synonyms, and last a
fuzzy tier for misspellings (:mod:`harmonize.ontology.fuzzy`).
:meth:`TermIndex.candidates` lists the best few terms for a person to choose from.
"""

from __future__ import annotations

import bisect
import logging
import os
import pickle
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from harmonize.errors import OntologyError
from harmonize.ontology.compile import (
    AMBIGUOUS,
    CompiledIndex,
    compile_terms,
    read_pronto,
    release_version,
)
from harmonize.ontology.fuzzy import (
    CANDIDATE_CUTOFF,
    RESOLVE_CUTOFF,
    FuzzyMatch,
    FuzzyMatcher,
    fuzzy_score,
)
from harmonize.ontology.manifest import file_sha256
from harmonize.ontology.resolution import TIERS, Method, Resolution
from harmonize.ontology.text import casefold_key, normalized_key

logger = logging.getLogger(__name__)

CACHE_FORMAT = 3
"""Bump when :class:`CompiledIndex` changes; old cache files are then ignored."""

_MAX_REPLACEMENT_HOPS = 16
_ID_FORM = re.compile(r"^(?:https?://purl\.obolibrary\.org/obo/)?([A-Za-z][A-Za-z0-9]*)[:_](\w+)$")
_SLOW_MEMO_SIZE = 1 << 16
"""Most texts remembered after the slow tiers (misses too); the memo is then cleared."""
_VECTOR_METHODS = ("id", "alt_id", "label")
_TextTables: TypeAlias = tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]

Codes: TypeAlias = pa.Array | pa.ChunkedArray | npt.NDArray[np.integer[Any]] | Sequence[int]


class TermIndex:
    """Ids, labels, synonyms, obsolescence and ancestors of one ontology release."""

    __slots__ = (
        "_closure",
        "_code_of",
        "_data",
        "_id_array",
        "_label_array",
        "_lookup_codes",
        "_lookup_ids",
        "_matcher",
        "_memo",
        "_release",
        "_slow_memo",
        "_text_tables",
        "_vector",
    )

    def __init__(self, data: CompiledIndex) -> None:
        self._data = data
        self._release = f"{data.prefix} {data.version}"
        self._code_of = dict(zip(data.ids, range(len(data.ids)), strict=True))
        self._code_of.update(data.alt_ids)
        self._memo: dict[str, Resolution] = {}
        self._slow_memo: dict[str, Resolution | None] = {}
        self._text_tables: _TextTables | None = None
        self._matcher: FuzzyMatcher | None = None
        self._vector: _VectorTables | None = None
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
    def build(cls, path: Path, prefix: str, version: str | None = None) -> TermIndex:
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
    ) -> TermIndex:
        """The index for ``path``: from ``cache_dir`` if cached, else built and cached.

        ``sha256`` may be passed when the caller already verified the file (the
        manifest does); otherwise the file is hashed to find its cache entry.
        """
        digest = sha256 or file_sha256(path)
        cache_file = cache_path(cache_dir, prefix, digest)
        data = _read_cache(cache_file, prefix, digest)
        if data is None:
            index = cls.build(path, prefix, version)
            if index._data.sha256 != digest:
                raise OntologyError(
                    f"{prefix} release file changed: expected sha256 {digest}, "
                    f"got {index._data.sha256}",
                    file=str(path),
                    hint="restore the release the manifest names",
                )
            _write_cache(cache_file, index._data)
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
        return f"<TermIndex {self._release}: {len(self)} terms>"

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

    # -- resolution -----------------------------------------------------------------

    def resolve(self, text: str, *, fuzzy: bool = True) -> Resolution | None:
        """Resolve an id, label, synonym or messy label to a term; ``None`` if no match.

        An obsolete term with a ``replaced_by`` resolves to the replacement (recording
        ``replaced_from``); one with only ``consider`` resolves to itself. Text that
        several terms match equally well resolves to ``None``. When nothing else
        matches, a misspelling may still match fuzzily (method ``fuzzy``, a score of at
        most 0.69): check :attr:`Resolution.low_confidence` before trusting a result.
        ``fuzzy=False`` turns that last tier off.
        """
        found = self._memo.get(text)
        if found is not None:  # an exact id or label seen before
            return found
        data = self._data
        code = self._code_of.get(text)
        if code is not None:
            found = self._result(code, "alt_id" if text in data.alt_ids else "id", 1.0)
        else:
            code = data.exact_labels.get(text)
            if code is not None:
                found = None if code == AMBIGUOUS else self._result(code, "label", 1.0)
            else:
                return self._resolve_slow(text, fuzzy)
        if found is not None:
            self._memo[text] = found  # bounded: only ids and labels are remembered
        return found

    def candidates(self, text: str, limit: int = 5) -> list[Resolution]:
        """The ``limit`` best distinct terms for ``text`` over every tier, best first.

        For a review list: unlike :meth:`resolve` it does not give up on ambiguous or
        weak text, and offers fuzzy matches down to a similarity of 60 (score 0.09).
        A term reached through several tiers appears once, with its best score; keys
        that several terms share equally well are skipped.
        """
        stripped = text.strip()
        if not stripped or limit <= 0:
            return []
        best: dict[str, Resolution] = {}

        def offer(code: int, method: Method, score: float) -> None:
            if code == AMBIGUOUS:
                return
            found = self._result(code, method, score)
            held = best.get(found.term_id)
            if held is None or found.score > held.score:
                best[found.term_id] = found

        known = self._known_id(stripped)
        if known is not None:
            offer(self._code_of[known], "alt_id" if known in self._data.alt_ids else "id", 1.0)
        label_code = self._data.exact_labels.get(stripped)
        if label_code is not None:
            offer(label_code, "label", 1.0)
        casefold_keys, normalized_keys = self._tables()
        key = normalized_key(stripped)
        for hit in (casefold_keys.get(casefold_key(stripped)), normalized_keys.get(key)):
            if hit is not None:
                offer(hit[0], *TIERS[hit[1]])
        for match in self._fuzzy_matcher().matches(key, CANDIDATE_CUTOFF, limit * 4 + 8):
            offer(match.code, "fuzzy", fuzzy_score(match.similarity))
        ranked = sorted(best.values(), key=lambda r: (-r.score, r.term_id))
        return ranked[:limit]

    def resolve_ids_and_labels(
        self,
        values: pa.Array | pa.ChunkedArray | Sequence[str | None],
        *,
        follow_replacements: bool = True,
    ) -> tuple[pa.Int32Array, pa.StringArray]:
        """Codes and methods for many ids or exact labels at once, without a Python loop.

        Each value (surrounding whitespace ignored) is looked up as a primary id
        (method ``id``), an alternative id (``alt_id``) or an exact label (``label``),
        in that order, with one :func:`pyarrow.compute.index_in`; anything else, an
        ambiguous label included, gives null in both arrays. Dictionary arrays are
        resolved once per distinct value. Like :meth:`resolve`, an obsolete term with a
        ``replaced_by`` gives its replacement's code unless ``follow_replacements`` is
        false (then compare with :meth:`codes` to see which were replaced).
        Send the nulls through :meth:`resolve` for synonyms, messy and misspelled text.
        """
        array = _as_array(values)
        if pa.types.is_dictionary(array.type):
            codes, methods = self.resolve_ids_and_labels(
                array.dictionary, follow_replacements=follow_replacements
            )
            return pc.take(codes, array.indices), pc.take(methods, array.indices)
        if not pa.types.is_string(array.type):
            array = array.cast(pa.string())
        tables = self._vector_tables()
        positions = pc.index_in(pc.utf8_trim_whitespace(array), value_set=tables.values)
        codes = pc.take(tables.targets if follow_replacements else tables.codes, positions)
        methods = pc.take(tables.methods, positions)
        return codes, methods

    def _resolve_slow(self, text: str, fuzzy: bool) -> Resolution | None:
        """The tiers after exact ids and labels, remembered (misses too) up to a bound.

        The memo holds answers with the fuzzy tier on; without it, a remembered fuzzy
        answer means no other tier matched.
        """
        memo = self._slow_memo
        if text in memo:
            found = memo[text]
            return None if not fuzzy and found and found.method == "fuzzy" else found
        if not fuzzy:
            return self._resolve_stripped(text.strip(), fuzzy=False)
        found = self._resolve_stripped(text.strip())
        if len(memo) >= _SLOW_MEMO_SIZE:
            memo.clear()
        memo[text] = found
        return found

    def _resolve_stripped(self, text: str, *, fuzzy: bool = True) -> Resolution | None:
        """Ids in other spellings, then labels, synonyms, normalized and fuzzy text."""
        if not text:
            return None
        data = self._data
        known = self._known_id(text)
        if known is not None:
            method: Method = "alt_id" if known in data.alt_ids else "id"
            return self._result(self._code_of[known], method, 1.0)
        code = data.exact_labels.get(text)
        if code is not None:
            return None if code == AMBIGUOUS else self._result(code, "label", 1.0)
        hit = self._text_match(text)
        if hit is not None:
            if hit[0] == AMBIGUOUS:
                return None
            method, score = TIERS[hit[1]]
            return self._result(hit[0], method, score)
        return self._fuzzy_resolve(text) if fuzzy else None

    def _text_match(self, text: str) -> tuple[int, int] | None:
        """The best synonym or normalized-text hit ``(code, tier)``; code may be ambiguous."""
        casefold_keys, normalized_keys = self._tables()
        return _better(
            casefold_keys.get(casefold_key(text)),
            normalized_keys.get(normalized_key(text)),
            self._data.obsolete,
        )

    def _fuzzy_resolve(self, text: str) -> Resolution | None:
        """The single term whose normalized label or synonym is most similar to ``text``.

        Text shaped like an id is not matched (an unknown id is not a misspelled label).
        Among equally similar keys a live term beats an obsolete one; several terms
        left, or a key several terms share, make the text ambiguous: ``None``.
        """
        shape = _ID_FORM.match(text)
        if shape is not None and any(ch.isdigit() for ch in shape.group(2)):
            return None
        matches = self._fuzzy_matcher().matches(normalized_key(text), RESOLVE_CUTOFF)
        if not matches:
            return None
        top = [m for m in matches if m.similarity == matches[0].similarity]
        if any(m.code == AMBIGUOUS for m in top):
            return None
        obsolete = self._data.obsolete
        live = [m for m in top if not obsolete[m.code]] or top
        score = fuzzy_score(top[0].similarity)
        found: dict[str, Resolution] = {}
        for match in sorted(live, key=_by_tier):
            result = self._result(match.code, "fuzzy", score)
            found.setdefault(result.term_id, result)
        return next(iter(found.values())) if len(found) == 1 else None

    def _tables(self) -> _TextTables:
        if self._text_tables is None:
            self._text_tables = self._data.load_fuzzy_tables()
        return self._text_tables

    def _fuzzy_matcher(self) -> FuzzyMatcher:
        """Built on first use, once per index (a race only builds it twice)."""
        if self._matcher is None:
            self._matcher = FuzzyMatcher(self._tables()[1])
        return self._matcher

    def _vector_tables(self) -> _VectorTables:
        """Ids, alt ids and exact labels as one value set, built on first use."""
        if self._vector is None:
            data = self._data
            labels = [(k, c) for k, c in data.exact_labels.items() if c != AMBIGUOUS]
            raw = np.concatenate(
                [
                    self._lookup_codes.to_numpy(),
                    np.fromiter((c for _, c in labels), dtype=np.int32, count=len(labels)),
                ]
            ).astype(np.int32)
            kinds = np.concatenate(
                [
                    np.zeros(len(data.ids), dtype=np.int8),
                    np.ones(len(data.alt_ids), dtype=np.int8),
                    np.full(len(labels), 2, dtype=np.int8),
                ]
            )
            targets = np.arange(len(data.ids), dtype=np.int32)
            for code in data.replaced_by:
                targets[code] = self._follow(code)
            self._vector = _VectorTables(
                values=pa.concat_arrays(
                    [self._lookup_ids, pa.array([k for k, _ in labels], type=pa.string())]
                ),
                codes=pa.array(raw, type=pa.int32()),
                targets=pa.array(targets[raw], type=pa.int32()),
                methods=pc.take(pa.array(_VECTOR_METHODS, type=pa.string()), pa.array(kinds)),
            )
        return self._vector

    def _known_id(self, text: str) -> str | None:
        """The known id ``text`` names, also as ``hp:0001250``, ``HP_0001250`` or PURL."""
        code_of = self._code_of
        if text in code_of:
            return text
        found = _ID_FORM.match(text)
        if found is None:
            return None
        prefix, local = found.group(1).upper(), found.group(2)
        for candidate in (f"{prefix}:{local}", f"{prefix}:{local.upper()}"):
            if candidate in code_of:
                return candidate
        return None

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

    def _result(self, code: int, method: Method, score: float) -> Resolution:
        data = self._data
        target = self._follow(code)
        replaced_from = data.ids[code] if target != code else None
        return Resolution(
            data.ids[target], data.labels[target], method, score, self._release, replaced_from
        )


@dataclass(frozen=True, slots=True)
class _VectorTables:
    """What :meth:`TermIndex.resolve_ids_and_labels` looks values up in.

    ``values`` holds primary ids, then alternative ids, then unambiguous exact labels;
    the other arrays are parallel to it: the term's code, the code after following
    replacements, and the method a hit there reports.
    """

    values: pa.StringArray
    codes: pa.Int32Array
    targets: pa.Int32Array
    methods: pa.StringArray


def _by_tier(match: FuzzyMatch) -> int:
    return match.tier


def _as_array(values: pa.Array | pa.ChunkedArray | Sequence[str | None]) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    return pa.array(values, type=pa.string())


def cache_path(cache_dir: Path, prefix: str, sha256: str) -> Path:
    """Where the compiled index of a release file with this sha-256 is cached."""
    return cache_dir / f"{prefix}-{sha256}.v{CACHE_FORMAT}.pickle"


def _better(
    first: tuple[int, int] | None,
    second: tuple[int, int] | None,
    obsolete: npt.NDArray[np.bool_],
) -> tuple[int, int] | None:
    """The hit with the lower (obsolete, tier); ambiguous hits count as live."""
    if first is None or second is None:
        return first or second

    def rank(hit: tuple[int, int]) -> tuple[bool, int]:
        return (hit[0] != AMBIGUOUS and bool(obsolete[hit[0]]), hit[1])

    return first if rank(first) <= rank(second) else second


def _int_array(codes: Codes) -> pa.Array:
    if isinstance(codes, pa.ChunkedArray):
        codes = codes.combine_chunks()
    if isinstance(codes, pa.Array):
        return codes
    return pa.array(np.asarray(codes, dtype=np.int32), type=pa.int32())


def _read_cache(cache_file: Path, prefix: str, sha256: str) -> CompiledIndex | None:
    """The cached index, or ``None`` if missing, unreadable or for another release."""
    try:
        with cache_file.open("rb") as handle:
            data = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception as err:  # a truncated or stale cache is rebuilt, not fatal
        logger.warning("ignoring unreadable ontology cache %s: %s", cache_file, err)
        return None
    if not isinstance(data, CompiledIndex) or (data.prefix, data.sha256) != (prefix, sha256):
        logger.warning("ignoring ontology cache %s: it is for another release", cache_file)
        return None
    return data


def _write_cache(cache_file: Path, data: CompiledIndex) -> None:
    """Write atomically: a temp file in the same directory, then ``os.replace``."""
    temp: Path | None = None
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=cache_file.parent, prefix=f".{cache_file.name}.", suffix=".tmp", delete=False
        ) as handle:
            temp = Path(handle.name)
            pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, cache_file)
        temp = None
    except OSError as err:
        logger.warning("could not cache the %s index at %s: %s", data.prefix, cache_file, err)
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
