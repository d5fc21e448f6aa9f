"""async_app.worker.AiohttpWorker under real gunicorn processes, over real sockets.

Each server is a ``python -m gunicorn`` on a free loopback port (see
tests/gunicorn_fixture.py); requests go through the aiohttp client, or raw
sockets when the bytes on the wire are the point.
"""

import asyncio
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import aiohttp
import gunicorn
import pytest

from tests.gunicorn_fixture import GunicornServer, gunicorn_server, pid_alive  # noqa: F401

APPS = "tests.apps.worker_apps"
DJANGO_APP = "tests.apps.worker_django_wsgi:application"


# --- helpers -------------------------------------------------------------------


class _NoClose:
    """A file proxy http.client cannot close (pipelined responses share it)."""

    def __init__(self, f):
        self._f = f

    def __getattr__(self, name):
        return getattr(self._f, name)

    def close(self):
        pass


class _FileSock:
    def __init__(self, f):
        self._f = _NoClose(f)

    def makefile(self, *args, **kwargs):
        return self._f


def read_response(f, method="GET"):
    """Read one HTTP response from file ``f`` (http.client does the parsing)."""
    resp = http.client.HTTPResponse(_FileSock(f), method=method)
    resp.begin()
    body = resp.read()
    return resp, body


def raw_exchange(server, data, method="GET", timeout=10.0):
    """Send raw bytes on a new connection; return (status, headers, body) or None if closed."""
    sock = server.connect(timeout)
    try:
        sock.sendall(data)
        f = sock.makefile("rb")
        try:
            resp, body = read_response(f, method)
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return None
        return resp.status, resp, body
    finally:
        sock.close()


def get(server, path, headers=None, timeout=10.0):
    """One GET with http.client (Connection: close); returns (status, headers, body)."""
    hdrs = {"Connection": "close"}
    hdrs.update(headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request("GET", path, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, resp, resp.read()
    finally:
        conn.close()


def run(coro):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


async def _fetch_many(urls, timeout=30.0, headers=None):
    """GET every URL concurrently; returns (results, seconds), results are (status, text) or exceptions."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    started = time.monotonic()
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)
    ) as session:

        async def one(url):
            async with session.get(url, headers=headers) as resp:
                return resp.status, await resp.text()

        results = await asyncio.gather(*(one(u) for u in urls), return_exceptions=True)
    return results, time.monotonic() - started


def fetch_many(urls, **kwargs):
    return run(_fetch_many(urls, **kwargs))


def events(server):
    path = server.env["WORKER_APPS_EVENTS"]
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.split()[0] for line in f if line.strip()]


def wait_for(predicate, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def _events_env(tmp_dir):
    return {"WORKER_APPS_EVENTS": os.path.join(tmp_dir, "events.txt")}


@pytest.fixture(scope="module")
def coro_server(tmp_path_factory):
    server = GunicornServer(
        APPS + ":coro_app", threads=4, env=_events_env(str(tmp_path_factory.mktemp("coro")))
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sync_server(tmp_path_factory):
    server = GunicornServer(
        APPS + ":sync_app",
        threads=8,
        env=dict(
            _events_env(str(tmp_path_factory.mktemp("sync"))),
            ASYNC_APP_BODY_SPOOL_SIZE="1000",
            ASYNC_APP_MAX_BODY_SIZE="200000",
        ),
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def django_server(tmp_path_factory):
    server = GunicornServer(
        DJANGO_APP, threads=4, env=_events_env(str(tmp_path_factory.mktemp("django")))
    )
    server.start()
    yield server
    server.stop()


# --- serving both kinds of app -----------------------------------------------------


def test_sync_and_coroutine_apps_answer(sync_server, coro_server):
    assert get(sync_server, "/")[::2] == (200, b"hello sync")
    assert get(coro_server, "/")[::2] == (200, b"hello coro")
    status, resp, _ = get(coro_server, "/")
    assert resp.getheader("Server") == "gunicorn"
    assert resp.getheader("Date")


def test_sync_app_may_return_an_awaitable(sync_server):
    assert get(sync_server, "/awaitable")[::2] == (200, b"awaited")


def test_environ_passes_wsgiref_validate(tmp_path, gunicorn_server):
    server = gunicorn_server(APPS + ":validated_app", threads=2)
    # wsgiref.validate raises (-> 500) on any PEP 3333 violation, environ included.
    assert get(server, "/")[::2] == (200, b"hello sync")
    assert get(server, "/environ?a=1&b=%20x")[0] == 200
    assert get(server, "/stream?n=3")[::2] == (200, b"chunk 0\nchunk 1\nchunk 2\n")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/echo", body=b"payload", headers={"Content-Type": "text/plain"})
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (200, b"7 payload")
    conn.request("HEAD", "/")
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (200, b"")
    conn.close()
    assert "AssertionError" not in server.log()


def test_coroutine_app_environ_passes_check_environ(coro_server):
    assert get(coro_server, "/check-environ")[::2] == (200, b"environ ok")


def test_environ_contents(sync_server):
    sock = sync_server.connect()
    local_port = sock.getsockname()[1]
    sock.sendall(
        b"GET /environ/a%20b/c?x=1&y=%2F HTTP/1.1\r\nHost: example.com:8080\r\n"
        b"X-Custom: one\r\nX-Custom: two\r\nX_Custom: smuggled\r\n"
        b"Script_Name: /evil\r\nCookie: a=1\r\nCookie: b=2\r\n"
        b"Connection: close\r\n\r\n"
    )
    resp, body = read_response(sock.makefile("rb"))
    sock.close()
    env = json.loads(body.decode())
    assert env["REQUEST_METHOD"] == "GET"
    assert env["PATH_INFO"] == "/environ/a b/c"
    assert env["SCRIPT_NAME"] == ""
    assert env["QUERY_STRING"] == "x=1&y=%2F"
    assert env["RAW_URI"] == "/environ/a%20b/c?x=1&y=%2F"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["REMOTE_PORT"] == str(local_port)
    assert (env["SERVER_NAME"], env["SERVER_PORT"]) == ("127.0.0.1", str(sync_server.port))
    assert env["HTTP_HOST"] == "example.com:8080"
    assert env["HTTP_X_CUSTOM"] == "one,two"
    assert env["HTTP_COOKIE"] == "a=1; b=2"
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.multithread"] is True
    assert env["wsgi.input_terminated"] is True
    assert "HTTP_SCRIPT_NAME" not in env


def test_wsgi_errors_goes_to_the_error_log(sync_server):
    assert get(sync_server, "/errors")[::2] == (200, b"logged")
    assert wait_for(lambda: "note-for-the-error-log" in sync_server.log())


def test_script_name_comes_from_the_environment_only(gunicorn_server):
    server = gunicorn_server(
        APPS + ":coro_app", raw_env=["SCRIPT_NAME=/mount"], startup_path="/mount/"
    )
    status, _, body = get(server, "/mount/environ?q=1", headers={"Script-Name": "/x"})
    env = json.loads(body.decode())
    assert (status, env["SCRIPT_NAME"], env["PATH_INFO"]) == (200, "/mount", "/environ")
    assert get(server, "/elsewhere")[0] == 404
    assert get(server, "/mountain")[0] == 404


def test_spoofed_forwarded_proto_from_untrusted_peer_is_ignored(gunicorn_server):
    server = gunicorn_server(DJANGO_APP, forwarded_allow_ips="10.9.9.9")
    spoof = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"}
    assert get(server, "/secure/", headers=spoof)[::2] == (200, b"insecure")
    assert get(server, "/async-secure/", headers=spoof)[::2] == (200, b"insecure")


def test_forwarded_proto_from_trusted_peer_is_honoured(gunicorn_server):
    # gunicorn 23's validator refuses networks; later versions accept them.
    allow = "10.0.0.0/8,127.0.0.0/8" if gunicorn.version_info >= (24,) else "10.1.1.1,127.0.0.1"
    server = gunicorn_server(APPS + ":coro_app", forwarded_allow_ips=allow)
    env = json.loads(
        get(
            server, "/environ", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"}
        )[2]
    )
    assert env["wsgi.url_scheme"] == "https"
    assert env["HTTP_X_FORWARDED_FOR"] == "1.2.3.4"
    # Contradicting scheme headers are refused.
    status = get(
        server, "/environ", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "off"}
    )[0]
    assert status == 400


def test_django_secure_from_trusted_proxy(django_server):
    assert get(django_server, "/secure/")[::2] == (200, b"insecure")
    assert get(django_server, "/secure/", headers={"X-Forwarded-Proto": "https"})[::2] == (
        200,
        b"secure",
    )


# --- HTTP/1.x through aiohttp's parser ----------------------------------------------


def test_keepalive_and_pipelining(coro_server):
    sock = coro_server.connect()
    f = sock.makefile("rb")
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    resp, body = read_response(f)
    assert (resp.status, body) == (200, b"hello coro")
    assert resp.getheader("Connection") is None  # HTTP/1.1 default: keep-alive
    # Three pipelined requests in one write, answered in order on the same connection.
    sock.sendall(
        b"GET /sleep?s=0.2 HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    answers = [read_response(f) for _ in range(3)]
    assert [(r.status, b) for r, b in answers] == [
        (200, b"slept"),
        (200, b"hello coro"),
        (404, b"not found"),
    ]
    assert answers[2][0].getheader("Connection") == "close"
    assert sock.recv(10) == b""
    sock.close()


def test_http10(sync_server):
    status, resp, body = raw_exchange(sync_server, b"GET /stream?n=2 HTTP/1.0\r\n\r\n")
    assert status == 200 and body == b"chunk 0\nchunk 1\n"
    assert resp.getheader("Transfer-Encoding") is None
    # HTTP/1.0 keep-alive is honoured when the length is known.
    sock = sync_server.connect()
    f = sock.makefile("rb")
    for _ in range(2):
        sock.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        resp, body = read_response(f)
        assert (resp.status, body) == (200, b"hello sync")
        assert resp.getheader("Connection") == "keep-alive"
    sock.close()


@pytest.mark.parametrize("app", ["sync", "coro"])
def test_chunked_request_body(app, sync_server, coro_server):
    server = sync_server if app == "sync" else coro_server
    data = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    status, resp, body = raw_exchange(server, data)
    assert (status, body) == (200, b"11 hello world")
    assert resp.getheader("X-Content-Length") == "11"  # set after buffering


def test_expect_100_continue(coro_server):
    sock = coro_server.connect()
    sock.sendall(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    f = sock.makefile("rb")
    assert f.readline() == b"HTTP/1.1 100 Continue\r\n"
    assert f.readline() == b"\r\n"
    sock.sendall(b"ping")
    resp, body = read_response(f)
    assert (resp.status, body) == (200, b"4 ping")
    sock.close()
    assert (
        raw_exchange(
            coro_server,
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: teapot\r\n\r\nping",
        )[0]
        == 417
    )


@pytest.mark.parametrize("app", ["sync", "coro"])
def test_head_has_no_body_and_keeps_the_connection_usable(app, sync_server, coro_server):
    server = sync_server if app == "sync" else coro_server
    sock = server.connect()
    f = sock.makefile("rb")
    # /closing streams without Content-Length: no chunk terminator may leak.
    sock.sendall(b"HEAD /closing HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head, body = read_response(f, method="HEAD")
    assert head.status == 200 and body == b""
    assert head.getheader("Transfer-Encoding") is None
    resp, body = read_response(f)
    assert resp.status == 200 and body.startswith(b"hello")
    sock.close()


def test_no_content_and_large_streamed_body(sync_server):
    status, resp, body = raw_exchange(
        sync_server, b"GET /no-content HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status == 204 and body == b"" and resp.getheader("Content-Length") is None
    status, _, body = get(sync_server, "/big?size=5000000")
    assert status == 200 and body == b"x" * 5000000


def test_file_wrapper_and_legacy_write(sync_server):
    here = os.path.join(os.path.dirname(__file__), "apps", "worker_apps.py")
    with open(here, "rb") as f:
        assert get(sync_server, "/file")[::2] == (200, f.read())
    assert get(sync_server, "/write")[::2] == (200, b"written then returned")


def test_request_body_spooled_and_size_limit(sync_server):
    # sync_server: bodies over 1000 bytes go to a temporary file, over 200000 get 413.
    payload = b"y" * 150000
    conn = http.client.HTTPConnection("127.0.0.1", sync_server.port, timeout=10)
    conn.request("POST", "/echo", body=payload)
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (200, b"150000 " + b"y" * 64)
    conn.request("POST", "/echo-lines", body=b"a\nb\nc\n")
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (200, b"3 lines")
    conn.close()
    # Announced too large: 413 before the body is read (and before the app runs).
    status, resp, _ = raw_exchange(
        sync_server, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n"
    )
    assert status == 413 and resp.getheader("Connection") == "close"
    # Chunked, too large once received.
    chunk = b"z" * 50000
    data = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    data += (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 5 + b"0\r\n\r\n"
    assert raw_exchange(sync_server, data)[0] == 413


def test_tls(tmp_path, gunicorn_server):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.check_call(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            key,
            "-out",
            cert,
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = GunicornServer(APPS + ":coro_app", certfile=cert, keyfile=key)
    server._answers = lambda deadline: _tls_answers(server)
    try:
        server.start()
        ctx = ssl.create_default_context(cafile=cert)
        ctx.check_hostname = False
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=ctx, timeout=10)
        conn.request("GET", "/environ")
        resp = conn.getresponse()
        env = json.loads(resp.read().decode())
        assert resp.status == 200 and env["wsgi.url_scheme"] == "https"
        conn.request("GET", "/")  # keep-alive over TLS
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"hello coro")
        conn.close()
    finally:
        server.stop()


def _tls_answers(server):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=2) as raw:
            with ctx.wrap_socket(raw) as sock:
                sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
                return sock.recv(8).startswith(b"HTTP/1.")
    except (OSError, ssl.SSLError):
        return False


def test_unix_socket_bind(gunicorn_server):
    server = gunicorn_server(APPS + ":coro_app", bind="unix")
    status, _, body = raw_exchange(
        server, b"GET /environ HTTP/1.1\r\nHost: example.org:81\r\nConnection: close\r\n\r\n"
    )
    env = json.loads(body.decode())
    assert status == 200
    assert (env["SERVER_NAME"], env["SERVER_PORT"]) == ("example.org", "81")

    async def via_aiohttp():
        async with aiohttp.ClientSession(
            connector=aiohttp.UnixConnector(path=server.unix_path)
        ) as s:
            async with s.get("http://localhost/") as resp:
                return resp.status, await resp.text()

    assert run(via_aiohttp()) == (200, "hello coro")


# --- refusing bad requests, and surviving them ---------------------------------------


BAD_REQUESTS = {
    "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n",
    "bad-request-line": b"GET\r\n\r\n",
    "bad-version": b"GET / HTTP/9.Z\r\nHost: x\r\n\r\n",
    "long-uri": b"GET /" + b"a" * 6000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "long-header": b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
    "too-many-headers": b"GET / HTTP/1.1\r\nHost: x\r\n"
    + b"".join(b"X-H%d: v\r\n" % i for i in range(150))
    + b"\r\n",
    "cl-and-te": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "two-content-lengths": b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
    b"Content-Length: 5\r\n\r\nabcde",
    "te-not-chunked": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nxx",
    "te-in-http10": b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bad-chunk-size": b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"zz\r\nhello\r\n0\r\n\r\n",
    "header-space-before-colon": b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    "bare-lf-in-header": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\nX-B: 2\r\n\r\n",
    "obsolete-folding": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n",
    "no-host": b"GET / HTTP/1.1\r\n\r\n",
    "http-2": b"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
    "two-hosts": b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
    "asterisk-get": b"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
    "control-in-value": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x07b\r\n\r\n",
    "non-ascii-target": b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
    "malformed-target": b"PUT s://]ufd/: HTTP/1.1\r\nHost: x\r\n\r\n",
}


@pytest.mark.parametrize("name", sorted(BAD_REQUESTS))
def test_malformed_requests_get_4xx_and_the_worker_survives(name, coro_server):
    pids_before = coro_server.worker_pids()
    answer = raw_exchange(coro_server, BAD_REQUESTS[name])
    assert answer is not None, "connection closed without an answer"
    assert 400 <= answer[0] < 500 or answer[0] == 501, answer[0]
    if answer[1].version == 11:
        assert answer[1].getheader("Connection") == "close"
    if name in ("long-uri",):
        assert answer[0] == 414
    if name in ("long-header", "too-many-headers"):
        assert answer[0] == 431
    assert get(coro_server, "/")[::2] == (200, b"hello coro")
    assert coro_server.worker_pids() == pids_before


# Requests aiohttp's C parser refuses though RFC 9112 allows them: parsed again.
LENIENTLY_PARSED = {
    "token-method": (
        b"-BLARGH /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi",
        [b"2 hi"],
    ),
    "chunk-extension-whitespace": (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5; some; parameters=stuff\r\nhello\r\n0\r\n\r\n",
        [b"5 hello"],
    ),
    "bytes-after-a-closing-request": (
        b"POST /echo HTTP/1.0\r\nContent-Length: 2\r\n\r\nhiGET / HTTP/1.1\r\n\r\n",
        [b"2 hi"],
    ),
}


@pytest.mark.parametrize("name", sorted(LENIENTLY_PARSED))
def test_requests_the_c_parser_refuses_too_strictly_are_served(name, sync_server):
    data, bodies = LENIENTLY_PARSED[name]
    sock = sync_server.connect()
    try:
        sock.sendall(data)
        f = sock.makefile("rb")
        for body in bodies:
            resp, got = read_response(f)
            assert (resp.status, got) == (200, body)
    finally:
        sock.close()
    assert get(sync_server, "/")[::2] == (200, b"hello sync")


def test_limits_map_onto_the_parser(gunicorn_server):
    server = gunicorn_server(
        APPS + ":coro_app",
        limit_request_line=100,
        limit_request_fields=5,
        limit_request_field_size=50,
    )
    assert get(server, "/?" + "q" * 50)[0] == 200
    assert get(server, "/?" + "q" * 200)[0] == 414
    assert get(server, "/", headers={"X-A": "1", "X-B": "2"})[0] == 200
    status = raw_exchange(
        server,
        b"GET / HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-H%d: v\r\n" % i for i in range(6))
        + b"\r\n",
    )[0]
    assert status == 431
    assert get(server, "/", headers={"X-Long": "v" * 100})[0] == 431
    # gunicorn counts the whole line: 'X-Abcdefghij: ' + 34 + CRLF = 50 is in, 51 is not.
    assert get(server, "/", headers={"X-Abcdefghij": "v" * 34})[0] == 200
    assert get(server, "/", headers={"X-Abcdefghij": "v" * 35})[0] == 431


# --- responses -------------------------------------------------------------------------


def test_response_headers_are_validated(sync_server):
    answer = raw_exchange(
        sync_server, b"GET /crlf HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert answer[0] == 500
    assert answer[1].getheader("Set-Cookie") is None and answer[1].getheader("X-Evil") is None
    assert get(sync_server, "/bad-status")[0] == 500
    assert get(sync_server, "/error")[0] == 500
    assert "RuntimeError: boom" in sync_server.log()


def test_short_body_closes_the_connection(sync_server):
    sock = sync_server.connect()
    sock.sendall(b"GET /short HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    assert data.endswith(b"\r\n\r\nonly ten b")


@pytest.mark.parametrize("app", ["sync", "coro"])
def test_close_is_called_once(app, sync_server, coro_server):
    server = sync_server if app == "sync" else coro_server
    name = "once-%s" % app
    assert get(server, "/closing?name=" + name)[0] == 200
    assert wait_for(lambda: "closed-" + name in events(server))
    time.sleep(0.2)
    assert events(server).count("closed-" + name) == 1


def test_async_iterable_body_and_aclose(coro_server):
    status, resp, body = get(coro_server, "/aiter?n=3&delay=0.05&name=ai")
    assert (status, body) == (200, b"async 0\nasync 1\nasync 2\n")
    assert resp.getheader("Transfer-Encoding") == "chunked"
    assert wait_for(lambda: "aclosed-ai" in events(coro_server))
    assert events(coro_server).count("aclosed-ai") == 1


def test_streaming_is_chunk_by_chunk(sync_server):
    # The first chunk arrives long before the generator ends.
    sock = sync_server.connect()
    sock.sendall(b"GET /stream?n=4&delay=0.5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    started = time.monotonic()
    first = sock.recv(4096)
    assert b"chunk 0" in first or b"chunk 0" in sock.recv(4096)
    assert time.monotonic() - started < 1.5
    sock.close()


def _rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


@pytest.mark.parametrize("app", ["sync", "coro"])
def test_streaming_has_back_pressure(app, sync_server, coro_server):
    # 200 MB from a generator (sync in a pool thread; async on the loop) to a
    # client that does not read: the worker must wait, not buffer the body.
    server = sync_server if app == "sync" else coro_server
    worker = server.worker_pids()[-1]
    before = _rss_kib(worker)
    sock = server.connect(timeout=30)
    size = 200 * 1000 * 1000
    sock.sendall(b"GET /big?size=%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % size)
    time.sleep(2)
    grown = _rss_kib(worker) - before
    assert grown < 50 * 1024, "worker grew by %d KiB" % grown
    received = 0
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        received += len(chunk)
    sock.close()
    assert received > size  # the whole body (and the head) arrived


def test_client_disconnect_cancels_coroutine_app(coro_server):
    sock = coro_server.connect()
    sock.sendall(b"GET /cancel?s=10&name=gone HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.5)
    sock.close()
    assert wait_for(lambda: "cancelled-gone" in events(coro_server), timeout=5)
    assert events(coro_server).count("finally-gone") == 1


def test_client_disconnect_cancels_django_view_and_request_finished_fires_once(django_server):
    before = events(django_server).count("request_finished")
    sock = django_server.connect()
    sock.sendall(b"GET /async-cancel/?s=10&name=dj HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.7)
    sock.close()
    assert wait_for(lambda: "finally-dj" in events(django_server), timeout=5)
    time.sleep(0.5)
    log = events(django_server)
    assert log.count("cancelled-dj") == 1
    assert log.count("request_finished") - before == 1


def _disconnect_during_slow_read(server, path, name, size):
    """POST a body, hang up while the sync view sleeps; return what it read."""
    sock = server.connect()
    sock.sendall(
        b"POST %s?s=1&name=%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
        b"Content-Type: application/octet-stream\r\n\r\n%s"
        % (path.encode(), name.encode(), size, b"x" * size)
    )
    time.sleep(0.4)
    sock.close()
    assert wait_for(
        lambda: any(e.startswith("read-") and name in e for e in events(server)), timeout=10
    )
    return [e for e in events(server) if e.startswith("read-") and name in e]


def test_sync_app_reads_its_whole_body_after_the_client_left(sync_server):
    # 5000 bytes: beyond this server's spool size, so wsgi.input is a temporary file.
    assert _disconnect_during_slow_read(sync_server, "/slow-read", "gone1", 5000) == [
        "read-gone1-5000"
    ]


@pytest.mark.parametrize("middleware", ["plain", "function"])
def test_sync_django_view_reads_its_whole_body_after_the_client_left(
    middleware, django_server, gunicorn_server, tmp_path
):
    server = django_server
    if middleware == "function":
        server = gunicorn_server(
            DJANGO_APP,
            threads=4,
            env=dict(_events_env(str(tmp_path)), WORKER_DJANGO_FUNCTION_MIDDLEWARE="1"),
        )
        status, headers, _ = get(server, "/")
        assert status == 200 and headers.getheader("X-Function-Middleware") == "ran"
    name = "gone-" + middleware
    assert _disconnect_during_slow_read(server, "/sync-slow-read/", name, 3000) == [
        "read-%s-3000" % name
    ]


# --- concurrency ----------------------------------------------------------------------


def test_500_concurrent_coroutine_requests_on_one_worker(coro_server):
    results, seconds = fetch_many([coro_server.url("/sleep?s=1")] * 500)
    assert results.count((200, "slept")) == 500, [r for r in results if r != (200, "slept")][:3]
    assert seconds < 3.0, seconds


def test_sync_view_does_not_delay_coroutine_views(django_server):
    async def scenario():
        slow = [django_server.url("/sync-sleep/?s=1.5")] * 4
        fast = [django_server.url("/async-sleep/?s=0.1")] * 50
        slow_task = asyncio.ensure_future(_fetch_many(slow))
        await asyncio.sleep(0.2)  # the sync views are running in the pool
        fast_results, fast_seconds = await _fetch_many(fast)
        slow_results, _ = await slow_task
        return fast_results, fast_seconds, slow_results

    fast_results, fast_seconds, slow_results = run(scenario())
    assert fast_results.count((200, "async slept")) == 50
    assert slow_results.count((200, "sync slept")) == 4
    assert fast_seconds < 1.0, fast_seconds


def test_worker_connections_caps_concurrent_connections(gunicorn_server):
    server = gunicorn_server(APPS + ":coro_app", worker_connections=10)
    # 20 one-second requests, 10 at a time: two rounds.
    results, seconds = fetch_many([server.url("/sleep?s=1")] * 20)
    assert results.count((200, "slept")) == 20
    assert 1.9 < seconds < 6.0, seconds


def test_idle_connections_do_not_hold_connection_slots(gunicorn_server):
    server = gunicorn_server(APPS + ":coro_app", worker_connections=3, keepalive=1)
    # Three connections that never send a request (or only half of one) fill the worker...
    idle = [server.connect() for _ in range(3)]
    idle[0].sendall(b"GET / HTTP/1.1\r\nHost:")
    started = time.monotonic()
    # ...until the worker closes them; then a fourth is served.
    assert get(server, "/", timeout=15)[::2] == (200, b"hello coro")
    assert 0.9 < time.monotonic() - started < 8
    for sock in idle:
        try:
            assert sock.recv(100) == b""  # closed by the worker
        except ConnectionResetError:
            pass
        sock.close()


def test_load_shedding_answers_503_at_once(gunicorn_server):
    server = gunicorn_server(APPS + ":coro_app", env={"ASYNC_APP_LIMIT_CONCURRENCY": "3"})
    slow = [server.connect() for _ in range(3)]
    for sock in slow:
        sock.sendall(b"GET /sleep?s=3 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.5)  # the three are in flight
    started = time.monotonic()
    status, headers, body = get(server, "/")
    assert (status, headers.getheader("Retry-After")) == (503, "1"), body
    assert headers.getheader("Connection") == "close"
    assert time.monotonic() - started < 1.5  # at once, not after the slow ones
    for sock in slow:
        resp, body = read_response(sock.makefile("rb"))
        assert (resp.status, body) == (200, b"slept")
        sock.close()
    assert get(server, "/")[::2] == (200, b"hello coro")  # room again


def test_a_shed_request_gets_its_access_log_line(gunicorn_server, tmp_path):
    access = tmp_path / "access.log"
    server = gunicorn_server(
        APPS + ":coro_app",
        accesslog=str(access),
        env={"ASYNC_APP_LIMIT_CONCURRENCY": "1"},
        access_log_format='%(h)s "%(r)s" %(s)s %(b)s %({x-test}i)s %(U)s %(q)s',
    )
    slow = server.connect()
    slow.sendall(b"GET /sleep?s=2 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.5)  # in flight
    status, _, body = get(server, "/shed?k=v", headers={"X-Test": "hello"})
    assert status == 503
    resp, _ = read_response(slow.makefile("rb"))
    slow.close()
    assert resp.status == 200
    assert wait_for(lambda: access.exists() and "/sleep" in access.read_text())
    lines = access.read_text().splitlines()
    shed = [line for line in lines if "/shed" in line]
    assert shed == ['127.0.0.1 "GET /shed?k=v HTTP/1.1" 503 %d hello /shed k=v' % len(body)]
    assert [line for line in lines if "/sleep" in line][0].split()[4] == "200"


def test_a_slow_request_head_is_cut_off(gunicorn_server):
    server = gunicorn_server(
        APPS + ":coro_app", keepalive=30, env={"ASYNC_APP_HEADER_TIMEOUT": "1"}
    )
    sock = server.connect()
    started = time.monotonic()
    sock.sendall(b"GET / HTTP/1.1\r\n")
    closed = False
    try:
        for i in range(40):  # slowloris: a header byte every 0.25 s
            sock.sendall(b"X-%d: v\r\n" % i)
            time.sleep(0.25)
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    if not closed:
        sock.settimeout(5)
        try:
            closed = sock.recv(100) == b""
        except ConnectionResetError:
            closed = True
    sock.close()
    assert closed and time.monotonic() - started < 8
    # An idle keep-alive connection still gets its keepalive (30 s), not the header timeout.
    idle = server.connect()
    time.sleep(2.5)
    idle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    resp, body = read_response(idle.makefile("rb"))
    assert (resp.status, body) == (200, b"hello coro")
    idle.close()


@pytest.mark.parametrize("app", ["sync", "coro"])
def test_a_stalled_request_body_gets_408(app, gunicorn_server, tmp_path):
    server = gunicorn_server(
        APPS + (":sync_app" if app == "sync" else ":coro_app"),
        env=dict(_events_env(str(tmp_path)), ASYNC_APP_BODY_TIMEOUT="1"),
    )
    sock = server.connect()
    started = time.monotonic()
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
    resp, body = read_response(sock.makefile("rb"))
    sock.close()
    assert resp.status == 408 and 0.9 < time.monotonic() - started < 5
    # A body that keeps coming, slower than a second overall, is fine.
    sock = server.connect()
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc")
    time.sleep(0.6)
    sock.sendall(b"def")
    resp, body = read_response(sock.makefile("rb"))
    sock.close()
    assert resp.status == 200 and body.startswith(b"6 abcdef")


# --- lifecycle ----------------------------------------------------------------------


def test_sigterm_finishes_200_in_flight_requests(gunicorn_server):
    server = gunicorn_server(APPS + ":coro_app")

    async def scenario():
        task = asyncio.ensure_future(_fetch_many([server.url("/sleep?s=1")] * 200))
        await asyncio.sleep(0.5)
        server.signal(signal.SIGTERM)
        return await task

    results, _ = run(scenario())
    assert results.count((200, "slept")) == 200, [r for r in results if r != (200, "slept")][:3]
    assert server.proc.wait(10) == 0
    # It did stop accepting: nothing answers any more.
    with pytest.raises(OSError):
        server.connect(timeout=1).sendall(b"GET / HTTP/1.0\r\n\r\n")
        raise OSError("still connected")


def test_sigterm_past_graceful_timeout_cancels_and_exits(gunicorn_server, tmp_path):
    server = gunicorn_server(APPS + ":coro_app", graceful_timeout=1, env=_events_env(str(tmp_path)))
    sock = server.connect()
    sock.sendall(b"GET /cancel?s=30&name=late HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)
    started = time.monotonic()
    server.signal(signal.SIGTERM)
    assert server.proc.wait(10) == 0
    assert time.monotonic() - started < 4
    assert events(server).count("cancelled-late") == 1
    sock.close()


def test_sigterm_answers_a_request_arriving_on_an_idle_keepalive_connection(gunicorn_server):
    server = gunicorn_server(APPS + ":coro_app", keepalive=10)
    sock = server.connect()
    f = sock.makefile("rb")
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(f)[0].status == 200
    server.signal(signal.SIGTERM)
    time.sleep(0.5)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    resp, body = read_response(f)
    assert (resp.status, body) == (200, b"hello coro")
    assert resp.getheader("Connection") == "close"
    sock.close()
    # Idle connections are not kept for the whole keepalive of 10 s.
    assert server.proc.wait(8) == 0


def test_graceful_shutdown_waits_for_spawned_work(gunicorn_server, tmp_path):
    server = gunicorn_server(DJANGO_APP, env=_events_env(str(tmp_path)))
    assert get(server, "/spawn/?s=1.5&name=bg")[::2] == (200, b"spawned")
    server.signal(signal.SIGTERM)
    assert server.proc.wait(10) == 0
    assert "spawned-done-bg" in events(server)


def test_max_requests_recycles_without_dropping_requests(gunicorn_server):
    server = gunicorn_server(APPS + ":coro_app", max_requests=50, max_requests_jitter=5)

    async def load():
        results = []
        pids = set()
        deadline = time.monotonic() + 6
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=20)
        ) as session:

            async def client():
                while time.monotonic() < deadline and len(pids) < 4:
                    try:
                        async with session.get(server.url("/pid")) as resp:
                            text = await resp.text()
                            results.append(resp.status)
                            pids.add(text)
                    except Exception as exc:  # a dropped request
                        results.append(exc)

            await asyncio.gather(*(client() for _ in range(10)))
        return results, pids

    results, pids = run(load())
    assert len(pids) >= 3, (pids, len(results))
    assert results.count(200) == len(results), [r for r in results if r != 200][:3]
    assert "Autorestarting worker after current request." in server.log()


def test_blocked_loop_gets_the_worker_replaced(gunicorn_server):
    server = gunicorn_server(APPS + ":coro_app", timeout=2)
    first = get(server, "/pid")[2]
    try:
        get(server, "/block?s=30", timeout=1)
    except OSError:
        pass

    def replaced():
        try:
            status, _, body = get(server, "/pid", timeout=1)
        except OSError:
            return False
        return status == 200 and body != first

    assert wait_for(replaced, timeout=15, interval=0.3), server.log()
    assert "WORKER TIMEOUT" in server.log()


def test_sigquit_exits_at_once_and_cancels(gunicorn_server, tmp_path):
    server = gunicorn_server(APPS + ":coro_app", env=_events_env(str(tmp_path)))
    sock = server.connect()
    sock.sendall(b"GET /cancel?s=20&name=quit HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)
    started = time.monotonic()
    server.signal(signal.SIGQUIT)
    server.proc.wait(5)
    assert time.monotonic() - started < 3
    assert "cancelled-quit" in events(server)
    sock.close()


def test_worker_exits_when_the_arbiter_dies(gunicorn_server):
    server = gunicorn_server(APPS + ":coro_app")
    (worker,) = server.worker_pids()
    server.proc.kill()
    server.proc.wait(5)
    assert wait_for(lambda: not pid_alive(worker), timeout=6)


def test_access_log_and_request_hooks(gunicorn_server, tmp_path):
    access = tmp_path / "access.log"
    hooks = tmp_path / "hooks.log"
    config = (
        "def pre_request(worker, req):\n"
        "    open(%r, 'a').write('pre %%s %%s\\n' %% (req.method, req.path))\n"
        "def post_request(worker, req, environ, resp):\n"
        "    open(%r, 'a').write('post %%s %%s %%s\\n' %% (req.path, environ['PATH_INFO'], resp.status))\n"
    ) % (str(hooks), str(hooks))
    server = gunicorn_server(
        APPS + ":coro_app",
        accesslog=str(access),
        config=config,
        access_log_format='%(h)s "%(r)s" %(s)s %(b)s %({x-test}i)s %({content-type}o)s %(U)s %(q)s',
    )
    get(server, "/environ?k=v", headers={"X-Test": "hello"})
    assert wait_for(
        lambda: (
            access.exists()
            and "X-Test" not in access.read_text()
            and "/environ" in access.read_text()
        )
    )
    line = [l for l in access.read_text().splitlines() if "/environ" in l][0]
    assert (
        line
        == '127.0.0.1 "GET /environ?k=v HTTP/1.1" 200 %s hello application/json /environ k=v'
        % line.split()[5]
    )
    assert int(line.split()[5]) > 100
    assert "pre GET /environ" in hooks.read_text()
    assert "post /environ /environ 200 OK" in hooks.read_text()


def test_uvloop_worker(gunicorn_server):
    import uvloop  # noqa: F401  (the test extra installs it; fail loudly if missing)

    server = gunicorn_server(
        APPS + ":coro_app", worker_class="async_app.worker.AiohttpUVLoopWorker"
    )
    assert get(server, "/")[::2] == (200, b"hello coro")
    results, seconds = fetch_many([server.url("/sleep?s=1")] * 200)
    assert results.count((200, "slept")) == 200 and seconds < 3.0
    data = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    )
    assert raw_exchange(server, data)[::2] == (200, b"3 abc")


def test_repeated_sigterm_lets_an_exiting_worker_finish_its_sync_view(gunicorn_server):
    # Found by the soak (docs/soak.md): on SIGHUP the arbiter sends SIGTERM to
    # the old workers again on every turn of its loop until they are gone.
    # Once the event loop is closed (asyncio then restores SIG_DFL), that
    # second SIGTERM killed a worker whose pool thread was still running a
    # sync view, instead of letting it end ("was sent SIGTERM!" in the log).
    server = gunicorn_server(APPS + ":sync_app", graceful_timeout=20)
    old = server.worker_pids()
    sock = server.connect()
    sock.sendall(b"GET /sleep?s=3 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)
    sock.close()  # the view runs on in its thread; the loop has nothing left
    started = time.monotonic()
    server.signal(signal.SIGHUP)
    assert wait_for(lambda: not pid_alive(old[0]), timeout=15)
    assert "was sent SIGTERM" not in server.log()
    assert time.monotonic() - started > 2.0  # it waited for the view


def test_sigterm_during_a_keepalive_response_keeps_the_connection_for_the_next_request(
    gunicorn_server,
):
    # Found by the soak's SIGHUP fault (docs/soak.md): a response whose head
    # already promised keep-alive when SIGTERM came was followed by an
    # immediate close, so the client's next request (already on its way) got
    # a reset. The connection must get the same grace as an idle one.
    server = gunicorn_server(APPS + ":coro_app", keepalive=5)
    sock = server.connect()
    f = sock.makefile("rb")
    sock.sendall(b"GET /aiter?n=3&delay=0.5 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.8)  # the head and the first chunk are out
    server.signal(signal.SIGTERM)
    resp, body = read_response(f)
    assert (resp.status, body) == (200, b"async 0\nasync 1\nasync 2\n")
    assert resp.getheader("Connection") != "close"
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    resp, body = read_response(f)
    assert (resp.status, body) == (200, b"hello coro")
    assert resp.getheader("Connection") == "close"
    sock.close()
    assert server.proc.wait(8) == 0
