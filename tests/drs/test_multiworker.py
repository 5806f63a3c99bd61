"""Two uvicorn workers against one PostgreSQL serve the same answers, before and after
more objects are registered. Each HTTP connection is pinned to the worker process that
accepted it (found from the server-side socket), so every worker is asked for certain."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
import pytest

from harmonize.drs.registry import ObjectSpec, Registry
from tests.support.server import SERVICE_INFO, serve_drs

pytestmark = [pytest.mark.integration, pytest.mark.slow]
OBJECTS = "/ga4gh/drs/v1/objects/"


def _workers(supervisor: int, expected: int, timeout: float = 60) -> list[psutil.Process]:
    """The supervisor's worker processes, once ``expected`` of them run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = psutil.Process(supervisor).children()
        # spawned workers, not multiprocessing's resource tracker
        workers = [
            child for child in children if "resource_tracker" not in " ".join(child.cmdline())
        ]
        if len(workers) >= expected:
            return workers
        time.sleep(0.2)
    raise AssertionError(f"fewer than {expected} uvicorn workers after {timeout} s")


def _owner(workers: list[psutil.Process], port: int, client_port: int) -> int | None:
    """The pid of the worker holding the server side of the connection from ``client_port``."""
    for worker in workers:
        for conn in worker.net_connections(kind="tcp"):
            if (
                conn.laddr
                and conn.raddr
                and conn.laddr.port == port
                and conn.raddr.port == client_port
            ):
                pid: int = worker.pid
                return pid
    return None


def _pinned_connections(
    host: str, port: int, workers: list[psutil.Process], per_worker: int
) -> dict[int, list[http.client.HTTPConnection]]:
    """Open keep-alive connections until each worker holds ``per_worker`` of them."""
    pinned: dict[int, list[http.client.HTTPConnection]] = {worker.pid: [] for worker in workers}
    spare: list[http.client.HTTPConnection] = []
    for _ in range(200):
        if all(len(conns) >= per_worker for conns in pinned.values()):
            break
        conn = http.client.HTTPConnection(host, port, timeout=30)
        conn.request("GET", SERVICE_INFO)  # accepted and answered: the owner is settled
        conn.getresponse().read()
        client_port = conn.sock.getsockname()[1]
        owner = _owner(workers, port, client_port)
        if owner is not None and len(pinned[owner]) < per_worker:
            pinned[owner].append(conn)
        else:
            spare.append(conn)
    for conn in spare:
        conn.close()
    assert all(len(conns) >= per_worker for conns in pinned.values()), "a worker took no connection"
    return pinned


def _get(conn: http.client.HTTPConnection, path: str) -> tuple[int, Any]:
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, json.loads(response.read())


def _ask_all(
    pinned: dict[int, list[http.client.HTTPConnection]], paths: list[str]
) -> dict[str, dict[int, list[tuple[int, Any]]]]:
    """Every path over every pinned connection, connections in parallel: path -> pid -> answers."""
    jobs = [(pid, conn) for pid, conns in pinned.items() for conn in conns]

    def run(job: tuple[int, http.client.HTTPConnection]) -> list[tuple[int, str, int, Any]]:
        pid, conn = job
        return [(pid, path, *_get(conn, path)) for path in paths]

    answers: dict[str, dict[int, list[tuple[int, Any]]]] = {}
    with ThreadPoolExecutor(len(jobs)) as pool:
        for results in pool.map(run, jobs):
            for pid, path, status, body in results:
                answers.setdefault(path, {}).setdefault(pid, []).append((status, body))
    return answers


def _agree(answers: dict[str, dict[int, list[tuple[int, Any]]]], workers: int) -> dict[str, Any]:
    """Each path got one answer, 200, from every worker; the answer by path."""
    agreed: dict[str, Any] = {}
    for path, by_worker in answers.items():
        assert len(by_worker) == workers, path
        distinct = {
            json.dumps(answer, sort_keys=True) for given in by_worker.values() for answer in given
        }
        assert len(distinct) == 1, f"{path}: the workers disagree: {distinct}"
        status, body = next(iter(by_worker.values()))[0]
        assert status == 200, (path, body)
        agreed[path] = body
    return agreed


def test_two_workers_on_one_postgresql_agree(
    tmp_path: Path,
    fresh_postgres_url: str,
    make_spec: Callable[..., ObjectSpec],
    write_file: Callable[[Path, str, bytes], None],
) -> None:
    workspace = tmp_path / "workspace"
    specs = []
    for index in range(20):
        relative = f"published/dataset=demo/submission=s{index % 2}/f{index}.json"
        data = json.dumps({"id": f"P{index}", "n": index}).encode()
        write_file(workspace, relative, data)
        specs.append(make_spec(f"f{index}.json", relative, "application/json", "published", data))
    registry = Registry(fresh_postgres_url)
    registry.create_all()
    registry.register(specs[:10])
    try:
        with serve_drs(workspace, fresh_postgres_url, workers=2) as (base, supervisor):
            port = int(base.rsplit(":", 1)[1])
            workers = _workers(supervisor.pid, 2)
            pinned = _pinned_connections("127.0.0.1", port, workers, per_worker=3)
            paths = [SERVICE_INFO, *(OBJECTS + spec.id for spec in specs[:10])]
            first = _agree(_ask_all(pinned, paths), workers=2)
            assert first[SERVICE_INFO]["drs"]["objectCount"] == 10
            for spec in specs[:10]:
                body = first[OBJECTS + spec.id]
                assert (body["id"], body["size"]) == (spec.id, spec.size)
                assert body["checksums"] == [{"type": "sha-256", "checksum": spec.sha256}]

            registry.register(specs[10:])  # the workers learn of these only through the database

            paths = [SERVICE_INFO, *(OBJECTS + spec.id for spec in specs)]
            second = _agree(_ask_all(pinned, paths), workers=2)
            assert second[SERVICE_INFO]["drs"]["objectCount"] == 20
            assert second[SERVICE_INFO]["drs"]["totalObjectSize"] == sum(s.size for s in specs)
            assert {second[OBJECTS + spec.id]["name"] for spec in specs[10:]} == {
                spec.name for spec in specs[10:]
            }
            for conns in pinned.values():
                for conn in conns:
                    conn.close()
    finally:
        registry.dispose()


def test_a_withdrawal_is_refused_at_once_by_every_worker(
    tmp_path: Path,
    fresh_postgres_url: str,
    make_spec: Callable[..., ObjectSpec],
    write_file: Callable[[Path, str, bytes], None],
) -> None:
    """Both workers have served (and kept the JSON of) an object; right after the
    withdrawal commits, the next request on every connection of every worker is refused,
    and the others are still served (by the fast path: anonymous lookups of public blobs)."""
    workspace = tmp_path / "workspace"
    specs = []
    for index in range(4):
        relative = f"published/dataset=demo/submission=s0/f{index}.json"
        data = json.dumps({"id": f"P{index}"}).encode()
        write_file(workspace, relative, data)
        specs.append(make_spec(f"f{index}.json", relative, "application/json", "published", data))
    registry = Registry(fresh_postgres_url)
    registry.create_all()
    registry.register(specs)
    try:
        with serve_drs(workspace, fresh_postgres_url, workers=2) as (base, supervisor):
            port = int(base.rsplit(":", 1)[1])
            workers = _workers(supervisor.pid, 2)
            pinned = _pinned_connections("127.0.0.1", port, workers, per_worker=2)
            paths = [OBJECTS + spec.id for spec in specs]
            for _ in range(2):  # rendered, then served from what each worker keeps
                _agree(_ask_all(pinned, paths), workers=2)

            with registry.transaction() as conn:
                registry.tombstone(conn, [specs[0].id], "withdrawn")

            answers = _ask_all(pinned, paths)
            for pid, given in answers[paths[0]].items():
                for status, body in given:
                    assert status == 404, (pid, body)
                    assert "was withdrawn" in body["msg"]
            assert len(answers[paths[0]]) == 2
            _agree({path: answers[path] for path in paths[1:]}, workers=2)
            for conns in pinned.values():
                for conn in conns:
                    conn.close()
    finally:
        registry.dispose()
