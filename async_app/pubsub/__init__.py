"""Publish/subscribe for coroutine code, across workers and hosts.

::

    from async_app import pubsub

    await pubsub.publish("photos", {"type": "upload", "id": 7})

    async with pubsub.subscribe("photos") as subscription:
        async for message in subscription:
            ...

Messages are JSON-able values (dicts, lists, strings, numbers) of at most
:data:`MAX_MESSAGE_BYTES` encoded; every subscriber of the channel gets
each message published after its subscription became active
(``await subscription`` or entering ``async with``). Delivery is at most
once: a subscriber whose queue is full loses the newest messages (its own,
never the worker's memory), and messages published while the backend was
unreachable are lost. Code that must not miss anything asks for gaps
(``subscribe(channel, gaps=True)``): the iterator then yields a :class:`Gap`
wherever messages may be missing, and the code catches up from its own
records (montage's ``/events/`` reads its database).

The backend comes from ``settings.ASYNC_APP_PUBSUB_URL`` (or the environment
variable of the same name):

* unset or ``memory://``: in-process, no service; only this process hears;
* ``postgres://user:pw@host:port/db``: PostgreSQL ``LISTEN``/``NOTIFY``
  through psycopg2 (``pip install async_app[postgres]``);
* ``redis://host:port/db``: Redis pub/sub through redis-py's asyncio client
  (``pip install async_app[redis]``).

Each event loop (one per worker process) keeps one connection for listening
and one for publishing; a lost listening connection is re-established with
back-off, logged on the ``async_app.pubsub`` logger, and reported to
subscribers as a gap. Sync code publishes with
``async_app.async_to_sync(pubsub.publish)(channel, message)``.
"""

import asyncio
import collections
import importlib
import json
import logging
import os
import re
import threading

__all__ = [
    "Broker",
    "Gap",
    "MAX_MESSAGE_BYTES",
    "MessageTooLarge",
    "PublishError",
    "Subscription",
    "close",
    "configure",
    "default_broker",
    "publish",
    "subscribe",
]

logger = logging.getLogger("async_app.pubsub")

#: The largest encoded message, in bytes, on every backend (PostgreSQL's
#: NOTIFY payload limit is 8000 bytes; the others follow it so that code
#: moves between backends unchanged).
MAX_MESSAGE_BYTES = 7999
#: How many messages a subscriber's queue holds by default.
DEFAULT_MAXSIZE = 100

_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9_.:\-]{1,63}$")
_BACKENDS = {
    "memory": "async_app.pubsub.inprocess",
    "postgres": "async_app.pubsub.postgres",
    "postgresql": "async_app.pubsub.postgres",
    "redis": "async_app.pubsub.redis",
    "rediss": "async_app.pubsub.redis",
}


class PublishError(ConnectionError):
    """The backend could not take the message (it is down, or refused it)."""


class MessageTooLarge(ValueError):
    """The encoded message exceeds :data:`MAX_MESSAGE_BYTES`: publish a key, not the data."""


class Gap:
    """Yielded (with ``gaps=True``) where a subscription may have missed messages.

    ``reason`` is ``"overflow"`` (the queue was full) or ``"reconnect"``
    (the backend connection was lost and re-established).
    """

    def __init__(self, reason):
        self.reason = reason

    def __repr__(self):
        return "<Gap %s>" % self.reason


class Subscription:
    """One subscriber of one channel: a bounded queue, an async iterator.

    ``await subscription`` (or ``async with``) starts listening and returns
    once the backend confirmed it; iterating starts it too. ``close()``
    (idempotent, sync) ends the iteration. ``dropped`` counts messages lost
    because the queue was full.
    """

    def __init__(self, broker, channel, maxsize=DEFAULT_MAXSIZE, gaps=False):
        _check_channel(channel)
        self.channel = channel
        self.maxsize = maxsize
        self.gaps = gaps
        self.dropped = 0
        self._broker = broker
        self._hub = None
        self._items = collections.deque()
        self._wakeup = None
        self._gap = None
        self._closed = False

    async def start(self):
        """Subscribe (once); return self when the backend listens."""
        if self._hub is None and not self._closed:
            loop = asyncio.get_event_loop()
            self._wakeup = asyncio.Event()
            self._hub = self._broker.hub(loop)
            try:
                await self._hub.add(self)
            except BaseException:  # cancelled while the backend confirmed
                self.close()
                raise
        return self

    def __await__(self):
        return self.start().__await__()

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc_info):
        self.close()

    def __aiter__(self):
        return self

    async def __anext__(self):
        await self.start()
        while True:
            if self._gap is not None and self.gaps:
                gap, self._gap = Gap(self._gap), None
                return gap
            if self._items:
                return self._items.popleft()
            if self._closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()

    async def get(self):
        """The next message (or :class:`Gap`); raises ``EOFError`` once closed."""
        try:
            return await self.__anext__()
        except StopAsyncIteration:
            raise EOFError("subscription to %r closed" % self.channel) from None

    def close(self):
        """Stop listening; queued messages are dropped, iteration ends."""
        if self._closed:
            return
        self._closed = True
        self._items.clear()
        if self._hub is not None:
            self._hub.remove(self)
            self._wakeup.set()

    # Called by the hub, on this subscription's loop.

    def _deliver(self, message):
        if self._closed:
            return
        if len(self._items) >= self.maxsize:
            self.dropped += 1
            self._gap = self._gap or "overflow"
        else:
            self._items.append(message)
        self._wakeup.set()

    def _interrupted(self, reason):
        if not self._closed:
            self._gap = reason
            self._wakeup.set()


class _Hub:
    """The subscriptions of one event loop and that loop's backend connections."""

    def __init__(self, broker, loop):
        self.broker = broker
        self.loop = loop
        self.channels = {}
        self.backend = broker.backend_class(broker.url, self)
        self.closed = False
        self._pending = {}  # channel -> task running listen()/unlisten()

    async def add(self, subscription):
        channel = subscription.channel
        members = self.channels.setdefault(channel, set())
        first = not members
        members.add(subscription)
        if first or channel in self._pending:
            await self._change(channel, True)

    def remove(self, subscription):
        members = self.channels.get(subscription.channel)
        if members is None:
            return
        members.discard(subscription)
        if not members:
            del self.channels[subscription.channel]
            remote = getattr(self.backend, "remote", True)
            if remote and not self.closed and not self.loop.is_closed():
                self.loop.call_soon_threadsafe(self._unlisten_later, subscription.channel)

    def _unlisten_later(self, channel):
        if channel not in self.channels and not self.closed:
            self.loop.create_task(self._change(channel, False))

    async def _change(self, channel, listen):
        # listen()/unlisten() of one channel run one after another.
        previous = self._pending.get(channel)
        task = self.loop.create_task(self._apply(previous, channel, listen))
        self._pending[channel] = task
        try:
            await asyncio.shield(task)
        finally:
            if self._pending.get(channel) is task and task.done():
                del self._pending[channel]

    async def _apply(self, previous, channel, listen):
        if previous is not None:
            await asyncio.wait([previous])
        wanted = channel in self.channels
        if listen and wanted:
            await self.backend.listen(channel)
        elif not listen and not wanted:
            try:
                await self.backend.unlisten(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.debug("UNLISTEN %s failed", channel, exc_info=True)

    def dispatch(self, channel, payload):
        """A message arrived for ``channel`` (on this hub's loop)."""
        members = self.channels.get(channel)
        if not members:
            return
        try:
            message = json.loads(payload)
        except ValueError:
            logger.warning("Dropped a malformed message on %r: %.80r", channel, payload)
            return
        for subscription in list(members):
            subscription._deliver(message)

    def interrupted(self, reason="reconnect"):
        """The backend may have lost messages: tell every subscription."""
        for members in list(self.channels.values()):
            for subscription in list(members):
                subscription._interrupted(reason)

    async def close(self):
        self.closed = True
        for members in list(self.channels.values()):
            for subscription in list(members):
                subscription.close()
        self.channels.clear()
        pending = list(self._pending.values())
        if pending:
            await asyncio.wait(pending)
        await self.backend.close()


class Broker:
    """A backend (by URL) and, per event loop, its connections and subscribers.

    The module-level :func:`publish` and :func:`subscribe` use the default
    broker (:func:`configure`); tests and code talking to two backends make
    their own.
    """

    def __init__(self, url=None):
        self.url = url or "memory://"
        scheme = self.url.split("://", 1)[0].lower()
        try:
            module_name = _BACKENDS[scheme]
        except KeyError:
            raise ValueError(
                "pub/sub URL %r: unknown scheme %r (memory, postgres, redis)" % (self.url, scheme)
            ) from None
        try:
            self.backend_class = importlib.import_module(module_name).Backend
        except ImportError as exc:
            extra = "redis" if "redis" in module_name else "postgres"
            raise ImportError(
                "the %s pub/sub backend needs %s: pip install async_app[%s]"
                % (scheme, exc.name, extra)
            ) from exc
        self._hubs = {}
        self._lock = threading.Lock()

    def hub(self, loop):
        """The :class:`_Hub` of ``loop`` (created on first use)."""
        with self._lock:
            hub = self._hubs.get(loop)
            if hub is None:
                for old in [old for old in self._hubs if old.is_closed()]:
                    del self._hubs[old]
                hub = self._hubs[loop] = _Hub(self, loop)
            return hub

    def hubs(self):
        """Every hub whose loop is still open (the in-process backend fans out to all)."""
        with self._lock:
            return [hub for loop, hub in self._hubs.items() if not loop.is_closed()]

    def subscribe(self, channel, maxsize=DEFAULT_MAXSIZE, gaps=False):
        """A :class:`Subscription` to ``channel`` (see the module docstring)."""
        return Subscription(self, channel, maxsize=maxsize, gaps=gaps)

    async def publish(self, channel, message):
        """Send ``message`` to every subscriber of ``channel``, wherever it runs."""
        _check_channel(channel)
        payload = json.dumps(message, separators=(",", ":"), sort_keys=True)
        size = len(payload.encode("utf-8"))
        if size > MAX_MESSAGE_BYTES:
            raise MessageTooLarge(
                "a %d-byte message on %r exceeds MAX_MESSAGE_BYTES (%d)"
                % (size, channel, MAX_MESSAGE_BYTES)
            )
        await self.hub(asyncio.get_event_loop()).backend.publish(channel, payload)

    async def close(self):
        """Close this loop's subscriptions and backend connections."""
        loop = asyncio.get_event_loop()
        with self._lock:
            hub = self._hubs.pop(loop, None)
        if hub is not None:
            await hub.close()


def _check_channel(channel):
    if not isinstance(channel, str) or not _CHANNEL_NAME.match(channel):
        raise ValueError(
            "channel names are 1-63 characters of A-Z a-z 0-9 _ . : -, not %r" % (channel,)
        )


_default = {"broker": None}
_default_lock = threading.Lock()


def configured_url():
    """``settings.ASYNC_APP_PUBSUB_URL``, else ``$ASYNC_APP_PUBSUB_URL``, else ``memory://``."""
    url = None
    try:
        from django.conf import settings

        if settings.configured:
            url = getattr(settings, "ASYNC_APP_PUBSUB_URL", None)
    except ImportError:
        pass
    return url or os.environ.get("ASYNC_APP_PUBSUB_URL") or "memory://"


def configure(url=None):
    """Set the default broker's backend (``None``: from the settings); return the broker."""
    broker = Broker(url or configured_url())
    with _default_lock:
        _default["broker"] = broker
    return broker


def default_broker():
    """The broker :func:`publish` and :func:`subscribe` use."""
    broker = _default["broker"]
    if broker is None:
        with _default_lock:
            broker = _default["broker"]
            if broker is None:
                broker = _default["broker"] = Broker(configured_url())
    return broker


def subscribe(channel, maxsize=DEFAULT_MAXSIZE, gaps=False):
    """Subscribe to ``channel``: ``async with subscribe(ch) as s: async for m in s``."""
    return default_broker().subscribe(channel, maxsize=maxsize, gaps=gaps)


async def publish(channel, message):
    """Publish the JSON-able ``message`` on ``channel`` (raises :class:`MessageTooLarge`)."""
    await default_broker().publish(channel, message)


async def close():
    """Close the default broker's connections on this loop (the worker does, on exit)."""
    broker = _default["broker"]
    if broker is not None:
        await broker.close()
