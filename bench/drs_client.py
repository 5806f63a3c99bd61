"""The load generator of ``bench/drs_load.py``, run in a process of its own.

``client_main`` receives phases (lists of ``(kind, path, expected size)``) over a pipe and
sends back each phase's latencies, errors and wall time. Two clients, same requests and
same checks (status 200; a download's length; a lookup's ``size``), ``clients`` keep-alive
connections with one request in flight on each (no pipelining):

- ``asyncio``: the connections on one uvloop event loop, responses parsed by httptools;
- ``threads``: one thread and one ``http.client`` connection per client connection.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def check(kind: str, path: str, size: int, status: int, body: bytes) -> str | None:
    """What is wrong with one answer, the same for both clients (None: a right answer)."""
    if status != 200:
        return f"{kind} {path}: HTTP {status} {body[:120]!r}"
    if kind == "download" and len(body) != size:
        return f"{kind} {path}: {len(body)} bytes, expected {size}"
    if kind == "lookup" and json.loads(body)["size"] != size:
        return f"{kind} {path}: wrong size in the object"
    return None


def _client_run(
    port: int, jobs: list[tuple[str, str, int]], clients: int
) -> tuple[list[float], list[str], float]:
    """Latencies (s) of ``jobs`` ((kind, path, expected size)), errors, wall seconds."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    cursor = iter(jobs)

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        bad: list[str] = []
        while True:
            with lock:
                job = next(cursor, None)
            if job is None:
                break
            kind, path, size = job
            start = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                elapsed = time.perf_counter() - start
                problem = check(kind, path, size, response.status, body)
                if problem:
                    bad.append(problem)
                mine.append(elapsed)
            except (OSError, http.client.HTTPException, ValueError, KeyError) as exc:
                bad.append(f"{kind} {path}: {type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(worker) for _ in range(clients)]:
            future.result()
    return latencies, errors, time.perf_counter() - start


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request in flight (no pipelining); the
    responses parsed by httptools (uvicorn's parser)."""

    def __init__(self, port: int) -> None:
        import httptools

        self.port = port
        self.parser = httptools.HttpResponseParser(self)
        self.transport: Any = None  # uvloop's transports are not asyncio.Transport subclasses
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.body: list[bytes] = []
        self.lost: Exception | None = None

    @classmethod
    async def open(cls, port: int) -> _Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(lambda: cls(port), "127.0.0.1", port)
        return protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except Exception as exc:  # httptools.HttpParserError and friends
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or ConnectionError("the server closed the connection"))

    def _fail(self, exc: Exception) -> None:
        self.lost = exc
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    def on_body(self, body: bytes) -> None:  # httptools callbacks
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((self.parser.get_status_code(), b"".join(self.body)))

    async def get(self, path: str) -> tuple[int, bytes]:
        """The status and body of ``GET path`` (the headers http.client would send)."""
        if self.lost is not None or self.transport is None:
            raise ConnectionError(f"connection lost: {self.lost}")
        self.body = []
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            "Accept-Encoding: identity\r\n\r\n".encode()
        )
        return await self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _client_run_async(
    port: int, jobs: list[tuple[str, str, int]], clients: int
) -> tuple[list[float], list[str], float]:
    """As :func:`_client_run`, the ``clients`` connections on one uvloop event loop (a
    fraction of the client CPU of threads and http.client); same requests, same checks."""
    import uvloop

    async def run() -> tuple[list[float], list[str], float]:
        latencies: list[float] = []
        errors: list[str] = []
        cursor = iter(jobs)  # one thread: the connections take turns without a lock

        async def worker() -> None:
            conn = await _Connection.open(port)
            for kind, path, size in cursor:
                start = time.perf_counter()
                try:
                    status, body = await conn.get(path)
                    elapsed = time.perf_counter() - start
                    problem = check(kind, path, size, status, body)
                    if problem:
                        errors.append(problem)
                    latencies.append(elapsed)
                except Exception as exc:  # any failure is counted, the connection renewed
                    errors.append(f"{kind} {path}: {type(exc).__name__}: {exc}")
                    conn.close()
                    conn = await _Connection.open(port)
            conn.close()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return latencies, errors, time.perf_counter() - start

    return uvloop.run(run())


CLIENTS = {"asyncio": _client_run_async, "threads": _client_run}


def client_main(port: int, clients: int, inbox: Any, outbox: Any, kind: str = "asyncio") -> None:
    """Runs in its own process: runs each phase it is sent, sends the results back."""
    run = CLIENTS[kind]
    while (jobs := inbox.recv()) is not None:
        outbox.send(run(port, jobs, clients))
