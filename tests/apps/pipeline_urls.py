"""Views for tests/test_core.py: the root urlconf (``/routed/`` is not in it)."""

import asyncio

from django.conf.urls import url
from django.http import HttpResponse
from django.template import engines
from django.template.response import TemplateResponse

from tests.apps.worker_apps import record


async def async_cancel(request):
    """Sleep ``s`` seconds; record whether the sleep was cancelled."""
    name = request.GET.get("name", "x")
    record("entered-%s" % name)
    try:
        await asyncio.sleep(float(request.GET.get("s", "1")))
    except asyncio.CancelledError:
        record("cancelled-%s" % name)
        raise
    finally:
        record("finally-%s" % name)
    return HttpResponse("not cancelled")


class AsyncRenderResponse(TemplateResponse):
    """A TemplateResponse whose ``render()`` is ``async def`` (Django 5's async tests have one)."""

    async def render(self):
        await asyncio.sleep(0.01)
        return super().render()


async def async_render(request):
    template = engines["django"].from_string("rendered {{ name }}")
    return AsyncRenderResponse(request, template, {"name": request.GET.get("name", "x")})


def sync_hello(request):
    return HttpResponse("sync hello")


async def async_hello(request):
    return HttpResponse("async hello")


urlpatterns = [
    url(r"^async-cancel/$", async_cancel),
    url(r"^async-render/$", async_render),
    url(r"^sync/hello/$", sync_hello),
    url(r"^async/hello/$", async_hello),
]
