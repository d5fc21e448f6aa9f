"""Small WSGI apps that tests/test_worker.py serves with real gunicorn processes.

``sync_app`` is a plain PEP 3333 application (run in the worker's thread
pool); ``coro_app`` is an object with ``async def __call__(environ,
start_response)`` (awaited on the worker's loop). Both route on PATH_INFO and
take their parameters from the query string. ``validated_app`` is
``sync_app`` behind ``wsgiref.validate``; ``echo_app`` answers every request
with what it saw.

Events the tests need to observe from outside the server process (a view
cancelled, a body closed) are appended as lines to ``$WORKER_APPS_EVENTS``.
"""

import asyncio
import io
import json
import os
import time
from urllib.parse import parse_qs
from wsgiref.validate import check_environ, validator


def _params(environ):
    return {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}


def record(event):
    """Append one line to the events file (if the test asked for one)."""
    path = os.environ.get("WORKER_APPS_EVENTS")
    if path:
        with open(path, "a") as f:
            f.write("%s %d\n" % (event, os.getpid()))


def record_body_read(stream, name):
    """Read all of ``stream``; record ``read-NAME-LENGTH``, or ``read-error-NAME``."""
    try:
        data = stream.read()
    except ValueError:  # "I/O operation on closed file"
        record("read-error-%s" % name)
        raise
    record("read-%s-%d" % (name, len(data)))


def _jsonable_environ(environ):
    return {k: v for k, v in environ.items() if isinstance(v, (str, int, bool))}


def _text(start_response, text, status="200 OK", extra=()):
    body = text.encode("utf-8")
    start_response(
        status,
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
        + list(extra),
    )
    return [body]


def _json(start_response, data):
    body = json.dumps(data, sort_keys=True).encode("utf-8")
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


class ClosingIterable:
    """A sync body that records when it is closed (and from which thread)."""

    def __init__(self, chunks, name):
        self.chunks = chunks
        self.name = name

    def __iter__(self):
        for chunk in self.chunks:
            yield chunk

    def close(self):
        record("closed-%s" % self.name)


def sync_app(environ, start_response):
    """A plain WSGI app: the gthread-style code path of the worker."""
    path = environ["PATH_INFO"]
    params = _params(environ)
    if path == "/":
        return _text(start_response, "hello sync")
    if path == "/sleep":
        time.sleep(float(params.get("s", "1")))
        return _text(start_response, "slept")
    if path.startswith("/environ"):
        return _json(start_response, _jsonable_environ(environ))
    if path == "/check-environ":
        check_environ(environ)
        return _text(start_response, "environ ok")
    if path == "/echo":
        # read(n) as wsgiref.validate demands; CONTENT_LENGTH is set for chunked bodies too.
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        return _text(
            start_response,
            "%d %s" % (len(body), body[:64].decode("latin-1")),
            extra=[("X-Content-Length", environ.get("CONTENT_LENGTH", "-"))],
        )
    if path == "/slow-read":
        # Reads its body only after a while (the client may be gone by then).
        time.sleep(float(params.get("s", "1")))
        record_body_read(environ["wsgi.input"], params.get("name", "x"))
        return _text(start_response, "read")
    if path == "/errors":
        environ["wsgi.errors"].write("note-for-the-error-log\n")
        environ["wsgi.errors"].flush()
        return _text(start_response, "logged")
    if path == "/echo-lines":
        lines = list(environ["wsgi.input"])
        return _text(start_response, "%d lines" % len(lines))
    if path == "/stream":
        # No Content-Length: chunked on HTTP/1.1, each chunk flushed.
        n = int(params.get("n", "5"))
        delay = float(params.get("delay", "0"))
        start_response("200 OK", [("Content-Type", "text/plain")])

        def gen():
            for i in range(n):
                if delay:
                    time.sleep(delay)
                yield ("chunk %d\n" % i).encode()

        return gen()
    if path == "/big":
        size = int(params.get("size", str(4 * 1024 * 1024)))
        start_response(
            "200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))]
        )

        def gen():
            left = size
            while left > 0:
                yield b"x" * min(left, 65536)  # a new object each time
                left -= 65536

        return gen()
    if path == "/buffers":
        # What an in-memory upload costs a view thread: a BytesIO grown 64 KiB
        # at a time (Django's MemoryFileUploadHandler), then one copy of it.
        size = int(params.get("size", str(1024 * 1024)))
        buffer = io.BytesIO()
        chunk = os.urandom(65536)
        for _ in range(size // len(chunk)):
            buffer.write(chunk)
        data = buffer.getvalue()
        time.sleep(float(params.get("hold", "0")))
        return _text(start_response, "%d" % len(data))
    if path == "/closing":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ClosingIterable([b"a", b"b", b"c"], params.get("name", "sync"))
    if path == "/file":
        here = os.path.abspath(__file__)
        f = open(here, "rb")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](f, 4096)
    if path == "/write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        return [b"then returned"]
    if path == "/crlf":
        return _text(start_response, "nope", extra=[("X-Evil", "a\r\nSet-Cookie: pwned=1")])
    if path == "/bad-status":
        start_response("200 OK\r\nX-Evil: 1", [])
        return [b""]
    if path == "/error":
        raise RuntimeError("boom")
    if path == "/short":
        start_response("200 OK", [("Content-Length", "100")])
        return [b"only ten b"]
    if path == "/no-content":
        start_response("204 No Content", [])
        return []
    if path == "/awaitable":
        # A sync app may hand back an awaitable: awaited on the worker's loop.
        async def later():
            await asyncio.sleep(0.01)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"awaited"]

        return later()
    return _text(start_response, "not found", status="404 Not Found")


validated_app = validator(sync_app)


def echo_app(environ, start_response):
    """What the application saw: the environ's strings and the whole body, as JSON.

    Serves tests/test_http_conformance.py (gunicorn's request corpus).
    """
    body = environ["wsgi.input"].read()
    return _json(
        start_response, {"environ": _jsonable_environ(environ), "body": body.decode("latin-1")}
    )


class AsyncBody:
    """An async iterable body with ``aclose``."""

    def __init__(self, n, delay, name):
        self.n, self.delay, self.name = n, delay, name

    def __aiter__(self):
        return self._gen()

    async def _gen(self):
        for i in range(self.n):
            if self.delay:
                await asyncio.sleep(self.delay)
            yield ("async %d\n" % i).encode()

    async def aclose(self):
        record("aclosed-%s" % self.name)


class CoroApp:
    """An app object whose ``__call__`` is a coroutine function."""

    async def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        params = _params(environ)
        if path == "/":
            return _text(start_response, "hello coro")
        if path == "/sleep":
            await asyncio.sleep(float(params.get("s", "1")))
            return _text(start_response, "slept")
        if path == "/block":
            # Blocks the event loop: the heartbeat stops.
            time.sleep(float(params.get("s", "60")))
            return _text(start_response, "blocked")
        if path.startswith("/environ"):
            return _json(start_response, _jsonable_environ(environ))
        if path == "/check-environ":
            check_environ(environ)
            return _text(start_response, "environ ok")
        if path == "/echo":
            body = environ["wsgi.input"].read()
            return _text(
                start_response,
                "%d %s" % (len(body), body[:64].decode("latin-1")),
                extra=[("X-Content-Length", environ.get("CONTENT_LENGTH", "-"))],
            )
        if path == "/cancel":
            name = params.get("name", "x")
            try:
                await asyncio.sleep(float(params.get("s", "5")))
            except asyncio.CancelledError:
                record("cancelled-%s" % name)
                raise
            finally:
                record("finally-%s" % name)
            return _text(start_response, "not cancelled")
        if path == "/aiter":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return AsyncBody(
                int(params.get("n", "3")),
                float(params.get("delay", "0")),
                params.get("name", "aiter"),
            )
        if path == "/closing":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return ClosingIterable([b"x", b"y"], params.get("name", "coro"))
        if path == "/big":
            size = int(params.get("size", str(4 * 1024 * 1024)))
            start_response(
                "200 OK",
                [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))],
            )

            async def gen():
                left = size
                while left > 0:
                    yield b"x" * min(left, 65536)
                    left -= 65536

            return gen()
        if path == "/pid":
            return _text(start_response, str(os.getpid()))
        if path == "/error":
            raise RuntimeError("boom")
        return _text(start_response, "not found", status="404 Not Found")


coro_app = CoroApp()
