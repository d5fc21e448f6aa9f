"""Form validation (no request handler involved)."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import SimpleTestCase, override_settings

from ..forms import ImportForm, UploadForm
from .base import image_bytes


class ImportFormTests(SimpleTestCase):
    def clean(self, text):
        form = ImportForm({"urls": text})
        return form.is_valid(), form.cleaned_data.get("urls"), form.errors.get("urls", [])

    def test_http_and_https_urls_one_per_line_deduplicated(self):
        ok, urls, errors = self.clean(
            "http://127.0.0.1:8001/a.png\n\n  https://example.com/b.jpg  \nhttp://127.0.0.1:8001/a.png\n"
        )
        self.assertTrue(ok, errors)
        self.assertEqual(urls, ["http://127.0.0.1:8001/a.png", "https://example.com/b.jpg"])

    def test_other_schemes_are_refused_clearly(self):
        for url in (
            "ftp://example.com/a.png",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "example.com/a.png",
        ):
            ok, urls, errors = self.clean("https://example.com/ok.png\n" + url)
            self.assertFalse(ok, url)
            self.assertEqual(errors, ["Only http and https URLs can be imported: %s" % url])

    def test_malformed_urls(self):
        for url in (
            "http://",
            "http://exa mple.com/a.png",
            "http://exa\tmple.com/a.png",
            "http://[::1/a",
        ):
            ok, urls, errors = self.clean(url)
            self.assertFalse(ok, url)
            self.assertEqual(errors, ["Not a valid URL: %s" % url])

    def test_empty_and_too_many(self):
        self.assertEqual(self.clean(" \n ")[2], ["This field is required."])
        with override_settings(MONTAGE_IMPORT_MAX_URLS=2):
            ok, urls, errors = self.clean(
                "http://a.example/1\nhttp://a.example/2\nhttp://a.example/3"
            )
        self.assertEqual(errors, ["At most 2 URLs at a time."])


class UploadFormTests(SimpleTestCase):
    def form(self, data, name="photo.png", caption="Hi"):
        upload = SimpleUploadedFile(name, data, content_type="image/png")
        return UploadForm({"caption": caption}, {"image": upload})

    def test_valid_image(self):
        form = self.form(image_bytes())
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.cleaned_data["caption"], "Hi")

    def test_not_an_image(self):
        form = self.form(b"not an image at all", name="notes.png")
        self.assertFalse(form.is_valid())
        self.assertIn("Upload a valid image", form.errors["image"][0])

    def test_missing_file(self):
        form = UploadForm({"caption": "x"}, {})
        self.assertFalse(form.is_valid())
        self.assertEqual(form.errors["image"], ["Choose an image to upload."])

    def test_unsupported_format(self):
        form = self.form(image_bytes(fmt="BMP"), name="old.bmp")
        self.assertFalse(form.is_valid())
        self.assertEqual(
            form.errors["image"], ["BMP images are not supported; use JPEG, PNG, GIF or WebP."]
        )

    @override_settings(MONTAGE_MAX_UPLOAD_SIZE=100)
    def test_too_big(self):
        form = self.form(image_bytes())
        self.assertFalse(form.is_valid())
        self.assertIn("The file is too big", form.errors["image"][0])

    @override_settings(MONTAGE_MAX_PIXELS=1000)
    def test_too_many_pixels(self):
        form = self.form(image_bytes(size=(100, 100)))
        self.assertFalse(form.is_valid())
        self.assertEqual(form.errors["image"], ["The image is too large (100 x 100 pixels)."])
