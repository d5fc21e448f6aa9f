"""WebSocket views (and a few plain ones) for tests/test_websocket*.py."""

import asyncio
import os

from django.conf.urls import url
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse

from async_app.websocket import WebSocketClosed, accept_websocket
from tests.apps.worker_apps import record

# What the response phase of the middleware saw, per path (in-process tests).
RESPONSES_SEEN = {}
# Close codes the wait_close view saw (in-process tests).
CLOSES_SEEN = []
# Messages the flood view managed to hand to its socket (per process).
PROGRESS = {"sent": 0, "done": False}


def _tag(request):
    return request.GET.get("tag", "")


def seen_by_response_middleware(get_response):
    """A function-style middleware recording the status its response phase sees."""

    def middleware(request):
        response = get_response(request)
        RESPONSES_SEEN[request.path] = response.status_code
        response["X-Seen-By-Middleware"] = "yes"
        return response

    return middleware


async def echo(request):
    """Echo text, bytes and JSON until the client closes; record how it ended."""
    ws = await accept_websocket(request, subprotocols=["echo.v2", "echo.v1"])
    try:
        async for message in ws:
            if isinstance(message, bytes):
                await ws.send_bytes(message[::-1])
            elif message.startswith("{"):
                import json

                await ws.send_json({"echo": json.loads(message)})
            elif message == "close-me":
                await ws.close(4000, "as you wish")
            else:
                await ws.send_text("echo:" + message)
        # After a clean close the view finishes (it is not cancelled).
        await asyncio.sleep(0.1)
        record("echo-closed-%s-%s" % (_tag(request), ws.close_code))
    except asyncio.CancelledError:
        record("echo-cancelled-%s" % _tag(request))
        raise
    return ws.response


async def hello(request):
    """Greet the session's name; refuse with 403 when there is none."""
    name = request.session.get("name")
    if not name:
        return HttpResponseForbidden("log in first")
    ws = await accept_websocket(request)
    await ws.send_text("hello " + name)
    await ws.close()
    return ws.response


def set_name(request):
    """A plain view storing ``?name=`` in the session."""
    request.session["name"] = request.GET["name"]
    return HttpResponse("ok")


def sync_accept(request):
    """A sync view that wrongly tries to accept."""
    accept_websocket(request)
    return HttpResponse("unreachable")


async def flood(request):
    """Send ``n`` messages of 256 KiB to a client that may not read them."""
    ws = await accept_websocket(request)
    PROGRESS.update(sent=0, done=False)
    chunk = b"x" * (256 * 1024)
    try:
        for _ in range(int(request.GET.get("n", "400"))):
            await ws.send_bytes(chunk)
            PROGRESS["sent"] += 1
        PROGRESS["done"] = True
    except (WebSocketClosed, asyncio.CancelledError):
        PROGRESS["done"] = "closed"
        raise
    return ws.response


async def progress(request):
    """How far the flood view got in this worker."""
    return JsonResponse(PROGRESS)


async def deaf(request):
    """Accept, then never read (the client's sends must be held back)."""
    ws = await accept_websocket(request, heartbeat=float(request.GET.get("hb", "0")))
    try:
        await asyncio.sleep(float(request.GET.get("s", "30")))
    except asyncio.CancelledError:
        record("deaf-cancelled-%s" % _tag(request))
        raise
    return ws.response


async def wait_close(request):
    """Receive until the socket closes, then record the code the view saw."""
    ws = await accept_websocket(request)
    await ws.send_text("ready")
    try:
        while True:
            await ws.receive()
    except WebSocketClosed as exc:
        CLOSES_SEEN.append(exc.code)
        record("view-saw-close-%s" % exc.code)
    return ws.response


@login_required
async def whoami(request):
    """Tell the logged-in user their name (anonymous users get login_required's redirect)."""
    ws = await accept_websocket(request)
    await ws.send_text(request.user.get_username())
    return ws.response


async def leave_open(request):
    """Accept, send one message and return without closing (the server closes)."""
    ws = await accept_websocket(request)
    await ws.send_text("bye")
    if request.GET.get("fail"):
        raise ValueError("view failed after accepting")
    return ws.response


async def chat(request):
    if not request.user.is_authenticated:
        return HttpResponseForbidden("log in first")
    ws = await accept_websocket(request)
    await ws.send_json({"hello": request.user.get_username()})
    async for message in ws:
        await ws.send_text(message.upper())
    return ws.response


async def plain(request):
    """An ordinary coroutine view."""
    return HttpResponse("plain %d" % os.getpid())


urlpatterns = [
    url(r"^ws/echo/$", echo),
    url(r"^ws/hello/$", hello),
    url(r"^set-name/$", set_name),
    url(r"^ws/sync/$", sync_accept),
    url(r"^ws/flood/$", flood),
    url(r"^progress/$", progress),
    url(r"^ws/deaf/$", deaf),
    url(r"^ws/wait-close/$", wait_close),
    url(r"^ws/whoami/$", whoami),
    url(r"^ws/leave-open/$", leave_open),
    url(r"^ws/chat/$", chat),
    url(r"^plain/$", plain),
]
