"""The connection: aiohttp's HTTP/1 protocol, as the worker needs it.

One :class:`Connection` per accepted socket, made by :class:`ConnectionFactory`
(aiohttp's low-level ``web.Server``). aiohttp's parser reads the requests
(keep-alive, pipelining, chunked bodies) and hands each to the worker's
request handler (:mod:`async_app.server.cycle`); the connection remembers the
task running it, so a client that goes away cancels it, answers the requests
the parser refused the way gunicorn does, and gives its
``worker_connections`` slot back when it closes.
"""

from aiohttp import http_exceptions, http_parser, web, web_protocol, web_server
from aiohttp.streams import EMPTY_PAYLOAD
from gunicorn import SERVER

from .environ import RequestError, max_header_fields
from .framing import LOST, Framing

__all__ = ["Connection", "ConnectionFactory", "parser_limits"]

# Refusals of aiohttp's C parser (llhttp) stricter than gunicorn and RFC 9112:
# a method that is a token but not one llhttp knows (RFC 9110 9.1), bytes
# after a request that closes the connection (RFC 9112 9.6: a server stops
# reading them; it still answers the request), whitespace after the ";" of
# chunk extensions (RFC 9112 7.1.1 allows BWS). Such a request is
# parsed again by aiohttp's pure-Python parser, which the connection then
# keeps.
RETRIED_REFUSALS = (
    "Invalid method encountered",
    "Data after `Connection: close`",
    "Invalid character in chunk extension",
)
# The most bytes kept for that second parse (a request head and a small body).
MAX_REPLAY = 64 * 1024
# The end of a client's bytes this soon after its last request is a
# half-close (answered) even once the application runs; later, while the
# application runs, it is a client that went away (the application is cancelled).
HALF_CLOSE_WINDOW = 0.01


def parser_limits(cfg):
    """gunicorn's request limits as aiohttp parser arguments.

    aiohttp applies ``max_line_size`` to the request target and
    ``max_field_size`` to each header name and value. ``max_headers`` is one
    above the limit so the worker itself answers 431 at the limit (aiohttp
    3.8 does not count headers at all).
    """
    line = cfg.limit_request_line
    field = cfg.limit_request_field_size
    return {
        "max_line_size": line if 0 < line < 8190 else 8190,
        "max_field_size": field if field > 0 else 8190,
        "max_headers": max_header_fields(cfg) + 1,
    }


class Connection(web_protocol.RequestHandler):
    """aiohttp's HTTP/1 protocol, plus what the worker needs per connection.

    Remembers the task running the application so that a client that goes
    away cancels it (aiohttp 3.8 never does; 3.9+ only with
    ``handler_cancellation``), keeps what every request of the connection
    shares (peer, local address, TLS, proxy trust, the environ's constant
    part), and tells the worker when it closes (``connection_closed``).
    """

    def __init__(self, worker, manager, **kwargs):
        super().__init__(manager, **kwargs)
        self.worker = worker
        self.parser_limits = {
            k: kwargs[k] for k in ("max_line_size", "max_field_size", "max_headers") if k in kwargs
        }
        self._replay = b""  # what arrived since the connection was idle
        self._lenient = False  # on aiohttp's pure-Python parser
        # Bytes of a request head arrived, the head is not complete yet
        # (the worker closes it after ASYNC_APP_HEADER_TIMEOUT).
        self.head_started = False
        # Where the byte stream is (chunked trailers are checked there): a
        # Framing, None at a request's start, LOST when not followed.
        self.framing = None
        self.last_payload = None  # the body of the last request parsed
        self.parsed_at = 0.0  # when (loop time)
        self.app_task = None
        # False once a WebSocket on this connection closed cleanly: the view
        # then finishes instead of being cancelled when the socket goes.
        self.cancel_on_lost = True
        self.busy = False
        self.idle_since = 0.0
        self.peer_addr = None
        self.server_addr = None
        self.trusted = False
        self.tls = False
        self.environ_base = None

    def connection_made(self, transport):
        self.peer_addr = transport.get_extra_info("peername")
        self.server_addr = transport.get_extra_info("sockname")
        self.tls = transport.get_extra_info("sslcontext") is not None
        environ = self.worker.environ
        self.trusted = environ.trust(self.peer_addr)
        self.environ_base = environ.for_connection(self.peer_addr, self.server_addr)
        self.idle_since = self.worker.loop.time()
        self.worker.connections.add(self)
        super().connection_made(transport)

    def connection_lost(self, exc):
        super().connection_lost(exc)
        task, self.app_task = self.app_task, None
        if task is not None and not task.done() and self.cancel_on_lost:
            task.cancel()
        self.worker.connection_closed(self)

    def eof_received(self):
        """The client half-closed (``shutdown(SHUT_WR)``): answer what it sent, then close.

        As gunicorn does: the complete requests, pipelined ones too, are
        answered, the last one with ``Connection: close``; a request whose
        body stops short gets 400 without reaching the application; an
        incomplete head (or nothing) closes the connection at once. TCP does
        not tell a half-close from a close: once the application runs, the
        end of the client's bytes means it went away (the application is
        cancelled), unless it came within ``HALF_CLOSE_WINDOW`` of the
        request (a client that sends and shuts down at once). On an accepted
        WebSocket it always means the client went away.
        """
        if self._force_close or self._close or self.transport is None:
            return False
        if self._payload_parser is not None:
            return False  # an accepted WebSocket: the client went away
        if self.app_task is not None and self._loop.time() - self.parsed_at > HALF_CLOSE_WINDOW:
            return False
        messages = self._messages
        # aiohttp waits for a request with a _waiter; without one, it is
        # starting one it took from the queue (before the cycle marks busy).
        starting = self._waiter is None and self.last_payload is not None
        if not (self.busy or messages or starting):
            return False
        payload = self.last_payload
        if payload is not None and not payload.is_eof():
            self.fail_body(payload, RequestError(400, "Bad Request", "Incomplete request body"))
        if messages:
            message, payload = messages[-1]
            if hasattr(message, "should_close"):
                messages[-1] = (message._replace(should_close=True), payload)
        else:
            self.close()  # once the response in progress is written
        return True

    def fail_body(self, payload, exc):
        """Make the reading of a request body raise ``exc`` (the connection then closes)."""
        self.no_lingering()
        payload.set_exception(exc)

    def no_lingering(self):
        """No reading of the rest of the body after the response: it failed.

        aiohttp's lingering read would raise the body's error again and log
        it as an unhandled exception.
        """
        self._lingering_time = 0.0

    def data_received(self, data):
        """Parse ``data``; a request the C parser refused too strictly is parsed again."""
        if not self.is_idle():
            self._replay = b""
            return self._feed(data)
        if self.framing is LOST:
            self.framing = None  # idle again: what comes begins a request
        if self._lenient:
            self._feed(data)
            self.head_started = not self._messages
            return
        replay = self._replay + data if len(self._replay) + len(data) <= MAX_REPLAY else b""
        head_end = replay.find(b"\r\n\r\n")
        if head_end > 0 and (
            replay.find(b"\r\n ", 0, head_end) >= 0 or replay.find(b"\r\n\t", 0, head_end) >= 0
        ):
            # Obsolete line folding (RFC 9112 5.2), which aiohttp 3.8 joins.
            return self._refuse(http_exceptions.BadHttpMessage("Obsolete line folding"))
        self._feed(data, replay if self.framing is None else None)
        queued = self._messages
        self._replay = b""
        self.head_started = not queued
        if not queued:
            self._replay = replay  # a request head still arriving
        elif (
            len(queued) == 1
            and replay
            and isinstance(queued[0][0], web_protocol._ErrInfo)
            and any(text in str(queued[0][0].exc) for text in RETRIED_REFUSALS)
        ):
            self._parse_leniently(replay)

    def _feed(self, data, stream=None):
        """Parse ``data``, following its framing (``stream``: the bytes since idle)."""
        framing = self.framing
        if (
            framing is LOST
            or self._force_close
            or self._close
            or (self._payload_parser is not None)
        ):  # a WebSocket's frames
            return self._parse(data)
        if framing is None and stream is None:
            framing = self.framing = Framing(self)  # at a request's start
        offset = framing.before_parse(data) if framing is not None else 0
        messages = self._messages
        before = len(messages)
        self._parse(data)
        if len(messages) > before:
            self.last_payload = messages[-1][1]
            self.parsed_at = self._loop.time()
        added = len(messages) - before
        new = (messages[-1],) if added == 1 else list(messages)[before:] if added else ()
        if framing is None:
            # Idle, the bytes since then begin a request: one complete head
            # without a body (a GET) leaves nothing to follow.
            if (
                len(new) == 1
                and new[0][1] is EMPTY_PAYLOAD
                and stream
                and stream.endswith(b"\r\n\r\n")
                and stream.find(b"\r\n\r\n") == len(stream) - 4
                and not getattr(new[0][0], "upgrade", True)
            ):
                return
            framing = self.framing = Framing(self)
            data, offset = stream, 0
        if not framing.after_parse(data, offset, new):
            self.framing = LOST

    def _parse(self, data):
        try:
            super().data_received(data)
        except Exception as exc:
            # aiohttp 3.8 lets some malformed targets raise (yarl's ValueError).
            if self._force_close or self._close:
                raise
            self._refuse(http_exceptions.BadHttpMessage("Invalid request: %s" % exc))

    def _refuse(self, exc):
        # Queue the refusal as aiohttp does for its parser's errors (handle_error answers).
        self._messages.append(
            (web_protocol._ErrInfo(status=400, exc=exc, message=exc.message), EMPTY_PAYLOAD)
        )
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _parse_leniently(self, data):
        attr = "_parser" if hasattr(self, "_parser") else "_request_parser"  # aiohttp 3.9+, 3.8
        parser = http_parser.HttpRequestParserPy(
            self,
            self._loop,
            2**16,
            payload_exception=web_protocol.RequestPayloadError,
            auto_decompress=False,
            **self.parser_limits,
        )
        messages = []
        pos = 0
        # Line by line, so the requests before a refusal are kept.
        while pos < len(data):
            end = data.find(b"\r\n", pos)
            end = len(data) if end < 0 else end + 2
            try:
                parsed, upgraded, _ = parser.feed_data(data[pos:end])
            except http_exceptions.HttpProcessingError:
                if messages and messages[-1][0].should_close:
                    break  # the connection closes after it: what follows is never read
                return
            if upgraded:
                return
            messages.extend(parsed)
            pos = end
        if not messages:
            return
        self._messages.clear()
        self._messages.extend(messages)
        setattr(self, attr, parser)
        self._lenient = True
        self.last_payload = messages[-1][1]
        self.parsed_at = self._loop.time()
        self.framing = Framing(self)
        if not self.framing.after_parse(data, 0, messages):
            self.framing = LOST

    def is_idle(self):
        """No request in progress or queued (pipelined); a head may be arriving.

        A request whose body is still arriving is in progress even before
        its cycle starts (aiohttp has taken it from the queue, the handler
        has not run yet): its bytes are body, never the next head.
        """
        if self.busy or getattr(self, "_messages", None):
            return False
        payload = self.last_payload
        return payload is None or payload.is_eof() or payload.exception() is not None

    def handle_error(self, request, status=500, exc=None, message=None):
        """Answer requests aiohttp's parser refused with a 4xx and a warning, like gunicorn."""
        if status >= 500:
            return super().handle_error(request, status, exc, message)
        status, reason = parse_error_status(exc)
        ip = self.peer_addr[0] if isinstance(self.peer_addr, tuple) else self.peer_addr
        self.worker.log.warning("Invalid request from ip=%s: %s", ip, message or exc)
        resp = web.Response(
            status=status,
            reason=reason,
            text="%s\n" % (message or reason),
            headers={"Connection": "close", "Server": SERVER},
        )
        resp.force_close()
        return resp


def parse_error_status(exc):
    """gunicorn's status for a parser error: 414 long target, 431 headers, else 400."""
    if isinstance(exc, http_exceptions.LineTooLong):
        line = exc.args[0] if exc.args else ""
        if isinstance(line, (bytes, bytearray)):
            line = bytes(line).decode("latin-1")
        line = str(line)
        # aiohttp 3.8 names the part; 3.9+ quotes the start of the offending line.
        if line.startswith(("/", "http:", "https:", "Status line")):
            return 414, "URI Too Long"
        return 431, "Request Header Fields Too Large"
    if isinstance(exc, http_exceptions.BadHttpMessage) and "Too many headers" in str(exc):
        return 431, "Request Header Fields Too Large"
    return 400, "Bad Request"


class ConnectionFactory(web_server.Server):
    """aiohttp's low-level server, making a :class:`Connection` per accepted socket."""

    def __init__(self, worker, handler, **kwargs):
        super().__init__(handler, **kwargs)
        self.worker = worker

    def __call__(self):
        return Connection(self.worker, self, loop=self._loop, **self._kwargs)
