"""``StreamingHttpResponse`` over async iterators (a backport of Django 4.2's).

Django 1.11's ``StreamingHttpResponse`` calls ``iter()`` on its content, so an
async generator (server-sent events, say) raises ``TypeError``. After
:func:`install`, a streaming response built from an object with ``__aiter__``
sets ``response.is_async = True`` and keeps the async iterator;
``streaming_content`` is then an async iterator of bytes, which the pipeline
hands to the worker to send chunk by chunk. Sync iteration (Django's test
client, a WSGI server that knows nothing of this) still works: it collects the
whole stream first, with Django 4.2's warning; async iteration of a sync
stream (``async for`` over the response) consumes it in the view pool, also
with Django 4.2's warning.

Middleware that rewraps ``streaming_content`` with a sync generator (Django
1.11's ``GZipMiddleware``) cannot wrap an async stream; such a response fails
while streaming, as it would on Django 4.2 with a sync-only middleware.
"""

import warnings

from django.http import StreamingHttpResponse

__all__ = ["install"]


def _set_streaming_content(self, value):
    if not hasattr(value, "__iter__") and hasattr(value, "__aiter__"):
        self.is_async = True
        self._iterator = value.__aiter__()
        return
    self.is_async = False
    _set_sync_streaming_content(self, value)


def _streaming_content(self):
    if not self.is_async:
        return map(self.make_bytes, self._iterator)
    iterator = self._iterator  # fixed now, in case streaming_content is set again

    async def as_bytes():
        try:
            async for part in iterator:
                yield self.make_bytes(part)
        finally:
            await aclose_iterator(iterator)

    return as_bytes()


def _iter(self):
    if not self.is_async:
        return self.streaming_content
    warnings.warn(
        "StreamingHttpResponse must consume asynchronous iterators in order to "
        "serve them synchronously. Use a synchronous iterator instead.",
        Warning,
        stacklevel=2,  # the caller's line, as Django 4.2's
    )
    from .sync import run_coroutine

    async def collect(parts):
        return [part async for part in parts]

    return iter(run_coroutine(collect(self.streaming_content)))


def _aiter(self):
    if self.is_async:
        return self.streaming_content
    return _from_sync(self.streaming_content)


async def _from_sync(parts):
    # The warning fires on the first step, from the caller's `async for`
    # (stacklevel 2), as Django 4.2's async generator __aiter__ does.
    warnings.warn(
        "StreamingHttpResponse must consume synchronous iterators in order to "
        "serve them asynchronously. Use an asynchronous iterator instead.",
        Warning,
        stacklevel=2,
    )
    from .sync import sync_to_async

    for part in await sync_to_async(list)(parts):
        yield part


async def aclose_iterator(iterator):
    """Close an async iterator early (a client gone, a consumer done), if it can be."""
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


_set_sync_streaming_content = StreamingHttpResponse._set_streaming_content


def install():
    """Teach ``StreamingHttpResponse`` async iterators (idempotent)."""
    cls = StreamingHttpResponse
    if getattr(cls, "_async_app_streaming", False):
        return
    cls.is_async = False
    cls._set_streaming_content = _set_streaming_content
    cls.streaming_content = property(_streaming_content, cls.streaming_content.fset)
    cls.__iter__ = _iter
    cls.__aiter__ = _aiter
    cls._async_app_streaming = True
