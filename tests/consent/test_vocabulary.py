"""Which DUO codes consent may hold, and the rule that decides whether they permit a use.

Without a DUO release the rule has no hierarchy; with one (here a small structure built
for the test, and a tiny OBO file loaded through the ontology manifest like HPO) a
permission covers its ``is_a`` descendants.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from harmonize.consent import DataUse
from harmonize.consent.codes import KNOWN
from harmonize.ontology import Ontologies, TermIndex
from harmonize.ontology.compile import compile_terms
from tests.ontology.factory import make_term

ROOT = Path(__file__).resolve().parents[2]
NRES, GRU, HMB, DS, POA = "DUO:0000004", "DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000011"
IRB, NCU = "DUO:0000021", "DUO:0000046"


# -- without a release: Harmonize's code list, exact codes --------------------------------


def test_exact_code_and_no_restriction_permit() -> None:
    duo = DataUse()
    assert not duo.hierarchical and duo.release is None
    assert duo.permits([HMB], HMB)
    assert duo.permits([NRES], DS) and duo.permits([NRES], GRU)
    assert duo.permits([DS, HMB], HMB)  # any permission of the set may cover the use


def test_without_a_release_nothing_is_inferred_from_a_hierarchy() -> None:
    """GRU covers HMB only where a DUO release says HMB is_a GRU."""
    duo = DataUse()
    assert not duo.permits([GRU], HMB)
    assert not duo.permits([HMB], GRU)
    assert not duo.permits([DS], HMB)


def test_modifiers_must_be_met() -> None:
    duo = DataUse()
    assert not duo.permits([HMB, IRB], HMB)
    assert not duo.permits([HMB, IRB, NCU], HMB, meets={IRB})
    assert duo.permits([HMB, IRB, NCU], HMB, meets={IRB, NCU})
    assert not duo.permits([IRB], HMB, meets={IRB})  # a modifier alone permits nothing


def test_no_consent_or_an_unknown_code_permits_nothing() -> None:
    duo = DataUse()
    assert not duo.permits([], NRES)
    assert not duo.permits([NRES, "DUO:9999999"], HMB)
    assert not duo.permits(["HMB"], HMB)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("DUO:0000042", None),
        ("DUO:0000021", None),
        ("DUO:9999999", "is not a DUO code Harmonize knows (no DUO release is pinned)"),
        ("DUO:0000001", "is not a DUO code Harmonize knows (no DUO release is pinned)"),
        ("duo:0000042", "is not a DUO CURIE like DUO:0000042"),
        ("HP:0000118", "is not a DUO CURIE like DUO:0000042"),
    ],
)
def test_problem(code: str, expected: str | None) -> None:
    assert DataUse().problem(code) == expected


def test_a_use_must_be_a_permission() -> None:
    duo = DataUse()
    assert duo.use_problem(HMB) is None
    assert "modifier" in (duo.use_problem(IRB) or "")
    assert "not a DUO code" in (duo.use_problem("DUO:0000099") or "")


def test_labels_and_phenopacket_references() -> None:
    duo = DataUse()
    assert duo.label(GRU) == "general research use"
    assert duo.references([GRU, IRB, GRU]) == [
        {
            "id": GRU,
            "reference": "http://purl.obolibrary.org/obo/DUO_0000042",
            "description": "data use permission: general research use",
        },
        {
            "id": IRB,
            "reference": "http://purl.obolibrary.org/obo/DUO_0000021",
            "description": "data use modifier: ethics approval required",
        },
    ]


def test_the_repository_pins_no_duo_release(tmp_path: Path) -> None:
    """No DUO release could be found offline; the code list stands in (see the README)."""
    duo = DataUse.of(Ontologies.load(ROOT / "ontologies", tmp_path))
    assert duo.release is None
    assert len(KNOWN) == 23


# -- with a release: the is_a hierarchy ---------------------------------------------------


def _release() -> TermIndex:
    """A structure shaped like DUO's permission and modifier branches (test data, not DUO)."""
    terms = [
        make_term("DUO:0000001", "data use permission"),
        make_term(NRES, "no restriction", parents=("DUO:0000001",)),
        make_term(GRU, "general research use", parents=("DUO:0000001",)),
        make_term(HMB, "health or medical or biomedical research", parents=(GRU,)),
        make_term(DS, "disease specific research", parents=(HMB,)),
        make_term(POA, "population origins or ancestry research only", parents=(GRU,)),
        make_term("DUO:0000017", "data use modifier"),
        make_term(IRB, "ethics approval required", parents=("DUO:0000017",)),
        make_term("DUO:0000014", "obsolete research use only", obsolete=True, replaced_by=(GRU,)),
        make_term("DUO:0000031", "methods development"),  # a research purpose, no consent code
        make_term("DUO:0000050", "a newer permission", parents=("DUO:0000001",)),
    ]
    return TermIndex(compile_terms(terms, prefix="DUO", version="test", sha256="0" * 64))


def test_with_a_release_a_permission_covers_its_descendants() -> None:
    duo = DataUse(_release())
    assert duo.hierarchical and duo.release == "DUO test"
    assert duo.permits([GRU], HMB) and duo.permits([GRU], DS) and duo.permits([GRU], POA)
    assert duo.permits([HMB], DS)
    assert not duo.permits([HMB], POA)
    assert not duo.permits([DS], HMB)  # narrower never covers broader
    assert not duo.permits([HMB], GRU)
    assert duo.permits([NRES], POA)
    assert not duo.permits([GRU, IRB], HMB)  # modifiers still have to be met
    assert duo.permits([GRU, IRB], HMB, meets={IRB})


def test_with_a_release_its_terms_decide_what_is_known() -> None:
    duo = DataUse(_release())
    assert duo.problem("DUO:0000050") is None  # not in Harmonize's list, but in the release
    assert duo.problem("DUO:0000046") == "is not a term of DUO test"
    assert duo.problem("DUO:0000014") == "is obsolete in DUO test; use DUO:0000042"
    assert duo.problem("DUO:0000031") == ("is not a data use permission or modifier in DUO test")
    assert duo.problem("DUO:0000001") == ("is not a data use permission or modifier in DUO test")
    assert not duo.permits(["DUO:0000014"], GRU)  # obsolete codes permit nothing
    assert duo.label(HMB) == "health or medical or biomedical research"


OBO = """format-version: 1.2
data-version: duo/releases/2099-01-01/duo.owl
ontology: duo

[Term]
id: DUO:0000001
name: data use permission

[Term]
id: DUO:0000042
name: general research use
is_a: DUO:0000001

[Term]
id: DUO:0000006
name: health or medical or biomedical research
is_a: DUO:0000042
"""


def test_a_release_pinned_in_the_manifest_is_loaded_with_pronto(tmp_path: Path) -> None:
    """How a real DUO release would be used: a file and a manifest entry, like HPO."""
    (tmp_path / "duo.obo").write_text(OBO)
    entry = {
        "prefix": "DUO",
        "name": "Data Use Ontology",
        "version": "2099-01-01",
        "source": "http://purl.obolibrary.org/obo/duo/releases/2099-01-01/duo.owl",
        "file": "duo.obo",
        "sha256": hashlib.sha256(OBO.encode()).hexdigest(),
        "iri_prefix": "http://purl.obolibrary.org/obo/DUO_",
        "url": "http://purl.obolibrary.org/obo/duo.owl",
        "id_pattern": r"^\d{7}$",
    }
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump({"ontologies": [entry]}))
    duo = DataUse.of(Ontologies.load(tmp_path, tmp_path / "cache"))
    assert duo.release == "DUO 2099-01-01"
    assert duo.permits([GRU], HMB)
    assert duo.problem(DS) == "is not a term of DUO 2099-01-01"
