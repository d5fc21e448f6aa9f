"""WebSocket upgrades in the worker: aiohttp's RFC 6455 implementation behind a view.

For a request asking for ``Upgrade: websocket`` the request cycle puts a
:class:`WebSocketUpgrade` in the environ (``async_app.websocket``). When a
coroutine view calls :func:`async_app.websocket.accept_websocket`, the upgrade
answers the handshake with aiohttp's ``WebSocketResponse`` on the
connection (which then parses frames instead of HTTP) and hands the view a
:class:`AiohttpChannel`. When the view returns, the cycle calls
:meth:`WebSocketUpgrade.finish`: the socket is closed if the view left it
open, the view's HTTP response is not written, and the connection ends.

Per worker, at most ``ASYNC_APP_MAX_WEBSOCKETS`` upgrade requests (default
500) are served at once (:class:`WebSocketSlots`); past it the worker answers
503 itself, before the application runs. Each socket also holds a
``worker_connections`` slot, as any connection.
"""

import asyncio
import os

from aiohttp import WSMsgType, web

__all__ = ["ENVIRON_KEY", "AiohttpChannel", "WebSocketSlots", "WebSocketUpgrade", "is_upgrade"]

# The environ entry a view's accept_websocket() looks for.
ENVIRON_KEY = "async_app.websocket"

DEFAULT_MAX_WEBSOCKETS = 500

_CLOSE_TYPES = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


def is_upgrade(request):
    """True when the aiohttp ``request`` asks for a WebSocket upgrade."""
    return request.method == "GET" and "websocket" in request.headers.get("Upgrade", "").lower()


class WebSocketSlots:
    """The per-worker count of WebSocket requests being served, and its maximum."""

    def __init__(self, maximum=None):
        if maximum is None:
            value = os.environ.get("ASYNC_APP_MAX_WEBSOCKETS", "").strip()
            maximum = int(value) if value else DEFAULT_MAX_WEBSOCKETS
        self.maximum = maximum
        self.open = 0

    def take(self):
        """Take a slot; False when all are taken."""
        if self.open >= self.maximum:
            return False
        self.open += 1
        return True

    def give_back(self):
        """Free a slot taken by :meth:`take`."""
        self.open -= 1


class WebSocketUpgrade:
    """The environ's ``async_app.websocket`` entry for one upgrade request."""

    def __init__(self, request):
        self.request = request  # aiohttp's
        self.ws = None  # aiohttp's WebSocketResponse, once accepted
        self.websocket = None  # the view's async_app.websocket.WebSocket

    @property
    def accepted(self):
        """True once the handshake was answered (the HTTP response is then not written)."""
        return self.ws is not None

    async def accept(self, subprotocols, max_message_size, heartbeat, close_timeout):
        """Answer the handshake; return an :class:`AiohttpChannel`, None for an invalid one."""
        if self.ws is not None:
            raise RuntimeError("This WebSocket was already accepted")
        ws = web.WebSocketResponse(
            protocols=subprotocols,
            max_msg_size=max_message_size,
            heartbeat=heartbeat,
            timeout=close_timeout,
            autoclose=True,
            autoping=True,
            compress=False,
        )
        ready = ws.can_prepare(self.request)
        if not ready.ok:
            return None
        await ws.prepare(self.request)
        self.ws = ws
        return AiohttpChannel(ws, self._closed_cleanly)

    def _closed_cleanly(self):
        # The close handshake is over: the connection ending now is no
        # disconnect, the view must not be cancelled while it finishes.
        self.request.protocol.cancel_on_lost = False

    async def finish(self, code=1000):
        """The view returned: close its socket with ``code`` if it is still open."""
        if self.websocket is not None:
            await self.websocket.finish(code)
        elif self.ws is not None and not self.ws.closed:
            await self.ws.close(code=code)

    def detach(self):
        """The request is over (even cancelled): the socket stops watching for shutdown."""
        if self.websocket is not None:
            self.websocket.detach()


class AiohttpChannel:
    """The frames of one accepted socket, as :class:`async_app.websocket.WebSocket` uses them."""

    def __init__(self, ws, on_clean_close):
        self.ws = ws
        self.subprotocol = ws.ws_protocol
        self.on_clean_close = on_clean_close

    async def receive(self):
        """``("text", str)``, ``("bytes", bytes)`` or ``("close", (code, reason))``."""
        ws = self.ws
        msg = await ws.receive()
        if msg.type == WSMsgType.TEXT:
            return "text", msg.data
        if msg.type == WSMsgType.BINARY:
            return "bytes", msg.data
        if msg.type == WSMsgType.CLOSE:
            self.on_clean_close()
            return "close", (msg.data, msg.extra or "")
        if msg.type in _CLOSE_TYPES:
            return "close", (ws.close_code or 1006, "")
        return "close", (1002, "unexpected frame")  # pragma: no cover (autoping)

    async def send(self, kind, data):
        """Send one message; waits for the client when the transport's buffer is full."""
        if self.ws.closed:
            raise ConnectionResetError("WebSocket closed")
        if kind == "text":
            await self.ws.send_str(data)
        else:
            await self.ws.send_bytes(data)

    async def close(self, code, reason):
        """Send a close frame and wait (``close_timeout``) for the client's."""
        # From here on the connection ending is the close's doing.
        self.on_clean_close()
        try:
            await self.ws.close(code=code, message=reason.encode("utf-8"))
        except asyncio.CancelledError:
            raise
        except Exception:
            pass
