"""Stored and published events and the server-sent-events generator (no handler).

The generator's ORM calls run inline (``async_app.sync.inline_mode``), inside
the test's transaction; events travel on the in-process pub/sub backend.
"""

import asyncio

from django.test import TestCase

from async_app import database_sync_to_async, pubsub, shutdown
from async_app.sync import inline_mode

from ..events import CHANNEL, announce, event_stream, format_event, parse_last_event_id, record
from ..models import Event
from .base import Listener, new_loop_run, subscriber_count


def run(coro):
    with inline_mode():
        return new_loop_run(coro)


async def next_chunk(stream, timeout=2):
    return await asyncio.wait_for(stream.__anext__(), timeout)


class EventTests(TestCase):
    def test_format_event(self):
        message = {"id": 7, "event": "upload", "data": {"id": 3, "caption": "a\nb"}}
        self.assertEqual(
            format_event(message),
            b'id: 7\nevent: upload\ndata: {"caption": "a\\nb", "id": 3}\n\n',
        )

    def test_parse_last_event_id(self):
        self.assertEqual(
            [parse_last_event_id(v) for v in ("12", " 3 ", "", None, "x", "-1")],
            [12, 3, None, None, None, None],
        )

    def test_announce_stores_and_publishes_with_its_type_as_event(self):
        with Listener() as listener:
            event_id = run(announce({"type": "upload", "id": 1}))
            events = listener.events()
        self.assertEqual(
            events, [{"id": event_id, "event": "upload", "data": {"type": "upload", "id": 1}}]
        )
        self.assertEqual(Event.objects.get().as_message(), events[0])


class EventStreamTests(TestCase):
    def test_stream_greets_relays_keeps_alive_and_unsubscribes(self):
        async def scenario():
            stream = event_stream(keepalive=0.05, retry_ms=1500)
            chunks = [await next_chunk(stream)]
            subscribed = subscriber_count()
            event_id = await announce({"type": "upload", "id": 5})
            chunks.append(await next_chunk(stream))
            chunks.append(await next_chunk(stream))  # keep-alive
            await stream.aclose()  # what the worker does when the client leaves
            return chunks, event_id, subscribed, subscriber_count()

        chunks, event_id, subscribed, after = run(scenario())
        self.assertEqual(chunks[0], b"retry: 1500\n: connected\n\n")
        self.assertEqual(
            chunks[1],
            ('id: %d\nevent: upload\ndata: {"id": 5, "type": "upload"}\n\n' % event_id).encode(),
        )
        self.assertEqual(chunks[2], b": keep-alive\n\n")
        self.assertEqual((subscribed, after), (1, 0))

    def test_last_event_id_replays_exactly_what_was_missed(self):
        seen = record({"type": "upload", "n": 1})
        missed = [record({"type": "upload", "n": n}) for n in (2, 3)]

        async def scenario():
            stream = event_stream(last_event_id=seen["id"], keepalive=10)
            chunks = [await next_chunk(stream) for _ in range(3)]
            # A live copy of a replayed event is not sent twice.
            await pubsub.publish(CHANNEL, missed[1])
            live = await announce({"type": "caption", "n": 4})
            chunks.append(await next_chunk(stream))
            await stream.aclose()
            return chunks, live

        chunks, live = run(scenario())
        self.assertEqual(chunks[1:3], [format_event(m) for m in missed])
        self.assertIn(("id: %d\nevent: caption\n" % live).encode(), chunks[3])

    def test_a_gap_replays_from_the_database(self):
        async def scenario():
            stream = event_stream(keepalive=10)
            await next_chunk(stream)
            pending = asyncio.ensure_future(stream.__anext__())
            await asyncio.sleep(0.05)
            # Stored, never published: only the replay can send it.
            stored = await database_sync_to_async(record)({"type": "import", "n": 9})
            pubsub.default_broker().hub(asyncio.get_event_loop()).interrupted("reconnect")
            chunk = await asyncio.wait_for(pending, 2)
            await stream.aclose()
            return stored, chunk

        stored, chunk = run(scenario())
        self.assertEqual(chunk, format_event(stored))

    def test_shutdown_ends_the_stream_with_a_retry_hint(self):
        async def scenario():
            stream = event_stream(keepalive=10, shutdown_retry_ms=250)
            await next_chunk(stream)
            pending = asyncio.ensure_future(stream.__anext__())
            await asyncio.sleep(0.05)
            shutdown.begin(10)
            last = await asyncio.wait_for(pending, 2)
            with self.assertRaises(StopAsyncIteration):
                await next_chunk(stream)
            return last, subscriber_count()

        try:
            last, after = run(scenario())
        finally:
            shutdown.reset()
        self.assertEqual(last, b"retry: 250\n: server shutting down\n\n")
        self.assertEqual(after, 0)

    def test_closed_pubsub_ends_the_stream_with_a_retry_hint(self):
        # What the worker's pubsub.close() does to a stream still open at exit.
        async def scenario():
            stream = event_stream(keepalive=10, shutdown_retry_ms=250)
            await next_chunk(stream)
            pending = asyncio.ensure_future(stream.__anext__())
            await asyncio.sleep(0.05)
            await pubsub.close()
            last = await asyncio.wait_for(pending, 2)
            with self.assertRaises(StopAsyncIteration):
                await next_chunk(stream)
            return last

        self.assertEqual(run(scenario()), b"retry: 250\n: server shutting down\n\n")

    def test_cancelled_stream_unsubscribes(self):
        async def scenario():
            stream = event_stream(keepalive=10)
            await next_chunk(stream)
            task = asyncio.ensure_future(stream.__anext__())
            await asyncio.sleep(0.01)
            task.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await task
            return subscriber_count()

        self.assertEqual(run(scenario()), 0)
