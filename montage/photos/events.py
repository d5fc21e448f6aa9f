"""The announcements behind ``/events/`` (server-sent events), across workers.

Upload, import, caption and admin code :func:`announce` an event: it is
stored as an :class:`~montage.photos.models.Event` row (its id is the SSE
``id:``) and published on the ``async_app.pubsub`` channel :data:`CHANNEL`.
Which backend carries it is ``ASYNC_APP_PUBSUB_URL`` (montage sets it from
``MONTAGE_BROADCAST_URL``): in-process by default, so only the worker that
handled the upload hears it; PostgreSQL or Redis, so every worker of every
host does.

:func:`event_stream` is one ``/events/`` stream. It replays from the
database what a reconnecting browser missed (``Last-Event-ID``), and again
whenever the subscription reports a gap (its queue overflowed, the backend
reconnected), so a stream loses nothing that was stored. When the worker
shuts down it ends with a ``retry:`` hint, and the browser reconnects to
another worker.
"""

import asyncio
import json
import logging

from django.db.models import Max

import async_app
from async_app import pubsub

from .models import Event

logger = logging.getLogger(__name__)

#: The pub/sub channel of montage's events.
CHANNEL = "montage.events"
#: The most events one replay sends.
MAX_REPLAY = 500
#: Per stream: how many sent ids are remembered to skip duplicates.
MAX_REMEMBERED = 2000
# What a stream gets instead of a message once it must end.
_ENDED = object()


def record(data, event=None):
    """Store an event (sync ORM code); return its message ``{"id", "event", "data"}``."""
    kind = event or data.get("type") or "message"
    return Event.objects.create(kind=kind, payload=json.dumps(data, sort_keys=True)).as_message()


async def _publish(message):
    try:
        await pubsub.publish(CHANNEL, message)
    except pubsub.PublishError as exc:
        # Stored all the same: streams replay it after their backend reconnects.
        logger.warning("Event %s stored but not published: %s", message["id"], exc)


async def announce(data, event=None):
    """Store and publish an event from coroutine code; return its id."""
    message = await async_app.database_sync_to_async(record)(data, event)
    await _publish(message)
    return message["id"]


def announce_sync(data, event=None):
    """Store and publish an event from sync code (the admin); return its id."""
    message = record(data, event)
    async_app.async_to_sync(_publish)(message)
    return message["id"]


def latest_id():
    """The id of the newest stored event (0 when there is none); sync ORM code."""
    return Event.objects.aggregate(latest=Max("id"))["latest"] or 0


def events_after(event_id, limit=MAX_REPLAY):
    """The messages of the stored events newer than ``event_id``, oldest first; sync."""
    return [e.as_message() for e in Event.objects.filter(id__gt=event_id).order_by("id")[:limit]]


def format_event(message):
    """Encode a message as one server-sent event (bytes)."""
    data = json.dumps(message["data"], sort_keys=True)
    lines = ["id: %d" % message["id"], "event: %s" % message["event"]]
    lines.extend("data: %s" % line for line in data.splitlines())
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def parse_last_event_id(value):
    """``Last-Event-ID`` as an int, or None when absent or not ours."""
    try:
        event_id = int((value or "").strip())
    except ValueError:
        return None
    return event_id if event_id >= 0 else None


class _Sent:
    """Which event ids a stream has sent (or need not send: at or below ``floor``)."""

    def __init__(self, floor):
        self.floor = floor
        self.ids = set()

    def __contains__(self, event_id):
        return event_id <= self.floor or event_id in self.ids

    def add(self, event_id):
        self.ids.add(event_id)
        if len(self.ids) > MAX_REMEMBERED:
            self.floor = sorted(self.ids)[-MAX_REMEMBERED // 2]
            self.ids = {i for i in self.ids if i > self.floor}


async def event_stream(last_event_id=None, keepalive=15.0, retry_ms=3000, shutdown_retry_ms=500):
    """Server-sent events, as an async generator of bytes, until the client leaves.

    Starts with a ``retry`` field and a ``: connected`` comment, replays the
    stored events after ``last_event_id`` (if given), then sends each event
    announced anywhere, and a ``: keep-alive`` comment after ``keepalive``
    quiet seconds. When the worker shuts down the stream ends with
    ``retry: shutdown_retry_ms``. Closing the generator unsubscribes it.
    """
    db = async_app.database_sync_to_async
    subscription = await pubsub.subscribe(CHANNEL, gaps=True)
    getter = stopping = None
    try:
        # Subscribed first, then read the database: nothing falls between.
        if last_event_id is None:
            sent = _Sent(await db(latest_id)())
            replay = False
        else:
            sent = _Sent(last_event_id)
            replay = True
        yield ("retry: %d\n: connected\n\n" % retry_ms).encode("ascii")
        stopping = asyncio.ensure_future(async_app.wait_for_shutdown())
        while True:
            if replay:
                replay = False
                for message in await db(events_after)(sent.floor):
                    if message["id"] not in sent:
                        sent.add(message["id"])
                        yield format_event(message)
            if getter is None:
                getter = asyncio.ensure_future(subscription.get())
            done, _ = await asyncio.wait(
                {getter, stopping}, timeout=keepalive, return_when=asyncio.FIRST_COMPLETED
            )
            if getter in done:
                finished, getter = getter, None
                try:
                    item = finished.result()
                except EOFError:  # pub/sub closed under us: the worker is exiting
                    item = _ENDED
            elif stopping in done:
                item = _ENDED
            else:
                yield b": keep-alive\n\n"
                continue
            if item is _ENDED:
                yield ("retry: %d\n: server shutting down\n\n" % shutdown_retry_ms).encode("ascii")
                return
            if isinstance(item, pubsub.Gap):
                logger.info("/events/ stream: %s, replaying from the database", item.reason)
                replay = True
            elif item["id"] not in sent:
                sent.add(item["id"])
                yield format_event(item)
    finally:
        for future in (getter, stopping):
            if future is not None:
                future.cancel()
        subscription.close()
