"""Great Expectations runs without the work GX repeats for nothing.

Three things GX 1.x does over and over in one validation, each measured on one small
ingest (AIRE, five suites, 20 expectations, ``bench/ingest_phases.py``):

1. ``Expectation.configuration`` is a property that rebuilds an
   ``ExpectationConfiguration`` from the expectation's pydantic fields on every read
   (``self.dict()``, ``camel_to_snake`` of the class name, a new object). One validation
   reads it about a hundred times per expectation: ``_get_domain_kwargs``,
   ``_get_success_kwargs`` and ``_get_runtime_kwargs`` read it once per key, for every
   metric the expectation depends on (2,056 rebuilds).
2. ``ExpectationConfiguration.to_domain_obj()`` builds a new ``Expectation`` (a pydantic
   model, validated field by field) on every call, and
   ``great_expectations.expectations.registry.get_metric_kwargs`` calls it once per
   metric an expectation depends on, on the same configuration, only to read the
   expectation's kwargs back (about 40 builds per suite run, each of which then rebuilt
   its configuration as in 1).
3. ``great_expectations.util.convert_to_json_serializable`` makes every cache key of a
   metric (``IDDict.to_id``, twice per ``MetricConfiguration``) and every result JSON.
   It tests each value against pydantic, numpy and pandas types before it gets to plain
   ``None`` (``np.issubdtype`` three times): 6,417 calls per ingest.

Inside :func:`reusing_configurations` (which :func:`harmonize.quality.expectations.run_suite`
wraps around its validation) the property of 1 returns, for each expectation object, the
configuration it built on that object's first read, and ``to_domain_obj`` of 2 returns,
for each configuration object, the expectation it built on its first call; outside that
block GX's own code runs unchanged. Nothing GX computes changes: within one run neither
object is modified after it is first read (GX deep-copies a suite's configurations, adds
the ``batch_id``, then only reads them; an ``Expectation`` sets attributes on itself only
when it is saved or rendered for GX Cloud), and the object GX built is the one it would
have built again. The memo lives for one run only and holds the objects it saw, so an
``id`` is never reused within it.

3 is replaced for the whole process by :func:`json_ready`, which returns plain JSON values
(``None``, ``str``, ``int``, ``bool``, ``float``, and ``dict``/``list``/``tuple`` of
them) as GX's function would, without the type tests, and hands anything else to GX's
function: the output is the same for every input (``tests/quality/test_gx_reuse.py``).

>>> from harmonize.quality.gx_import import import_gx
>>> gx = import_gx()
>>> install()
>>> exp = gx.expectations.ExpectColumnValuesToNotBeNull(column="a")
>>> exp.configuration is exp.configuration  # outside a run: rebuilt, as in GX
False
>>> with reusing_configurations():
...     exp.configuration is exp.configuration
True
>>> cfg = exp.configuration
>>> with reusing_configurations():
...     cfg.to_domain_obj() is cfg.to_domain_obj()
True
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["install", "json_ready", "reusing_configurations"]

# id(object) -> (object, what it built), during one run: one dict for expectations'
# configurations, one for configurations' expectations
_Memo = tuple[dict[int, tuple[Any, Any]], dict[int, tuple[Any, Any]]]
_MEMO: ContextVar[_Memo | None] = ContextVar("gx_reuse", default=None)
_INSTALLED = threading.Event()
_LOCK = threading.Lock()


def _remembered(table: dict[int, tuple[Any, Any]], obj: Any, build: Callable[[Any], Any]) -> Any:
    held = table.get(id(obj))
    if held is None or held[0] is not obj:
        held = table[id(obj)] = (obj, build(obj))
    return held[1]


def install() -> None:
    """Wrap the three (once per process); 1 and 2 are no-ops outside a run."""
    with _LOCK:
        if _INSTALLED.is_set():
            return
        import great_expectations.util
        from great_expectations.expectations.expectation import Expectation
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        original: property = Expectation.__dict__["configuration"]
        build = original.fget
        assert build is not None

        def configuration(self: Any) -> Any:
            memo = _MEMO.get()
            return build(self) if memo is None else _remembered(memo[0], self, build)

        configuration.__doc__ = build.__doc__
        Expectation.configuration = property(configuration)  # type: ignore[method-assign,assignment]

        to_domain_obj = ExpectationConfiguration.to_domain_obj

        @functools.wraps(to_domain_obj)
        def domain_obj(self: Any) -> Any:
            memo = _MEMO.get()
            return (
                to_domain_obj(self) if memo is None else _remembered(memo[1], self, to_domain_obj)
            )

        ExpectationConfiguration.to_domain_obj = domain_obj  # type: ignore[method-assign]

        convert = great_expectations.util.convert_to_json_serializable
        fast = json_ready(convert)
        # modules imported it by name: each holds its own reference
        for name, module in list(sys.modules.items()):
            if name.startswith("great_expectations") and (
                getattr(module, "convert_to_json_serializable", None) is convert
            ):
                module.convert_to_json_serializable = fast  # type: ignore[attr-defined]
        _INSTALLED.set()


def json_ready(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """GX's ``convert_to_json_serializable`` with plain JSON values answered first.

    For ``None``, ``str``, ``int`` and ``bool`` (exactly those types, not subclasses such
    as numpy's or enums) GX returns the value itself; for a ``float`` the value, or
    ``None`` when it is NaN; for a ``dict`` a new dict with ``str`` keys and each value
    converted; for a ``list`` or ``tuple`` a new list of the values converted. Everything
    else goes to ``convert``, whose own recursion comes back here once this replaces the
    module's name.
    """

    @functools.wraps(convert)
    def converted(data: Any) -> Any:
        kind = type(data)
        if data is None or kind is str or kind is int or kind is bool:
            return data
        if kind is float:
            return None if data != data else data  # NaN is the one float unequal to itself
        if kind is dict:
            return {str(key): converted(value) for key, value in data.items()}
        if kind is list or kind is tuple:
            return [converted(value) for value in data]
        return convert(data)

    return converted


@contextmanager
def reusing_configurations() -> Iterator[None]:
    """Within this block each expectation builds its configuration once, and each
    configuration its expectation once."""
    install()
    token = _MEMO.set(({}, {}))
    try:
        yield
    finally:
        _MEMO.reset(token)
