"""WebSockets in coroutine views: ``ws = await accept_websocket(request)``.

A coroutine view routed by the ordinary urlconf accepts the upgrade, talks,
and returns ``ws.response``::

    async def echo(request):
        ws = await accept_websocket(request)
        async for message in ws:
            await ws.send_text(message)
        return ws.response

Before accepting, a view may refuse with any ordinary response (403, 404...),
which the client gets as the handshake's answer. The request phase of the
middleware has run by then (``request.user``, ``request.session``);
the response phase runs once the view returns, on ``ws.response`` (status
101, no body, nothing of it sent: the handshake went out at accept).

What the server side of a socket is comes from the environ entry
``async_app.websocket`` (:data:`ENVIRON_KEY`): the aiohttp worker puts one
there for upgrade requests (:mod:`async_app.server.upgrade`), the test
client another (:mod:`async_app.testing.websocket`). Settings (Django's):

* ``ASYNC_APP_WEBSOCKET_ALLOWED_ORIGINS``: origins allowed besides the
  request's own host (``"https://app.example.com"``, ``"example.com"``,
  ``".example.com"`` for subdomains, ``"*"``); default none.
* ``ASYNC_APP_WEBSOCKET_MAX_MESSAGE_SIZE``: bytes, default 1 MiB; a larger
  message from the client closes the socket with 1009.
* ``ASYNC_APP_WEBSOCKET_HEARTBEAT``: seconds between pings, default 30; a
  client that does not answer within half of it is disconnected (0: off).
* ``ASYNC_APP_WEBSOCKET_CLOSE_TIMEOUT``: seconds to wait for the client's
  close frame, default 2.

On graceful shutdown (:mod:`async_app.shutdown`) open sockets are closed with
1001 (going away); the view's ``receive()`` raises :class:`WebSocketClosed`.
"""

import asyncio
import inspect
import json
import sys

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpResponse
from django.utils.http import is_same_domain
from django.utils.six.moves.urllib.parse import urlsplit

from . import shutdown
from .server.upgrade import ENVIRON_KEY

__all__ = [
    "ENVIRON_KEY",
    "MessageSocket",
    "WebSocket",
    "WebSocketClosed",
    "accept_websocket",
    "check_origin",
    "is_websocket_request",
]

DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024
DEFAULT_HEARTBEAT = 30.0
DEFAULT_CLOSE_TIMEOUT = 2.0

GOING_AWAY = 1001

# Code that may await (async def, @types.coroutine generators, async generators).
_COROUTINE_FLAGS = (
    inspect.CO_COROUTINE
    | inspect.CO_ITERABLE_COROUTINE
    | inspect.CO_ASYNC_GENERATOR
    | inspect.CO_GENERATOR
)


class WebSocketClosed(Exception):
    """The socket is closed: ``code`` and ``reason`` of the close (1006: connection lost)."""

    def __init__(self, code, reason=""):
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class NotAWebSocketRequest(SuspiciousOperation):
    """``accept_websocket`` on a request that is no WebSocket handshake (answered 400)."""


def is_websocket_request(request):
    """True when ``request`` asks for a WebSocket upgrade this server can accept."""
    return (
        request.META.get(ENVIRON_KEY) is not None
        and "websocket" in request.META.get("HTTP_UPGRADE", "").lower()
    )


def accept_websocket(request, subprotocols=(), max_message_size=None, heartbeat=None):
    """Accept the WebSocket handshake of ``request``; awaitable, returns a :class:`WebSocket`.

    Refuses (before anything is sent) with :class:`PermissionDenied` (403)
    when the ``Origin`` is another site's, and with a 400 when the request is
    no WebSocket handshake. ``request.get_host()`` applies ``ALLOWED_HOSTS``.
    ``subprotocols``: the ones this view speaks, in order of preference; the
    chosen one is ``ws.subprotocol``. Must be awaited in a coroutine view: a
    sync view gets a ``RuntimeError`` at once.
    """
    try:
        asyncio.get_running_loop()
        # The caller must be coroutine code (the view's async def body): a
        # sync view run inline on the loop's thread (the test client) is not.
        flags = sys._getframe(1).f_code.co_flags
        in_coroutine = bool(flags & _COROUTINE_FLAGS)
    except RuntimeError:
        in_coroutine = False
    if not in_coroutine:
        raise RuntimeError(
            "accept_websocket() needs a coroutine view: make the view 'async def' and "
            "'ws = await accept_websocket(request)' (a sync view runs in a thread, "
            "without the event loop a WebSocket lives on)"
        )
    return _accept(request, tuple(subprotocols), max_message_size, heartbeat)


async def _accept(request, subprotocols, max_message_size, heartbeat):
    upgrade = request.META.get(ENVIRON_KEY)
    if upgrade is None or not is_websocket_request(request):
        raise NotAWebSocketRequest("Expected a WebSocket handshake (GET with Upgrade: websocket)")
    check_origin(request)
    if max_message_size is None:
        max_message_size = getattr(
            settings, "ASYNC_APP_WEBSOCKET_MAX_MESSAGE_SIZE", DEFAULT_MAX_MESSAGE_SIZE
        )
    if heartbeat is None:
        heartbeat = getattr(settings, "ASYNC_APP_WEBSOCKET_HEARTBEAT", DEFAULT_HEARTBEAT)
    close_timeout = getattr(settings, "ASYNC_APP_WEBSOCKET_CLOSE_TIMEOUT", DEFAULT_CLOSE_TIMEOUT)
    channel = await upgrade.accept(
        subprotocols=subprotocols,
        max_message_size=int(max_message_size),
        heartbeat=float(heartbeat) or None,
        close_timeout=float(close_timeout),
    )
    if channel is None:
        raise NotAWebSocketRequest("Invalid WebSocket handshake")
    ws = WebSocket(channel)
    upgrade.websocket = ws
    return ws


def check_origin(request):
    """Refuse a cross-site handshake (raise :class:`PermissionDenied`), as CSRF does for POST.

    Browsers always send ``Origin`` with a WebSocket handshake; its host must
    be the request's own (``request.get_host()``, which applies
    ``ALLOWED_HOSTS``) or match ``ASYNC_APP_WEBSOCKET_ALLOWED_ORIGINS``. A
    handshake without ``Origin`` comes from no browser page and is allowed.
    """
    host = request.get_host()
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        return
    parts = urlsplit(origin)
    if parts.scheme in ("http", "https") and parts.netloc:
        if parts.netloc == host and (parts.scheme == "https") == request.is_secure():
            return
        for allowed in getattr(settings, "ASYNC_APP_WEBSOCKET_ALLOWED_ORIGINS", ()):
            if allowed == "*" or allowed == origin:
                return
            if "://" not in allowed and is_same_domain(parts.netloc, allowed):
                return
    raise PermissionDenied("WebSocket Origin %r does not match %r" % (origin, host))


class MessageSocket:
    """Messages over a channel: what a view's :class:`WebSocket` and the test client's share.

    ``receive()`` returns a message (``str`` for text, ``bytes`` for binary)
    and raises :class:`WebSocketClosed` once the socket is closed;
    ``async for message in ws`` ends there instead. Sends wait while the
    peer is not reading (back-pressure) and raise :class:`WebSocketClosed`
    on a closed socket.
    """

    def __init__(self, channel):
        self._channel = channel
        self.subprotocol = channel.subprotocol
        self.close_code = None
        self.close_reason = ""

    @property
    def closed(self):
        """True once the socket is closed or closing."""
        return self.close_code is not None

    async def receive(self):
        """The next message: ``str`` (text) or ``bytes`` (binary); :class:`WebSocketClosed` at the end."""
        if self.close_code is not None:
            raise WebSocketClosed(self.close_code, self.close_reason)
        kind, data = await self._channel.receive()
        if kind == "close":
            self._set_closed(*data)
            self._closed_by_peer()
            raise WebSocketClosed(self.close_code, self.close_reason)
        return data

    async def receive_text(self):
        """The next message, which must be text (a binary one raises ``TypeError``)."""
        message = await self.receive()
        if not isinstance(message, str):
            raise TypeError("Expected a text message, got %d bytes of binary" % len(message))
        return message

    async def receive_bytes(self):
        """The next message, which must be binary (a text one raises ``TypeError``)."""
        message = await self.receive()
        if not isinstance(message, bytes):
            raise TypeError("Expected a binary message, got text")
        return message

    async def receive_json(self):
        """The next message (text or UTF-8 binary) decoded as JSON (``ValueError`` if it is not)."""
        message = await self.receive()
        if isinstance(message, bytes):
            message = message.decode("utf-8")
        return json.loads(message)

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.receive()
        except WebSocketClosed:
            raise StopAsyncIteration from None

    async def send_text(self, text):
        """Send a text message (waits while the peer is slow to read)."""
        if not isinstance(text, str):
            raise TypeError("send_text() takes a str, not %s" % type(text).__name__)
        await self._send("text", text)

    async def send_bytes(self, data):
        """Send a binary message (waits while the peer is slow to read)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("send_bytes() takes bytes, not %s" % type(data).__name__)
        await self._send("bytes", bytes(data))

    async def send_json(self, obj):
        """Send ``obj`` as a JSON text message."""
        await self._send("text", json.dumps(obj, separators=(",", ":")))

    async def _send(self, kind, data):
        if self.close_code is not None:
            raise WebSocketClosed(self.close_code, self.close_reason)
        try:
            await self._channel.send(kind, data)
        except ConnectionError:
            self._set_closed(1006, "")
            raise WebSocketClosed(1006) from None

    async def close(self, code=1000, reason=""):
        """Close the socket with ``code`` and ``reason`` (idempotent); waits for the peer's answer."""
        if self.close_code is not None:
            return
        self._set_closed(code, reason)
        await self._channel.close(code, reason)

    def _set_closed(self, code, reason):
        if self.close_code is None:
            self.close_code = code
            self.close_reason = reason

    def _closed_by_peer(self):
        """Hook: ``receive()`` saw the end of the socket."""


class WebSocket(MessageSocket):
    """The server side of one accepted WebSocket, in a coroutine view.

    See :class:`MessageSocket` for receiving and sending. The worker's
    shutdown closes it with 1001 (the view's ``receive()`` then raises
    :class:`WebSocketClosed`). ``response`` is what the view returns: an
    ``HttpResponse`` with status 101 that only the response middleware sees.
    """

    def __init__(self, channel):
        super().__init__(channel)
        self.response = HttpResponse(status=101)
        self._closing_for_shutdown = False
        self._watcher = asyncio.ensure_future(self._close_on_shutdown())

    def _closed_by_peer(self):
        if not self._closing_for_shutdown:
            self._watcher.cancel()

    async def close(self, code=1000, reason=""):
        """Close the socket with ``code`` and ``reason`` (idempotent); waits for the client's answer."""
        if not self._closing_for_shutdown:
            self._watcher.cancel()
        await super().close(code, reason)

    async def _close_on_shutdown(self):
        await shutdown.wait_for_shutdown()
        if self.close_code is None:
            self._set_closed(GOING_AWAY, "server shutting down")
            self._closing_for_shutdown = True
            await self._channel.close(GOING_AWAY, "server shutting down")

    async def finish(self, code=1000):
        """Close the socket with ``code`` if the view did not (the server calls this after the view).

        If the shutdown's close is under way (the view saw it and returned),
        wait for it to complete, so the close frame goes out before the
        connection ends.
        """
        if self._closing_for_shutdown and not self._watcher.done():
            await asyncio.wait([self._watcher])
            return
        self.detach()
        if self.close_code is None:
            await self.close(code, "")

    def detach(self):
        """Stop watching for shutdown (the server calls this when the request ends)."""
        self._watcher.cancel()
