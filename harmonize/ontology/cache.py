"""Compiled term indexes cached on disk: one pickle per release file, named by its sha-256.

A cache file is written atomically (a temp file, then ``os.replace``) and read back only
when it is for the same prefix and release file; anything else is ignored with a warning
and the index is compiled again.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
from pathlib import Path

from harmonize.ontology.compile import CompiledIndex

logger = logging.getLogger(__name__)

CACHE_FORMAT = 3
"""Bump when :class:`CompiledIndex` changes; old cache files are then ignored."""


def cache_path(cache_dir: Path, prefix: str, sha256: str) -> Path:
    """Where the compiled index of a release file with this sha-256 is cached."""
    return cache_dir / f"{prefix}-{sha256}.v{CACHE_FORMAT}.pickle"


def read_cache(cache_file: Path, prefix: str, sha256: str) -> CompiledIndex | None:
    """The cached index, or ``None`` if missing, unreadable or for another release."""
    try:
        with cache_file.open("rb") as handle:
            data = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception as err:  # a truncated or stale cache is rebuilt, not fatal
        logger.warning("ignoring unreadable ontology cache %s: %s", cache_file, err)
        return None
    if not isinstance(data, CompiledIndex) or (data.prefix, data.sha256) != (prefix, sha256):
        logger.warning("ignoring ontology cache %s: it is for another release", cache_file)
        return None
    return data


def write_cache(cache_file: Path, data: CompiledIndex) -> None:
    """Write atomically: a temp file in the same directory, then ``os.replace``."""
    temp: Path | None = None
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=cache_file.parent, prefix=f".{cache_file.name}.", suffix=".tmp", delete=False
        ) as handle:
            temp = Path(handle.name)
            pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, cache_file)
        temp = None
    except OSError as err:
        logger.warning("could not cache the %s index at %s: %s", data.prefix, cache_file, err)
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
