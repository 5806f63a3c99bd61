"""The profile registry: ``get_profile`` imports only the profile asked for (issue #14)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from harmonize.errors import ConfigurationError
from harmonize.mapping.profiles import get_profile, profiles
from harmonize.mapping.profiles.builtin import MODULES

pytestmark = pytest.mark.timeout(300)


def test_every_builtin_module_registers_the_profile_it_is_listed_for() -> None:
    found = profiles()
    assert set(MODULES) <= set(found)
    for name, module in MODULES.items():
        assert found[name].__module__ == module
        assert get_profile(name).name == name


def test_get_profile_in_a_fresh_process_imports_that_profile_only() -> None:
    code = """
        import json, sys
        from harmonize.mapping.profiles import get_profile
        profile = get_profile("hpo-case-template")
        loaded = sorted(m for m in sys.modules if m.startswith("harmonize.mapping.profiles."))
        print(json.dumps({"name": profile.name, "loaded": loaded}))
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["name"] == "hpo-case-template"
    for other in ("beacon", "fhir", "omop", "phenopacket", "redcap", "tabular"):
        assert MODULES[other] not in out["loaded"]
    assert "harmonize.mapping.profiles.case_template" in out["loaded"]


def test_an_unknown_profile_still_names_the_known_ones() -> None:
    with pytest.raises(ConfigurationError) as caught:
        get_profile("hpo-case-templat")
    assert "hpo-case-template" in (caught.value.hint or "")
    assert "tabular" in (caught.value.hint or "")
