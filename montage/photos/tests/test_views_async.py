"""Coroutine views through the test client: only under AsyncDjangoApplication.

Every class here is marked :func:`needs_async_handler`: Django's stock
``WSGIHandler`` cannot await these views (``tests/test_montage.py`` checks
that they really fail there).
"""

import asyncio
import socket
import threading
import time

from aiohttp import web
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils.html import escape

from async_app.sync import inline_mode

from ..events import announce
from ..models import Photo
from .base import (
    Listener,
    MediaTestCase,
    image_bytes,
    needs_async_handler,
    new_loop_run,
    read_image,
    subscriber_count,
)


@needs_async_handler
class HelloTests(MediaTestCase):
    def test_hello_after_delay(self):
        started = time.monotonic()
        response = self.client.get("/hello/?delay=0.3")
        elapsed = time.monotonic() - started
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/plain")
        self.assertEqual(response.content, b"Hello world!")
        self.assertGreaterEqual(elapsed, 0.3)

    def test_default_delay_is_one_second(self):
        started = time.monotonic()
        response = self.client.get("/hello/")
        self.assertEqual(response.content, b"Hello world!")
        self.assertGreaterEqual(time.monotonic() - started, 1.0)

    def test_bad_delays(self):
        for delay in ("soon", "-1", "nan", "61", "inf"):
            response = self.client.get("/hello/", {"delay": delay})
            self.assertEqual(response.status_code, 400, delay)
            self.assertIn(b"delay must be a number of seconds", response.content)


@needs_async_handler
class UploadTests(MediaTestCase):
    def upload(self, data, name="photo.png", caption="A red one", follow=False, client=None):
        upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
        return (client or self.client).post(
            "/upload/", {"image": upload, "caption": caption}, follow=follow
        )

    def test_upload_saves_thumbnail_announces_and_redirects(self):
        with Listener() as listener:
            response = self.upload(image_bytes((220, 20, 20), (640, 480)), name="red.png")
            events = listener.events()
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response["Location"], "/")
        photo = Photo.objects.get()
        self.assertEqual(
            (photo.caption, photo.source, photo.width, photo.height),
            ("A red one", "upload", 640, 480),
        )
        self.assertTrue(photo.image.name.endswith(".png"), photo.image.name)
        with open(photo.thumbnail.path, "rb") as handle:
            thumb = read_image(handle.read())
        self.assertEqual((thumb.format, thumb.size), ("JPEG", (240, 240)))
        self.assertEqual([(e["event"], e["data"]["id"]) for e in events], [("upload", photo.pk)])
        self.assertEqual(events[0]["data"]["thumbnail"], photo.thumbnail.url)

    def test_uploaded_photo_appears_in_the_gallery(self):
        response = self.upload(image_bytes(), caption="look at me", follow=True)
        self.assertEqual(response.redirect_chain, [("/", 302)])
        self.assertContains(response, "look at me")
        self.assertContains(response, Photo.objects.get().thumbnail.url)

    def test_extension_follows_the_content_not_the_name(self):
        self.upload(image_bytes(fmt="JPEG"), name="liar.png")
        self.assertTrue(Photo.objects.get().image.name.endswith(".jpg"))

    def test_image_that_cannot_be_decoded_gets_the_form_back(self):
        # Pillow's verify() (Django's check) passes, decoding fails: form_valid reports it.
        data = image_bytes(size=(400, 400), fmt="JPEG", quality=95)
        with self.assertLogs("montage.photos.imaging", "INFO"):
            response = self.upload(data[: len(data) // 2], name="cut.jpg")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "The image is damaged and cannot be read.")
        self.assertFalse(Photo.objects.exists())

    def test_upload_with_csrf_token_from_the_gallery(self):
        client = Client(enforce_csrf_checks=True)
        token = client.get("/").context["csrf_token"]
        upload = SimpleUploadedFile("x.png", image_bytes())
        response = client.post("/upload/", {"image": upload, "csrfmiddlewaretoken": str(token)})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Photo.objects.count(), 1)


@needs_async_handler
class PhotoDetailTests(MediaTestCase):
    def test_get(self):
        photo = self.make_photo("detailed")
        response = self.client.get("/photos/%d/" % photo.pk)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "<h1>detailed</h1>", html=True)
        self.assertContains(response, 'src="%s"' % photo.image.url)
        self.assertContains(response, "320 × 200 pixels")

    def test_missing_photo_is_404(self):
        self.assertEqual(self.client.get("/photos/999/").status_code, 404)

    def test_post_caption(self):
        photo = self.make_photo("before")
        with Listener() as listener:
            response = self.client.post("/photos/%d/" % photo.pk, {"caption": "after"})
            events = listener.events()
        self.assertEqual(response.status_code, 302)
        self.assertEqual(response["Location"], "/photos/%d/" % photo.pk)
        photo.refresh_from_db()
        self.assertEqual(photo.caption, "after")
        self.assertEqual([e["event"] for e in events], ["caption"])

    def test_post_invalid_caption(self):
        photo = self.make_photo("kept")
        response = self.client.post("/photos/%d/" % photo.pk, {"caption": "x" * 201})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Ensure this value has at most 200 characters")
        photo.refresh_from_db()
        self.assertEqual(photo.caption, "kept")


@needs_async_handler
class MontageViewTests(MediaTestCase):
    def get_image(self):
        response = self.client.get("/montage.jpg")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "image/jpeg")
        return read_image(response.content)

    def test_placeholder_without_photos(self):
        self.assertEqual(self.get_image().format, "JPEG")

    def test_grid_of_thumbnails_newest_first(self):
        colors = [(250, 0, 0), (0, 250, 0), (0, 0, 250)]
        for color in colors:
            self.make_photo(color=color)
        image = self.get_image()
        self.assertEqual(image.size, (2 * 240 + 3 * 8, 2 * 240 + 3 * 8))
        for index, color in enumerate(reversed(colors)):
            row, column = divmod(index, 2)
            pixel = image.getpixel((8 + column * 248 + 120, 8 + row * 248 + 120))
            for got, want in zip(pixel, color):
                self.assertAlmostEqual(got, want, delta=12)

    @override_settings(MONTAGE_MONTAGE_LIMIT=2)
    def test_limit(self):
        for _ in range(3):
            self.make_photo()
        self.assertEqual(self.get_image().size, (2 * 240 + 3 * 8, 240 + 2 * 8))


@needs_async_handler
class EventsViewTests(MediaTestCase):
    def test_stream_through_the_pipeline(self):
        response = self.client.get("/events/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/event-stream")
        self.assertEqual(response["Cache-Control"], "no-cache")
        self.assertTrue(response.streaming)
        stream = response.streaming_content
        before = subscriber_count()

        async def scenario():
            first = await stream.__anext__()
            subscribed = subscriber_count()
            event_id = await announce({"type": "upload", "id": 42})
            second = await asyncio.wait_for(stream.__anext__(), 2)
            await stream.aclose()
            return first, subscribed, event_id, second

        with inline_mode():  # the stream's ORM calls inside this test's transaction
            first, subscribed, event_id, second = new_loop_run(scenario())
        self.assertIn(b": connected\n\n", first)
        self.assertEqual(subscribed, before + 1)
        self.assertEqual(
            second,
            ('id: %d\nevent: upload\ndata: {"id": 42, "type": "upload"}\n\n' % event_id).encode(),
        )


class ImageServer:
    """A local aiohttp server with images, errors and a slow URL, in a thread."""

    BARRIER = 3

    def start(self):
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="image-server", daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("the image server did not start")
        return self

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def _run(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    async def _start(self):
        self.release = asyncio.Event()
        self.together = asyncio.Event()
        self.arrived = 0
        app = web.Application()
        app.router.add_get("/red.png", self.image((230, 10, 10), "PNG"))
        app.router.add_get("/blue.jpg", self.image((10, 10, 230), "JPEG"))
        app.router.add_get("/together/{n}.png", self.together_image)
        app.router.add_get("/slow.png", self.slow)
        app.router.add_get("/notes.txt", self.text)
        app.router.add_get("/moved", self.moved)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self.runner, sock).start()

    def image(self, color, fmt):
        data = image_bytes(color, (300, 300), fmt=fmt)

        async def handler(request):
            return web.Response(body=data, content_type="image/" + fmt.lower())

        return handler

    async def together_image(self, request):
        # Answers only once BARRIER requests are in flight at the same time.
        self.arrived += 1
        if self.arrived >= self.BARRIER:
            self.together.set()
        try:
            await asyncio.wait_for(self.together.wait(), 3)
        except asyncio.TimeoutError:
            return web.Response(status=503, text="requests were not concurrent")
        return web.Response(body=image_bytes((20, 200, 20), fmt="PNG"), content_type="image/png")

    async def slow(self, request):
        try:
            await asyncio.wait_for(self.release.wait(), 5)
        except asyncio.TimeoutError:
            pass
        return web.Response(body=image_bytes(fmt="PNG"), content_type="image/png")

    async def text(self, request):
        return web.Response(text="just some notes")

    async def moved(self, request):
        raise web.HTTPFound("/red.png")

    def stop(self):
        self.loop.call_soon_threadsafe(self.release.set)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@needs_async_handler
# Generous enough for a loaded CI machine to fetch the good images in time;
# /slow.png takes 5 s (or until the server stops).
@override_settings(MONTAGE_IMPORT_TIMEOUT=1.5)
class ImportTests(MediaTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = ImageServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super().tearDownClass()

    def post(self, *paths):
        urls = [self.server.url(p) if p.startswith("/") else p for p in paths]
        return self.client.post("/import/", {"urls": "\n".join(urls)}), urls

    def test_get_shows_the_form(self):
        response = self.client.get("/import/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="import-form"')

    def test_good_and_bad_urls_are_reported_one_by_one(self):
        closed_port = socket.socket()
        closed_port.bind(("127.0.0.1", 0))
        refused = "http://127.0.0.1:%d/x.png" % closed_port.getsockname()[1]
        closed_port.close()
        with Listener() as listener:
            response, urls = self.post(
                "/red.png",
                "/blue.jpg",
                "/nothing-here.png",
                "/slow.png",
                "/notes.txt",
                "/moved",
                refused,
            )
            events = listener.events()
        self.assertEqual(response.status_code, 200)
        results = response.context["results"]
        self.assertEqual([r.url for r in results], urls)
        red, blue, missing, slow, notes, moved, refused_result = results
        self.assertEqual((red.error, blue.error, moved.error), (None, None, None))
        self.assertEqual(
            (red.photo.source, red.photo.source_url, red.photo.caption),
            ("import", urls[0], "red.png"),
        )
        self.assertEqual(blue.photo.image.name.rsplit(".", 1)[1], "jpg")
        self.assertEqual(missing.error, "The server answered 404 Not Found.")
        self.assertEqual(slow.error, "Timed out after 1.5 seconds.")
        self.assertEqual(notes.error, "The file is not an image (or it is damaged).")
        self.assertTrue(
            refused_result.error.startswith("Could not fetch it: "), refused_result.error
        )
        self.assertContains(response, "3 of 7 imported")
        for result in (missing, slow, notes, refused_result):
            self.assertContains(response, escape(result.error))
        self.assertEqual(Photo.objects.filter(source="import").count(), 3)
        self.assertEqual(
            sorted(e["data"]["id"] for e in events), sorted(r.photo.pk for r in (red, blue, moved))
        )
        self.assertEqual({e["event"] for e in events}, {"import"})

    def test_urls_are_fetched_concurrently(self):
        # Each of these answers only when all three requests are in flight together.
        with override_settings(MONTAGE_IMPORT_TIMEOUT=5):
            response, urls = self.post("/together/1.png", "/together/2.png", "/together/3.png")
        self.assertEqual([r.error for r in response.context["results"]], [None, None, None])
        self.assertEqual(Photo.objects.count(), 3)

    def test_only_http_and_https(self):
        response, urls = self.post("/red.png", "ftp://127.0.0.1/red.png", "file:///etc/hostname")
        self.assertEqual(response.status_code, 200)
        self.assertContains(
            response, "Only http and https URLs can be imported: ftp://127.0.0.1/red.png"
        )
        self.assertContains(
            response, "Only http and https URLs can be imported: file:///etc/hostname"
        )
        self.assertIsNone(response.context["results"])
        self.assertFalse(Photo.objects.exists())

    def test_imported_photos_show_in_gallery_and_montage(self):
        self.post("/red.png")
        self.assertContains(self.client.get("/"), "red.png")
        response = self.client.get("/montage.jpg")
        self.assertEqual(read_image(response.content).size, (256, 256))
