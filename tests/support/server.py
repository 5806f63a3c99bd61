"""Run the DRS service as ``harmonize serve`` does: uvicorn, ``--factory``, N workers.

:func:`serve_drs` starts ``uvicorn harmonize.drs.serve:app_from_env`` in its own process
group on a free port, waits until ``service-info`` answers, yields the base URL and stops
the whole group (workers included) on exit. Used by tests and ``bench/drs_load.py``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

SERVICE_INFO = "/ga4gh/drs/v1/service-info"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve_drs(
    workspace: Path,
    registry_url: str,
    *,
    workers: int = 2,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    timeout: float = 120,
    app: str = "harmonize.drs.serve:app_from_env",
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``(base URL, the uvicorn supervisor process)`` of a running service; ``app`` is the
    uvicorn factory (``harmonize serve``'s by default)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    variables = {
        **os.environ,
        "HARMONIZE_DRS_WORKSPACE": str(workspace.resolve()),
        "HARMONIZE_DRS_REGISTRY_URL": registry_url,
        "HARMONIZE_DRS_PUBLIC_URL": base,
        **(env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    output = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        command, env=variables, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        _wait_ready(base, process, timeout)
        yield base, process
    finally:
        _stop(process)
        if log is not None and not isinstance(output, int):
            output.close()


def _wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with status {process.returncode}")
        with suppress(httpx.HTTPError):
            if httpx.get(base + SERVICE_INFO, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the DRS service at {base} did not answer within {timeout} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    # workers left behind by a supervisor that died first
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
