"""The embedded event bus: an append-only JSON Lines log per topic, in one directory.

Layout under the root directory::

    harmonize.submissions.jsonl            one message a line, offsets 0, 1, 2, ...
    groups/<group>/<topic>.offset          the group's committed offset (next to read)
    groups/<group>/<topic>.lock            held by the group's one active consumer

Each topic has a single partition (0). Appends take an exclusive ``flock`` on the topic
file and ``fsync`` before returning, so concurrent producer processes never interleave.
Like a Kafka partition, a topic is consumed by one member of a group at a time: the member
holds the group's lock until :meth:`LocalEventLog.close` (or until its process dies), and
the next member resumes from the last *committed* offset, so uncommitted messages are
delivered again (at least once).

>>> import tempfile
>>> log = LocalEventLog(Path(tempfile.mkdtemp()))
>>> log.publish("t", b'{"n": 1}', key="s1")
>>> [(m.offset, m.key, m.value) for m in log.consume("t", group="g", timeout_s=0, max_messages=5)]
[(0, 's1', b'{"n": 1}')]
>>> log.close()
"""

from __future__ import annotations

import base64
import fcntl
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from harmonize.errors import ConfigurationError
from harmonize.events.bus import EventBusUnavailable, Message

_NAME = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
_POLL_S = 0.05


def _checked(name: str, what: str) -> str:
    if not _NAME.match(name) or name in (".", ".."):
        raise ConfigurationError(
            f"invalid {what} name {name!r}", hint="use letters, digits, '.', '_' and '-'"
        )
    return name


@dataclass
class _Member:
    """This process's membership of one group on one topic."""

    lock: IO[bytes]
    offset: int  # next offset to hand out
    byte_pos: int  # where that offset's line starts


class LocalEventLog:
    """An :class:`~harmonize.events.bus.EventBus` on the local file system."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EventBusUnavailable(f"event log directory unusable: {exc}") from exc
        self._members: dict[tuple[str, str], _Member] = {}

    def __repr__(self) -> str:
        return f"LocalEventLog({str(self.root)!r})"

    def topic_path(self, topic: str) -> Path:
        return self.root / f"{_checked(topic, 'topic')}.jsonl"

    def _group_dir(self, group: str) -> Path:
        path = self.root / "groups" / _checked(group, "group")
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- producing -------------------------------------------------------------------------

    def publish(
        self,
        topic: str,
        value: bytes,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        record: dict[str, Any] = {
            "timestamp": int(time.time() * 1000),
            "key": key,
            "headers": headers or {},
        }
        try:
            record["value"] = value.decode("utf-8")
        except UnicodeDecodeError:
            record["value_b64"] = base64.b64encode(value).decode("ascii")
        try:
            with self.topic_path(topic).open("a+b") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    record["offset"] = _next_offset(fh)
                    fh.seek(0, os.SEEK_END)
                    fh.write(orjson.dumps(record) + b"\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)
        except OSError as exc:
            raise EventBusUnavailable(f"cannot append to topic {topic!r}: {exc}") from exc

    # -- consuming -------------------------------------------------------------------------

    def committed(self, topic: str, group: str) -> int:
        """The group's committed offset on ``topic`` (0 when it never committed)."""
        path = self._group_dir(group) / f"{_checked(topic, 'topic')}.offset"
        if not path.is_file():
            return 0
        return int(orjson.loads(path.read_bytes())["offset"])

    def end_offset(self, topic: str) -> int:
        """The offset the next published message will get."""
        path = self.topic_path(topic)
        if not path.is_file():
            return 0
        with path.open("rb") as fh:
            return _next_offset(fh)

    def _join(self, topic: str, group: str, deadline: float) -> _Member | None:
        member = self._members.get((group, topic))
        if member is not None:
            return member
        lock = (self._group_dir(group) / f"{_checked(topic, 'topic')}.lock").open("a+b")
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    lock.close()
                    return None  # another member holds the topic: nothing assigned to us
                time.sleep(_POLL_S)
        offset = self.committed(topic, group)
        member = _Member(lock, offset, _byte_position(self.topic_path(topic), offset))
        self._members[(group, topic)] = member
        return member

    def consume(
        self, topic: str, *, group: str, timeout_s: float, max_messages: int
    ) -> list[Message]:
        deadline = time.monotonic() + max(timeout_s, 0.0)
        member = self._join(topic, group, deadline)
        if member is None:
            return []
        path = self.topic_path(topic)
        while True:
            messages = self._read(path, topic, member, max_messages)
            if messages or time.monotonic() >= deadline:
                return messages
            time.sleep(_POLL_S)

    def _read(self, path: Path, topic: str, member: _Member, limit: int) -> list[Message]:
        if not path.is_file() or limit <= 0:
            return []
        out: list[Message] = []
        with path.open("rb") as fh:
            fh.seek(member.byte_pos)
            while len(out) < limit:
                line = fh.readline()
                if not line.endswith(b"\n"):
                    break  # end of log (or a line still being written)
                member.byte_pos += len(line)
                out.append(_message(topic, line))
        if out:
            member.offset = out[-1].offset + 1
        return out

    def commit(self, group: str, messages: list[Message]) -> None:
        latest: dict[str, int] = {}
        for m in messages:
            latest[m.topic] = max(latest.get(m.topic, -1), m.offset)
        for topic, offset in latest.items():
            path = self._group_dir(group) / f"{_checked(topic, 'topic')}.offset"
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(orjson.dumps({"offset": offset + 1}))
            os.replace(tmp, path)

    def close(self) -> None:
        for member in self._members.values():
            member.lock.close()  # closing the file releases the flock
        self._members.clear()


def _message(topic: str, line: bytes) -> Message:
    record = orjson.loads(line)
    value = (
        base64.b64decode(record["value_b64"])
        if "value_b64" in record
        else record["value"].encode("utf-8")
    )
    return Message(
        topic=topic,
        partition=0,
        offset=int(record["offset"]),
        key=record.get("key"),
        value=value,
        headers=dict(record.get("headers") or {}),
    )


def _next_offset(fh: IO[bytes]) -> int:
    """One past the last complete line's offset, reading only the file's tail.

    A torn last line (a writer died mid-append, never acknowledged) is cut off first.
    """
    size = fh.seek(0, os.SEEK_END)
    pos, tail = size, b""
    end = start = -1
    while pos > 0:
        step = min(1 << 16, pos)
        pos -= step
        fh.seek(pos)
        tail = fh.read(step) + tail
        end = tail.rfind(b"\n")
        start = tail.rfind(b"\n", 0, end) if end >= 0 else -1
        if start >= 0:
            break
    complete = pos + end + 1 if end >= 0 else 0
    if complete < size and fh.writable():
        os.truncate(fh.fileno(), complete)
    if end < 0:
        return 0
    return int(orjson.loads(tail[start + 1 : end])["offset"]) + 1


def _byte_position(path: Path, offset: int) -> int:
    """Where the line of ``offset`` starts (the end of the file if it is not written yet)."""
    if not path.is_file() or offset == 0:
        return 0
    pos = 0
    with path.open("rb") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                break
            if int(orjson.loads(line)["offset"]) >= offset:
                return pos
            pos += len(line)
    return pos
