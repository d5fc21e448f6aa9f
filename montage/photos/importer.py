"""Fetching images from the web for ``/import/``, several at once."""

import asyncio
import io
import logging
import posixpath
from collections import namedtuple

import aiohttp
from django.conf import settings
from django.utils.six.moves.urllib.parse import unquote, urlsplit

import async_app

from . import imaging, services
from .events import announce
from .models import Photo

logger = logging.getLogger(__name__)

#: Largest download accepted, in bytes.
MAX_DOWNLOAD = 15 * 1024 * 1024

ImportResult = namedtuple("ImportResult", "url photo error")
ImportResult.__doc__ = (
    """The outcome for one URL: ``photo`` on success, else ``error`` (a message)."""
)


class ImportFailed(Exception):
    """Fetching one URL failed; the message is shown to the user."""


async def fetch(session, url, max_bytes=MAX_DOWNLOAD):
    """GET ``url`` with ``session`` and return its body, at most ``max_bytes`` long."""
    async with session.get(url, allow_redirects=True, max_redirects=5) as response:
        if response.status != 200:
            raise ImportFailed(
                "The server answered %d %s." % (response.status, response.reason or "")
            )
        if response.content_length is not None and response.content_length > max_bytes:
            raise ImportFailed("The file is too big (%d bytes)." % response.content_length)
        body = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            body.extend(chunk)
            if len(body) > max_bytes:
                raise ImportFailed("The file is too big (over %d bytes)." % max_bytes)
        return bytes(body)


def _caption_for(url):
    path = unquote(urlsplit(url).path)
    return (posixpath.basename(path.rstrip("/")) or urlsplit(url).hostname or url)[:200]


async def import_url(session, url, timeout):
    """Fetch, check, process and save one image; never raises for a bad URL.

    The whole of fetching gets ``timeout`` seconds. Pillow runs in a pool
    thread, the ORM through ``database_sync_to_async``; a saved photo is
    announced on ``/events/``.
    """
    try:
        data = await asyncio.wait_for(fetch(session, url), timeout)
        processed = await async_app.sync_to_async(imaging.process_image)(
            io.BytesIO(data), settings.MONTAGE_THUMBNAIL_SIZE, settings.MONTAGE_MAX_PIXELS
        )
        caption = _caption_for(url)
        photo = await async_app.database_sync_to_async(services.save_photo)(
            io.BytesIO(data),
            processed,
            name=caption,
            caption=caption,
            source=Photo.SOURCE_IMPORT,
            source_url=url,
        )
    except asyncio.CancelledError:  # an Exception on Python 3.7: let it through
        raise
    except asyncio.TimeoutError:
        return ImportResult(url, None, "Timed out after %g seconds." % timeout)
    except (ImportFailed, imaging.InvalidImage) as exc:
        return ImportResult(url, None, str(exc))
    except aiohttp.ClientError as exc:
        return ImportResult(url, None, "Could not fetch it: %s" % (str(exc) or type(exc).__name__))
    except Exception:
        logger.exception("Importing %s failed", url)
        return ImportResult(url, None, "Unexpected error (see the server log).")
    await announce(photo.as_event("import"))
    return ImportResult(url, photo, None)


async def import_urls(urls, timeout=None):
    """Import every URL concurrently through the shared HTTP session; return the results in order."""
    timeout = settings.MONTAGE_IMPORT_TIMEOUT if timeout is None else timeout
    session = async_app.http_session()
    return await asyncio.gather(*[import_url(session, url, timeout) for url in urls])
