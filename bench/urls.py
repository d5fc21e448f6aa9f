"""montage's URLs plus ``/sync-hello/`` (montage's ``hello`` view written sync) and the floor's view.

``/hello/?delay=S`` is montage's coroutine view (``asyncio.sleep``);
``/sync-hello/?delay=S`` does the same with ``time.sleep``, as a legacy
view waiting on blocking I/O would.
"""

import time

from django.conf.urls import include, url
from django.http import HttpResponse, HttpResponseBadRequest


def sync_hello(request):
    """``/sync-hello/?delay=1``: block ``delay`` seconds, then say hello."""
    try:
        delay = float(request.GET.get("delay", "1"))
    except ValueError:
        delay = float("nan")
    if not (0 <= delay <= 60):
        return HttpResponseBadRequest(
            "delay must be a number of seconds from 0 to 60\n", content_type="text/plain"
        )
    time.sleep(delay)
    return HttpResponse("Hello world!", content_type="text/plain")


def trivial_hello(request):
    """``/trivial-hello/?delay=0``: the floor's view, the hello's work without the wait.

    It reads ``delay`` as the hello does and answers at once: neither
    ``time.sleep(0)`` (a system call, ~25 µs of CPU here) nor a loop
    iteration counts in the floor.
    """
    try:
        delay = float(request.GET.get("delay", "0"))
    except ValueError:
        delay = float("nan")
    if not (0 <= delay <= 60):
        return HttpResponseBadRequest(
            "delay must be a number of seconds from 0 to 60\n", content_type="text/plain"
        )
    return HttpResponse("Hello world!", content_type="text/plain")


urlpatterns = [
    url(r"^sync-hello/$", sync_hello),
    url(r"^trivial-hello/$", trivial_hello),
    url(r"^", include("montage.urls")),
]
