"""Coroutine and sync views for the worker tests."""

import asyncio
import os
import time

from django.conf.urls import url
from django.http import HttpResponse

from tests.apps.worker_apps import record, record_body_read


def _seconds(request):
    return float(request.GET.get("s", "1"))


async def async_sleep(request):
    await asyncio.sleep(_seconds(request))
    return HttpResponse("async slept")


def sync_sleep(request):
    time.sleep(_seconds(request))
    return HttpResponse("sync slept")


def sync_slow_read(request):
    """Reads its body only after a while (the client may be gone by then)."""
    time.sleep(_seconds(request))
    record_body_read(request, request.GET.get("name", "x"))
    return HttpResponse("read")


def secure(request):
    return HttpResponse("secure" if request.is_secure() else "insecure")


async def async_secure(request):
    return HttpResponse("secure" if request.is_secure() else "insecure")


async def async_cancel(request):
    name = request.GET.get("name", "x")
    try:
        await asyncio.sleep(_seconds(request))
    except asyncio.CancelledError:
        record("cancelled-%s" % name)
        raise
    finally:
        record("finally-%s" % name)
    return HttpResponse("not cancelled")


async def spawn_work(request):
    """Answer at once, leaving work behind that graceful shutdown must wait for."""
    from async_app import spawn

    name = request.GET.get("name", "x")

    async def work():
        await asyncio.sleep(_seconds(request))
        record("spawned-done-%s" % name)

    spawn(work())
    return HttpResponse("spawned")


async def pid(request):
    return HttpResponse(str(os.getpid()))


def index(request):
    return HttpResponse("django ok")


urlpatterns = [
    url(r"^$", index),
    url(r"^async-sleep/$", async_sleep),
    url(r"^sync-sleep/$", sync_sleep),
    url(r"^sync-slow-read/$", sync_slow_read),
    url(r"^secure/$", secure),
    url(r"^async-secure/$", async_secure),
    url(r"^async-cancel/$", async_cancel),
    url(r"^pid/$", pid),
    url(r"^spawn/$", spawn_work),
]
