"""async_app.server.response: start_response, framing and keep-alive, on a fake transport.

Table-driven, as uvicorn tests its protocols: each case is the request line
the response answers, what the application passes to ``start_response`` and
its body chunks, and the bytes expected on the wire.
"""

import asyncio

import pytest

from async_app.server.response import Response


class FakeTransport:
    """Collects what is written; never closing, never full."""

    def __init__(self):
        self.data = b""

    def write(self, data):
        self.data += data

    def is_closing(self):
        return False

    def get_write_buffer_size(self):
        return 0


class FakeProtocol:
    def __init__(self):
        self.transport = FakeTransport()


class FakeWriter:
    async def drain(self):
        return None


class FakeRequest:
    """What Response reads of aiohttp's request."""

    def __init__(self, method="GET", version=(1, 1)):
        self.method = method
        self.version = version
        self.protocol = FakeProtocol()
        self.writer = FakeWriter()


class FakeWorker:
    def __init__(self, alive=True):
        self.alive = alive


def respond(
    method, version, status, headers, chunks, keep_alive=True, alive=True, all_at_once=False
):
    """Run one response; return (head lines, body bytes, keep_alive after)."""
    request = FakeRequest(method, version)
    resp = Response(request, keep_alive, None, FakeWorker(alive))

    async def go():
        resp.start_response(status, headers)
        if all_at_once:
            await resp.write_all(chunks)
            return
        for chunk in chunks:
            await resp.write(chunk)
        await resp.finish()

    asyncio.run(go())
    head, _, body = request.protocol.transport.data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    return lines, body, resp.keep_alive


def _without_date(lines):
    return [line for line in lines if not line.startswith("Date: ")]


CT = ("Content-Type", "text/plain")
SERVER = "Server: gunicorn"

# (id, method, version, status, headers, chunks, request keep-alive,
#  expected head lines (Date aside), expected body, keep-alive after)
CASES = [
    (
        "length-11",
        "GET",
        (1, 1),
        "200 OK",
        [CT, ("Content-Length", "5")],
        [b"he", b"llo"],
        True,
        ["HTTP/1.1 200 OK", "Content-Type: text/plain", "Content-Length: 5", SERVER],
        b"hello",
        True,
    ),
    (
        "chunked-11",
        "GET",
        (1, 1),
        "200 OK",
        [CT],
        [b"he", b"llo"],
        True,
        ["HTTP/1.1 200 OK", "Content-Type: text/plain", "Transfer-Encoding: chunked", SERVER],
        b"2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n",
        True,
    ),
    (
        "no-length-10-closes",
        "GET",
        (1, 0),
        "200 OK",
        [CT],
        [b"hello"],
        True,
        ["HTTP/1.0 200 OK", "Content-Type: text/plain", SERVER],
        b"hello",
        False,
    ),
    (
        "keep-alive-10",
        "GET",
        (1, 0),
        "200 OK",
        [("Content-Length", "2")],
        [b"ok"],
        True,
        ["HTTP/1.0 200 OK", "Content-Length: 2", SERVER, "Connection: keep-alive"],
        b"ok",
        True,
    ),
    (
        "close-11",
        "GET",
        (1, 1),
        "200 OK",
        [("Content-Length", "2")],
        [b"ok"],
        False,
        ["HTTP/1.1 200 OK", "Content-Length: 2", SERVER, "Connection: close"],
        b"ok",
        False,
    ),
    (
        "head-keeps-length",
        "HEAD",
        (1, 1),
        "200 OK",
        [("Content-Length", "5")],
        [b"hello"],
        True,
        ["HTTP/1.1 200 OK", "Content-Length: 5", SERVER],
        b"",
        True,
    ),
    (
        "head-no-length-not-chunked",
        "HEAD",
        (1, 1),
        "200 OK",
        [CT],
        [b"hello"],
        True,
        ["HTTP/1.1 200 OK", "Content-Type: text/plain", SERVER],
        b"",
        True,
    ),
    (
        "204-drops-length",
        "GET",
        (1, 1),
        "204 No Content",
        [("Content-Length", "3")],
        [b"abc"],
        True,
        ["HTTP/1.1 204 No Content", SERVER],
        b"",
        True,
    ),
    (
        "304-no-body",
        "GET",
        (1, 1),
        "304 Not Modified",
        [("ETag", '"x"')],
        [b"abc"],
        True,
        ["HTTP/1.1 304 Not Modified", 'ETag: "x"', SERVER],
        b"",
        True,
    ),
    (
        "short-body-closes",
        "GET",
        (1, 1),
        "200 OK",
        [("Content-Length", "10")],
        [b"abc"],
        True,
        ["HTTP/1.1 200 OK", "Content-Length: 10", SERVER],
        b"abc",
        False,
    ),
    (
        "long-body-clipped",
        "GET",
        (1, 1),
        "200 OK",
        [("Content-Length", "3")],
        [b"ab", b"cdef"],
        True,
        ["HTTP/1.1 200 OK", "Content-Length: 3", SERVER],
        b"abc",
        True,
    ),
    (
        "hop-by-hop-dropped",
        "GET",
        (1, 1),
        "200 OK",
        [
            ("Connection", "keep-alive"),
            ("Transfer-Encoding", "chunked"),
            ("Upgrade", "h2c"),
            ("Content-Length", "2"),
        ],
        [b"ok"],
        True,
        ["HTTP/1.1 200 OK", "Content-Length: 2", SERVER],
        b"ok",
        True,
    ),
    (
        "app-server-kept",
        "GET",
        (1, 1),
        "200 OK",
        [("Server", "mine"), ("Content-Length", "0")],
        [],
        True,
        ["HTTP/1.1 200 OK", "Server: mine", "Content-Length: 0"],
        b"",
        True,
    ),
    (
        "value-trimmed",
        "GET",
        (1, 1),
        "200 OK",
        [("X-A", " padded\t"), ("Content-Length", "0")],
        [],
        True,
        ["HTTP/1.1 200 OK", "X-A: padded", "Content-Length: 0", SERVER],
        b"",
        True,
    ),
    (
        "empty-chunks-skipped",
        "GET",
        (1, 1),
        "200 OK",
        [CT],
        [b"", b"x", b""],
        True,
        ["HTTP/1.1 200 OK", "Content-Type: text/plain", "Transfer-Encoding: chunked", SERVER],
        b"1\r\nx\r\n0\r\n\r\n",
        True,
    ),
    (
        "latin-1-value",
        "GET",
        (1, 1),
        "200 OK",
        [("X-Name", "caf\xe9"), ("Content-Length", "0")],
        [],
        True,
        ["HTTP/1.1 200 OK", "X-Name: caf\xe9", "Content-Length: 0", SERVER],
        b"",
        True,
    ),
]


@pytest.mark.parametrize("all_at_once", [False, True], ids=["write", "write_all"])
@pytest.mark.parametrize(
    "method,version,status,headers,chunks,keep_alive,head,body,keep_alive_after",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_framing_and_keep_alive(
    method, version, status, headers, chunks, keep_alive, head, body, keep_alive_after, all_at_once
):
    lines, got_body, got_keep_alive = respond(
        method, version, status, headers, chunks, keep_alive, all_at_once=all_at_once
    )
    if all_at_once and "Transfer-Encoding: chunked" in head:
        # write_all() sends an in-memory body as one chunk.
        joined = b"".join(chunks)
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(joined), joined)
    assert _without_date(lines) == head
    assert len(lines) - len(_without_date(lines)) == (
        0 if any(n.lower() == "date" for n, _ in headers) else 1
    )
    assert got_body == body
    assert got_keep_alive is keep_alive_after


def test_a_stopping_worker_closes_the_connection():
    lines, body, keep_alive = respond(
        "GET", (1, 1), "200 OK", [("Content-Length", "2")], [b"ok"], alive=False
    )
    assert "Connection: close" in lines and keep_alive is False and body == b"ok"


def test_a_connection_closing_after_the_response_says_so():
    """A client that half-closed while its last request ran gets ``Connection: close``."""
    request = FakeRequest()
    request.protocol._close = True  # what aiohttp's RequestHandler.close() sets
    resp = Response(request, True, None, FakeWorker())

    async def go():
        resp.start_response("200 OK", [("Content-Length", "2")])
        await resp.write_all([b"ok"])

    asyncio.run(go())
    head = request.protocol.transport.data.partition(b"\r\n\r\n")[0].decode("latin-1")
    assert "Connection: close" in head.split("\r\n") and resp.keep_alive is False


def test_head_and_first_chunk_go_out_in_one_write():
    request = FakeRequest()
    writes = []
    request.protocol.transport.write = writes.append
    resp = Response(request, True, None, FakeWorker())

    async def go():
        resp.start_response("200 OK", [("Content-Length", "5")])
        assert writes == []  # nothing before the first body bytes (PEP 3333)
        await resp.write(b"hello")
        await resp.finish()

    asyncio.run(go())
    assert len(writes) == 1 and writes[0].endswith(b"\r\n\r\nhello")


# (id, status, headers, exception): what start_response refuses.
REFUSED = [
    ("crlf-in-value", "200 OK", [("X-Evil", "a\r\nSet-Cookie: x=1")], ValueError),
    ("lf-in-value", "200 OK", [("X-Evil", "a\nb")], ValueError),
    ("nul-in-value", "200 OK", [("X-Evil", "a\x00b")], ValueError),
    ("space-in-name", "200 OK", [("X Evil", "1")], ValueError),
    ("colon-in-name", "200 OK", [("X-Evil:", "1")], ValueError),
    ("crlf-in-status", "200 OK\r\nX-Evil: 1", [], ValueError),
    ("short-status", "20 OK", [], ValueError),
    ("bytes-status", b"200 OK", [], TypeError),
    ("bytes-name", "200 OK", [(b"X-A", "1")], TypeError),
    ("bytes-value", "200 OK", [("X-A", b"1")], TypeError),
    ("bad-length", "200 OK", [("Content-Length", "-1")], ValueError),
    ("non-latin-1", "200 OK", [("X-A", "\u20ac")], ValueError),
]


@pytest.mark.parametrize(
    "status,headers,exc", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_start_response_refuses_what_could_split_the_response(status, headers, exc):
    resp = Response(FakeRequest(), True, None, FakeWorker())
    with pytest.raises(exc):
        resp.start_response(status, headers)
    assert resp.status is None


def test_start_response_twice_needs_exc_info():
    resp = Response(FakeRequest(), True, None, FakeWorker())
    resp.start_response("200 OK", [])
    with pytest.raises(AssertionError):
        resp.start_response("500 Internal Server Error", [])
    try:
        raise RuntimeError("app failed")
    except RuntimeError:
        import sys

        resp.start_response("500 Internal Server Error", [], sys.exc_info())
    assert resp.status_code == 500


def test_send_error_is_a_small_closing_text_response():
    request = FakeRequest()
    resp = Response(request, True, None, FakeWorker())
    asyncio.run(resp.send_error(431, "Request Header Fields Too Large", "too many"))
    data = request.protocol.transport.data
    assert data.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"Connection: close\r\n" in data and data.endswith(b"\r\n\r\ntoo many\n")
    assert resp.keep_alive is False
