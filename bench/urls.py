"""montage's URLs plus ``/sync-hello/``: montage's ``hello`` view written sync.

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
        return HttpResponseBadRequest("delay must be a number of seconds from 0 to 60\n",
                                      content_type="text/plain")
    time.sleep(delay)
    return HttpResponse("Hello world!", content_type="text/plain")


urlpatterns = [
    url(r"^sync-hello/$", sync_hello),
    url(r"^", include("montage.urls")),
]
