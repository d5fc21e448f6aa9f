"""Pillow processing: thumbnails and the montage (no request handler involved)."""

import io

from django.test import SimpleTestCase
from PIL import Image

from .. import imaging
from .base import image_bytes, read_image


class ProcessImageTests(SimpleTestCase):
    def test_png_becomes_square_jpeg_thumbnail(self):
        processed = imaging.process_image(io.BytesIO(image_bytes((10, 200, 10), (320, 200))))
        self.assertEqual((processed.format, processed.extension), ("PNG", ".png"))
        self.assertEqual((processed.width, processed.height), (320, 200))
        thumb = read_image(processed.thumbnail)
        self.assertEqual((thumb.format, thumb.size), ("JPEG", (240, 240)))
        r, g, b = thumb.getpixel((120, 120))
        self.assertTrue(g > 180 and r < 40 and b < 40, (r, g, b))

    def test_thumbnail_size_is_configurable(self):
        processed = imaging.process_image(io.BytesIO(image_bytes()), thumbnail_size=64)
        self.assertEqual(read_image(processed.thumbnail).size, (64, 64))

    def test_transparency_is_composed_over_white(self):
        processed = imaging.process_image(io.BytesIO(image_bytes((0, 0, 0, 0), (50, 50))))
        r, g, b = read_image(processed.thumbnail).getpixel((5, 5))
        self.assertTrue(min(r, g, b) > 240, (r, g, b))

    def test_exif_orientation_is_applied(self):
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90 degrees clockwise to display
        data = image_bytes(size=(200, 100), fmt="JPEG", exif=exif.tobytes())
        processed = imaging.process_image(io.BytesIO(data))
        self.assertEqual((processed.width, processed.height), (100, 200))

    def test_gif_and_webp_are_accepted(self):
        for fmt, ext in (("GIF", ".gif"), ("WEBP", ".webp")):
            processed = imaging.process_image(io.BytesIO(image_bytes(fmt=fmt)))
            self.assertEqual(processed.extension, ext)

    def test_not_an_image(self):
        with self.assertRaisesRegex(imaging.InvalidImage, "not an image"):
            imaging.process_image(io.BytesIO(b"hello, I am text"))

    def test_unsupported_format(self):
        with self.assertRaisesRegex(imaging.InvalidImage, "BMP images are not supported"):
            imaging.process_image(io.BytesIO(image_bytes(fmt="BMP")))

    def test_too_many_pixels(self):
        with self.assertRaisesRegex(imaging.InvalidImage, "too large"):
            imaging.process_image(io.BytesIO(image_bytes(size=(400, 300))), max_pixels=100000)

    def test_truncated_image(self):
        data = image_bytes(size=(400, 400), fmt="PNG")
        with self.assertRaisesRegex(imaging.InvalidImage, "damaged"), self.assertLogs(
            "montage.photos.imaging", "INFO"
        ):
            imaging.process_image(io.BytesIO(data[: len(data) // 2]))


class MontageTests(SimpleTestCase):
    def opener(self, color):
        data = read_image(image_bytes(color, (240, 240), fmt="JPEG"))
        out = io.BytesIO()
        data.save(out, "JPEG")
        return lambda: io.BytesIO(out.getvalue())

    def test_layout(self):
        self.assertEqual(imaging.montage_layout(0), (0, 0))
        self.assertEqual(imaging.montage_layout(1), (1, 1))
        self.assertEqual(imaging.montage_layout(2), (2, 1))
        self.assertEqual(imaging.montage_layout(5), (3, 2))
        self.assertEqual(imaging.montage_layout(9), (3, 3))
        self.assertEqual(imaging.montage_layout(10), (4, 3))

    def test_grid_of_tiles(self):
        colors = [(250, 0, 0), (0, 250, 0), (0, 0, 250), (250, 250, 0), (0, 250, 250)]
        image = read_image(
            imaging.compose_montage([self.opener(c) for c in colors], tile_size=100, gap=10)
        )
        self.assertEqual(image.format, "JPEG")
        self.assertEqual(image.size, (3 * 100 + 4 * 10, 2 * 100 + 3 * 10))
        for index, color in enumerate(colors):
            row, column = divmod(index, 3)
            pixel = image.getpixel((10 + column * 110 + 50, 10 + row * 110 + 50))
            for got, want in zip(pixel, color):
                self.assertAlmostEqual(got, want, delta=12)
        # the sixth cell stays background
        self.assertEqual(
            tuple(v // 16 for v in image.getpixel((10 + 2 * 110 + 50, 10 + 110 + 50))), (2, 2, 2)
        )

    def test_unreadable_tiles_are_left_out(self):
        def missing():
            raise IOError("gone")

        with self.assertLogs("montage.photos.imaging", "WARNING") as logs:
            image = read_image(
                imaging.compose_montage([missing, self.opener((250, 0, 0))], tile_size=100, gap=10)
            )
        self.assertIn("skipping an unreadable thumbnail: gone", logs.output[0])
        self.assertEqual(image.size, (120, 120))

    def test_placeholder_without_photos(self):
        image = read_image(imaging.compose_montage([]))
        self.assertEqual(image.format, "JPEG")
        self.assertGreater(image.size[0], 0)
