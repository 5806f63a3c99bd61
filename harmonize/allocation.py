"""Building many small objects fast: the cyclic garbage collector paused meanwhile.

>>> import gc
>>> with gc_paused():
...     gc.isenabled()
False
>>> gc.isenabled()
True
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects.

    A Phenopacket's dicts and lists, or a registration's rows, never form cycles, but
    every 700 allocations the collector scans the young objects, and as they pile up it
    scans them again and again (half the CPU time of building a slice of Phenopackets).
    Reference counting frees them as before; the collector runs again, as it was,
    afterwards. Process-wide: a thread that allocates meanwhile is not collected either.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
