"""Which DUO codes consent may hold, and whether a set of codes permits a use.

:class:`DataUse` answers from the DUO release pinned in ``ontologies/manifest.yaml``
(prefix ``DUO``, loaded with pronto like HPO) when there is one, and otherwise from
Harmonize's list of codes (:mod:`harmonize.consent.codes`), which has no hierarchy.

The rule (:meth:`DataUse.permits`): a set of consent codes permits a use (a data use
permission code, such as ``DUO:0000006`` health/medical/biomedical research) when

1. every code is one this vocabulary knows: a data use permission or a data use
   modifier (an unknown or obsolete code never permits anything);
2. at least one of its permissions *covers* the use: it is the use itself, or it is
   ``DUO:0000004`` (no restriction), or, with a release only, the use is a descendant of
   it over ``is_a`` (so general research use covers its sub-uses where the release
   says so);
3. every modifier (``DUO:0000017`` branch: ethics approval required, non-commercial use
   only, ...) is one the requester declares to meet (``meets``); modifiers are matched
   exactly, never through the hierarchy.

No codes at all permit nothing: consent is never assumed.

>>> duo = DataUse()
>>> duo.permits(["DUO:0000006"], "DUO:0000006"), duo.permits(["DUO:0000004"], "DUO:0000007")
(True, True)
>>> duo.permits(["DUO:0000042"], "DUO:0000006")  # no release: no hierarchy to say so
False
>>> duo.permits(["DUO:0000006", "DUO:0000021"], "DUO:0000006")  # IRB not declared met
False
>>> duo.permits(["DUO:0000006", "DUO:0000021"], "DUO:0000006", meets={"DUO:0000021"})
True
>>> duo.problem("DUO:9999999")
'is not a DUO code Harmonize knows (no DUO release is pinned)'
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from harmonize.consent.codes import KNOWN, MODIFIER_ROOT, NO_RESTRICTION, PERMISSION_ROOT, Kind
from harmonize.ontology import Ontologies
from harmonize.ontology.structure import TermStructure

PREFIX = "DUO"
SYNTAX = re.compile(r"^DUO:\d{7}$")


class DataUse:
    """The DUO vocabulary consent codes are checked against and applied with."""

    def __init__(self, structure: TermStructure | None = None) -> None:
        self._structure = structure
        if structure is not None:
            self._roots = {
                kind: code
                for kind, root in (("permission", PERMISSION_ROOT), ("modifier", MODIFIER_ROOT))
                if (code := structure.code(root)) is not None
            }

    @classmethod
    def of(cls, ontologies: Ontologies | None) -> DataUse:
        """The pinned DUO release's vocabulary if the manifest has one, else the code list."""
        if ontologies is not None and ontologies.has_index(PREFIX):
            return cls(ontologies.get(PREFIX))
        return cls()

    @property
    def release(self) -> str | None:
        """``'DUO <version>'`` when a release is loaded, else None."""
        return self._structure.release if self._structure is not None else None

    @property
    def hierarchical(self) -> bool:
        """Whether permissions cover their descendants (a release is loaded)."""
        return self._structure is not None

    def describe(self) -> str:
        """One line for reports and the CLI: where the codes and the rule come from."""
        if self._structure is not None:
            return f"{self._structure.release}: a permission covers itself and its is_a descendants"
        return "Harmonize's DUO code list (no DUO release pinned): exact codes, no hierarchy"

    # -- what a code is ---------------------------------------------------------------

    def _primary(self, code: str) -> int | None:
        s = self._structure
        return None if s is None else s.code(code)

    def kind(self, code: str) -> Kind | None:
        """``'permission'`` or ``'modifier'``; None for anything consent cannot hold."""
        s = self._structure
        if s is None:
            known = KNOWN.get(code)
            return known.kind if known is not None else None
        c = s.code(code)
        if c is None or s.is_obsolete(c):
            return None
        for kind, root in self._roots.items():
            if s.is_ancestor(root, c):
                return kind  # type: ignore[return-value]
        return None

    def problem(self, code: str) -> str | None:
        """Why ``code`` cannot be a consent code (None when it can)."""
        if not SYNTAX.match(code):
            return "is not a DUO CURIE like DUO:0000042"
        s = self._structure
        if s is None:
            if code not in KNOWN:
                return "is not a DUO code Harmonize knows (no DUO release is pinned)"
            return None
        c = s.code(code)
        if c is None:
            return f"is not a term of {s.release}"
        if s.is_obsolete(c):
            replacement = s.replaced_by(c)
            instead = f"; use {replacement}" if replacement else ""
            return f"is obsolete in {s.release}{instead}"
        if self.kind(code) is None:
            return f"is not a data use permission or modifier in {s.release}"
        return None

    def label(self, code: str) -> str | None:
        s = self._structure
        if s is None:
            known = KNOWN.get(code)
            return known.label if known is not None else None
        c = s.code(code)
        return s.label(c) if c is not None else None

    def use_problem(self, use: str) -> str | None:
        """Why ``use`` cannot be asked for (None when it is a data use permission)."""
        problem = self.problem(use)
        if problem is not None:
            return problem
        if self.kind(use) != "permission":
            return "is a data use modifier (a condition), not a use; ask for a permission"
        return None

    # -- the rule ---------------------------------------------------------------------

    def covers(self, permission: str, use: str) -> bool:
        """Whether consent ``permission`` allows ``use`` (rule 2 of the module doc)."""
        if permission in (use, NO_RESTRICTION):
            return True
        s = self._structure
        if s is None:
            return False
        p, u = s.code(permission), s.code(use)
        if p is None or u is None:
            return False
        return p == u or s.is_ancestor(p, u) or s.term_id(p) == NO_RESTRICTION

    def permits(self, codes: Iterable[str], use: str, meets: Collection[str] = ()) -> bool:
        """Whether consent ``codes`` permit ``use`` for a requester who meets ``meets``."""
        covered = False
        for code in codes:
            kind = self.kind(code)
            if kind is None:
                return False
            if kind == "modifier":
                if code not in meets:
                    return False
            elif not covered:
                covered = self.covers(code, use)
        return covered

    def references(self, codes: Iterable[str]) -> list[dict[str, str]]:
        """The Phenopacket ``metaData.externalReferences`` entries of consent codes."""
        from harmonize.consent.codes import iri

        out = []
        for code in dict.fromkeys(codes):
            kind = self.kind(code) or "code"
            label = self.label(code)
            text = f"data use {kind}: {label}" if label else f"data use {kind}"
            out.append({"id": code, "reference": iri(code), "description": text})
        return out
