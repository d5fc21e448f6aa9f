"""gunicorn's request corpus against a real AiohttpWorker (issue 11).

tests/http_corpus/ holds gunicorn 26.1.0's ``tests/requests/valid`` and
``invalid`` files (MIT, license kept with them). Each case's raw bytes go to
a real gunicorn running ``AiohttpWorker`` and ``echo_app``, over a socket,
and gunicorn 26's default behaviour is expected, as its own
``tests/test_valid_requests.py`` / ``test_invalid_requests.py`` expect of its
parser:

* valid: every request on the connection reaches the application with the
  expected method, target, path, query, version, headers (as gunicorn's
  ``http.wsgi.create`` maps them into the environ) and body; the connection
  may close early only after a request that asked for it;
* invalid: a 4xx (or 501 for a transfer coding the worker does not
  implement), the application never called, and the worker still serving.

A case whose ``.py`` sets gunicorn settings runs on a server with those
settings, when the worker honours them. Cases that need settings the worker
does not implement are listed in ``UNSUPPORTED_SETTINGS`` (and checked to be
exactly those), not silently skipped; the deliberate strict answers to valid
requests are in ``STRICT`` with their reasons (docs/worker.md lists them).
One server per group of settings, for the whole module.
"""

import builtins
import json
import os
import socket
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.gunicorn_fixture import GunicornServer

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "http_corpus")
ECHO_APP = "tests.apps.worker_apps:echo_app"

# gunicorn settings the worker honours (a case's cfg.set of these runs on a
# server configured so).
SUPPORTED_SETTINGS = frozenset(
    (
        "limit_request_line",
        "limit_request_fields",
        "limit_request_field_size",
        "forwarded_allow_ips",
    )
)
# Settings the worker does not implement: the cases that set them are not
# run. proxy_protocol: the PROXY protocol is not supported (docs/worker.md);
# the others are gunicorn's opt-in leniencies (obsolete line folding,
# stripping spaces before ':', lower-case or unconventional methods,
# underscores in header names mapped or refused), off by default.
UNSUPPORTED_SETTINGS = frozenset(
    (
        "proxy_protocol",
        "permit_obsolete_folding",
        "strip_header_spaces",
        "casefold_http_method",
        "permit_unconventional_http_method",
        "header_map",
    )
)
# The cases left out for those settings, so the corpus cannot shrink unseen.
NOT_RUN = frozenset(
    (
        "valid/028",
        "valid/031compat",
        "valid/031compat2",
        "valid/040_compat",
        "valid/compat_obs_fold",
        "valid/compat_obs_fold_huge",
        "valid/pp_01",
        "valid/pp_02",
        "valid/pp_03",
        "valid/pp_04",
        "valid/pp_05",
        "invalid/013",
        "invalid/040",
        "invalid/chunked_07",
        "invalid/pp_01",
        "invalid/pp_02",
        "invalid/pp_03",
    )
)
# Valid requests the worker refuses on purpose: case -> why (RFC 9112 sides
# with the strict answer). The test checks the refusal (a 4xx, or 501 for a
# transfer coding), and that requests before it on the connection were served.
_NO_HOST = "HTTP/1.1 without Host (RFC 9112 3.2: a server MUST answer 400)"
_NO_HOST_CASES = (
    "004",
    "005",
    "006",
    "007",
    "010",
    "011",
    "012",
    "013",
    "014",
    "018",
    "021",
    "022",
    "023",
    "031",
    "100",
)
STRICT = dict(
    {"valid/" + n: _NO_HOST for n in _NO_HOST_CASES},
    **{
        "valid/009": _NO_HOST + "; Transfer-Encoding with Content-Length (RFC 9112 6.3: "
        "ought to be handled as an error)",
        "valid/025": _NO_HOST + "; the gzip transfer coding is not implemented (RFC 9112 6.1: 501)",
        "valid/025_line": _NO_HOST + "; the gzip transfer coding is not implemented (501)",
        "valid/029": _NO_HOST + "; 'identity' is no transfer coding (RFC 9112 7: 501)",
        "valid/030": _NO_HOST + "; 'identity' is no transfer coding (RFC 9112 7: 501)",
        "valid/027": "raw non-ASCII bytes in the request-target (RFC 9112 3.2 and RFC 3986: "
        "the target is ASCII; an invalid request-line gets 400, RFC 9112 3)",
        "valid/rfc9112_smuggle_gzip_chunked_01": "the gzip transfer coding is not implemented "
        "(RFC 9112 6.1: 501)",
        "valid/rfc9112_smuggle_te_identity_chunked_01": "'identity' is no transfer coding "
        "(RFC 9112 7: 501)",
        "valid/099": "a body shorter than its Content-Length when the client half-closes: 400 "
        "(RFC 9112 8: a server may answer an incomplete message with an error); "
        "gunicorn passes the truncated body to the application as if complete",
    },
)
# Cases that are an incomplete request on a socket: sent, then the client
# half-closes (shutdown(SHUT_WR)), where gunicorn's parser tests read them
# from a finite buffer. valid/099's body is 8599 bytes against a
# Content-Length of 17914.
HALF_CLOSED = frozenset(("NoMoreData", "ChunkMissingTerminator", "valid/099"))
# Of those, the ones gunicorn (and the worker) close without an answer: an
# incomplete request head.
UNANSWERED = frozenset(("NoMoreData",))
# gunicorn's answers the worker does not give yet: case -> why.
KNOWN_GAPS = {}
READ_TIMEOUT = 3.0


# --- reading the corpus (as gunicorn's tests/treq.py does) -----------------------


def _decode_hex_escapes(data):
    out = bytearray()
    i = 0
    while i < len(data):
        if i + 3 < len(data) and data[i : i + 2] == b"\\x":
            try:
                out.append(int(data[i + 2 : i + 4], 16))
                i += 4
                continue
            except ValueError:
                pass
        out.append(data[i])
        i += 1
    return bytes(out)


def request_bytes(path):
    """The raw bytes of a corpus ``.http`` file (treq.request's decoding)."""
    with open(path, "rb") as f:
        data = f.read()
    data = data.replace(b"\n", b"").replace(b"\\r\\n", b"\r\n")
    data = data.replace(b"\\0", b"\000").replace(b"\\n", b"\n").replace(b"\\t", b"\t")
    data = _decode_hex_escapes(data)
    assert b"\\" not in data, path
    return data


def split_request_uri(uri):
    """gunicorn's ``util.split_request_uri`` (``//x`` is a path, not an authority)."""
    if uri.startswith("//"):
        parts = urllib.parse.urlsplit("." + uri)
        return parts._replace(path=parts.path[1:])
    return urllib.parse.urlsplit(uri)


def uri(data):
    """treq's ``uri()``: the parts of a request target gunicorn's tests compare."""
    parts = split_request_uri(data)
    return {
        "raw": data,
        "path": parts.path or "",
        "query": parts.query or "",
        "fragment": parts.fragment or "",
    }


class _Config:
    """Stands for gunicorn's ``Config`` in a case's ``.py``: records ``cfg.set``."""

    def __init__(self):
        self.settings = {}

    def set(self, name, value):
        self.settings[name] = value


class _Errors:
    """Stands for ``gunicorn.http.errors``: an exception class per name.

    gunicorn 23 (Python 3.7) lacks some of gunicorn 26's classes; the test
    only needs their names.
    """

    def __init__(self):
        self.classes = {}

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if name not in self.classes:
            self.classes[name] = type(name, (Exception,), {})
        return self.classes[name]


class _Module:
    def __init__(self, **names):
        self.__dict__.update(names)


def load_case(name):
    """``(data, expectation, settings)`` of corpus case ``valid/001`` etc."""
    base = os.path.join(CORPUS, name)
    errors = _Errors()
    stubs = {
        "gunicorn.config": _Module(Config=_Config),
        "gunicorn.http.errors": errors,
        "gunicorn.http": _Module(errors=errors),
        "gunicorn": _Module(),
    }
    configs = []

    def _import(module, globals=None, locals=None, fromlist=(), level=0):
        if module in stubs:
            return stubs[module]
        return builtins.__import__(module, globals, locals, fromlist, level)

    class _RecordingConfig(_Config):
        def __init__(self):
            super().__init__()
            configs.append(self)

    stubs["gunicorn.config"] = _Module(Config=_RecordingConfig)
    namespace = {
        "__builtins__": dict(vars(builtins), __import__=_import),
        "uri": uri,
        "__name__": "__config__",
    }
    with open(base + ".py") as f:
        exec(compile(f.read(), base + ".py", "exec"), namespace)
    settings = {}
    for config in configs:
        settings.update(config.settings)
    return request_bytes(base + ".http"), namespace["request"], settings


def all_cases():
    """Every case of the corpus, ``valid/NAME`` and ``invalid/NAME``."""
    names = []
    for kind in ("valid", "invalid"):
        for fname in sorted(os.listdir(os.path.join(CORPUS, kind))):
            if fname.endswith(".http"):
                names.append("%s/%s" % (kind, fname[:-5]))
    return names


def _cases_to_run():
    run = []
    for name in all_cases():
        settings = load_case(name)[2]
        if not set(settings) & UNSUPPORTED_SETTINGS:
            run.append(name)
    return run


# --- what the application should see -----------------------------------------------


def expected_environ(exp):
    """The environ keys gunicorn 26's ``http.wsgi.create`` makes of ``exp``."""
    environ = {
        "REQUEST_METHOD": exp["method"],
        "RAW_URI": exp["uri"]["raw"],
        "PATH_INFO": urllib.parse.unquote_to_bytes(exp["uri"]["path"]).decode("latin-1"),
        "QUERY_STRING": exp["uri"]["query"],
        "SERVER_PROTOCOL": "HTTP/%d.%d" % tuple(exp["version"]),
    }
    chunked = False
    for name, value in exp["headers"]:
        if name == "CONTENT-TYPE":
            environ["CONTENT_TYPE"] = value
            continue
        if name == "CONTENT-LENGTH":
            environ["CONTENT_LENGTH"] = value
            continue
        if name == "TRANSFER-ENCODING" and value.lower().endswith("chunked"):
            chunked = True
        key = "HTTP_" + name.replace("-", "_")
        if key in environ:
            # The worker joins Cookie lines with "; " (docs/worker.md), gunicorn with ",".
            value = "%s%s%s" % (environ[key], "; " if key == "HTTP_COOKIE" else ",", value)
        environ[key] = value
    if chunked and "CONTENT_LENGTH" not in environ:
        # The worker buffers a chunked body and says how long it was (docs/worker.md).
        environ["CONTENT_LENGTH"] = str(len(_body(exp)))
    return environ


def _body(exp):
    body = exp["body"]
    return body.encode("latin-1") if isinstance(body, str) else body


def _asks_to_close(exp):
    connection = ",".join(v.lower() for n, v in exp["headers"] if n == "CONNECTION")
    if tuple(exp["version"]) < (1, 1):
        return "keep-alive" not in connection
    return "close" in connection


# --- talking to the worker ------------------------------------------------------------


class _Reader:
    """Reads HTTP/1.1 responses off a socket (Content-Length or chunked bodies)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.closed = False

    def _more(self, deadline):
        if self.closed:
            return False
        self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionError:
            data = b""
        if not data:
            self.closed = True
            return False
        self.buf += data
        return True

    def _until(self, marker, deadline):
        while marker not in self.buf:
            if not self._more(deadline):
                return None
        head, _, self.buf = self.buf.partition(marker)
        return head

    def _take(self, n, deadline):
        while len(self.buf) < n:
            if not self._more(deadline):
                return None
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def response(self, timeout=READ_TIMEOUT):
        """``(status, headers, body)``, or None if none came (closed or timed out)."""
        deadline = time.monotonic() + timeout
        head = self._until(b"\r\n\r\n", deadline)
        if head is None:
            return None
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = self._take(int(headers["content-length"]), deadline)
        elif headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                size = self._until(b"\r\n", deadline)
                if size is None:
                    return None
                size = int(size.split(b";")[0], 16)
                chunk = self._take(size + 2, deadline)
                if chunk is None:
                    return None
                if not size:
                    break
                body += chunk[:-2]
        else:
            while self._more(deadline):
                pass
            body, self.buf = self.buf, b""
        return status, headers, body


def server_settings(settings):
    """The settings a case's server needs; ones that change nothing here are dropped.

    ``limit_request_field_size = 0`` means gunicorn's default; the tests'
    client is 127.0.0.1, which gunicorn's default ``forwarded_allow_ips``
    already trusts.
    """
    settings = dict(settings)
    if settings.get("limit_request_field_size") == 0:
        del settings["limit_request_field_size"]
    if settings.get("forwarded_allow_ips") == "*":
        del settings["forwarded_allow_ips"]
    return tuple(sorted(settings.items()))


@pytest.fixture(scope="module")
def corpus_server():
    """``corpus_server(settings)``: the running echo server for those gunicorn settings.

    All the servers the corpus needs start (and stop) together.
    """
    keys = sorted({server_settings(load_case(name)[2]) for name in _cases_to_run()})
    servers = {key: GunicornServer(ECHO_APP, threads=2, **dict(key)) for key in keys}
    with ThreadPoolExecutor(len(servers)) as pool:
        list(pool.map(GunicornServer.start, servers.values()))
    try:
        yield lambda settings: servers[server_settings(settings)]
    finally:
        with ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(GunicornServer.stop, servers.values()))


def _still_serving(server):
    sock = server.connect()
    try:
        sock.sendall(b"GET /alive HTTP/1.0\r\n\r\n")
        resp = _Reader(sock).response()
    finally:
        sock.close()
    return resp is not None and resp[0] == 200


def _exchange_valid(server, data, expect, half_close=False):
    sock = server.connect()
    try:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        reader = _Reader(sock)
        seen = []
        for exp in expect:
            resp = reader.response()
            if resp is None:
                break
            seen.append((exp, resp))
            if resp[0] != 200:
                break
        return seen
    finally:
        sock.close()


def _exchange_invalid(server, data, incomplete=False):
    sock = server.connect()
    try:
        try:
            sock.sendall(data)
            if incomplete:
                sock.shutdown(socket.SHUT_WR)
        except (ConnectionError, OSError):
            pass  # refused before all was sent: the answer may still be readable
        reader = _Reader(sock)
        resp = reader.response()
        if resp is None and not reader.closed:
            # Waiting for more: an incomplete request. End it, as a client would.
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            resp = reader.response()
        return resp
    finally:
        sock.close()


# --- the tests ----------------------------------------------------------------------------


def test_the_corpus_is_all_there():
    """The corpus is complete, and only cases needing unsupported settings are left out."""
    names = all_cases()
    assert len([n for n in names if n.startswith("valid/")]) == 63
    assert len([n for n in names if n.startswith("invalid/")]) == 74
    assert set(names) - set(_cases_to_run()) == NOT_RUN
    assert set(STRICT) | set(KNOWN_GAPS) <= set(names)


def _refusal(status):
    return 400 <= status < 500 or status == 501


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(reason=KNOWN_GAPS[n], strict=True))
        if n in KNOWN_GAPS
        else n
        for n in _cases_to_run()
    ],
)
def test_gunicorn_request_corpus(name, corpus_server):
    data, expect, settings = load_case(name)
    server = corpus_server(settings)
    log_before = len(server.log())
    if name.startswith("valid/"):
        expect = expect if isinstance(expect, list) else [expect]
        seen = _exchange_valid(server, data, expect, half_close=name in HALF_CLOSED)
        assert seen, "no response at all"
        for exp, (status, _, body) in seen:
            if name in STRICT and status != 200:
                assert _refusal(status), (status, body[:200])
                assert (exp, (status, _, body)) == seen[-1]
                break
            assert status == 200, (status, body[:200])
            echoed = json.loads(body.decode("utf-8"))
            environ = echoed["environ"]
            want = expected_environ(exp)
            got = {
                k: v
                for k, v in environ.items()
                if k in want or k.startswith("HTTP_") or k in ("CONTENT_TYPE", "CONTENT_LENGTH")
            }
            assert got == want
            assert echoed["body"].encode("latin-1") == _body(exp)
        else:
            assert name not in STRICT, "a deliberate refusal (%s) is gone" % STRICT[name]
        if len(seen) < len(expect) and seen[-1][1][0] == 200:
            # Only a request that asked for it may end the connection early.
            assert _asks_to_close(seen[-1][0]), "requests %d+ unanswered" % (len(seen) + 1)
    else:
        reason = getattr(expect, "__name__", "")
        resp = _exchange_invalid(server, data, incomplete=reason in HALF_CLOSED)
        if resp is None:
            assert reason in UNANSWERED, "no answer to an invalid request (%s)" % reason
        else:
            status, _, body = resp
            assert _refusal(status), (status, body[:200])
    assert _still_serving(server)
    new_log = server.log()[log_before:]
    assert "Traceback" not in new_log, new_log
