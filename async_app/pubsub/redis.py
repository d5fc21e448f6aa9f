"""The Redis pub/sub backend (``redis://``, ``rediss://``): ``SUBSCRIBE``/``PUBLISH``.

Built on redis-py's asyncio client (``redis.asyncio``; pip picks the release
each Python supports, 5.0.x on 3.7). Per event loop: one subscribing
connection read by one task, and the client's pool for ``PUBLISH``. redis-py
can reconnect and resubscribe silently; here its retries are off so that the
task notices a lost connection, logs it, reconnects with back-off from 0.1 s
to 2 s, subscribes again, logs that, and reports a gap to the subscribers.
"""

import asyncio
import logging
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from . import PublishError

__all__ = ["Backend"]

logger = logging.getLogger("async_app.pubsub")

RECONNECT_MIN = 0.1
RECONNECT_MAX = 2.0
CONFIRM_TIMEOUT = 10.0
# Subscribed on every connection, so that one exists (and is in pub/sub
# mode) before the first real channel.
CONTROL_CHANNEL = "async_app.pubsub.control"


def describe(url):
    """``host:port/db`` of a redis URL, without credentials (for logs)."""
    parts = urlsplit(url)
    return "%s:%s%s" % (parts.hostname or "localhost", parts.port or 6379, parts.path or "")


def _client(url):
    return aioredis.Redis.from_url(
        url,
        decode_responses=True,
        retry=Retry(NoBackoff(), 0),
        socket_connect_timeout=5,
        socket_keepalive=True,
    )


class Backend:
    """SUBSCRIBE/PUBLISH for one event loop's hub."""

    def __init__(self, url, hub):
        self.url = url
        self.hub = hub
        self.loop = hub.loop
        self.where = describe(url)
        self._task = None
        self._state = "connecting"  # then "up" or "down"
        self._started = None
        self._pubsub = None
        self._confirmations = {}  # channel -> [future]
        self._publisher = None
        self._closed = False

    # --- listening --------------------------------------------------------

    async def _up(self):
        if self._task is None:
            self._started = self.loop.create_future()
            self._task = self.loop.create_task(self._run())
        await asyncio.wait([self._started])
        return self._state == "up"

    async def listen(self, channel):
        """``SUBSCRIBE``; returns once Redis confirmed (at once while it is down)."""
        if self._closed or not await self._up():
            return  # the reconnect subscribes to every channel the hub has
        future = self.loop.create_future()
        self._confirmations.setdefault(channel, []).append(future)
        try:
            await self._pubsub.subscribe(channel)
            await asyncio.wait([future], timeout=CONFIRM_TIMEOUT)
        except (RedisError, OSError):
            pass  # the reader task notices and reconnects
        finally:
            waiting = self._confirmations.get(channel, [])
            if future in waiting:
                waiting.remove(future)

    async def unlisten(self, channel):
        """``UNSUBSCRIBE`` (the channel has no subscriber left on this loop)."""
        if self._state == "up" and self._pubsub is not None:
            await self._pubsub.unsubscribe(channel)

    def _confirmed(self, channel):
        for future in self._confirmations.pop(channel, ()):
            if not future.done():
                future.set_result(None)

    async def _run(self):
        loop = self.loop
        down_since = None
        delay = RECONNECT_MIN
        while not self._closed:
            client = _client(self.url)
            pubsub = client.pubsub()
            try:
                channels = set(self.hub.channels)
                await pubsub.subscribe(CONTROL_CHANNEL, *sorted(channels))
                self._pubsub = pubsub
                self._state = "up"
                if not self._started.done():
                    self._started.set_result(None)
                if down_since is not None:
                    logger.warning(
                        "pub/sub: reconnected to Redis at %s after %.1f s; "
                        "subscribed to %d channel(s) again (messages sent meanwhile are lost)",
                        self.where,
                        loop.time() - down_since,
                        len(channels),
                    )
                    self.hub.interrupted("reconnect")
                down_since = None
                delay = RECONNECT_MIN
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    kind = message.get("type")
                    if kind == "message":
                        self.hub.dispatch(message["channel"], message["data"])
                    elif kind == "subscribe":
                        self._confirmed(message["channel"])
            except asyncio.CancelledError:
                await self._discard(pubsub, client)
                raise
            except (RedisError, OSError) as exc:
                self._pubsub = None
                await self._discard(pubsub, client)
                if down_since is None:
                    down_since = loop.time()
                    logger.warning(
                        "pub/sub: %s Redis at %s (%s); reconnecting",
                        "lost the connection to" if self._state == "up" else "cannot connect to",
                        self.where,
                        exc,
                    )
                self._state = "down"
                if not self._started.done():
                    self._started.set_result(None)
                for channel in list(self._confirmations):
                    self._confirmed(channel)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX)

    @staticmethod
    async def _discard(pubsub, client):
        for thing in (pubsub, client):
            try:
                await thing.aclose()
            except asyncio.CancelledError:
                raise
            except Exception:
                pass

    # --- publishing -------------------------------------------------------

    async def publish(self, channel, payload):
        """``PUBLISH channel payload`` (one retry on a fresh connection)."""
        if self._publisher is None:
            self._publisher = _client(self.url)
        for attempt in (1, 2):
            try:
                await self._publisher.publish(channel, payload)
                return
            except (RedisError, OSError) as exc:
                if attempt == 2:
                    raise PublishError(
                        "cannot publish on %r through Redis at %s: %s" % (channel, self.where, exc)
                    ) from exc

    async def close(self):
        """Stop listening and close the connections."""
        self._closed = True
        if self._started is not None and not self._started.done():
            self._started.set_result(None)
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])
        if self._publisher is not None:
            publisher, self._publisher = self._publisher, None
            await self._discard(publisher, publisher)
