"""Import Great Expectations without the libraries only unused expectations need.

``import great_expectations`` imports every core expectation class. One of them,
``expect_column_kl_divergence_to_be_less_than``, imports ``scipy.stats`` and ``altair``
at its top level and uses them only inside its methods (``stats.entropy`` when it
validates, ``alt.Chart`` when it renders); two metrics import ``scipy.stats`` the same way.
Together they are about a third of Great Expectations' import time, which every
``harmonize ingest`` paid, although no Harmonize suite uses those expectations.

:func:`import_gx` puts a stand-in for each of those two modules in ``sys.modules``
first: a module object whose first attribute read (``stats.entropy``, ``alt.Chart``) runs
the real import and from then on reads the real module. (The standard library's
``importlib.util.LazyLoader`` does not do here: an ``import altair`` statement reads the
module's ``__spec__``, which runs the import at once.) Nothing is replaced or stubbed: a
suite that uses the KL divergence, or any code that reads ``scipy.stats``, gets the real
module, loaded then. Every expectation class is still imported and registered, so the
same expectations run.

>>> gx = import_gx()
>>> gx.ExpectationSuite.__name__
'ExpectationSuite'
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

__all__ = ["DEFERRED", "import_gx"]

# imported at the top of Great Expectations modules, read only inside their functions
DEFERRED = ("scipy.stats", "altair")

_LOCK = threading.RLock()


class _Deferred(ModuleType):
    """Stands in for a module not imported yet; the first missing attribute imports it."""

    def __getattr__(self, attr: str) -> Any:
        with _LOCK:
            real = _load(self.__name__)
        return getattr(real, attr)


def _load(name: str) -> ModuleType:
    current = sys.modules.get(name)
    if isinstance(current, _Deferred):
        del sys.modules[name]  # let the import system load the real one
        try:
            real = importlib.import_module(name)
        except BaseException:
            sys.modules[name] = current
            raise
        # the stand-in (still bound where it was imported) becomes a view of the real module
        current.__dict__.update(real.__dict__)
        return real
    return importlib.import_module(name)


def import_gx() -> ModuleType:
    """``great_expectations``, imported with :data:`DEFERRED` loaded on first use."""
    with _LOCK:
        if "great_expectations" not in sys.modules:
            for name in DEFERRED:
                _defer(name)
        return importlib.import_module("great_expectations")


def _defer(name: str) -> None:
    """Put a stand-in for ``name`` in ``sys.modules`` (if it is not imported yet)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)  # imports the parent package (scipy: a light one)
    if spec is None:
        return  # not installed: Great Expectations' own import reports it, as before
    module = _Deferred(name)
    module.__spec__ = spec
    module.__file__ = spec.origin
    module.__path__ = list(spec.submodule_search_locations or [])  # type: ignore[assignment]
    module.__loader__ = spec.loader
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
