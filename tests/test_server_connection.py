"""async_app.server.connection on real sockets: half-closing clients, chunked trailers.

A real gunicorn with AiohttpWorker serving ``echo_app`` (what the application
saw, as JSON); the same bytes gunicorn's own workers were tried with
(docs/worker.md).
"""

import asyncio
import json
import socket
import time

import pytest

ECHO_APP = "tests.apps.worker_apps:echo_app"
CHUNKED_HEAD = b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"


@pytest.fixture(scope="module")
def echo_server():
    from tests.gunicorn_fixture import GunicornServer

    server = GunicornServer(ECHO_APP, threads=2)
    server.start()
    yield server
    server.stop()


def _responses(sock, timeout=5.0):
    """Everything the server sends until it closes: [(status, headers, body)]."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except ConnectionError:
            break
        if not chunk:
            break
        data += chunk
    out = []
    while data:
        head, _, data = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        length = int(headers.get("Content-Length", 0))
        out.append((int(lines[0].split()[1]), headers, data[:length]))
        data = data[length:]
    return out


def _exchange(server, data, half_close=True):
    sock = server.connect()
    try:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return _responses(sock)
    finally:
        sock.close()


def _echoed_path(body):
    return json.loads(body.decode())["environ"]["PATH_INFO"]


def test_requests_before_a_half_close_are_answered_the_last_with_close(echo_server):
    answers = _exchange(
        echo_server, b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
    )
    assert [(s, _echoed_path(b)) for s, h, b in answers] == [(200, "/1"), (200, "/2")]
    assert "Connection" not in answers[0][1]
    assert answers[1][1]["Connection"] == "close"


@pytest.mark.parametrize(
    "data",
    [
        b"GET /x HTTP/1.0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
        CHUNKED_HEAD + b"5\r\nhello\r\n0\r\n\r\n",
    ],
)
def test_a_complete_request_then_a_half_close_is_answered(echo_server, data):
    answers = _exchange(echo_server, data)
    assert [s for s, h, b in answers] == [200]


@pytest.mark.parametrize(
    "data",
    [
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello",
        CHUNKED_HEAD + b"5\r\nhel",
        CHUNKED_HEAD + b"5\r\nhello\r\n0\r\n",  # no CRLF after the last chunk
    ],
)
def test_a_body_cut_short_by_a_half_close_gets_400(echo_server, data):
    answers = _exchange(echo_server, data)
    assert [(s, b) for s, h, b in answers] == [(400, b"Incomplete request body\n")]
    assert "Traceback" not in echo_server.log()


def test_an_incomplete_head_then_a_half_close_is_closed_unanswered(echo_server):
    assert _exchange(echo_server, b"GET /x HTTP/1.1\r\nHost: a\r\n") == []


@pytest.mark.parametrize(
    "trailer", [b"Host: evil", b"Authorization: x", b"TE: trailers", b"trailer: x"]
)
@pytest.mark.parametrize("split", [None, "before last chunk", "in the trailer"])
def test_a_forbidden_trailer_field_gets_400(echo_server, trailer, split):
    body = b"5\r\nhello\r\n0\r\n" + trailer + b"\r\n\r\n"
    data = CHUNKED_HEAD + body
    cut = {
        None: len(data),
        "before last chunk": len(CHUNKED_HEAD) + 10,
        "in the trailer": len(data) - len(trailer),
    }[split]
    sock = echo_server.connect()
    try:
        sock.sendall(data[:cut])
        if cut < len(data):
            time.sleep(0.2)  # the handler is waiting for the rest of the body
            sock.sendall(data[cut:])
        answers = _responses(sock)
    finally:
        sock.close()
    assert len(answers) == 1 and answers[0][0] == 400, answers
    assert b"trailers" in answers[0][2]


def test_an_allowed_trailer_field_is_accepted(echo_server):
    sock = echo_server.connect()
    try:
        sock.sendall(
            CHUNKED_HEAD
            + b"5\r\nhello\r\n0\r\nX-Checksum: 1\r\n\r\n"
            + b"GET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        )
        answers = _responses(sock)
    finally:
        sock.close()
    assert [(s, _echoed_path(b)) for s, h, b in answers] == [(200, "/c"), (200, "/after")]


class _Transport:
    """Enough of an asyncio transport for a Connection fed in process."""

    def __init__(self):
        self.written = b""
        self.closed = False

    def get_extra_info(self, name, default=None):
        return ("127.0.0.1", 5000) if name in ("peername", "sockname") else default

    def write(self, data):
        self.written += data

    def is_closing(self):
        return self.closed

    def close(self):
        self.closed = True

    abort = close

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass


class _Worker:
    """What a Connection asks of its worker."""

    def __init__(self, loop):
        self.loop = loop
        self.connections = set()
        self.environ = self

    def trust(self, peer):
        return False

    def for_connection(self, peer, sock):
        return {}

    def connection_closed(self, conn):
        self.connections.discard(conn)


def test_body_bytes_that_arrive_before_the_cycle_starts_are_body_not_a_head():
    # aiohttp has taken the request from its queue, the handler has not run
    # yet (a loop iteration on 3.7-3.11): the next bytes are still its body,
    # whatever they look like (here a blank line and a folded-looking line).
    from async_app.server.connection import ConnectionFactory

    async def scenario():
        started = asyncio.Event()

        async def handler(request):  # what runs before the cycle marks the connection busy
            started.set()
            await asyncio.sleep(10)

        loop = asyncio.get_running_loop()
        conn = ConnectionFactory(_Worker(loop), handler)()
        conn.connection_made(_Transport())
        try:
            conn.data_received(CHUNKED_HEAD)
            await asyncio.wait_for(started.wait(), 5)
            assert not conn._messages and not conn.busy
            piece = b"x\r\n y\r\n\r\nz"
            conn.data_received(b"%x\r\n%s\r\n" % (len(piece), piece))
            assert [m for m, p in conn._messages] == []  # no refusal queued
            assert conn.last_payload._buffer and bytes(conn.last_payload._buffer[0]) == piece
        finally:
            conn.force_close()
            conn.connection_lost(None)

    asyncio.run(scenario())
