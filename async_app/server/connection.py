"""The connection: aiohttp's HTTP/1 protocol, as the worker needs it.

One :class:`Connection` per accepted socket, made by :class:`ConnectionFactory`
(aiohttp's low-level ``web.Server``). aiohttp's parser reads the requests
(keep-alive, pipelining, chunked bodies) and hands each to the worker's
request handler (:mod:`async_app.server.cycle`); the connection remembers the
task running it, so a client that goes away cancels it, answers the requests
the parser refused the way gunicorn does, and gives its
``worker_connections`` slot back when it closes.
"""
from aiohttp import http_exceptions, web, web_protocol, web_server
from gunicorn import SERVER

from .environ import max_header_fields

__all__ = ["Connection", "ConnectionFactory", "parser_limits"]


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

    def is_idle(self):
        """No request in progress or queued (pipelined) on this connection."""
        return not self.busy and not getattr(self, "_messages", None)

    def handle_error(self, request, status=500, exc=None, message=None):
        """Answer requests aiohttp's parser refused with a 4xx and a warning, like gunicorn."""
        if status >= 500:
            return super().handle_error(request, status, exc, message)
        status, reason = parse_error_status(exc)
        ip = self.peer_addr[0] if isinstance(self.peer_addr, tuple) else self.peer_addr
        self.worker.log.warning("Invalid request from ip=%s: %s", ip, message or exc)
        resp = web.Response(status=status, reason=reason,
                            text="%s\n" % (message or reason),
                            headers={"Connection": "close", "Server": SERVER})
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
