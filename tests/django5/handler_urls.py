"""The views and URLs of Django 5.2.8's tests/handlers that its async tests use.

Not here: ``bad_request`` (``django.core.exceptions.BadRequest`` is Django 3.2's).
"""

import asyncio

from django.conf.urls import url
from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponse, StreamingHttpResponse


def regular(request):
    return HttpResponse(b"regular content")


def no_response(request):
    pass


def streaming(request):
    return StreamingHttpResponse([b"streaming", b" ", b"content"])


def suspicious(request):
    raise SuspiciousOperation("dubious")


async def async_regular(request):
    return HttpResponse(b"regular content")


async def async_streaming(request):
    async def async_streaming_generator():
        yield b"streaming"
        yield b" "
        yield b"content"

    return StreamingHttpResponse(async_streaming_generator())


class CoroutineClearingView:
    def __call__(self, request):
        """Return an unawaited coroutine (common error for async views)."""
        # Store coroutine to suppress 'unawaited' warning message
        self._unawaited_coroutine = asyncio.sleep(0)
        return self._unawaited_coroutine

    def __del__(self):
        try:
            self._unawaited_coroutine.close()
        except AttributeError:
            # View was never called.
            pass


async_unawaited = CoroutineClearingView()

urlpatterns = [
    url(r"^regular/$", regular),
    url(r"^async_regular/$", async_regular),
    url(r"^no_response_fbv/$", no_response),
    url(r"^streaming/$", streaming),
    url(r"^async_streaming/$", async_streaming),
    url(r"^suspicious/$", suspicious),
    url(r"^unawaited/$", async_unawaited),
]
