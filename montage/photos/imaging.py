"""Image processing with Pillow: all of it blocking, CPU-bound work.

Nothing here may run on the event loop: coroutine views call these functions
through ``async_app.sync_to_async`` (sync views and the admin, already in a
pool thread, call them directly).
"""

import io
import logging
import math
from collections import namedtuple

from PIL import Image, ImageDraw, ImageOps

logger = logging.getLogger(__name__)

#: Pillow format name -> file extension, for the formats montage accepts.
FORMATS = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp"}

ProcessedImage = namedtuple("ProcessedImage", "format extension width height thumbnail")
ProcessedImage.__doc__ = """What :func:`process_image` learnt and made.

``format`` is Pillow's name of the original's format, ``extension`` the file
extension that goes with it, ``width``/``height`` the original's size (after
EXIF rotation) and ``thumbnail`` the square JPEG thumbnail, as bytes.
"""


class InvalidImage(ValueError):
    """The data is not an image montage can use; the message says why."""


def _resample():
    # Pillow >= 9.1 has Image.Resampling; the old constants still work.
    return getattr(getattr(Image, "Resampling", Image), "LANCZOS")


def _flatten(image):
    """Return an RGB copy of ``image``, transparency composed over white."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.split()[-1])
        return background
    return image.convert("RGB")


def process_image(fileobj, thumbnail_size=240, max_pixels=40 * 1000 * 1000):
    """Check an image file and make its square JPEG thumbnail.

    ``fileobj`` is any readable binary file (an ``UploadedFile`` too). Raises
    :class:`InvalidImage` for data Pillow cannot read, formats other than
    JPEG, PNG, GIF and WebP, and images over ``max_pixels``.
    """
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    try:
        original = Image.open(fileobj)
    except Image.DecompressionBombError:
        raise InvalidImage("The image is too large.")
    except Exception:
        raise InvalidImage("The file is not an image (or it is damaged).")
    # Not closed here: Image.close() would close the caller's file too.
    image_format = original.format
    if image_format not in FORMATS:
        raise InvalidImage(
            "%s images are not supported; use JPEG, PNG, GIF or WebP." % image_format
        )
    width, height = original.size
    if width * height > max_pixels:
        raise InvalidImage(
            "The image is too large (%d x %d pixels; at most %d megapixels)."
            % (width, height, max_pixels // 1000000)
        )
    try:
        original.load()
        upright = ImageOps.exif_transpose(original)
        width, height = upright.size
        thumb = ImageOps.fit(
            _flatten(upright),
            (thumbnail_size, thumbnail_size),
            method=_resample(),
            centering=(0.5, 0.5),
        )
    except (OSError, SyntaxError, ValueError) as exc:
        logger.info("Cannot decode image: %s", exc)
        raise InvalidImage("The image is damaged and cannot be read.")
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=85, optimize=True)
    return ProcessedImage(
        format=image_format,
        extension=FORMATS[image_format],
        width=width,
        height=height,
        thumbnail=out.getvalue(),
    )


def montage_layout(count):
    """Return ``(columns, rows)`` of the most square grid holding ``count`` tiles."""
    if count <= 0:
        return (0, 0)
    columns = int(math.ceil(math.sqrt(count)))
    rows = int(math.ceil(count / float(columns)))
    return (columns, rows)


def compose_montage(open_tiles, tile_size=240, gap=8, background=(34, 34, 34)):
    """Compose the thumbnails into one grid and return it as JPEG bytes.

    ``open_tiles`` is a list of callables, each returning an open binary file
    of one thumbnail; tiles that cannot be read are left out (and logged).
    With no readable tile the result is a placeholder image saying so.
    """
    tiles = []
    for open_tile in open_tiles:
        try:
            with open_tile() as handle:
                tile = Image.open(handle)
                tile.load()
            tiles.append(_flatten(tile).resize((tile_size, tile_size), _resample()))
        except Exception as exc:  # a missing or damaged file must not break the montage
            logger.warning("Montage: skipping an unreadable thumbnail: %s", exc)
    if not tiles:
        canvas = Image.new("RGB", (2 * tile_size + 3 * gap, tile_size // 2 + 2 * gap), background)
        ImageDraw.Draw(canvas).text(
            (2 * gap, tile_size // 4), "No photos yet: upload one!", fill=(220, 220, 220)
        )
    else:
        columns, rows = montage_layout(len(tiles))
        canvas = Image.new(
            "RGB",
            (columns * tile_size + (columns + 1) * gap, rows * tile_size + (rows + 1) * gap),
            background,
        )
        for index, tile in enumerate(tiles):
            row, column = divmod(index, columns)
            canvas.paste(tile, (gap + column * (tile_size + gap), gap + row * (tile_size + gap)))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=85)
    return out.getvalue()
