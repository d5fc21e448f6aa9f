"""The soak project's views: coroutine, sync, database, streaming, uploads.

Every view answers something the load generator can check (a fixed text, a
length, a digest), so a wrong or truncated answer counts as a failure, not
as a success. Streams and cancellations are counted (``soak.middleware``) so
that ``/stats/`` shows whether every stream was closed and every cancelled
view ran its cleanup.
"""

import asyncio
import gc
import hashlib
import json
import os
import sys
import time

from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from async_app import database_sync_to_async

from .middleware import count, snapshot
from .models import Hit


def _number(request, name, default, cast=float, low=0, high=60):
    try:
        value = cast(request.GET.get(name, default))
    except ValueError:
        return None
    return value if low <= value <= high else None


async def coro_hello(request):
    """``/coro/?delay=S[&mark=M]``: await ``asyncio.sleep(S)``; a cancelled sleep is counted.

    Only the load's hang-ups ask for a delay of a second or more, and they
    hang up long before it is over: such a sleep that completes is a view
    that was not cancelled when its client left (``long_waits_completed``).
    With ``mark``, the file ``M`` in ``SOAK_MARK_DIR`` tells the client that
    the view has started.
    """
    delay = _number(request, "delay", "0")
    if delay is None:
        return HttpResponseBadRequest("bad delay\n")
    mark = request.GET.get("mark", "")
    if mark:
        if not mark.isalnum():
            return HttpResponseBadRequest("bad mark\n")
        # the hang-up's client waits for this file: the view has started
        open(os.path.join(os.environ["SOAK_MARK_DIR"], mark), "x").close()
    try:
        await asyncio.sleep(delay)
    except asyncio.CancelledError:
        count("cancelled")
        raise
    if delay >= 1:
        count("long_waits_completed")
    return HttpResponse("coro ok", content_type="text/plain")


def sync_hello(request):
    """``/sync/?delay=S``: block ``S`` seconds in the view pool."""
    delay = _number(request, "delay", "0")
    if delay is None:
        return HttpResponseBadRequest("bad delay\n")
    time.sleep(delay)
    return HttpResponse("sync ok", content_type="text/plain")


def _db_work(kind):
    Hit.objects.create(kind=kind, pid=os.getpid())
    last = Hit.objects.filter(kind=kind).order_by("-id").values_list("id", flat=True)[:1]
    return list(last)[0]


def db_sync(request):
    """``/db/sync/``: an INSERT and a SELECT through the ORM, in the view pool."""
    return HttpResponse("db ok %d" % _db_work("sync"), content_type="text/plain")


async def db_coro(request):
    """``/db/coro/``: the same ORM work from a coroutine (``database_sync_to_async``)."""
    hit_id = await database_sync_to_async(_db_work)("coro")
    return HttpResponse("db ok %d" % hit_id, content_type="text/plain")


def _chunk(size, index):
    return (b"%08d" % index) * (size // 8)


def _stream_params(request):
    chunks = _number(request, "chunks", "16", int, 1, 100000)
    size = _number(request, "size", "4096", int, 8, 1 << 20)
    return chunks, size


def stream_sync(request):
    """``/stream/sync/?chunks=N&size=B``: a sync generator of N chunks of B bytes."""
    chunks, size = _stream_params(request)
    if chunks is None or size is None:
        return HttpResponseBadRequest("bad stream parameters\n")

    def body():
        count("streams_opened")
        try:
            for i in range(chunks):
                yield _chunk(size, i)
        finally:
            count("streams_closed")

    return StreamingHttpResponse(body(), content_type="application/octet-stream")


async def stream_async(request):
    """``/stream/async/?chunks=N&size=B``: an async generator, a sleep(0) per chunk."""
    chunks, size = _stream_params(request)
    if chunks is None or size is None:
        return HttpResponseBadRequest("bad stream parameters\n")

    async def body():
        count("streams_opened")
        try:
            for i in range(chunks):
                await asyncio.sleep(0)
                yield _chunk(size, i)
        finally:
            count("streams_closed")

    return StreamingHttpResponse(body(), content_type="application/octet-stream")


@csrf_exempt
def upload(request):
    """``POST /upload/``: the SHA-256 and size of a multipart file or of a raw body."""
    if request.method != "POST":
        return HttpResponseBadRequest("POST only\n")
    digest = hashlib.sha256()
    if "file" in request.FILES:
        upload_file = request.FILES["file"]
        for piece in upload_file.chunks():
            digest.update(piece)
        size = upload_file.size
    else:
        body = request.body
        digest.update(body)
        size = len(body)
    return HttpResponse("%s %d" % (digest.hexdigest(), size), content_type="text/plain")


async def stats(request):
    """``/stats/``: this worker's counters, asyncio tasks and Python object counts."""
    data = snapshot()
    data["inflight"] -= 1  # this request
    data["tasks"] = len(asyncio.all_tasks())
    # Python-level leak signals, after a full collection (the suite calls
    # this only when idle): objects the cyclic GC tracks (the start-up
    # objects the worker froze aside) and pymalloc's allocated blocks.
    gc.collect()
    data["gc_objects"] = len(gc.get_objects())
    data["allocated_blocks"] = sys.getallocatedblocks()
    return HttpResponse(json.dumps(data, sort_keys=True), content_type="application/json")
