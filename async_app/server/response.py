"""Response writing: ``start_response``, the head, framing and keep-alive.

The worker writes the response bytes itself, straight to the connection's
transport (aiohttp's ``StreamWriter`` is only used for ``drain()``); this
module validates what the application passes to ``start_response``, decides
framing (Content-Length, chunked, no body) and keep-alive, and serializes the
head, as gunicorn's ``http.wsgi.Response`` does.
"""

import asyncio
import re
import threading
import time
from email.utils import formatdate

from gunicorn import SERVER

__all__ = ["Response", "http_date"]

# RFC 9110 5.6.2 token; 5.5 field-value; RFC 9112 4 status-line (as gunicorn 27).
TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-zA-Z]+")
HEADER_VALUE_RE = re.compile(r"[ \t\x21-\x7e\x80-\xff]*")
STATUS_RE = re.compile(r"[0-9]{3}(?: [ \t\x21-\x7e\x80-\xff]*)?")

# Hop-by-hop headers belong to the connection, which the worker owns.
HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    )
)

# Bytes a pool thread may hand to the loop before it waits for the client.
# Bytes waiting in the transport beyond which a write waits for the client.
WRITE_HIGH_WATER = 64 * 1024


_date = [0, ""]


def http_date():
    """The ``Date`` header value, formatted once a second."""
    now = int(time.time())
    if now != _date[0]:
        _date[1] = formatdate(now, usegmt=True)
        _date[0] = now
    return _date[1]


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

    __slots__ = (
        "request",
        "conn",
        "writer",
        "loop",
        "worker",
        "thread",
        "status",
        "status_code",
        "headers",
        "length",
        "sent",
        "headers_sent",
        "keep_alive",
        "chunked",
        "omit_body",
        "early",
        "pump",
        "request_version",
        "_head",
        "_has_date",
        "_has_server",
    )

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
            if not (value.isascii() and value.isprintable()) and not HEADER_VALUE_RE.fullmatch(
                value
            ):
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
        if getattr(self.conn, "_close", False):
            # The connection closes after this response (aiohttp's close():
            # the client half-closed while it was in progress): say so.
            self.keep_alive = False
        code = self.status_code
        version = self.request_version
        headers = self.headers
        self.omit_body = self.request.method == "HEAD" or code in (204, 304) or 100 <= code < 200
        if (code == 204 or 100 <= code < 200) and self.length is not None:
            headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
            self.length = None
        if self.length is None and not self.omit_body:
            if version >= (1, 1):
                self.chunked = True
            else:
                self.keep_alive = False
        # An HTTP/1.x server answers in HTTP/1.x, whatever a refused request said.
        protocol = "HTTP/1.0" if version == (1, 0) else "HTTP/1.1"
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

    async def send_error(self, status, reason, message="", headers=()):
        """A small text response (used before the app ran or when it failed early)."""
        body = ("%s\n" % (message or reason)).encode("latin-1", "replace")
        self.status = None
        self.early = None
        self.keep_alive = False
        self.start_response(
            "%d %s" % (status, reason),
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ]
            + list(headers),
        )
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
