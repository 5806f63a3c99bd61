"""Great Expectations imported with scipy.stats and altair deferred (issue #14, cold start).

Each check runs in a fresh interpreter: whether a module is imported is a property of
the process, and the test session has imported Great Expectations already.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.timeout(300)


def _fresh(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_deferred_modules_are_not_imported_and_every_expectation_is_registered() -> None:
    out = _fresh(
        """
        import json, sys
        from harmonize.quality.gx_import import import_gx
        import_gx()
        from great_expectations.expectations.registry import list_registered_expectation_implementations
        print(json.dumps({
            "loaded": sorted(m for m in sys.modules if m.startswith(("altair.", "scipy.stats."))),
            "expectations": sorted(list_registered_expectation_implementations()),
        }))
        """
    )
    plain = _fresh(
        """
        import json
        import great_expectations
        from great_expectations.expectations.registry import list_registered_expectation_implementations
        print(json.dumps({"expectations": sorted(list_registered_expectation_implementations())}))
        """
    )
    assert out["loaded"] == []
    assert out["expectations"] == plain["expectations"]
    assert "expect_column_kl_divergence_to_be_less_than" in out["expectations"]


def test_the_first_use_loads_the_real_module() -> None:
    """The expectation module's own ``stats`` and ``alt`` names work and are the real ones."""
    out = _fresh(
        """
        import json, sys
        from harmonize.quality.gx_import import import_gx
        import_gx()
        from great_expectations.expectations.core import (
            expect_column_kl_divergence_to_be_less_than as kl,
        )
        entropy = kl.stats.entropy([0.5, 0.5], [0.9, 0.1])
        import scipy.stats, altair
        print(json.dumps({
            "entropy": round(float(entropy), 4),
            "chart": kl.alt.Chart is altair.Chart,
            "real": type(sys.modules["scipy.stats"]).__name__,
            "same": sys.modules["scipy"].stats is sys.modules["scipy.stats"],
        }))
        """
    )
    assert out == {"entropy": 0.5108, "chart": True, "real": "module", "same": True}


def test_a_suite_runs_the_same_after_the_deferred_import(tmp_path: object) -> None:
    """A kl-divergence expectation, the one that needs scipy.stats, validates and fails."""
    out = _fresh(
        """
        import json
        from harmonize.quality.gx_import import import_gx
        gx = import_gx()
        import pandas as pd
        context = gx.get_context(mode="ephemeral")
        batch = (
            context.data_sources.add_pandas("p").add_dataframe_asset("t")
            .add_batch_definition_whole_dataframe("b")
            .get_batch(batch_parameters={"dataframe": pd.DataFrame({"x": ["a"] * 9 + ["b"]})})
        )
        suite = gx.ExpectationSuite(name="s", expectations=[
            gx.expectations.ExpectColumnKLDivergenceToBeLessThan(
                column="x",
                partition_object={"values": ["a", "b"], "weights": [0.5, 0.5]},
                threshold=0.1,
            )
        ])
        result = batch.validate(suite)
        print(json.dumps({"success": bool(result.success)}))
        """
    )
    assert out == {"success": False}
