"""The broadcast and the server-sent-events generator (plain asyncio, no handler)."""
import asyncio
import threading

from django.test import SimpleTestCase

from ..events import Broadcast, event_stream, format_event
from .base import new_loop_run as run


class BroadcastTests(SimpleTestCase):
    def test_format_event(self):
        message = {"id": 7, "event": "upload", "data": {"id": 3, "caption": "a\nb"}}
        self.assertEqual(
            format_event(message),
            b'id: 7\nevent: upload\ndata: {"caption": "a\\nb", "id": 3}\n\n',
        )

    def test_publish_reaches_every_subscriber_with_its_type_as_event(self):
        source = Broadcast()

        async def scenario():
            first, second = source.subscribe(), source.subscribe()
            event_id = source.publish({"type": "upload", "id": 1})
            got = [await asyncio.wait_for(s.get(), 1) for s in (first, second)]
            return event_id, got

        event_id, got = run(scenario())
        self.assertEqual(got[0], {"id": event_id, "event": "upload", "data": {"type": "upload", "id": 1}})
        self.assertEqual(got[0], got[1])

    def test_publish_from_another_thread(self):
        source = Broadcast()

        async def scenario():
            subscription = source.subscribe()
            thread = threading.Thread(target=source.publish, args=({"type": "import"},))
            thread.start()
            message = await asyncio.wait_for(subscription.get(), 2)
            thread.join()
            return message

        self.assertEqual(run(scenario())["event"], "import")

    def test_a_slow_listener_loses_events_not_memory(self):
        source = Broadcast(maxsize=2)

        async def scenario():
            subscription = source.subscribe()
            for number in range(5):
                source.publish({"type": "upload", "n": number})
            await asyncio.sleep(0)
            return subscription.queue.qsize(), subscription.dropped

        self.assertEqual(run(scenario()), (2, 3))


class EventStreamTests(SimpleTestCase):
    def test_stream_greets_relays_keeps_alive_and_unsubscribes(self):
        source = Broadcast()

        async def scenario():
            stream = event_stream(source, keepalive=0.05, retry_ms=1500)
            chunks = [await stream.__anext__()]
            self.assertEqual(source.subscriber_count, 1)
            source.publish({"type": "upload", "id": 5})
            chunks.append(await stream.__anext__())
            chunks.append(await asyncio.wait_for(stream.__anext__(), 1))  # keep-alive
            await stream.aclose()  # what the worker does when the client leaves
            return chunks, source.subscriber_count

        chunks, subscribers_after_close = run(scenario())
        self.assertEqual(chunks[0], b"retry: 1500\n: connected\n\n")
        self.assertIn(b"event: upload\n", chunks[1])
        self.assertIn(b'data: {"id": 5, "type": "upload"}\n\n', chunks[1])
        self.assertEqual(chunks[2], b": keep-alive\n\n")
        self.assertEqual(subscribers_after_close, 0)

    def test_cancelled_stream_unsubscribes(self):
        source = Broadcast()

        async def scenario():
            stream = event_stream(source, keepalive=10)
            await stream.__anext__()
            task = asyncio.ensure_future(stream.__anext__())
            await asyncio.sleep(0.01)
            task.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await task
            return source.subscriber_count

        self.assertEqual(run(scenario()), 0)
