"""Sync views through the test client: the same under both handlers."""

import os

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from ..models import Photo
from .base import MediaTestCase, image_bytes, read_image


class GalleryTests(MediaTestCase):
    def test_empty_gallery_has_upload_form_and_links(self):
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "No photos yet")
        self.assertContains(response, 'enctype="multipart/form-data"')
        self.assertContains(response, "name='csrfmiddlewaretoken'")
        for link in ("/upload/", "/import/", "/montage.jpg", "/events/", "/admin/"):
            self.assertContains(response, 'href="%s' % link)

    def test_photos_newest_first(self):
        older = self.make_photo("older one")
        newer = self.make_photo("newer one")
        response = self.client.get("/")
        self.assertEqual(list(response.context["photos"]), [newer, older])
        content = response.content.decode()
        self.assertLess(content.index("newer one"), content.index("older one"))
        self.assertContains(response, 'src="%s"' % newer.thumbnail.url)
        self.assertContains(response, 'href="/photos/%d/"' % newer.pk)

    def test_photos_without_thumbnail_are_not_listed(self):
        photo = self.make_photo("half done")
        Photo.objects.filter(pk=photo.pk).update(thumbnail="")
        self.assertNotContains(self.client.get("/"), "half done")

    def test_pages(self):
        for number in range(26):
            Photo.objects.create(
                image="x.png", thumbnail="t%d.jpg" % number, caption="p%02d" % number
            )
        first = self.client.get("/")
        self.assertEqual(len(first.context["photos"]), 24)
        self.assertContains(first, "page 1 of 2")
        self.assertEqual(len(self.client.get("/?page=2").context["photos"]), 2)
        self.assertEqual(self.client.get("/?page=99").context["page"].number, 2)
        self.assertEqual(self.client.get("/?page=abc").context["page"].number, 1)


class UploadFormPageTests(MediaTestCase):
    """The parts of /upload/ that are sync code: the form page and invalid posts."""

    def upload(self, data, name="photo.png", client=None, **extra):
        payload = {"caption": "c"}
        if data is not None:
            payload["image"] = SimpleUploadedFile(name, data, content_type="image/png")
        payload.update(extra)
        return (client or self.client).post("/upload/", payload)

    def test_get_shows_the_form(self):
        response = self.client.get("/upload/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="upload-form"')

    def test_not_an_image_gets_the_form_back_with_an_error(self):
        response = self.upload(b"%PDF-1.4 not an image", name="paper.png")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Upload a valid image.")
        self.assertContains(response, 'id="upload-form"')
        self.assertFalse(Photo.objects.exists())

    def test_missing_file(self):
        response = self.upload(None)
        self.assertContains(response, "Choose an image to upload.")
        self.assertFalse(Photo.objects.exists())

    def test_unsupported_format(self):
        response = self.upload(image_bytes(fmt="BMP"), name="old.bmp")
        self.assertContains(response, "BMP images are not supported")
        self.assertFalse(Photo.objects.exists())

    def test_csrf_is_enforced(self):
        response = self.upload(image_bytes(), client=Client(enforce_csrf_checks=True))
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Photo.objects.exists())


class FilesTests(MediaTestCase):
    def test_media_files_are_served(self):
        photo = self.make_photo("served")
        response = self.client.get(photo.thumbnail.url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "image/jpeg")
        self.assertEqual(read_image(b"".join(response.streaming_content)).size, (240, 240))
        self.assertEqual(self.client.get("/media/nothing/here.jpg").status_code, 404)
        # a path escaping MEDIA_ROOT is a SuspiciousFileOperation: 400
        self.assertEqual(self.client.get("/media/../settings.py").status_code, 400)

    @override_settings(DEBUG=False)
    def test_static_files_are_served_without_debug(self):
        for path in (
            "/static/photos/style.css",
            "/static/photos/live.js",
            "/static/admin/css/base.css",
        ):
            response = self.client.get(path)
            self.assertEqual(response.status_code, 200, path)
            self.assertGreater(len(b"".join(response.streaming_content)), 100, path)


class AdminTests(MediaTestCase):
    def setUp(self):
        self.admin = User.objects.create_superuser("admin", "admin@example.com", "pass-word-1")

    def test_login_required(self):
        response = self.client.get("/admin/photos/photo/")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/admin/login/", response["Location"])

    def test_login_then_changelist_with_preview(self):
        photo = self.make_photo("in the admin")
        response = self.client.post(
            "/admin/login/?next=/admin/photos/photo/",
            {"username": "admin", "password": "pass-word-1", "next": "/admin/photos/photo/"},
            follow=True,
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "in the admin")
        self.assertContains(response, '<img src="%s" width="80"' % photo.thumbnail.url)

    def test_add_in_admin_makes_the_thumbnail(self):
        self.client.force_login(self.admin)
        response = self.client.post(
            "/admin/photos/photo/add/",
            {
                "image": SimpleUploadedFile("admin.png", image_bytes((0, 0, 250), (300, 100))),
                "caption": "added in admin",
                "source": "upload",
                "source_url": "",
            },
        )
        self.assertEqual(
            response.status_code,
            302,
            getattr(response, "context", None) and response.context["adminform"].form.errors,
        )
        photo = Photo.objects.get()
        self.assertEqual((photo.caption, photo.width, photo.height), ("added in admin", 300, 100))
        with open(photo.thumbnail.path, "rb") as handle:
            self.assertEqual(read_image(handle.read()).size, (240, 240))
        self.assertTrue(os.path.exists(photo.image.path))

    def test_admin_refuses_a_bad_image(self):
        self.client.force_login(self.admin)
        response = self.client.post(
            "/admin/photos/photo/add/",
            {
                "image": SimpleUploadedFile("x.png", b"junk"),
                "caption": "",
                "source": "upload",
                "source_url": "",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Upload a valid image")
        self.assertFalse(Photo.objects.exists())


class PhotoDetailBeforeTheViewTests(MediaTestCase):
    """What ``/photos/<id>/`` answers before its coroutine handlers run (sync code)."""

    def test_post_needs_csrf(self):
        photo = self.make_photo("kept")
        response = Client(enforce_csrf_checks=True).post("/photos/%d/" % photo.pk, {"caption": "x"})
        self.assertEqual(response.status_code, 403)

    def test_other_methods_are_not_allowed(self):
        photo = self.make_photo()
        self.assertEqual(self.client.delete("/photos/%d/" % photo.pk).status_code, 405)
