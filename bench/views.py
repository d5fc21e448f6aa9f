"""The benchmark's own views: the trivial hellos and the sync twin of montage's hello.

``/sync-hello/?delay=S`` does what montage's coroutine ``hello`` does with
``time.sleep``, as a legacy view waiting on blocking I/O would.
``/trivial-hello/`` (the floor's view) and ``/trivial-coroutine-hello/``
(the same written as a coroutine) do the hello's work without a wait at
``delay=0``, as bare aiohttp's handler does.
"""

import asyncio
import time

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


async def trivial_coroutine_hello(request):
    """``/trivial-coroutine-hello/?delay=0``: :func:`trivial_hello` written as a coroutine view.

    At ``delay=0`` it answers without awaiting anything, as the floor's view
    and bare aiohttp's handler do (montage's hello awaits ``asyncio.sleep(0)``:
    one more loop iteration); a positive ``delay`` is awaited.
    """
    delay, refusal = _read_delay(request, "0")
    if refusal is not None:
        return refusal
    if delay:
        await asyncio.sleep(delay)
    return HttpResponse("Hello world!", content_type="text/plain")
