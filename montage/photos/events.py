"""The in-process broadcast behind ``/events/`` (server-sent events).

Upload, import and caption handlers :meth:`~Broadcast.publish` events; every
open ``/events/`` stream is a subscriber with its own bounded queue.

The broadcast lives in the worker process: with several Gunicorn workers each
has its own, and a stream only hears about what its own worker processed.
"""
import asyncio
import itertools
import json
import logging
import threading

logger = logging.getLogger(__name__)


class Subscription(object):
    """One listener: a bounded queue on the event loop it was created on."""

    def __init__(self, maxsize):
        self.loop = asyncio.get_running_loop()
        self.queue = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0

    def _put(self, event):
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # A client that does not read: lose events rather than memory.
            self.dropped += 1

    def deliver(self, event):
        """Queue ``event`` for this listener; safe to call from any thread."""
        try:
            self.loop.call_soon_threadsafe(self._put, event)
        except RuntimeError:  # the loop is closed: the listener is gone
            pass

    async def get(self):
        """Wait for the next event."""
        return await self.queue.get()


class Broadcast(object):
    """Fan events out to every current subscriber (thread-safe)."""

    def __init__(self, maxsize=100):
        self._maxsize = maxsize
        self._lock = threading.Lock()
        self._subscribers = set()
        self._ids = itertools.count(1)

    def subscribe(self):
        """Add and return a new :class:`Subscription`; call it on the event loop."""
        subscription = Subscription(self._maxsize)
        with self._lock:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription):
        """Remove ``subscription`` (idempotent)."""
        with self._lock:
            self._subscribers.discard(subscription)

    @property
    def subscriber_count(self):
        """How many listeners are subscribed right now."""
        with self._lock:
            return len(self._subscribers)

    def publish(self, data, event=None):
        """Send ``data`` (a JSON-able dict) to every listener; return the event's id.

        The SSE event name is ``event``, by default ``data["type"]``.
        """
        event = event or data.get("type") or "message"
        with self._lock:
            event_id = next(self._ids)
            subscribers = list(self._subscribers)
        message = {"id": event_id, "event": event, "data": data}
        for subscription in subscribers:
            subscription.deliver(message)
        logger.debug("Published event %s to %d listeners", event_id, len(subscribers))
        return event_id


#: The process-wide broadcast the views use.
broadcast = Broadcast()


def format_event(message):
    """Encode a published message as one server-sent event (bytes)."""
    data = json.dumps(message["data"], sort_keys=True)
    lines = ["id: %d" % message["id"], "event: %s" % message["event"]]
    lines.extend("data: %s" % line for line in data.splitlines())
    return ("\n".join(lines) + "\n\n").encode("utf-8")


async def event_stream(source=None, keepalive=15.0, retry_ms=3000):
    """Server-sent events, as an async generator of bytes, until the client leaves.

    Starts with a ``retry`` field and a ``: connected`` comment, then sends
    each event published on ``source`` (default: :data:`broadcast`) and a
    ``: keep-alive`` comment after ``keepalive`` quiet seconds. Closing the
    generator (the client went away) unsubscribes it.
    """
    source = broadcast if source is None else source
    subscription = source.subscribe()
    try:
        yield ("retry: %d\n: connected\n\n" % retry_ms).encode("ascii")
        while True:
            try:
                message = await asyncio.wait_for(subscription.get(), keepalive)
            except asyncio.TimeoutError:
                yield b": keep-alive\n\n"
                continue
            yield format_event(message)
    finally:
        source.unsubscribe(subscription)
