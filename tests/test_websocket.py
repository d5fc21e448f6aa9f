"""WebSocket views end to end: a real gunicorn (AiohttpWorker), aiohttp's client, raw sockets.

Views: tests/apps/websocket_urls.py; settings: tests/apps/websocket_settings.py.
Each security and resource property has a test that fails without it.
"""

import asyncio
import base64
import json
import os
import signal
import socket
import struct
import time

import aiohttp
import pytest

from tests.gunicorn_fixture import GunicornServer, gunicorn_server  # noqa: F401

APP = "tests.apps.websocket_wsgi:application"


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One server with the default settings for the tests that do not stop or tune it."""
    events = str(tmp_path_factory.mktemp("websocket") / "events")
    server = GunicornServer(APP, startup_path="/plain/", env={"WORKER_APPS_EVENTS": events})
    server.events_path = events
    server.start()
    yield server
    server.stop()


def start(gunicorn_server, tmp_path, env=None, **settings):
    """A websocket test server whose views record events in a file."""
    events = str(tmp_path / "events")
    server = gunicorn_server(
        APP, startup_path="/plain/", env=dict(env or {}, WORKER_APPS_EVENTS=events), **settings
    )
    server.events_path = events
    return server


def events(server):
    try:
        with open(server.events_path) as f:
            return [line.split()[0] for line in f]
    except OSError:
        return []


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def run(coro):
    return asyncio.run(coro)


def ws_url(server, path):
    return server.url(path).replace("http://", "ws://")


async def handshake_status(server, path, **kwargs):
    """The HTTP status a refused handshake got (aiohttp raises WSServerHandshakeError)."""
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(ws_url(server, path), **kwargs):
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


def raw_handshake(server, path, rcvbuf=None, sndbuf=None, headers=""):
    """A blocking socket that completed a WebSocket handshake; returns (sock, leftover)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if sndbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
            "Sec-WebSocket-Version: 13\r\n%s\r\n" % (path, server.port, key, headers)
        ).encode()
    )
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock, rest


def client_frame(payload, opcode=0x2):
    """One masked client frame (RFC 6455 5.2)."""
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    masked = (
        bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        if length < 4096
        else (
            int.from_bytes(payload, "big")
            ^ int.from_bytes((mask * (length // 4 + 1))[:length], "big")
        ).to_bytes(length, "big")
    )
    return head + mask + masked


# --- the conversation -----------------------------------------------------


def test_echo_text_bytes_json_subprotocol_and_close_codes(shared):
    server = shared

    async def talk():
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(
                ws_url(server, "/ws/echo/?tag=a"), protocols=["echo.v1"]
            ) as ws:
                assert ws.protocol == "echo.v1"
                # The 101 went out at accept: the response middleware's
                # header (added when the view returns) is not in it.
                assert "X-Seen-By-Middleware" not in ws._response.headers
                await ws.send_str("hi")
                assert (await ws.receive_str()) == "echo:hi"
                await ws.send_bytes(b"abc")
                assert (await ws.receive_bytes()) == b"cba"
                await ws.send_str(json.dumps({"n": [1, 2]}))
                assert (await ws.receive_json()) == {"echo": {"n": [1, 2]}}
            # The client closed (1000): the view's loop ended, it saw the code.
            async with session.ws_connect(ws_url(server, "/ws/echo/?tag=b")) as ws:
                await ws.send_str("close-me")
                msg = await ws.receive()
                assert msg.type == aiohttp.WSMsgType.CLOSE
                assert (msg.data, msg.extra) == (4000, "as you wish")
            async with session.get(server.url("/plain/")) as resp:
                assert resp.status == 200 and (await resp.text()).startswith("plain")

    run(talk())
    assert wait_for(
        lambda: "echo-closed-a-1000" in events(server) and "echo-closed-b-4000" in events(server)
    ), events(server)


def test_view_refuses_with_an_ordinary_response_and_reads_the_session(shared):
    server = shared

    async def talk():
        assert (await handshake_status(server, "/ws/hello/")) == 403
        # unsafe: the jar keeps cookies of an IP address host.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            async with session.get(server.url("/set-name/?name=ada")) as resp:
                assert resp.status == 200
            async with session.ws_connect(ws_url(server, "/ws/hello/")) as ws:
                assert (await ws.receive_str()) == "hello ada"
                assert (await ws.receive()).type == aiohttp.WSMsgType.CLOSE
        # Unrouted paths get the urlconf's 404 as the handshake's answer.
        assert (await handshake_status(server, "/ws/nowhere/")) == 404

    run(talk())


def test_an_upgrade_request_to_a_view_that_does_not_accept_is_answered_as_usual(shared):
    server = shared
    sock = server.connect()
    try:
        sock.sendall(
            b"GET /plain/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        data = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and b"Connection: close" in head, head
    assert body.startswith(b"plain "), body


def test_plain_request_to_a_websocket_view_and_sync_view_accept(shared):
    server = shared

    async def talk():
        async with aiohttp.ClientSession() as session:
            async with session.get(server.url("/ws/echo/")) as resp:
                assert resp.status == 400
        assert (await handshake_status(server, "/ws/sync/")) == 500

    run(talk())


# --- security ---------------------------------------------------------------


def test_cross_site_origin_is_refused_and_allowed_origins_pass(shared):
    server = shared
    own = "http://127.0.0.1:%d" % server.port

    async def talk():
        status = {}
        for origin in (
            "http://evil.example",
            "https://127.0.0.1:%d" % server.port,
            "null",
            own,
            "https://trusted.example",
            "https://app.partner.example",
            "http://partner.example.evil.example",
        ):
            status[origin] = await handshake_status(server, "/ws/echo/", origin=origin)
        return status

    status = run(talk())
    assert status == {
        "http://evil.example": 403,
        "https://127.0.0.1:%d" % server.port: 403,  # scheme differs from the request's
        "null": 403,
        own: 101,
        "https://trusted.example": 101,
        "https://app.partner.example": 101,
        "http://partner.example.evil.example": 403,
    }


def test_allowed_hosts_applies_to_the_handshake(shared):
    server = shared
    sock = server.connect()
    try:
        sock.sendall(
            b"GET /ws/echo/ HTTP/1.1\r\nHost: evil.example\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 400 ")
    finally:
        sock.close()


def test_message_size_is_bounded(shared):
    # ASYNC_APP_WEBSOCKET_MAX_MESSAGE_SIZE is 64 KiB in the test settings.
    server = shared

    async def talk():
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(ws_url(server, "/ws/echo/")) as ws:
                await ws.send_bytes(b"a" * (64 * 1024 - 1))
                assert len(await ws.receive_bytes()) == 64 * 1024 - 1
                await ws.send_bytes(b"a" * (64 * 1024 + 1))
                msg = await ws.receive()
                assert msg.type == aiohttp.WSMsgType.CLOSE, msg
                return msg.data

    assert run(talk()) == 1009


def test_open_websockets_per_worker_are_capped(gunicorn_server, tmp_path):
    server = start(gunicorn_server, tmp_path, env={"ASYNC_APP_MAX_WEBSOCKETS": "2"})

    async def talk():
        async with aiohttp.ClientSession() as session:
            first = await session.ws_connect(ws_url(server, "/ws/echo/"))
            second = await session.ws_connect(ws_url(server, "/ws/echo/"))
            assert (await handshake_status(server, "/ws/echo/")) == 503
            # Plain requests are not affected.
            async with session.get(server.url("/plain/")) as resp:
                assert resp.status == 200
            await first.close()
            # The slot is free once the first view has returned (just after
            # the close handshake).
            third = None
            for _ in range(50):
                try:
                    third = await session.ws_connect(ws_url(server, "/ws/echo/"))
                    break
                except aiohttp.WSServerHandshakeError as exc:
                    assert exc.status == 503
                    await asyncio.sleep(0.1)
            assert third is not None
            await third.send_str("x")
            assert (await third.receive_str()) == "echo:x"
            await second.close()
            await third.close()

    run(talk())
    assert "Too many WebSockets open on this worker" in server.log()


def test_heartbeat_disconnects_a_client_that_never_answers_pings(shared):
    server = shared
    sock, _ = raw_handshake(server, "/ws/deaf/?hb=0.5&s=30&tag=hb")
    started = time.monotonic()
    try:
        data = b""
        while True:  # pings arrive, never answered; then the server hangs up
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        elapsed = time.monotonic() - started
    finally:
        sock.close()
    assert data[:1] == b"\x89"  # a ping frame came first
    assert elapsed < 5.0, elapsed
    assert wait_for(lambda: "deaf-cancelled-hb" in events(server)), events(server)


def test_a_client_that_floods_a_view_that_does_not_read_is_held_back(shared):
    server = shared
    sock, _ = raw_handshake(server, "/ws/deaf/?s=30", sndbuf=64 * 1024)
    frame = client_frame(b"z" * 60000)
    sent = 0
    sock.setblocking(False)
    deadline = time.monotonic() + 15
    stalled_since = None
    pending = memoryview(b"")
    try:
        # Without flow control the worker would read (and keep) all 120 MB.
        while sent < 2000 * len(frame) and time.monotonic() < deadline:
            if not pending:
                pending = memoryview(frame)
            try:
                n = sock.send(pending)
                pending = pending[n:]
                sent += n
                stalled_since = None
            except BlockingIOError:
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > 1.0:
                    break
                time.sleep(0.01)
    finally:
        sock.close()
    assert sent < 16 * 1024 * 1024, sent


def test_sends_wait_for_a_slow_reader(shared):
    server = shared
    sock, _ = raw_handshake(server, "/ws/flood/?n=400", rcvbuf=64 * 1024)
    try:
        time.sleep(1.5)  # 400 x 256 KiB = 100 MiB would be sent by now

        async def progress():
            async with aiohttp.ClientSession() as session:
                async with session.get(server.url("/progress/")) as resp:
                    return await resp.json()

        first = run(progress())
        time.sleep(0.5)
        second = run(progress())
        assert second["done"] is False
        assert second["sent"] < 120, second  # under 30 MiB in flight, however long we wait
        assert second["sent"] - first["sent"] <= 2, (first, second)
    finally:
        sock.close()
    assert wait_for(lambda: run(progress())["done"] == "closed")


def test_websockets_count_against_worker_connections(gunicorn_server, tmp_path):
    server = start(gunicorn_server, tmp_path, worker_connections=2)

    async def talk():
        async with aiohttp.ClientSession() as session:
            first = await session.ws_connect(ws_url(server, "/ws/echo/"))
            second = await session.ws_connect(ws_url(server, "/ws/echo/"))
            third = asyncio.ensure_future(session.ws_connect(ws_url(server, "/ws/echo/")))
            await asyncio.sleep(1.0)
            assert not third.done()  # the worker is full: it does not accept
            await first.close()
            third = await asyncio.wait_for(third, 10)
            await third.send_str("y")
            assert (await third.receive_str()) == "echo:y"
            await second.close()
            await third.close()

    run(talk())


def test_disconnect_cancels_the_view(shared):
    server = shared
    sock, _ = raw_handshake(server, "/ws/echo/?tag=gone")
    sock.close()  # no close frame: the TCP connection just goes
    assert wait_for(lambda: "echo-cancelled-gone" in events(server)), events(server)


# --- graceful shutdown --------------------------------------------------------


async def _open_waiting(server, session, count):
    sockets = []
    for _ in range(count):
        ws = await session.ws_connect(ws_url(server, "/ws/wait-close/"))
        assert (await ws.receive_str()) == "ready"
        sockets.append(ws)
    return sockets


def test_sigterm_closes_open_sockets_with_1001_and_the_worker_exits(gunicorn_server, tmp_path):
    server = start(gunicorn_server, tmp_path, graceful_timeout=20)

    async def talk():
        async with aiohttp.ClientSession() as session:
            sockets = await _open_waiting(server, session, 3)
            started.append(time.monotonic())
            server.signal(signal.SIGTERM)
            codes = []
            for ws in sockets:
                msg = await asyncio.wait_for(ws.receive(), 5)
                codes.append(msg.data if msg.type == aiohttp.WSMsgType.CLOSE else msg.type)
            return codes, time.monotonic() - started[0]

    started = []
    codes, elapsed = run(talk())
    assert codes == [1001, 1001, 1001]
    assert elapsed < 3.0, elapsed
    server.proc.wait(15)
    # graceful_timeout is 20 s: the sockets did not hold the worker.
    assert time.monotonic() - started[0] < 5.0
    assert events(server).count("view-saw-close-1001") == 3, events(server)


def test_max_requests_recycling_closes_sockets_with_1001(gunicorn_server, tmp_path):
    server = start(gunicorn_server, tmp_path, max_requests=3)
    # The fixture's startup probe was request 1.

    async def talk():
        async with aiohttp.ClientSession() as session:
            [ws] = await _open_waiting(server, session, 1)  # request 2
            async with session.get(server.url("/plain/")) as resp:  # request 3: recycle
                assert resp.status == 200
            msg = await asyncio.wait_for(ws.receive(), 5)
            return msg.data

    assert run(talk()) == 1001
    assert wait_for(lambda: "view-saw-close-1001" in events(server)), events(server)


def test_sighup_replaces_the_worker_and_closes_its_sockets_with_1001(gunicorn_server, tmp_path):
    server = start(gunicorn_server, tmp_path)
    old = server.worker_pids()

    async def talk():
        async with aiohttp.ClientSession() as session:
            [ws] = await _open_waiting(server, session, 1)
            server.signal(signal.SIGHUP)
            msg = await asyncio.wait_for(ws.receive(), 10)
            return msg.data

    assert run(talk()) == 1001
    assert wait_for(lambda: len(server.worker_pids()) > len(old)), server.log()
    assert wait_for(lambda: "view-saw-close-1001" in events(server)), events(server)
