"""Mixed load: each *user* is a coroutine looping over request kinds.

A kind is a coroutine ``kind(conn, rng)`` that makes one request on the
user's keep-alive connection (or opens its own) and returns ``(ok, status,
detail)``: ``ok`` only when the answer is exactly what the view promises
(status, length, digest). Every request becomes a :class:`Record`, with the
worker the connection was talking to *before* the request (``pid``), which is
what the fault analysis needs to tell a worker that died from one that did
not. Loops are bounded by time and by a per-request timeout; nothing retries.
"""

import asyncio
import collections
import hashlib
import os
import random
import time

from .client import Connection, multipart

REQUEST_TIMEOUT = 30.0

Record = collections.namedtuple("Record", "user start end kind ok status pid served detail")

# Payloads for uploads, made once: under and over the worker's 1 MiB spool
# (ASYNC_APP_BODY_SPOOL_SIZE) and Django's 2 MiB in-memory upload limit.
UPLOAD_SIZES = (20 * 1024, 300 * 1024, 1536 * 1024, 3 * 1024 * 1024)
_PAYLOADS = {}


def _payload(size):
    if size not in _PAYLOADS:
        data = os.urandom(size)
        _PAYLOADS[size] = (data, "%s %d" % (hashlib.sha256(data).hexdigest(), size))
    return _PAYLOADS[size]


_STREAMS = {}


def expected_stream(chunks, size):
    """The body ``/stream/...?chunks=N&size=B`` must send."""
    key = (chunks, size)
    if key not in _STREAMS:
        _STREAMS[key] = b"".join((b"%08d" % i) * (size // 8) for i in range(chunks))
    return _STREAMS[key]


def _text_check(response, text, status=200):
    ok = response.status == status and response.body == text
    return (
        ok,
        response.status,
        "" if ok else "unexpected %d %r" % (response.status, response.body[:60]),
    )


async def coro(conn, rng):
    """A coroutine view awaiting 0-20 ms."""
    r = await conn.request("GET", "/coro/?delay=%.3f" % rng.uniform(0, 0.02))
    return _text_check(r, b"coro ok")


async def sync(conn, rng):
    """A sync view blocking 0-20 ms in the view pool."""
    r = await conn.request("GET", "/sync/?delay=%.3f" % rng.uniform(0, 0.02))
    return _text_check(r, b"sync ok")


async def _db(conn, path):
    r = await conn.request("GET", path)
    ok = r.status == 200 and r.body.startswith(b"db ok ")
    return ok, r.status, "" if ok else "unexpected %d %r" % (r.status, r.body[:60])


async def db_sync(conn, rng):
    """ORM INSERT + SELECT from a sync view."""
    return await _db(conn, "/db/sync/")


async def db_coro(conn, rng):
    """ORM INSERT + SELECT from a coroutine view (database_sync_to_async)."""
    return await _db(conn, "/db/coro/")


async def _stream(conn, flavour, chunks, size, **read):
    r = await conn.request("GET", "/stream/%s/?chunks=%d&size=%d" % (flavour, chunks, size), **read)
    ok = r.status == 200 and r.body == expected_stream(chunks, size)
    return ok, r.status, "" if ok else "stream: %d, %d bytes" % (r.status, len(r.body))


async def stream_sync(conn, rng):
    """A 256 KiB StreamingHttpResponse over a sync generator."""
    return await _stream(conn, "sync", 64, 4096)


async def stream_async(conn, rng):
    """A 256 KiB StreamingHttpResponse over an async generator."""
    return await _stream(conn, "async", 64, 4096)


async def upload(conn, rng):
    """A multipart file upload of 20 KiB to 3 MiB; the view returns its SHA-256."""
    data, answer = _payload(rng.choice(UPLOAD_SIZES))
    content_type, body = multipart("file", "soak.bin", data)
    r = await conn.request("POST", "/upload/", body, headers=[("Content-Type", content_type)])
    return _text_check(r, answer.encode())


async def upload_chunked(conn, rng):
    """A raw chunked body of 20 KiB or 1.5 MiB (no Content-Length)."""
    data, answer = _payload(rng.choice(UPLOAD_SIZES[:3]))
    r = await conn.request(
        "POST",
        "/upload/",
        data,
        chunked=True,
        headers=[("Content-Type", "application/octet-stream")],
    )
    return _text_check(r, answer.encode())


async def slow_client(conn, rng):
    """Its own connection: headers in 8-byte pieces, a stream read 4 KiB at a time."""
    slow = Connection(conn.host, conn.port, limit=4096)
    await slow.open()
    try:
        return await _stream(
            slow,
            rng.choice(("sync", "async")),
            64,
            4096,
            send_piece=8,
            send_pause=0.01,
            read_piece=4096,
            read_pause=0.005,
        )
    finally:
        slow.close()


async def slow_upload(conn, rng):
    """Its own connection: a 300 KiB upload sent 16 KiB every 10 ms."""
    slow = Connection(conn.host, conn.port)
    await slow.open()
    try:
        data, answer = _payload(UPLOAD_SIZES[1])
        content_type, body = multipart("file", "slow.bin", data)
        r = await slow.request(
            "POST",
            "/upload/",
            body,
            headers=[("Content-Type", content_type)],
            send_piece=16384,
            send_pause=0.01,
        )
        return _text_check(r, answer.encode())
    finally:
        slow.close()


async def _hang_up(conn, head, body=b"", wait=0.0, read=0, started=None):
    gone = Connection(conn.host, conn.port)
    await gone.open()
    try:
        await gone.send(head + body)
        if read:
            await gone.reader.readexactly(read)
        if started is not None:
            await _until_exists(started)
        await asyncio.sleep(wait)
    finally:
        gone.close()
    return True, 0, ""


async def _until_exists(path, timeout=REQUEST_TIMEOUT):
    """Wait until the file ``path`` exists (then remove it) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.unlink(path)
            return
        except FileNotFoundError:
            await asyncio.sleep(0.005)


def _head(conn, method, path, extra=""):
    return (
        "%s %s HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n" % (method, path, conn.host, conn.port, extra)
    ).encode()


async def gone_waiting(conn, rng):
    """Hang up while a coroutine view awaits (it must be cancelled).

    The view marks its start with a file (``SOAK_MARK_DIR``), and the client
    hangs up only after it: a client that closes before the view starts, or
    as the server reads the request (on a busy machine both can happen
    whatever the client waits), is answered as a half-close
    (docs/worker.md), and its view runs to its end by design.
    """
    mark = "%016x" % rng.getrandbits(64)
    started = os.path.join(os.environ["SOAK_MARK_DIR"], mark)
    return await _hang_up(
        conn,
        _head(conn, "GET", "/coro/?delay=2&mark=" + mark),
        wait=rng.uniform(0.02, 0.2),
        started=started,
    )


async def gone_streaming(conn, rng):
    """Hang up after 64 KiB of a 16 MiB async stream (it must be closed)."""
    return await _hang_up(
        conn, _head(conn, "GET", "/stream/async/?chunks=1024&size=16384"), read=65536
    )


async def gone_uploading(conn, rng):
    """Hang up after 100 KiB of a 1 MiB request body."""
    return await _hang_up(
        conn,
        _head(
            conn,
            "POST",
            "/upload/",
            "Content-Type: application/octet-stream\r\nContent-Length: 1048576\r\n",
        ),
        os.urandom(100 * 1024),
        wait=0.05,
    )


KINDS = {
    f.__name__: f
    for f in (
        coro,
        sync,
        db_sync,
        db_coro,
        stream_sync,
        stream_async,
        upload,
        upload_chunked,
        slow_client,
        slow_upload,
        gone_waiting,
        gone_streaming,
        gone_uploading,
    )
}
HANG_UPS = ("gone_waiting", "gone_streaming", "gone_uploading")

# The soak's mix (weights); the faults use narrower ones.
MIX = {
    "coro": 30,
    "sync": 20,
    "db_sync": 10,
    "db_coro": 10,
    "stream_sync": 5,
    "stream_async": 5,
    "upload": 4,
    "upload_chunked": 3,
    "slow_client": 2,
    "slow_upload": 1,
    "gone_waiting": 3,
    "gone_streaming": 1,
    "gone_uploading": 1,
}


class Load:
    """Users hitting ``host:port`` with a mix until ``stop()`` or their deadline."""

    def __init__(self, host, port, seed=11):
        self.host = host
        self.port = port
        self.records = []
        self.reopened = 0  # connections found closed by the server before reuse
        self.seed = seed
        self._stopping = False
        self._tasks = []

    def start(self, users, mix, deadline, think=0.01):
        """Start ``users`` users picking kinds from ``mix`` until ``deadline`` (monotonic)."""
        kinds = sorted(mix)
        weights = [mix[k] for k in kinds]
        for _ in range(users):
            rng = random.Random(self.seed)
            self.seed += 1
            self._tasks.append(
                asyncio.ensure_future(
                    self._user(len(self._tasks), rng, kinds, weights, deadline, think)
                )
            )

    def stop(self):
        """Ask every user to finish its current request and stop."""
        self._stopping = True

    async def wait(self):
        """Wait for every user to stop (each is bounded by its deadline)."""
        if self._tasks:
            await asyncio.gather(*self._tasks)
        self._tasks = []
        self._stopping = False

    async def _user(self, user, rng, kinds, weights, deadline, think):
        conn = Connection(self.host, self.port)
        while not self._stopping and time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            pid = conn.pid if not conn.closed and conn.usable() else None
            start = time.monotonic()
            try:
                ok, status, detail = await asyncio.wait_for(KINDS[kind](conn, rng), REQUEST_TIMEOUT)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                ok, status, detail = False, 0, "%s: %s" % (type(exc).__name__, exc)
            served = conn.pid if ok else None
            if not ok:
                conn.close()
            self.records.append(
                Record(user, start, time.monotonic(), kind, ok, status, pid, served, detail)
            )
            if not ok:
                self.reopened += conn.reopened
                conn = Connection(self.host, self.port)
            if think:
                await asyncio.sleep(rng.uniform(0, 2 * think))
        conn.close()
        self.reopened += conn.reopened


def summarize(records):
    """Per kind: requests, failures, p50/p99/max latency (ms), first failure details."""
    by_kind = collections.OrderedDict()
    for kind in sorted({r.kind for r in records}):
        rows = [r for r in records if r.kind == kind]
        lat = sorted(r.end - r.start for r in rows)
        failed = [r for r in rows if not r.ok]
        by_kind[kind] = {
            "requests": len(rows),
            "failed": len(failed),
            "p50_ms": round(1000 * percentile(lat, 50), 1),
            "p99_ms": round(1000 * percentile(lat, 99), 1),
            "max_ms": round(1000 * lat[-1], 1) if lat else 0.0,
            "errors": sorted(collections.Counter(r.detail for r in failed).items())[:5],
        }
    return by_kind


def percentile(sorted_values, pct):
    """The ``pct``-th percentile (nearest rank) of an already sorted list."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, int(round(pct / 100.0 * len(sorted_values))) - 1))
    return sorted_values[rank]
