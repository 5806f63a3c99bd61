"""How long the fuzzers run: a fixed number of examples per harness, scaled for ``make fuzz``.

``make test`` runs each harness for its CI count (about a minute for all of them on the
project's 2-core machines); ``make fuzz`` sets ``HARMONIZE_FUZZ_SCALE`` (default 50) to run
each that many times longer. Failing examples are kept in ``.hypothesis/`` and replayed
first on the next run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE = max(1, int(os.environ.get("HARMONIZE_FUZZ_SCALE", "1")))


def budget(examples: int) -> settings:
    """Hypothesis settings for a harness that runs ``examples`` times in CI."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,  # shared CI machines are noisy; hangs are caught by the read limits
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )
