"""Request body reading: the whole body is received before the application runs.

So ``wsgi.input`` is an ordinary file a sync view reads without touching the
loop: in memory up to a size, in a temporary file beyond.
"""

import asyncio
import io
import tempfile

from .environ import RequestError

__all__ = ["read_body"]


class _BodyTimeout(Exception):
    """The client paused its body for longer than the body timeout."""


async def read_body(request, max_size, spool_size, expect=None, timeout=None):
    """Receive the whole request body; return ``(wsgi.input, length)``.

    Kept in memory up to ``spool_size`` bytes, spooled to a temporary file
    beyond; more than ``max_size`` bytes is refused with 413 (before reading
    when Content-Length announces it). ``Expect: 100-continue`` is answered
    here, as the body is about to be read. A body that pauses for more
    than ``timeout`` seconds is refused with 408 (slow clients).
    """
    if expect is not None and expect.lower() != "100-continue":
        raise RequestError(417, "Expectation Failed", "Unsupported expectation")
    if not request.body_exists:
        return io.BytesIO(), None
    announced = request.content_length
    if announced is not None and announced > max_size:
        raise RequestError(
            413, "Request Entity Too Large", "Request body larger than %d bytes" % max_size
        )
    if expect is not None and request.version >= (1, 1):
        transport = request.transport
        if transport is not None:
            transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    content = request.content
    chunks = []
    spool = None
    total = 0
    loop = asyncio.get_event_loop()
    while True:
        timer = None
        if timeout and not content.is_eof():
            timer = loop.call_later(timeout, content.set_exception, _BodyTimeout())
        try:
            chunk = await content.readany()
        except _BodyTimeout:
            if spool is not None:
                spool.close()
            raise RequestError(
                408, "Request Timeout", "No request body for %g seconds" % timeout
            ) from None
        finally:
            if timer is not None:
                timer.cancel()
        if not chunk:
            break
        total += len(chunk)
        if total > max_size:
            if spool is not None:
                spool.close()
            raise RequestError(
                413, "Request Entity Too Large", "Request body larger than %d bytes" % max_size
            )
        if spool is not None:
            spool.write(chunk)
        elif total > spool_size:
            spool = tempfile.TemporaryFile(prefix="async_app-body-")
            spool.writelines(chunks)
            spool.write(chunk)
            chunks = None
        else:
            chunks.append(chunk)
    if spool is not None:
        spool.seek(0)
        return spool, total
    return io.BytesIO(b"".join(chunks) if len(chunks) != 1 else chunks[0]), total
