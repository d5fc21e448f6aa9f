"""WebSockets in tests without a server: ``async with client.websocket('/ws/') as ws``.

:meth:`async_app.testing.AsyncClient.websocket` runs the handshake request
through the real pipeline (middleware, urlconf, the view) on the test's loop;
the view's ``accept_websocket`` gets an in-memory channel instead of
aiohttp's socket. The test holds the client side, a
:class:`async_app.websocket.MessageSocket` (``send_text``, ``receive_json``,
``close``...). A view that refuses makes entering the block raise
:class:`WebSocketRefused` with the view's response.

What the memory channel keeps of the real one: messages in order, the
message size limit (a larger message closes both sides with 1009), close
codes and reasons both ways, bounded queues (a side that does not read makes
the other's sends wait), and the shutdown close (1001) of
:func:`async_app.shutdown.begin`. Not modelled: frames, pings, the socket.
"""

import asyncio
import base64
import os

from ..websocket import ENVIRON_KEY, MessageSocket
from .factory import _ENVIRON, _HEADERS

__all__ = ["WebSocketRefused", "WebSocketSession"]

# Messages a side may have unread before the other's sends wait.
QUEUE_SIZE = 16


class WebSocketRefused(Exception):
    """The view answered the handshake with an ordinary response (``.response``)."""

    def __init__(self, response):
        super().__init__("WebSocket refused with status %d" % response.status_code)
        self.response = response


class _Pipe:
    """One direction of the memory socket: bounded for messages, never for the close."""

    def __init__(self, size=QUEUE_SIZE):
        self.queue = asyncio.Queue()
        self.room = asyncio.Semaphore(size)

    async def put(self, item):
        await self.room.acquire()
        self.queue.put_nowait(item)

    def put_close(self, code, reason):
        self.queue.put_nowait(("close", (code, reason)))

    async def get(self):
        item = await self.queue.get()
        if item[0] != "close":
            self.room.release()
        return item


class _Channel:
    """The memory socket as one side sees it (the channel interface of async_app.websocket)."""

    def __init__(self, inbox, outbox, subprotocol, max_message_size=None):
        self.inbox = inbox
        self.outbox = outbox
        self.subprotocol = subprotocol
        self.max_message_size = max_message_size  # what this side accepts
        self.closed = False

    async def receive(self):
        if self.closed and self.inbox.queue.empty():
            return "close", (1006, "")
        kind, data = await self.inbox.get()
        if kind == "close":
            if not self.closed:  # answer the close, as RFC 6455 5.5.1 says
                self.closed = True
                self.outbox.put_close(*data)
            return kind, data
        if self.max_message_size and len(data) > self.max_message_size:
            await self.close(1009, "message too big")
            return "close", (1009, "message too big")
        return kind, data

    async def send(self, kind, data):
        if self.closed:
            raise ConnectionResetError("WebSocket closed")
        await self.outbox.put((kind, data))

    async def close(self, code, reason):
        if not self.closed:
            self.closed = True
            self.outbox.put_close(code, reason)


class MemoryUpgrade:
    """The environ's ``async_app.websocket`` entry of a test-client handshake."""

    def __init__(self, subprotocols):
        self.offered = list(subprotocols)
        self.accepted = asyncio.get_event_loop().create_future()
        self.websocket = None

    async def accept(self, subprotocols, max_message_size, heartbeat, close_timeout):
        """Accept: the view gets one side of a memory channel, the test the other."""
        if self.accepted.done():
            raise RuntimeError("This WebSocket was already accepted")
        chosen = next((p for p in subprotocols if p in self.offered), None)
        to_view, to_client = _Pipe(), _Pipe()
        server = _Channel(to_view, to_client, chosen, max_message_size)
        client = _Channel(to_client, to_view, chosen)
        self.accepted.set_result(client)
        return server

    async def finish(self, code=1000):
        """The view returned: close its socket if it left it open."""
        if self.websocket is not None:
            await self.websocket.finish(code)

    def detach(self):
        """The request is over."""
        if self.websocket is not None:
            self.websocket.detach()


class WebSocketSession:
    """``async with``: the handshake through the pipeline, then the client side of the socket.

    Made by :meth:`async_app.testing.AsyncClient.websocket`. Inside the
    block it is a :class:`~async_app.websocket.MessageSocket`; on leaving,
    the socket is closed (1000) unless it is, the view is awaited, and
    ``response`` is the response the middleware saw (status 101). Exceptions
    the view raised are raised there.
    """

    def __init__(
        self, client, path, data=None, subprotocols=(), secure=False, headers=None, **extra
    ):
        self.client = client
        self.path = path
        self.data = data
        self.subprotocols = list(subprotocols)
        self.secure = secure
        self.headers = dict(headers or {})
        self.extra = extra
        self.socket = None
        self.response = None
        self._task = None
        self._upgrade = None

    async def __aenter__(self):
        from django.test.client import RequestFactory

        self._upgrade = upgrade = MemoryUpgrade(self.subprotocols)
        headers = {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode("ascii"),
            "Sec-WebSocket-Version": "13",
        }
        if self.subprotocols:
            headers["Sec-WebSocket-Protocol"] = ", ".join(self.subprotocols)
        headers.update(self.headers)
        # As for the client's other requests, **extra are headers too; the
        # upgrade itself is a raw environ entry, as the worker sets it.
        request = RequestFactory.get(
            self.client,
            self.path,
            data=self.data,
            secure=self.secure,
            **dict(self.extra, **{_HEADERS: headers, _ENVIRON: {ENVIRON_KEY: upgrade}}),
        )
        self._task = asyncio.ensure_future(request)
        self._task.add_done_callback(self._view_returned)
        await asyncio.wait([self._task, upgrade.accepted], return_when=asyncio.FIRST_COMPLETED)
        if not upgrade.accepted.done():
            upgrade.accepted.cancel()
            response = self._task.result()  # the view's exception, if it raised
            raise WebSocketRefused(response)
        self.socket = MessageSocket(upgrade.accepted.result())
        return self.socket

    def _view_returned(self, task):
        # As the worker does: the view is over, so is its socket.
        upgrade = self._upgrade
        if upgrade.websocket is None:
            return
        failed = (
            task.cancelled() or task.exception() is not None or (task.result().status_code >= 500)
        )
        finishing = asyncio.ensure_future(upgrade.finish(1011 if failed else 1000))
        finishing.add_done_callback(lambda _: upgrade.detach())

    async def __aexit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self._task.cancel()
            await asyncio.wait([self._task])
            return False
        await self.socket.close()
        self.response = await self._task
        return False
