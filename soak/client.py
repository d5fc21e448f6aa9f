"""A small HTTP/1.1 client on asyncio streams, for the load generator.

Written here rather than taken from aiohttp so that it behaves the same on
every Python and aiohttp version and never retries on its own: a request that
fails is reported as failed. It can also misbehave on purpose: send a request
in small pieces with pauses, read a response slowly, or hang up half-way.
"""

import asyncio

__all__ = ["Connection", "HTTPError", "Response", "multipart"]


class HTTPError(Exception):
    """The server's answer was not a complete, well-formed HTTP/1.1 response."""


class Response:
    """A response read in full: ``status``, ``headers`` (lower-case names), ``body``."""

    def __init__(self, status, headers, body, will_close):
        self.status = status
        self.headers = headers
        self.body = body
        self.will_close = will_close

    @property
    def pid(self):
        """The worker pid the soak project's middleware put in ``X-Worker-Pid``."""
        value = self.headers.get("x-worker-pid", "")
        return int(value) if value.isdigit() else None


class Connection:
    """One keep-alive connection to ``host:port``; ``request()`` reuses it.

    ``pid`` is the worker that answered the last response on it (``None``
    until one did). ``limit`` is the stream reader's buffer: a small one makes
    a slow reader push back on the server (the kernel buffers fill up).

    Like any HTTP client (urllib3's ``is_connection_dropped``, aiohttp's
    connector), it does not reuse a connection the server has already closed
    (an idle keep-alive connection timed out, or a worker that stopped): it
    opens a new one and counts it in ``reopened``. It never resends a request.
    """

    def __init__(self, host, port, limit=2**16):
        self.host = host
        self.port = port
        self.limit = limit
        self.reader = None
        self.writer = None
        self.pid = None
        self.closed = True
        self.reopened = 0

    async def open(self):
        """Connect."""
        self.reader, self.writer = await asyncio.open_connection(
            self.host, self.port, limit=self.limit
        )
        self.closed = False

    def usable(self):
        """Open, and not closed by the server since the last response."""
        return (
            not self.closed and not self.reader.at_eof() and not self.writer.transport.is_closing()
        )

    def close(self):
        """Close the socket at once (a client hanging up)."""
        if self.writer is not None:
            self.writer.transport.abort()
        self.closed = True

    async def send(self, data, piece=None, pause=0.0):
        """Write ``data``, in ``piece``-byte writes ``pause`` seconds apart if given."""
        if not piece:
            self.writer.write(data)
        else:
            for start in range(0, len(data), piece):
                self.writer.write(data[start : start + piece])
                await self.writer.drain()
                await asyncio.sleep(pause)
        await self.writer.drain()

    async def request(
        self,
        method,
        path,
        body=b"",
        headers=(),
        chunked=False,
        send_piece=None,
        send_pause=0.0,
        read_piece=None,
        read_pause=0.0,
    ):
        """Send one request and read its whole response."""
        if not self.closed and not self.usable():
            self.close()
            self.reopened += 1
        if self.closed:
            await self.open()
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s:%d" % (self.host, self.port)]
        lines.extend("%s: %s" % item for item in headers)
        if chunked:
            lines.append("Transfer-Encoding: chunked")
            payload = (
                b"".join(
                    b"%x\r\n%s\r\n" % (len(body[i : i + 65536]), body[i : i + 65536])
                    for i in range(0, len(body), 65536)
                )
                + b"0\r\n\r\n"
            )
        else:
            if body or method == "POST":
                lines.append("Content-Length: %d" % len(body))
            payload = body
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        await self.send(head + payload, send_piece, send_pause)
        response = await self.read_response(read_piece, read_pause)
        if response.pid is not None:
            self.pid = response.pid
        if response.will_close:
            self.close()
        return response

    async def read_response(self, read_piece=None, read_pause=0.0):
        """Read one response (Content-Length, chunked, or up to the close)."""
        reader = self.reader
        try:
            status_line = await reader.readuntil(b"\r\n")
        except asyncio.IncompleteReadError as exc:
            raise HTTPError(
                "connection closed before the status line (%d bytes)" % len(exc.partial)
            )
        parts = status_line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise HTTPError("bad status line %r" % status_line[:80])
        status = int(parts[1])
        headers = {}
        while True:
            line = await reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        will_close = headers.get("connection", "").lower() == "close" or parts[0] == "HTTP/1.0"
        if "content-length" in headers:
            body = await self._read_exactly(int(headers["content-length"]), read_piece, read_pause)
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._read_chunked(read_piece, read_pause)
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
        else:
            body = await reader.read()
            will_close = True
        return Response(status, headers, body, will_close)

    async def _read_exactly(self, size, piece, pause):
        try:
            if not piece:
                return await self.reader.readexactly(size)
            parts = []
            left = size
            while left:
                part = await self.reader.readexactly(min(piece, left))
                parts.append(part)
                left -= len(part)
                await asyncio.sleep(pause)
            return b"".join(parts)
        except asyncio.IncompleteReadError as exc:
            raise HTTPError("body cut after %d of %d bytes" % (len(exc.partial), size))

    async def _read_chunked(self, piece, pause):
        parts = []
        try:
            while True:
                size_line = await self.reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while await self.reader.readuntil(b"\r\n") != b"\r\n":
                        pass
                    return b"".join(parts)
                parts.append(await self._read_exactly(size, piece, pause))
                if await self.reader.readexactly(2) != b"\r\n":
                    raise HTTPError("chunk not followed by CRLF")
        except asyncio.IncompleteReadError:
            raise HTTPError("chunked body cut after %d bytes" % sum(map(len, parts)))
        except ValueError:
            raise HTTPError("bad chunk size line")


def multipart(field, filename, data, boundary="soakboundary7MA4YWxkTrZu0gW"):
    """A ``multipart/form-data`` body with one file: ``(content_type, body)``."""
    body = b"".join(
        [
            b"--%s\r\n" % boundary.encode(),
            b'Content-Disposition: form-data; name="%s"; filename="%s"\r\n'
            % (field.encode(), filename.encode()),
            b"Content-Type: application/octet-stream\r\n\r\n",
            data,
            b"\r\n--%s--\r\n" % boundary.encode(),
        ]
    )
    return "multipart/form-data; boundary=%s" % boundary, body
