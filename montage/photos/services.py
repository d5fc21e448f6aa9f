"""Blocking operations on photos: storage and the ORM.

Coroutine views reach these through ``async_app.database_sync_to_async``;
sync views, the admin and tests call them directly.
"""

import os
import posixpath

from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils.text import get_valid_filename

from .models import Photo


def _base_name(name, default):
    base = os.path.splitext(posixpath.basename(name or ""))[0]
    base = get_valid_filename(base)[:60]
    return base or default


@transaction.atomic
def save_photo(fileobj, processed, name="", caption="", source=Photo.SOURCE_UPLOAD, source_url=""):
    """Store the original and its thumbnail, create the :class:`Photo` and return it.

    ``processed`` is the :class:`~montage.photos.imaging.ProcessedImage` made
    from ``fileobj``; the stored file names take their extension from the
    detected format, not from what the client claimed.
    """
    base = _base_name(name, "photo")
    photo = Photo(
        caption=caption,
        source=source,
        source_url=source_url,
        width=processed.width,
        height=processed.height,
    )
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    photo.image.save(base + processed.extension, File(fileobj), save=False)
    photo.thumbnail.save(base + "-thumb.jpg", ContentFile(processed.thumbnail), save=False)
    photo.save()
    return photo


def thumbnail_openers(limit):
    """Return openers (callables) for the newest ``limit`` thumbnails, newest first.

    The callables open the files later, wherever the montage is composed.
    """
    names = list(Photo.objects.exclude(thumbnail="").values_list("thumbnail", flat=True)[:limit])
    storage = Photo._meta.get_field("thumbnail").storage
    return [(lambda name=name: storage.open(name, "rb")) for name in names]
