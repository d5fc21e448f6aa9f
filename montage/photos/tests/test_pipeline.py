"""The coroutine views seen without the test client: through the WSGI seam the
aiohttp worker uses, and as Python objects. Handler-independent: runs in both
runs of the suite.
"""

import asyncio

from django.test import RequestFactory, SimpleTestCase, TransactionTestCase

from .. import views
from ..events import announce
from .base import new_loop_run, subscriber_count


class CoroutineViewShapeTests(SimpleTestCase):
    def test_is_a_generator_based_coroutine(self):
        self.assertTrue(asyncio.iscoroutinefunction(views.hello))


class WorkerSeamTests(TransactionTestCase):
    # Committed rows: the stream's ORM calls run in pool threads, on their own
    # connections, as under the worker.
    """``montage.wsgi.application`` driven the way the worker drives it."""

    def test_worker_closing_the_body_unsubscribes(self):
        # What the aiohttp worker does: await the application, iterate the
        # body with ``async for``, and await ``body.aclose()`` when the client
        # goes away.
        from montage.wsgi import application

        environ = RequestFactory()._base_environ(PATH_INFO="/events/", REQUEST_METHOD="GET")
        started = []
        before = subscriber_count()

        async def scenario():
            body = await application(
                environ, lambda status, headers, exc_info=None: started.append((status, headers))
            )
            chunks = body.__aiter__()
            first = await chunks.__anext__()
            subscribed = subscriber_count()
            await announce({"type": "import", "id": 7})
            second = await asyncio.wait_for(chunks.__anext__(), 2)
            await body.aclose()
            return first, subscribed, second, subscriber_count()

        first, subscribed, second, after = new_loop_run(scenario())
        self.assertEqual(started[0][0], "200 OK")
        self.assertIn(("Content-Type", "text/event-stream"), started[0][1])
        self.assertIn(b": connected\n\n", first)
        self.assertIn(b"event: import\n", second)
        self.assertEqual(subscribed, before + 1)
        self.assertEqual(after, before)  # at once, not left to the garbage collector
