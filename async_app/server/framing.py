"""Chunked trailers, checked on the raw bytes: fields RFC 9110 6.5.1 forbids there.

aiohttp's parsers read a chunked body's trailer section and drop it without
exposing it (3.8's pure-Python parser does not even parse it), so gunicorn
26's refusal of a ``Host``, ``Content-Length``, ``Transfer-Encoding``,
``Trailer``, ``Authorization`` or ``TE`` trailer cannot be had from them.
:class:`Framing` follows the request framing of the bytes a connection
receives instead: the end of each request head, then its body as aiohttp's
parser announced it (``Content-Length`` bytes, chunks, or none), down to the
trailer lines of chunked bodies. A request with a forbidden trailer field
gets 400 (its body read fails with :class:`~async_app.server.environ.RequestError`):
the application is never called.

The bytes of a body in progress are followed before aiohttp's parser sees
them (:meth:`Framing.before_parse`), so the refusal is in place before the
body ends; the heads, and the bodies of requests the parser has just
announced, after it (:meth:`Framing.after_parse`). Whenever the bytes and
the parser's requests do not agree (a head found that the parser did not
announce, a chunk size that is no number...), the connection stops being
followed (``LOST``): aiohttp's parser still refuses malformed framing itself,
and the connection (:mod:`~async_app.server.connection`) starts again at its
next idle point, where the next bytes begin a request head.
"""

from .environ import RequestError

__all__ = ["FORBIDDEN_TRAILERS", "Framing", "LOST"]

# RFC 9110 6.5.1: fields that alter routing, framing or authentication
# (gunicorn 26's RFC9110_6_5_1_FORBIDDEN_TRAILER).
FORBIDDEN_TRAILERS = frozenset(
    (b"HOST", b"CONTENT-LENGTH", b"TRANSFER-ENCODING", b"TRAILER", b"AUTHORIZATION", b"TE")
)
# A chunk-size line or trailer section longer than this is not followed
# (aiohttp's parser limits them far below).
MAX_LINE = 64 * 1024

LOST = "lost"  # a connection whose framing is no longer followed

_HEAD, _BODY, _SIZE, _DATA, _TRAILERS = range(5)
_HEX_DIGITS = b"0123456789abcdefABCDEF"


class Framing:
    """Where a connection's byte stream is: in a head, a body, a chunk or its trailers."""

    __slots__ = (
        "protocol",
        "state",
        "left",
        "line",
        "pending",
        "payload",
        "head_begun",
        "lost",
        "after_data",
    )

    def __init__(self, protocol):
        self.protocol = protocol  # the Connection: its fail_body() refuses a body
        self.state = _HEAD
        self.left = 0  # bytes left of a Content-Length body or chunk
        self.line = b""  # a chunk-size or trailer line (or the end of a head) so far
        self.pending = []  # (message, payload) the parser announced, heads not yet seen
        self.payload = None  # the body being followed
        self.head_begun = False
        self.lost = False
        self.after_data = False  # the next line is the CRLF ending a chunk's data

    def before_parse(self, data):
        """Follow ``data`` through the body in progress; return where the rest begins."""
        if self.state == _HEAD:
            return 0
        return self._follow(data, 0, stop_at_head=True)

    def after_parse(self, data, offset, messages):
        """Follow ``data[offset:]`` with the ``(message, payload)`` the parser just made.

        Returns False once the connection can no longer be followed.
        """
        if messages:
            self.pending.extend(messages)
        if offset < len(data):
            self._follow(data, offset, stop_at_head=False)
        if self.pending:
            self.lost = True  # announced requests whose heads were not found
        return not self.lost

    # --- the states ---------------------------------------------------------------

    def _follow(self, data, pos, stop_at_head):
        end = len(data)
        while pos < end and not self.lost:
            state = self.state
            if state == _HEAD:
                if stop_at_head:
                    return pos
                pos = self._head(data, pos)
            elif state == _BODY or state == _DATA:
                step = min(self.left, end - pos)
                self.left -= step
                pos += step
                if not self.left:
                    if state == _BODY:
                        self._next_head()
                    else:
                        self.state, self.after_data = _SIZE, True
            else:
                newline = data.find(b"\n", pos)
                if newline < 0:
                    self.line += data[pos:]
                    if len(self.line) > MAX_LINE:
                        self.lost = True
                    return end
                line = self.line + data[pos:newline]
                self.line = b""
                pos = newline + 1
                if line.endswith(b"\r"):
                    line = line[:-1]
                if state == _SIZE:
                    self._size_line(line)
                else:
                    self._trailer_line(line)
        return pos

    def _head(self, data, pos):
        if not self.head_begun:
            # Empty lines before a request line are ignored (RFC 9112 2.2).
            while pos < len(data) and data[pos] in b"\r\n":
                pos += 1
            if pos == len(data):
                return pos
            self.head_begun = True
        # A head ends with an empty line (CRLF, or a bare LF where a parser allows it).
        searched = self.line[-2:] + data[pos:]
        ends = [i for i in (searched.find(b"\n\r\n"), searched.find(b"\n\n")) if i >= 0]
        if not ends:
            self.line = searched[-2:]
            return len(data)
        end = min(ends)
        end += 3 if searched[end + 1 : end + 2] == b"\r" else 2
        pos += end - len(self.line[-2:])
        self.line = b""
        self.head_begun = False
        if not self.pending:
            self.lost = True  # a head the parser did not announce
            return pos
        message, payload = self.pending.pop(0)
        if not hasattr(message, "chunked") or message.upgrade:
            self.lost = True  # a refusal (the connection closes), or another protocol
            return pos
        self.payload = payload
        if message.chunked:
            self.state = _SIZE
            return pos
        length = message.headers.get("Content-Length")
        if length:
            if not length.isdigit() or not length.isascii():
                self.lost = True
                return pos
            self.left = int(length)
            if self.left > 0:
                self.state = _BODY
                return pos
        self._next_head()
        return pos

    def _size_line(self, line):
        if self.after_data:
            self.after_data = False
            if line:
                self.lost = True
            return
        size = line.split(b";", 1)[0].strip(b" \t")
        # Hex digits only (int() would also take a sign, "0x" or "_").
        if not size or size.strip(_HEX_DIGITS) or len(size) > 16:
            self.lost = True
            return
        self.left = int(size, 16)
        self.state = _DATA if self.left else _TRAILERS

    def _trailer_line(self, line):
        if not line:
            self._next_head()
            return
        name = line.split(b":", 1)[0].strip(b" \t").upper()
        if name in FORBIDDEN_TRAILERS:
            payload, self.payload = self.payload, None
            if payload is not None:
                self.protocol.fail_body(
                    payload,
                    RequestError(
                        400,
                        "Bad Request",
                        "Invalid HTTP header name in trailers: %r" % name.decode("latin-1"),
                    ),
                )
            self.lost = True  # the connection closes after the refusal

    def _next_head(self):
        self.state = _HEAD
        self.payload = None
        self.left = 0
