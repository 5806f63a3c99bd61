"""The hot path: ``GET /objects/{id}`` of a live public blob, answered without FastAPI.

:class:`FastLookup` is the outermost ASGI middleware of the DRS app. It takes only the
requests whose answer it can give exactly as the FastAPI route would: ``GET``, no query
string, no ``Authorization`` header, no body, a plain path id (no percent escapes). For
those it reads the object's row from the registry, on every request, in one indexed
query (PostgreSQL: a prepared statement on a psycopg connection kept per worker process;
other back ends: :meth:`Registry.get`), and when the row is a live public blob it sends
the rendered ``DrsObject`` JSON, kept per worker and keyed by every column it shows and
by the links. Everything else is left to the app, untouched: unknown, controlled,
deleted, withdrawn and bundle objects, credentials, errors of the registry (the app
answers them with its own read). A withdrawn or deleted object is therefore refused at
once by every worker, as before: nothing about a row is ever served from memory without
reading the row first.

The PostgreSQL read blocks the event loop for one round trip (a primary-key lookup), which
costs less than the thread hop the route would take. A failed read drops the connection
and leaves requests to the app for :data:`RETRY_AFTER` seconds before reconnecting, so a
registry that cannot be reached never stalls the loop for more than its timeouts.
"""

from __future__ import annotations

import json
import re
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url
from starlette.requests import Request

from harmonize.drs.config import DrsSettings
from harmonize.drs.links import API_PREFIX, Links
from harmonize.drs.models import DrsObjectRow
from harmonize.drs.registry import Registry
from harmonize.drs.render import blob_json, describe_blob
from harmonize.drs.stores import S3Store
from harmonize.drs.uris import local_id

Scope = dict[str, Any]

PATH_PREFIX = f"{API_PREFIX}/objects/"
_PLAIN_ID = re.compile(r"[A-Za-z0-9._~:-]{1,255}")  # the route's check, without a trailing \n
_PASS_HEADERS = frozenset({b"authorization", b"content-length", b"transfer-encoding"})
RETRY_AFTER = 1.0  # seconds the fast path stays off after a failed read
CONNECT_TIMEOUT = 5  # seconds; the loop waits at most this long for a new connection
STATEMENT_TIMEOUT_MS = 2000  # and this long for a lookup
KEPT = 50_000  # rendered blobs per worker process (about 1 kB each)
HOSTS_KEPT = 64  # distinct Host headers remembered (links), then forgotten

# the row's columns the answer depends on: shown, or deciding whether it may be shown
COLUMNS = (
    "id",
    "name",
    "description",
    "size",
    "created_time",
    "updated_time",
    "version",
    "mime_type",
    "sha256",
    "path",
    "aliases",
    "superseded_by",
    "is_bundle",
    "access",
    "dataset",
    "deleted",
)
_ALIASES = COLUMNS.index("aliases")
_QUERY = (
    "SELECT "
    + ", ".join("aliases::text" if column == "aliases" else column for column in COLUMNS)
    + " FROM drs_objects WHERE id = %s"
)

Row = tuple[Any, ...]  # the values of COLUMNS (PostgreSQL: aliases as JSON text)


@dataclass
class FastLookupStats:
    """What the fast path did in this process (for tests and for curiosity)."""

    served: int = 0  # answered here
    passed: int = 0  # left to the app
    failures: int = 0  # registry reads that failed (then left to the app)


class _PostgresRows:
    """One psycopg connection per worker process, autocommit, the lookup prepared."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        args: dict[str, Any] = parsed.translate_connect_args(username="user", database="dbname")
        args.update({key: str(value) for key, value in parsed.query.items()})
        args.setdefault("connect_timeout", str(CONNECT_TIMEOUT))
        timeout = f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
        args["options"] = f"{args['options']} {timeout}" if args.get("options") else timeout
        self._args = args
        self._conn: Any = None

    def fetch(self, object_id: str) -> Row | None:
        if self._conn is None or self._conn.closed:
            import psycopg

            self._conn = psycopg.connect(autocommit=True, **self._args)
        try:
            row: Row | None = self._conn.execute(_QUERY, (object_id,), prepare=True).fetchone()
        except Exception:
            self.close()
            raise
        return row

    @staticmethod
    def to_model(row: Row) -> DrsObjectRow:
        values = dict(zip(COLUMNS, row, strict=True))
        values["aliases"] = json.loads(row[_ALIASES]) if row[_ALIASES] is not None else []
        return DrsObjectRow(**values)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):  # a broken connection is being dropped anyway
                conn.close()


class _RegistryRows:
    """Any back end (SQLite embedded): the registry's own read."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._last: DrsObjectRow | None = None  # the model of the row just read, for a miss

    def fetch(self, object_id: str) -> Row | None:
        found = self._last = self._registry.get(object_id)
        if found is None:
            return None
        values = tuple(getattr(found, column) for column in COLUMNS)
        return (*values[:_ALIASES], tuple(values[_ALIASES] or ()), *values[_ALIASES + 1 :])

    def to_model(self, row: Row) -> DrsObjectRow:
        assert self._last is not None and self._last.id == row[0]
        return self._last

    def close(self) -> None:
        self._last = None


class FastPath:
    """The per-app state of the fast path: the row reader, the rendered JSON, the links."""

    def __init__(self, settings: DrsSettings, registry: Registry, s3: S3Store | None) -> None:
        self.settings = settings
        self.root = settings.workspace.resolve()
        self.s3 = s3
        self.stats = FastLookupStats()
        self.rows: _PostgresRows | _RegistryRows = (
            _PostgresRows(registry.url)
            if make_url(registry.url).get_backend_name() == "postgresql"
            else _RegistryRows(registry)
        )
        self._off_until = 0.0
        self._rendered: dict[tuple[Row, Links], bytes] = {}
        self._links: dict[tuple[Any, ...], Links] = {}
        configured = settings.hostname is not None and settings.public_url is not None
        self._fixed_links = (
            Links(
                host=settings.hostname or "",
                base_url=settings.public_url or "",
                compact_prefix=settings.compact_prefix,
            )
            if configured
            else None
        )

    def answer(self, scope: Scope) -> bytes | None:
        """The JSON to send, or None to leave the request to the app."""
        path: str = scope["path"]
        if (
            scope["method"] != "GET"
            or scope["query_string"]
            or not path.startswith(PATH_PREFIX)
            or scope.get("root_path")
            or b"%" in (scope.get("raw_path") or b"%")
            or not _PLAIN_ID.fullmatch(path, len(PATH_PREFIX))
            or any(name in _PASS_HEADERS for name, _ in scope["headers"])
        ):
            return None
        object_id = local_id(path[len(PATH_PREFIX) :], self.settings.compact_prefix)
        if not _PLAIN_ID.fullmatch(object_id) or time.monotonic() < self._off_until:
            self.stats.passed += 1
            return None
        try:
            row = self.rows.fetch(object_id)
        except Exception:  # the app reads again and answers (500 when it fails too)
            self.stats.failures += 1
            self._off_until = time.monotonic() + RETRY_AFTER
            return None
        # only a live public blob; decide() opens those to anyone (see harmonize.drs.auth)
        if row is None or row[-3] != "public" or row[-1] or row[-4]:
            self.stats.passed += 1
            return None
        links = self._fixed_links or self._request_links(scope)
        key = (row, links)
        body = self._rendered.get(key)
        if body is None:
            model = self.rows.to_model(row)
            body = blob_json(
                describe_blob(
                    model,
                    links,
                    self.root,
                    expose_files=self.settings.expose_file_urls,
                    s3=self.s3,
                )
            )
            if len(self._rendered) >= KEPT:
                self._rendered.clear()
            self._rendered[key] = body
        self.stats.served += 1
        return body

    def _request_links(self, scope: Scope) -> Links:
        """The links :func:`harmonize.drs.deps.get_links` makes for this request."""
        host = next((value for name, value in scope["headers"] if name == b"host"), None)
        server = scope.get("server")
        key = (scope.get("scheme"), tuple(server) if server else None, host)
        links = self._links.get(key)
        if links is None:
            request = Request(scope)
            links = Links(
                host=self.settings.hostname or request.url.netloc,
                base_url=self.settings.public_url or str(request.base_url),
                compact_prefix=self.settings.compact_prefix,
            )
            if len(self._links) >= HOSTS_KEPT:
                self._links.clear()
            self._links[key] = links
        return links

    def close(self) -> None:
        self.rows.close()


class FastLookup:
    """ASGI middleware: anonymous ``GET /objects/{id}`` of live public blobs (see module)."""

    def __init__(self, app: Any, *, fast: FastPath) -> None:
        self.app = app
        self.fast = fast

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        body = self.fast.answer(scope) if scope["type"] == "http" else None
        if body is None:
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
