"""async_app.server.environ: the PEP 3333 environ of a parsed request, table-driven.

A fake parsed request (what aiohttp's parser hands over) and a fake
connection go in; the environ, or the worker's own refusal, comes out.
gunicorn's real ``Config`` supplies the settings.
"""

import pytest
from gunicorn.config import Config

from async_app.server.environ import ProxyTrust, RequestError, WSGIEnviron


class FakeRequest:
    """What WSGIEnviron.parse reads of aiohttp's parsed request."""

    def __init__(self, method, target, headers, version=(1, 1), keep_alive=True):
        self.method = method
        self.raw_path = target
        self.version = version
        self.keep_alive = keep_alive
        self.raw_headers = tuple((n.encode("latin-1"), v.encode("latin-1")) for n, v in headers)


class FakeConnection:
    """What WSGIEnviron.parse reads of the connection."""

    def __init__(self, builder, peer=("10.0.0.7", 50000), sock=("127.0.0.1", 8000), tls=False):
        self.peer_addr = peer
        self.server_addr = sock
        self.tls = tls
        self.trusted = builder.trust(peer)
        self.environ_base = builder.for_connection(peer, sock)


def build(
    method="GET",
    target="/",
    headers=(("Host", "example.com"),),
    version=(1, 1),
    settings=None,
    peer=("10.0.0.7", 50000),
    sock=("127.0.0.1", 8000),
    tls=False,
    want_req=True,
):
    cfg = Config()
    for name, value in (settings or {}).items():
        cfg.set(name, value)
    builder = WSGIEnviron(cfg)
    conn = FakeConnection(builder, peer, sock, tls)
    return builder.parse(FakeRequest(method, target, headers, version), conn, want_req)


TRUSTED = ("127.0.0.1", 40000)  # in gunicorn's default forwarded_allow_ips

# (id, build() arguments, expected environ items)
CASES = [
    (
        "simple",
        {},
        {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/",
            "QUERY_STRING": "",
            "RAW_URI": "/",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "example.com",
            "SCRIPT_NAME": "",
            "REMOTE_ADDR": "10.0.0.7",
            "REMOTE_PORT": "50000",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "wsgi.url_scheme": "http",
        },
    ),
    (
        "query-and-fragment",
        {"target": "/a/b?x=1&y=%20#frag"},
        {"PATH_INFO": "/a/b", "QUERY_STRING": "x=1&y=%20", "RAW_URI": "/a/b?x=1&y=%20#frag"},
    ),
    (
        "percent-decoded-path",
        {"target": "/caf%C3%A9/%2F"},
        {"PATH_INFO": "/caf\xc3\xa9//", "RAW_URI": "/caf%C3%A9/%2F"},
    ),
    ("double-slash-path", {"target": "//keep//slashes"}, {"PATH_INFO": "//keep//slashes"}),
    (
        "absolute-form",
        {"target": "http://example.com/p?q=1"},
        {"PATH_INFO": "/p", "QUERY_STRING": "q=1", "RAW_URI": "http://example.com/p?q=1"},
    ),
    (
        "http-10",
        {"version": (1, 0), "headers": ()},
        {"SERVER_PROTOCOL": "HTTP/1.0", "HTTP_HOST": None},
    ),
    (
        "content-headers",
        {
            "method": "POST",
            "headers": (("Host", "h"), ("Content-Type", "a/b"), ("Content-Length", "3")),
        },
        {
            "CONTENT_TYPE": "a/b",
            "CONTENT_LENGTH": "3",
            "HTTP_CONTENT_TYPE": None,
            "HTTP_CONTENT_LENGTH": None,
        },
    ),
    (
        "repeated-joined",
        {"headers": (("Host", "h"), ("Accept", "a"), ("accept", "b"))},
        {"HTTP_ACCEPT": "a,b"},
    ),
    (
        "cookies-joined",
        {"headers": (("Host", "h"), ("Cookie", "a=1"), ("Cookie", "b=2"))},
        {"HTTP_COOKIE": "a=1; b=2"},
    ),
    (
        "underscore-dropped",
        {"headers": (("Host", "h"), ("X_Auth", "x"), ("X-Auth", "y"))},
        {"HTTP_X_AUTH": "y"},
    ),
    (
        "untrusted-forwarding-dropped",
        {
            "headers": (
                ("Host", "h"),
                ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-For", "1.2.3.4"),
                ("Forwarded", "for=1.2.3.4"),
            )
        },
        {
            "wsgi.url_scheme": "http",
            "HTTP_X_FORWARDED_PROTO": None,
            "HTTP_X_FORWARDED_FOR": None,
            "HTTP_FORWARDED": None,
        },
    ),
    (
        "trusted-forwarding-kept",
        {
            "peer": TRUSTED,
            "headers": (
                ("Host", "h"),
                ("X-Forwarded-Proto", "https"),
                ("X-Forwarded-For", "1.2.3.4"),
            ),
        },
        {
            "wsgi.url_scheme": "https",
            "HTTP_X_FORWARDED_PROTO": "https",
            "HTTP_X_FORWARDED_FOR": "1.2.3.4",
        },
    ),
    ("tls", {"tls": True}, {"wsgi.url_scheme": "https"}),
    (
        "field-line-at-the-limit",
        {
            "settings": {"limit_request_field_size": 20},
            "headers": (("Host", "a"), ("X-Abcdefg", "0123456")),
        },
        {"HTTP_X_ABCDEFG": "0123456"},
    ),
    (
        "latin-1-value-kept",
        {"headers": (("Host", "h"), ("X-A", "caf\xe9"))},
        {"HTTP_X_A": "caf\xe9"},
    ),
    (
        "unix-socket-host",
        {"peer": "", "sock": "/run/app.sock", "headers": (("Host", "example.com:8080"),)},
        {"SERVER_NAME": "example.com", "SERVER_PORT": "8080", "REMOTE_ADDR": ""},
    ),
    (
        "unix-socket-default-port",
        {"peer": "", "sock": "/run/app.sock", "headers": (("Host", "[::1]"),)},
        {"SERVER_NAME": "[::1]", "SERVER_PORT": "80"},
    ),
    (
        "trailing-whitespace-trimmed",
        {"headers": (("Host", "h"), ("X-A", "v \t"))},
        {"HTTP_X_A": "v"},
    ),
]


@pytest.mark.parametrize("kwargs,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_environ(kwargs, expected):
    environ, req, _ = build(**kwargs)
    for key, value in expected.items():
        if value is None:
            assert key not in environ, key
        else:
            assert environ[key] == value, key
    assert req.method == environ["REQUEST_METHOD"] and req.uri == environ["RAW_URI"]


# (id, build() arguments, status): requests the worker refuses itself.
REFUSED = [
    (
        "cl-and-te",
        {
            "method": "POST",
            "headers": (("Host", "h"), ("Content-Length", "3"), ("Transfer-Encoding", "chunked")),
        },
        400,
    ),
    (
        "two-cl",
        {
            "method": "POST",
            "headers": (("Host", "h"), ("Content-Length", "3"), ("Content-Length", "3")),
        },
        400,
    ),
    (
        "two-te",
        {
            "method": "POST",
            "headers": (
                ("Host", "h"),
                ("Transfer-Encoding", "chunked"),
                ("Transfer-Encoding", "chunked"),
            ),
        },
        400,
    ),
    (
        "te-in-http-10",
        {"method": "POST", "version": (1, 0), "headers": (("Transfer-Encoding", "chunked"),)},
        400,
    ),
    (
        "unknown-coding",
        {"method": "POST", "headers": (("Host", "h"), ("Transfer-Encoding", "gzip"))},
        501,
    ),
    (
        "contradictory-scheme",
        {
            "peer": TRUSTED,
            "headers": (("Host", "h"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Ssl", "off")),
        },
        400,
    ),
    ("non-ascii-target", {"target": "/caf\xe9"}, 400),
    ("http-2", {"version": (2, 0)}, 400),
    ("http-11-without-host", {"headers": ()}, 400),
    ("two-hosts", {"headers": (("Host", "a"), ("Host", "b"))}, 400),
    (
        "two-content-types",
        {"headers": (("Host", "a"), ("Content-Type", "a/b"), ("Content-Type", "c/d"))},
        400,
    ),
    ("bad-method", {"method": "GE(T"}, 400),
    ("bad-header-name", {"headers": (("Host", "a"), ("X\xe9", "1"))}, 400),
    ("lf-in-value", {"headers": (("Host", "a"), ("X-A", "1\r\n folded"))}, 400),
    ("bel-in-value", {"headers": (("Host", "a"), ("X-A", "\x07"))}, 400),
    ("del-in-value", {"headers": (("Host", "a"), ("X-A", "a\x7f"))}, 400),
    (
        "field-line-too-long",
        {
            "settings": {"limit_request_field_size": 20},
            "headers": (("Host", "a"), ("X-Abcdefg", "01234567")),
        },
        431,
    ),
    (
        "too-many-headers",
        {
            "settings": {"limit_request_fields": 3},
            "headers": (("Host", "h"), ("A", "1"), ("B", "2"), ("C", "3")),
        },
        431,
    ),
]


@pytest.mark.parametrize("kwargs,status", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused(kwargs, status):
    with pytest.raises(RequestError) as info:
        build(**kwargs)
    assert info.value.status == status


def test_script_name_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SCRIPT_NAME", "/app/")
    environ, _, _ = build(target="/app/page?x=1")
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/app", "/page")
    environ, _, _ = build(target="/app")
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/app", "")
    with pytest.raises(RequestError) as info:
        build(target="/application")
    assert info.value.status == 404


def test_no_hook_request_unless_wanted():
    environ, req, expect = build(
        headers=(("Host", "h"), ("Expect", "100-continue")), want_req=False
    )
    assert req is None and expect == "100-continue" and environ["HTTP_EXPECT"] == "100-continue"


@pytest.mark.parametrize(
    "allow,peer,trusted",
    [
        ("*", ("8.8.8.8", 1), True),
        ("127.0.0.1,::1", ("127.0.0.1", 1), True),
        ("127.0.0.1,::1", ("::ffff:127.0.0.1", 1, 0, 0), True),
        ("127.0.0.1,::1", ("10.0.0.1", 1), False),
        ("10.0.0.0/8", ("10.1.2.3", 1), True),
        ("10.0.0.0/8", ("11.1.2.3", 1), False),
        ("fe80::/10", ("fe80::1%eth0", 1, 0, 2), True),
        ("127.0.0.1", "/run/unix.sock", True),
        (["127.0.0.1"], ("127.0.0.1", 1), True),
    ],
)
def test_proxy_trust(allow, peer, trusted):
    assert ProxyTrust(allow)(peer) is trusted
