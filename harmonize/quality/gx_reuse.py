"""Great Expectations runs that build each expectation's configuration once, not ~100 times.

GX 1.x's ``Expectation.configuration`` is a property that rebuilds an
``ExpectationConfiguration`` from the expectation's pydantic fields on every read
(``self.dict()``, ``camel_to_snake`` of the class name, a new object). One validation
reads it about a hundred times per expectation: ``_get_domain_kwargs``,
``_get_success_kwargs`` and ``_get_runtime_kwargs`` read it once per key, for every
metric the expectation depends on. Measured on one small ingest (AIRE, five suites, 20
expectations, ``bench/ingest_phases.py``): 2,056 rebuilds, about a third of the CPU time
of the five GX runs.

Inside :func:`reusing_configurations` (which :func:`harmonize.quality.expectations.run_suite`
wraps around its ``batch.validate``) the property returns, for each expectation object,
the configuration it built on that object's first read; outside it, GX's own property
runs unchanged. Nothing GX computes changes: within one run no expectation object is
modified (GX builds them from the suite's configurations, validates, and drops them), and
the configuration GX built is the one it would have built again. The memo lives for one
run only and holds the objects it saw, so an ``id`` is never reused within it.

>>> from harmonize.quality.gx_import import import_gx
>>> gx = import_gx()
>>> install()
>>> exp = gx.expectations.ExpectColumnValuesToNotBeNull(column="a")
>>> exp.configuration is exp.configuration  # outside a run: rebuilt, as in GX
False
>>> with reusing_configurations():
...     exp.configuration is exp.configuration
True
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["install", "reusing_configurations"]

# id(expectation) -> (expectation, its configuration), during one run
_MEMO: ContextVar[dict[int, tuple[Any, Any]] | None] = ContextVar("gx_configurations", default=None)
_INSTALLED = threading.Event()
_LOCK = threading.Lock()


def install() -> None:
    """Wrap ``Expectation.configuration`` (once per process); a no-op outside a run."""
    with _LOCK:
        if _INSTALLED.is_set():
            return
        from great_expectations.expectations.expectation import Expectation

        original: property = Expectation.__dict__["configuration"]
        build = original.fget
        assert build is not None

        def configuration(self: Any) -> Any:
            memo = _MEMO.get()
            if memo is None:
                return build(self)
            held = memo.get(id(self))
            if held is None or held[0] is not self:
                held = memo[id(self)] = (self, build(self))
            return held[1]

        configuration.__doc__ = build.__doc__
        Expectation.configuration = property(configuration)  # type: ignore[method-assign,assignment]
        _INSTALLED.set()


@contextmanager
def reusing_configurations() -> Iterator[None]:
    """Within this block each expectation object builds its configuration once."""
    install()
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)
