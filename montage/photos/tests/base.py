"""Shared helpers for montage's tests."""

import asyncio
import io
import os
import shutil
import tempfile
import unittest

from django.test import TestCase, override_settings
from PIL import Image

from async_app.sync import run_until_complete
from montage.testrunner import ASYNC_ONLY_REASON, handler_name

from .. import imaging, services
from async_app import pubsub

from ..events import CHANNEL


def needs_async_handler(test_item):
    """Mark a test (or class) that requests a coroutine view through the test client.

    Under Django's stock handler it is skipped with :data:`ASYNC_ONLY_REASON`,
    unless ``MONTAGE_TEST_RUN_ASYNC_ONLY=1``: then it runs anyway, and
    ``tests/test_montage.py`` checks that it really fails there.
    """
    runs = handler_name() == "async" or os.environ.get("MONTAGE_TEST_RUN_ASYNC_ONLY") == "1"
    return unittest.skipUnless(runs, ASYNC_ONLY_REASON)(test_item)


def image_bytes(color=(200, 30, 30), size=(320, 200), fmt="PNG", **save_args):
    """A generated image, encoded as ``fmt``."""
    mode = "RGBA" if len(color) == 4 else "RGB"
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **save_args)
    return out.getvalue()


def read_image(data):
    """Open image bytes with Pillow (fully decoded)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


class MediaTestCase(TestCase):
    """A TestCase with ``MEDIA_ROOT`` in a temporary directory."""

    @classmethod
    def setUpClass(cls):
        cls._media_root = tempfile.mkdtemp(prefix="montage-media-")
        cls._media_override = override_settings(MEDIA_ROOT=cls._media_root)
        cls._media_override.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls._media_override.disable()
            shutil.rmtree(cls._media_root, ignore_errors=True)

    def make_photo(self, caption="", color=(30, 120, 200), fmt="PNG", **kwargs):
        """Create a processed photo the way the views do (sync)."""
        data = image_bytes(color, fmt=fmt)
        processed = imaging.process_image(io.BytesIO(data))
        return services.save_photo(
            io.BytesIO(data), processed, name="made", caption=caption, **kwargs
        )


def new_loop_run(coro):
    """Run ``coro`` on a new event loop, then finish it as ``asyncio.run`` does."""
    return run_until_complete(coro)


class Listener:
    """Subscribe to montage's event channel on a private event loop and collect events.

    Usable as a context manager; :meth:`events` runs the loop briefly to
    receive what was published meanwhile (from any thread or loop).
    """

    def __enter__(self):
        self.loop = asyncio.new_event_loop()
        self.subscription = self.loop.run_until_complete(self._subscribe())
        return self

    @staticmethod
    async def _subscribe():
        return await pubsub.subscribe(CHANNEL)

    def events(self, timeout=0.5):
        """Every message received so far (waiting up to ``timeout`` for the first)."""

        async def drain():
            messages = []
            try:
                messages.append(await asyncio.wait_for(self.subscription.get(), timeout))
            except asyncio.TimeoutError:
                return messages
            while self.subscription._items:
                messages.append(await self.subscription.get())
            return messages

        return self.loop.run_until_complete(drain())

    def __exit__(self, *exc_info):
        self.subscription.close()
        self.loop.close()


def subscriber_count():
    """How many subscriptions to montage's channel this thread's loops hold (memory backend)."""
    return sum(len(hub.channels.get(CHANNEL, ())) for hub in pubsub.default_broker().hubs())
