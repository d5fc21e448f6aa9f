"""The WSGI side of :mod:`async_app.worker`: environ, ``start_response``, body.

aiohttp parses the request; this module turns the parsed request into a PEP
3333 environ with gunicorn's semantics, buffers the request body so
``wsgi.input`` can be read synchronously, validates what the application
passes to ``start_response`` and writes the response through aiohttp's
``StreamWriter`` (aiohttp serializes the head; we decide framing and
keep-alive, as gunicorn's ``Response`` does).
"""
import asyncio
import collections
import io
import ipaddress
import os
import re
import tempfile
import threading
import time
from email.utils import formatdate
from urllib.parse import unquote_to_bytes, urlsplit

from gunicorn import SERVER, SERVER_SOFTWARE
from gunicorn.http.wsgi import FileWrapper, WSGIErrorsWrapper

__all__ = [
    "HookRequest",
    "Pump",
    "ProxyTrust",
    "RequestError",
    "Response",
    "WSGIEnviron",
    "read_body",
]

# RFC 9110 5.6.2 token; 5.5 field-value; RFC 9112 4 status-line (as gunicorn 27).
TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-zA-Z]+")
HEADER_VALUE_RE = re.compile(r"[ \t\x21-\x7e\x80-\xff]*")
STATUS_RE = re.compile(r"[0-9]{3}(?: [ \t\x21-\x7e\x80-\xff]*)?")

# Hop-by-hop headers belong to the connection, which the worker owns.
HOP_BY_HOP = frozenset((
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade",
))

# Bytes a pool thread may hand to the loop before it waits for the client.
PUMP_HIGH_WATER = 256 * 1024
# Bytes waiting in the transport beyond which a write waits for the client.
WRITE_HIGH_WATER = 64 * 1024


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

    __slots__ = ("method", "uri", "path", "query", "fragment", "version",
                 "headers", "scheme", "peer_addr", "remote_addr", "body",
                 "_should_close")

    def __init__(self, method, uri, path, query, fragment, version, headers,
                 scheme, peer_addr, should_close):
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


_date = [0, ""]


def http_date():
    """The ``Date`` header value, formatted once a second."""
    now = int(time.time())
    if now != _date[0]:
        _date[1] = formatdate(now, usegmt=True)
        _date[0] = now
    return _date[1]


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
        self.secure_headers = {
            k.upper(): v for k, v in (cfg.secure_scheme_headers or {}).items()
        }
        self.max_fields = max_header_fields(cfg)
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
        name = raw_name.decode("latin-1").upper()
        entry = (name, "HTTP_" + name.replace("-", "_"))
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
            raise RequestError(431, "Request Header Fields Too Large",
                               "more than %d header fields" % self.max_fields)
        trusted = conn.trusted
        secure_headers = self.secure_headers
        names = self._names
        scheme = "https" if conn.tls else "http"
        scheme_set = False
        host = None
        headers = [] if want_req else None
        n_length = n_te = 0
        expect = None
        for raw_name, raw_value in raw_headers:
            entry = names.get(raw_name)
            name, key = entry if entry is not None else self._name(raw_name)
            value = raw_value.decode("latin-1")
            if "_" in name:
                # X_Forwarded_For would map onto the same key as
                # X-Forwarded-For: dropped, as gunicorn 22+ does.
                continue
            if headers is not None:
                headers.append((name, value))
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
                environ["CONTENT_TYPE"] = value
                continue
            if name == "CONTENT-LENGTH":
                n_length += 1
                environ["CONTENT_LENGTH"] = value
                continue
            if name == "TRANSFER-ENCODING":
                n_te += 1
                if value.strip().lower() != "chunked":
                    raise RequestError(501, "Not Implemented",
                                       "Unsupported transfer coding: %r" % value)
            elif name == "HOST":
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

        target = request.raw_path
        path, query, fragment = _split_target(target)
        script_name = self.script_name
        if script_name:
            if path != script_name and not path.startswith(script_name + "/"):
                raise RequestError(404, "Not Found",
                                   "Path outside SCRIPT_NAME %r" % script_name)
            path_info = path[len(script_name):]
        else:
            path_info = path
        method = request.method
        environ["REQUEST_METHOD"] = method
        if "%" in path_info or not path_info.isascii():
            path_info = unquote_to_bytes(_latin1(path_info)).decode("latin-1")
        environ["PATH_INFO"] = path_info
        environ["QUERY_STRING"] = query if query.isascii() else _latin1(query)
        environ["RAW_URI"] = raw_uri = target if target.isascii() else _latin1(target)
        environ["SERVER_PROTOCOL"] = (_PROTOCOLS.get(version)
                                      or "HTTP/%d.%d" % (version[0], version[1]))
        environ["wsgi.url_scheme"] = scheme

        if not isinstance(conn.server_addr, tuple):
            # Unix socket: like gunicorn, SERVER_* come from the Host header.
            name, port = host or "", ""
            if name.startswith("["):
                end = name.find("]") + 1
                name, port = name[:end], name[end + 1:]
            elif ":" in name:
                name, _, port = name.partition(":")
            if host and not port:
                port = "443" if scheme == "https" else "80"
            environ["SERVER_NAME"] = name
            environ["SERVER_PORT"] = port

        if headers is None:
            return environ, None, expect
        req = HookRequest(method, raw_uri, path, query, fragment,
                          (version[0], version[1]), headers, scheme, conn.peer_addr,
                          not request.keep_alive)
        return environ, req, expect


_PROTOCOLS = {(1, 1): "HTTP/1.1", (1, 0): "HTTP/1.0"}


async def read_body(request, max_size, spool_size, expect=None):
    """Receive the whole request body; return ``(wsgi.input, length)``.

    Kept in memory up to ``spool_size`` bytes, spooled to a temporary file
    beyond; more than ``max_size`` bytes is refused with 413 (before reading
    when Content-Length announces it). ``Expect: 100-continue`` is answered
    here, as the body is about to be read.
    """
    if expect is not None and expect.lower() != "100-continue":
        raise RequestError(417, "Expectation Failed", "Unsupported expectation")
    if not request.body_exists:
        return io.BytesIO(), None
    announced = request.content_length
    if announced is not None and announced > max_size:
        raise RequestError(413, "Request Entity Too Large",
                           "Request body larger than %d bytes" % max_size)
    if expect is not None and request.version >= (1, 1):
        transport = request.transport
        if transport is not None:
            transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    content = request.content
    chunks = []
    spool = None
    total = 0
    while True:
        chunk = await content.readany()
        if not chunk:
            break
        total += len(chunk)
        if total > max_size:
            if spool is not None:
                spool.close()
            raise RequestError(413, "Request Entity Too Large",
                               "Request body larger than %d bytes" % max_size)
        if spool is not None:
            spool.write(chunk)
        elif total > spool_size:
            spool = tempfile.TemporaryFile(prefix="async_app-body-")
            spool.writelines(chunks)
            spool.write(chunk)
            chunks = None
        else:
            chunks.append(chunk)
    if spool is not None:
        spool.seek(0)
        return spool, total
    return io.BytesIO(b"".join(chunks) if len(chunks) != 1 else chunks[0]), total


class _Aborted(Exception):
    """The client went away while a pool thread was producing the body."""


class Pump:
    """Carries body chunks from a pool thread to the event loop.

    The thread calls :meth:`put` (blocking while more than
    ``PUMP_HIGH_WATER`` bytes wait for the client: back-pressure); the loop
    writes them out with :meth:`drain` until the thread's future is done.
    """

    def __init__(self, loop):
        self.loop = loop
        self.chunks = collections.deque()
        self.waiter = None
        self.cond = threading.Condition()
        self.pending = 0
        self.aborted = False

    def put(self, chunk):
        """Thread side: queue ``chunk`` for the client."""
        if not isinstance(chunk, bytes):
            raise TypeError("%r is not a byte string" % (chunk,))
        if not chunk:
            return
        with self.cond:
            while self.pending >= PUMP_HIGH_WATER and not self.aborted:
                self.cond.wait()
            if self.aborted:
                raise _Aborted("client went away")
            self.pending += len(chunk)
        self.loop.call_soon_threadsafe(self._arrive, chunk)

    def _arrive(self, chunk):
        self.chunks.append(chunk)
        self._wake()

    def _wake(self, *_):
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def abort(self):
        """Loop side: make the producing thread stop at its next chunk."""
        with self.cond:
            self.aborted = True
            self.cond.notify_all()

    async def drain(self, future, response):
        """Write queued chunks until ``future`` (the thread's work) is done."""
        # Chunks are queued with call_soon_threadsafe before the thread's
        # future completes (FIFO), so a done future means no chunk is in flight.
        future.add_done_callback(self._wake)
        chunks = self.chunks
        while True:
            while chunks:
                chunk = chunks.popleft()
                await response.write(chunk)
                with self.cond:
                    self.pending -= len(chunk)
                    self.cond.notify()
            if future.done():
                return future.result()
            self.waiter = self.loop.create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None


class Response:
    """One response: ``start_response``, framing, keep-alive and writing.

    The head is serialized here (status and headers were validated by
    :meth:`start_response`) and goes out with the first body bytes, straight
    to the connection's transport: a small response is one ``write``. Also
    what aiohttp's request handler returns (``keep_alive``, no-op
    ``prepare``/``write_eof``: the response is already written) and what
    gunicorn's access log and ``post_request`` hook read (``status``,
    ``headers``, ``sent``).
    """

    __slots__ = ("request", "conn", "writer", "loop", "worker", "thread", "status",
                 "status_code", "headers", "length", "sent", "headers_sent", "keep_alive",
                 "chunked", "omit_body", "early", "pump", "request_version", "_head",
                 "_has_date", "_has_server")

    def __init__(self, request, keep_alive, loop, worker=None):
        self.request = request
        self.worker = worker  # a stopping worker closes connections
        self.conn = request.protocol
        self.writer = request.writer  # only for drain(): back-pressure
        self.loop = loop
        self.thread = threading.get_ident()
        self.request_version = request.version
        self.status = None
        self.status_code = None
        self.headers = []
        self.length = None
        self.sent = 0
        self.headers_sent = False
        self.keep_alive = keep_alive
        self.chunked = False
        self.omit_body = False
        self.early = None  # write() calls made on the loop thread
        self.pump = None  # the Pump while a pool thread produces the body
        self._head = None  # the serialized head, until it is written

    # --- WSGI -------------------------------------------------------------

    def start_response(self, status, headers, exc_info=None):
        """PEP 3333 ``start_response``; refuses headers that could split the response."""
        if exc_info:
            try:
                if self.headers_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("Response headers already set!")
        if type(status) is not str:
            raise TypeError("%r is not a string" % (status,))
        code = _valid_statuses.get(status)
        if code is None:
            if not STATUS_RE.fullmatch(status):
                raise ValueError("Invalid status %r" % (status,))
            code = int(status[:3])
            if len(_valid_statuses) < 512:
                _valid_statuses[status] = code
        kept = []
        length = None
        has_date = has_server = False
        for name, value in headers:
            if type(name) is not str:
                raise TypeError("%r is not a string" % (name,))
            lname = _valid_names.get(name)
            if lname is None:
                if not TOKEN_RE.fullmatch(name):
                    raise ValueError("Invalid header name %r" % (name,))
                lname = name.lower()
                if len(_valid_names) < 1024:
                    _valid_names[name] = lname
            if type(value) is not str:
                raise TypeError("%r is not a string" % (value,))
            # Printable ASCII is always valid; anything else gets the full check.
            if not (value.isascii() and value.isprintable()) \
                    and not HEADER_VALUE_RE.fullmatch(value):
                # Name only: the value may carry secrets.
                raise ValueError("Invalid value for header %r" % (name,))
            if lname in HOP_BY_HOP:
                continue
            value = value.strip(" \t")
            if lname == "content-length":
                if not value.isdigit():
                    raise ValueError("Invalid Content-Length %r" % (value,))
                length = int(value)
            elif lname == "date":
                has_date = True
            elif lname == "server":
                has_server = True
            kept.append((name, value))
        self.status = status
        self.status_code = code
        self.headers = kept
        self.length = length
        self._has_date = has_date
        self._has_server = has_server
        return self.write_legacy

    def write_legacy(self, data):
        """The ``write()`` callable returned by ``start_response``.

        From a pool thread it blocks until the loop took the data (PEP
        3333); on the loop thread it queues the data before the body.
        """
        if not isinstance(data, bytes):
            raise TypeError("%r is not a byte string" % (data,))
        if threading.get_ident() == self.thread:
            if self.early is None:
                self.early = []
            self.early.append(data)
        elif self.pump is not None:
            self.pump.put(data)
        else:
            asyncio.run_coroutine_threadsafe(self.write(data), self.loop).result()

    # --- writing ----------------------------------------------------------

    def send_head(self):
        """Decide framing and keep-alive, and serialize the head.

        The head is written with the first body bytes (or by :meth:`finish`).
        """
        if self.status is None:
            raise AssertionError("The application did not call start_response()")
        self.headers_sent = True
        if self.worker is not None and not self.worker.alive:
            self.keep_alive = False
        code = self.status_code
        version = self.request_version
        headers = self.headers
        self.omit_body = (self.request.method == "HEAD" or code in (204, 304)
                          or 100 <= code < 200)
        if (code == 204 or 100 <= code < 200) and self.length is not None:
            headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
            self.length = None
        if self.length is None and not self.omit_body:
            if version >= (1, 1):
                self.chunked = True
            else:
                self.keep_alive = False
        protocol = _PROTOCOLS.get(version) or "HTTP/%d.%d" % (version[0], version[1])
        lines = ["%s %s\r\n" % (protocol, self.status)]
        for name, value in headers:
            lines.append("%s: %s\r\n" % (name, value))
        if self.chunked:
            lines.append("Transfer-Encoding: chunked\r\n")
        if not self._has_date:
            lines.append("Date: %s\r\n" % http_date())
        if not self._has_server:
            lines.append(_SERVER_LINE)
        if self.keep_alive:
            if version < (1, 1):
                lines.append("Connection: keep-alive\r\n")
        elif version >= (1, 1):
            lines.append("Connection: close\r\n")
        lines.append("\r\n")
        # PEP 3333: header strings are latin-1 (as gunicorn writes them).
        self._head = "".join(lines).encode("latin-1")

    def _frame(self, chunk):
        """The bytes that carry body ``chunk`` (clipped at Content-Length, chunk-framed)."""
        if self.omit_body:
            return b""
        if self.length is not None:
            room = self.length - self.sent
            if room <= 0:
                return b""
            if len(chunk) > room:
                chunk = chunk[:room]
        self.sent += len(chunk)
        if self.chunked:
            return b"%x\r\n%s\r\n" % (len(chunk), chunk)
        return chunk

    def _end(self):
        """The bytes that end the body; a short body closes the connection."""
        if self.length is not None and self.sent < self.length and not self.omit_body:
            self.keep_alive = False
        return b"0\r\n\r\n" if self.chunked else b""

    async def _send(self, data):
        """Write ``data`` after the head if it is still pending; wait if the client lags."""
        head = self._head
        if head is not None:
            self._head = None
            data = head + data if data else head
        elif not data:
            return
        transport = self.conn.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Cannot write to closing transport")
        transport.write(data)
        if transport.get_write_buffer_size() > WRITE_HIGH_WATER:
            await self.writer.drain()

    async def write(self, chunk):
        """Write one body chunk (type-checked, clipped at Content-Length)."""
        if not isinstance(chunk, bytes):
            raise TypeError("%r is not a byte string" % (chunk,))
        if not chunk:
            return
        if not self.headers_sent:
            self.send_head()
        await self._send(self._frame(chunk))

    async def write_all(self, chunks):
        """Write a whole in-memory body (a list or tuple) and end the response.

        Head, body and end go out in one write. A chunk that is not bytes
        raises after the chunks before it went out, as with :meth:`write`.
        """
        if self.early:
            chunks = self.early + list(chunks)
            self.early = None
        body = []
        try:
            for chunk in chunks:
                if not isinstance(chunk, bytes):
                    raise TypeError("%r is not a byte string" % (chunk,))
                if chunk:
                    body.append(chunk)
        except BaseException:
            if body:
                await self.write(b"".join(body))
            raise
        if not self.headers_sent:
            self.send_head()
        if body:
            data = self._frame(body[0] if len(body) == 1 else b"".join(body))
        else:
            data = b""
        end = self._end()
        await self._send(data + end if end else data)

    async def write_early(self):
        """Flush what ``write()`` queued on the loop thread."""
        early, self.early = self.early, None
        if early:
            for chunk in early:
                await self.write(chunk)

    async def finish(self):
        """End the response; a body shorter than its Content-Length closes the connection."""
        if self.early:
            await self.write_early()
        if not self.headers_sent:
            self.send_head()
        await self._send(self._end())

    async def send_error(self, status, reason, message=""):
        """A small text response (used before the app ran or when it failed early)."""
        body = ("%s\n" % (message or reason)).encode("latin-1", "replace")
        self.status = None
        self.early = None
        self.keep_alive = False
        self.start_response("%d %s" % (status, reason), [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ])
        await self.write_all((body,))

    # --- what aiohttp's RequestHandler expects from a handler's response ---

    async def prepare(self, request):
        return None

    async def write_eof(self, data=b""):
        return None


# Status lines and header names start_response already validated (bounded).
_valid_statuses = {}
_valid_names = {}
_SERVER_LINE = "Server: %s\r\n" % SERVER
