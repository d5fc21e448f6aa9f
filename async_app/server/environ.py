"""Environ building: a parsed aiohttp request becomes a PEP 3333 environ.

gunicorn's semantics: ``SCRIPT_NAME`` from the environment only, forwarding
headers honoured only from peers in ``forwarded_allow_ips``, header names
with ``_`` dropped, repeated headers joined. Also refuses the request heads
the worker answers itself (:class:`RequestError`) and builds the ``req``
object gunicorn's hooks and access log read.
"""

import ipaddress
import os
import re
from urllib.parse import unquote_to_bytes, urlsplit

from gunicorn import SERVER_SOFTWARE
from gunicorn.http.wsgi import FileWrapper, WSGIErrorsWrapper

__all__ = [
    "HookRequest",
    "ProxyTrust",
    "RequestError",
    "WSGIEnviron",
    "max_header_fields",
    "protocol_name",
]

# RFC 9110 5.6.2 token (methods, field names).
TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-zA-Z]+")
# What no field value may contain (RFC 9110 5.5: CTLs other than HTAB, and
# CR/LF, which also mark obsolete line folding, RFC 9112 5.2).
FIELD_VALUE_BAD_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class RequestError(Exception):
    """A request the worker answers itself with a 4xx, before the app runs."""

    def __init__(self, status, reason, message=""):
        super().__init__(message or reason)
        self.status = status
        self.reason = reason
        self.message = message or reason


class ProxyTrust:
    """Is a peer allowed to set forwarding headers (``forwarded_allow_ips``)?

    Accepts ``*``, addresses and CIDR networks on every gunicorn version (23
    only compares strings); unix-socket peers are trusted, as gunicorn does.
    """

    def __init__(self, allow):
        if isinstance(allow, str):
            allow = [a.strip() for a in allow.split(",") if a.strip()]
        self.everyone = "*" in allow
        self.exact = set()
        self.networks = []
        for entry in allow:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.exact.add(entry)

    def __call__(self, peername):
        if self.everyone or not isinstance(peername, tuple):
            return True
        host = peername[0]
        if host in self.exact:
            return True
        try:
            ip = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in net for net in self.networks)


class HookRequest:
    """The ``req`` that gunicorn's hooks and access log receive.

    Mirrors the attributes of gunicorn's ``http.message.Request`` that hooks
    use: ``method``, ``uri``, ``path``, ``query``, ``fragment``, ``version``,
    ``headers`` (upper-cased names), ``scheme``, ``peer_addr``, ``body``.
    """

    __slots__ = (
        "method",
        "uri",
        "path",
        "query",
        "fragment",
        "version",
        "headers",
        "scheme",
        "peer_addr",
        "remote_addr",
        "body",
        "_should_close",
    )

    def __init__(
        self, method, uri, path, query, fragment, version, headers, scheme, peer_addr, should_close
    ):
        self.method = method
        self.uri = uri
        self.path = path
        self.query = query
        self.fragment = fragment
        self.version = version
        self.headers = headers
        self.scheme = scheme
        self.peer_addr = self.remote_addr = peer_addr
        self.body = None
        self._should_close = should_close

    def should_close(self):
        """Whether the client asked to close the connection after this request."""
        return self._should_close


def _split_target(target):
    """(path, query, fragment) of a request-target, as gunicorn splits it."""
    if target.startswith("/"):
        path, _, query = target.partition("?")
        if "#" in query:
            query, _, fragment = query.partition("#")
        elif "#" in path:
            path, _, fragment = path.partition("#")
        else:
            fragment = ""
        return path, query, fragment
    parts = urlsplit(target)
    return parts.path or target, parts.query, parts.fragment


def _latin1(text):
    # aiohttp decodes the target as UTF-8 (surrogateescape); WSGI wants bytes as latin-1.
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def max_header_fields(cfg):
    """gunicorn's ``limit_request_fields`` (0 or out of range: its maximum, 32768)."""
    limit = cfg.limit_request_fields
    return limit if 0 < limit <= 32768 else 32768


class WSGIEnviron:
    """Builds the environ of each request from the worker's configuration.

    Computed once per worker: the constant part of the environ, SCRIPT_NAME
    (from ``$SCRIPT_NAME``, i.e. gunicorn's ``raw_env``/environment, never from
    a header), the proxy trust list and ``secure_scheme_headers``; once per
    connection: the peer and local addresses (:meth:`for_connection`).
    """

    def __init__(self, cfg, multithread=True):
        self.cfg = cfg
        self.script_name = os.environ.get("SCRIPT_NAME", "").rstrip("/")
        self.trust = ProxyTrust(cfg.forwarded_allow_ips)
        self.secure_headers = {k.upper(): v for k, v in (cfg.secure_scheme_headers or {}).items()}
        self.max_fields = max_header_fields(cfg)
        # gunicorn counts a whole header line, CRLF included, against
        # limit_request_field_size (0: its default); aiohttp's parser counts
        # name and value separately.
        field_size = cfg.limit_request_field_size
        self.max_field_line = field_size if field_size > 0 else DEFAULT_FIELD_SIZE
        self._methods = set()
        self.base = {
            "wsgi.errors": WSGIErrorsWrapper(cfg),
            "wsgi.version": (1, 0),
            "wsgi.multithread": multithread,
            "wsgi.multiprocess": cfg.workers > 1,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
            "wsgi.input_terminated": True,
            "SERVER_SOFTWARE": SERVER_SOFTWARE,
            "SCRIPT_NAME": self.script_name,
        }
        # raw header name -> (upper-cased name, environ key); names come from
        # clients, so the cache is bounded.
        self._names = {}

    def for_connection(self, peer, sock):
        """The part of the environ that is the same for every request of a connection."""
        environ = self.base.copy()
        if isinstance(peer, tuple):
            environ["REMOTE_ADDR"] = peer[0]
            environ["REMOTE_PORT"] = str(peer[1])
        else:
            environ["REMOTE_ADDR"] = peer.decode() if isinstance(peer, bytes) else (peer or "")
        if isinstance(sock, tuple):
            environ["SERVER_NAME"] = sock[0]
            environ["SERVER_PORT"] = str(sock[1])
        return environ

    def _name(self, raw_name):
        name = raw_name.decode("latin-1")
        if not TOKEN_RE.fullmatch(name):
            raise RequestError(400, "Bad Request", "Invalid header name %r" % name)
        name = name.upper()
        # Ordinary: a header that only goes into the environ as HTTP_*.
        ordinary = not (
            "_" in name
            or name in self.secure_headers
            or name.startswith("X-FORWARDED-")
            or name in _SPECIAL_HEADERS
        )
        entry = (name, "HTTP_" + name.replace("-", "_"), ordinary)
        if len(self._names) < 1024:
            self._names[raw_name] = entry
        return entry

    def parse(self, request, conn, want_req=True):
        """Check the request head and build (environ, HookRequest or None, Expect).

        ``conn`` is the connection's protocol (``environ_base`` from
        :meth:`for_connection`, ``peer_addr``, ``server_addr``, ``trusted``,
        ``tls``). The HookRequest is only built when ``want_req`` (hooks or
        access log need it). Raises :class:`RequestError` for requests the
        worker must refuse. ``wsgi.input`` is added later, once the body is in.
        """
        environ = conn.environ_base.copy()
        raw_headers = request.raw_headers
        if len(raw_headers) > self.max_fields:
            raise RequestError(
                431,
                "Request Header Fields Too Large",
                "more than %d header fields" % self.max_fields,
            )
        trusted = conn.trusted
        secure_headers = self.secure_headers
        names = self._names
        scheme = "https" if conn.tls else "http"
        scheme_set = False
        host = None
        headers = [] if want_req else None
        n_length = n_te = 0
        expect = None
        max_line = self.max_field_line - 4  # ": " and CRLF
        for raw_name, raw_value in raw_headers:
            entry = names.get(raw_name)
            name, key, ordinary = entry if entry is not None else self._name(raw_name)
            if len(raw_name) + len(raw_value) > max_line:
                raise RequestError(
                    431, "Request Header Fields Too Large", "Header line of %s too long" % name
                )
            value = raw_value.decode("latin-1")
            if not value.isprintable() and FIELD_VALUE_BAD_RE.search(value):
                raise RequestError(400, "Bad Request", "Invalid value for header %s" % name)
            if value[-1:] in (" ", "\t") or value[:1] in (" ", "\t"):
                value = value.strip(" \t")  # aiohttp 3.8 keeps trailing OWS
            if not ordinary and "_" in name:
                # X_Forwarded_For would map onto the same key as
                # X-Forwarded-For: dropped, as gunicorn 22+ does.
                continue
            if headers is not None:
                headers.append((name, value))
            if not ordinary:  # a header the worker reads or checks
                if name in secure_headers:
                    if not trusted:
                        continue
                    new_scheme = "https" if value == secure_headers[name] else "http"
                    if scheme_set and new_scheme != scheme:
                        raise RequestError(400, "Bad Request", "Contradictory scheme headers")
                    scheme, scheme_set = new_scheme, True
                elif not trusted and (name.startswith("X-FORWARDED-") or name == "FORWARDED"):
                    continue
                if name == "CONTENT-TYPE":
                    if "CONTENT_TYPE" in environ:
                        raise RequestError(400, "Bad Request", "Duplicate Content-Type header")
                    environ["CONTENT_TYPE"] = value
                    continue
                if name == "CONTENT-LENGTH":
                    n_length += 1
                    environ["CONTENT_LENGTH"] = value
                    continue
                if name == "TRANSFER-ENCODING":
                    n_te += 1
                    if value.strip().lower() != "chunked":
                        raise RequestError(
                            501, "Not Implemented", "Unsupported transfer coding: %r" % value
                        )
                elif name == "HOST":
                    if host is not None:
                        raise RequestError(400, "Bad Request", "Duplicate Host header")
                    host = value
                elif name == "EXPECT":
                    expect = value
            if key in environ:
                sep = "; " if key == "HTTP_COOKIE" else ","
                environ[key] = environ[key] + sep + value
            else:
                environ[key] = value

        version = request.version
        # Request smuggling shapes aiohttp's parser may let through.
        if n_te and (n_length or version < (1, 1)) or n_te > 1 or n_length > 1:
            raise RequestError(400, "Bad Request", "Ambiguous message framing")
        if version[0] != 1:
            raise RequestError(400, "Bad Request", "Invalid HTTP version %d.%d" % version[:2])
        if host is None and version >= (1, 1):
            # RFC 9112 3.2: a server MUST answer 400 (aiohttp 3.8 does not).
            raise RequestError(400, "Bad Request", "Missing Host header")

        method = request.method
        if method not in self._methods:
            if not TOKEN_RE.fullmatch(method):
                raise RequestError(400, "Bad Request", "Invalid method %r" % method)
            if len(self._methods) < 64:
                self._methods.add(method)
        target = request.raw_path
        if target == "*" and method != "OPTIONS":
            raise RequestError(400, "Bad Request", "Asterisk-form target for %s" % method)
        if not target.isascii() or not target.isprintable():
            # RFC 9112 3.2: the request-target is ASCII without controls or
            # spaces; an invalid request-line gets 400 (3), as aiohttp 3.9+ does.
            raise RequestError(400, "Bad Request", "Invalid request target")
        path, query, fragment = _split_target(target)
        script_name = self.script_name
        if script_name:
            if path != script_name and not path.startswith(script_name + "/"):
                raise RequestError(404, "Not Found", "Path outside SCRIPT_NAME %r" % script_name)
            path_info = path[len(script_name) :]
        else:
            path_info = path
        environ["REQUEST_METHOD"] = method
        if "%" in path_info or not path_info.isascii():
            path_info = unquote_to_bytes(_latin1(path_info)).decode("latin-1")
        environ["PATH_INFO"] = path_info
        environ["QUERY_STRING"] = query if query.isascii() else _latin1(query)
        environ["RAW_URI"] = raw_uri = target if target.isascii() else _latin1(target)
        environ["SERVER_PROTOCOL"] = protocol_name(version)
        environ["wsgi.url_scheme"] = scheme

        if not isinstance(conn.server_addr, tuple):
            # Unix socket: like gunicorn, SERVER_* come from the Host header.
            name, port = host or "", ""
            if name.startswith("["):
                end = name.find("]") + 1
                name, port = name[:end], name[end + 1 :]
            elif ":" in name:
                name, _, port = name.partition(":")
            if host and not port:
                port = "443" if scheme == "https" else "80"
            environ["SERVER_NAME"] = name
            environ["SERVER_PORT"] = port

        if headers is None:
            return environ, None, expect
        req = HookRequest(
            method,
            raw_uri,
            path,
            query,
            fragment,
            (version[0], version[1]),
            headers,
            scheme,
            conn.peer_addr,
            not request.keep_alive,
        )
        return environ, req, expect


# Headers the worker itself reads or checks (besides secure_scheme_headers).
_SPECIAL_HEADERS = frozenset(
    ("FORWARDED", "CONTENT-TYPE", "CONTENT-LENGTH", "TRANSFER-ENCODING", "HOST", "EXPECT")
)
_PROTOCOLS = {(1, 1): "HTTP/1.1", (1, 0): "HTTP/1.0"}
# gunicorn's limit_request_field_size when it is 0.
DEFAULT_FIELD_SIZE = 8190


def protocol_name(version):
    """``HTTP/1.1`` for aiohttp's ``HttpVersion(1, 1)``."""
    return _PROTOCOLS.get(version) or "HTTP/%d.%d" % (version[0], version[1])
