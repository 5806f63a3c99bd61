"""Request guards: bodies over a size limit (413) and encoded slashes in paths (400).

DRS ids and access ids never contain ``/``; an encoded ``%2F`` would be decoded before
routing and could reach another route (``/objects/a%2Fdownload``), so it is refused first.

A declared ``Content-Length`` over the limit is answered at once; a body without one
(chunked) is read up to the limit before the app sees it, and refused past it.
"""

from __future__ import annotations

import json
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]


def _guarded(scope: Scope, prefixes: tuple[str, ...]) -> bool:
    """An HTTP request under one of ``prefixes`` (other features mounted on the same app,
    such as file uploads, keep their own limits)."""
    return scope["type"] == "http" and str(scope.get("path", "")).startswith(prefixes)


class BodyLimit:
    """ASGI middleware: at most ``limit`` bytes of request body under ``prefixes``."""

    def __init__(self, app: Any, limit: int, prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.limit = limit
        self.prefixes = prefixes

    async def _refuse(self, send: Any) -> None:
        body = json.dumps(
            {"msg": f"request body larger than {self.limit} bytes", "status_code": 413}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if not _guarded(scope, self.prefixes):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.limit + 1
                if declared > self.limit:
                    await self._refuse(send)
                    return
        if any(name == b"content-length" for name, _ in scope.get("headers", [])):
            await self.app(scope, receive, send)  # the server stops at Content-Length
            return
        # no declared length (chunked): read up to the limit first, then replay
        chunks: list[bytes] = []
        seen = 0
        more = True
        while more:
            message: Message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # a disconnect: let the app see it
                return
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.limit:
                await self._refuse(send)
                return
            more = bool(message.get("more_body", False))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                message: Message = await receive()
                return message
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


class NoEncodedSlash:
    """ASGI middleware: 400 for a path under ``prefixes`` with ``%2F`` or ``%5C``."""

    def __init__(self, app: Any, prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        raw = (scope.get("raw_path") or b"").lower()
        if _guarded(scope, self.prefixes) and (b"%2f" in raw or b"%5c" in raw):
            body = json.dumps(
                {"msg": "invalid path: ids never contain an encoded slash", "status_code": 400}
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
