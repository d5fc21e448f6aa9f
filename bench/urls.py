"""montage's URLs plus ``/sync-hello/`` (montage's ``hello`` view written sync) and the floor's view.

``/hello/?delay=S`` is montage's coroutine view (``asyncio.sleep``);
``/sync-hello/?delay=S`` does the same with ``time.sleep``, as a legacy
view waiting on blocking I/O would.
"""

import time

from django.conf.urls import include, url
from django.http import HttpResponse, HttpResponseBadRequest


def _read_delay(request, default):
    """``(delay, None)``, or ``(None, 400 response)`` when ``?delay`` is not 0-60 seconds."""
    try:
        delay = float(request.GET.get("delay", default))
    except ValueError:
        delay = float("nan")
    if not (0 <= delay <= 60):  # also refuses nan
        return None, HttpResponseBadRequest(
            "delay must be a number of seconds from 0 to 60\n", content_type="text/plain"
        )
    return delay, None


def sync_hello(request):
    """``/sync-hello/?delay=1``: block ``delay`` seconds, then say hello."""
    delay, refusal = _read_delay(request, "1")
    if refusal is not None:
        return refusal
    time.sleep(delay)
    return HttpResponse("Hello world!", content_type="text/plain")


def trivial_hello(request):
    """``/trivial-hello/?delay=0``: the floor's view, the hello's work without the wait.

    It reads ``delay`` as the hello does and answers at once: neither
    ``time.sleep(0)`` (a system call, ~25 µs of CPU here) nor a loop
    iteration counts in the floor.
    """
    delay, refusal = _read_delay(request, "0")
    if refusal is not None:
        return refusal
    return HttpResponse("Hello world!", content_type="text/plain")


urlpatterns = [
    url(r"^sync-hello/$", sync_hello),
    url(r"^trivial-hello/$", trivial_hello),
    url(r"^", include("montage.urls")),
]
