"""Every kind of view the pipeline must serve, sync and coroutine, side by side.

Views named ``sync_*`` and ``async_*`` with the same suffix produce the same
response, so the regression suite can compare them across handlers.
"""

import asyncio
import io
import os

from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import FormView, View

import async_app

# -- hello: the same response from every view kind ---------------------------


def sync_hello(request):
    return HttpResponse("Hello world!", content_type="text/plain")


@asyncio.coroutine
def generator_hello(request):
    yield from asyncio.sleep(0)
    return HttpResponse("Hello world!", content_type="text/plain")


async def async_hello(request):
    await asyncio.sleep(0)
    return HttpResponse("Hello world!", content_type="text/plain")


@async_app.coroutine
def compat_generator_hello(request):
    yield from asyncio.sleep(0)
    result = yield from _native_helper()
    return HttpResponse(result, content_type="text/plain")


async def _native_helper():
    await asyncio.sleep(0)
    return "Hello world!"


class SyncHelloView(View):
    def get(self, request):
        return HttpResponse("Hello world!", content_type="text/plain")


class AsyncHelloView(View):
    async def get(self, request):
        await asyncio.sleep(0)
        return HttpResponse("Hello world!", content_type="text/plain")

    async def post(self, request):
        return HttpResponse("posted %s" % request.POST.get("value", ""), content_type="text/plain")


def wrongly_judged_hello(request):
    """A plain function that returns a coroutine: judged sync, must still work."""
    return async_hello(request)


@csrf_exempt
@login_required
async def async_protected(request):
    return HttpResponse("secret for %s" % request.user.username, content_type="text/plain")


@login_required
def sync_protected(request):
    return HttpResponse("secret for %s" % request.user.username, content_type="text/plain")


# -- templates, sessions, messages, auth --------------------------------------


def sync_template(request):
    request.session["visits"] = request.session.get("visits", 0) + 1
    return TemplateResponse(
        request, "page.html", {"title": "template", "visits": request.session["visits"]}
    )


async def async_template(request):
    request.session["visits"] = request.session.get("visits", 0) + 1
    return TemplateResponse(
        request, "page.html", {"title": "template", "visits": request.session["visits"]}
    )


def sync_render(request):
    return render(request, "page.html", {"title": "render", "visits": 0})


async def async_render(request):
    return render(request, "page.html", {"title": "render", "visits": 0})


def sync_message(request):
    messages.info(request, "saved")
    return HttpResponseRedirect(reverse("sync_template"))


async def async_message(request):
    messages.info(request, "saved")
    return HttpResponseRedirect(reverse("sync_template"))


def sync_login(request):
    user = authenticate(
        request, username=request.POST["username"], password=request.POST["password"]
    )
    if user is None:
        return HttpResponse("no", status=401)
    login(request, user)
    return HttpResponseRedirect(reverse("sync_protected"))


def sync_language(request):
    return HttpResponse(translation.get_language() or "", content_type="text/plain")


async def async_language(request):
    return HttpResponse(translation.get_language() or "", content_type="text/plain")


def sync_reverse(request):
    return HttpResponse(reverse("sync_hello"), content_type="text/plain")


async def async_reverse(request):
    await asyncio.sleep(0)
    return HttpResponse(reverse("sync_hello"), content_type="text/plain")


def sync_echo(request):
    return JsonResponse(
        {
            "method": request.method,
            "body": request.body.decode("latin-1"),
            "post": request.POST.dict(),
        }
    )


async def async_echo(request):
    return JsonResponse(
        {
            "method": request.method,
            "body": request.body.decode("latin-1"),
            "post": request.POST.dict(),
        }
    )


# -- forms ---------------------------------------------------------------------


class NameForm(forms.Form):
    name = forms.CharField(max_length=20)


class SyncNameFormView(FormView):
    form_class = NameForm
    template_name = "form.html"

    def form_valid(self, form):
        return HttpResponseRedirect("/done/?name=%s" % form.cleaned_data["name"])


class AsyncNameFormView(FormView):
    form_class = NameForm
    template_name = "form.html"

    async def form_valid(self, form):
        await asyncio.sleep(0)
        return HttpResponseRedirect("/done/?name=%s" % form.cleaned_data["name"])


# -- errors --------------------------------------------------------------------


def sync_404(request):
    raise Http404("nope")


async def async_404(request):
    raise Http404("nope")


def sync_403(request):
    raise PermissionDenied


async def async_403(request):
    raise PermissionDenied


def sync_400(request):
    raise SuspiciousOperation("bad")


async def async_400(request):
    raise SuspiciousOperation("bad")


def sync_500(request):
    raise ValueError("boom")


async def async_500(request):
    raise ValueError("boom")


def sync_none(request):
    return None


async def async_none(request):
    return None


# -- streaming -----------------------------------------------------------------


def sync_stream(request):
    return StreamingHttpResponse(
        (("chunk %d\n" % i).encode() for i in range(3)), content_type="text/plain"
    )


async def async_stream(request):
    async def chunks():
        for i in range(3):
            await asyncio.sleep(0)
            yield ("chunk %d\n" % i).encode()

    return StreamingHttpResponse(chunks(), content_type="text/plain")


def sync_file(request):
    return FileResponse(
        open(os.path.join(os.path.dirname(__file__), "templates", "page.html"), "rb")
    )


async def async_file(request):
    return FileResponse(
        open(os.path.join(os.path.dirname(__file__), "templates", "page.html"), "rb")
    )


# -- timing (used by worker/concurrency tests) ---------------------------------


async def async_sleep(request):
    await asyncio.sleep(float(request.GET.get("delay", "1")))
    return HttpResponse("slept", content_type="text/plain")


def sync_sleep(request):
    import time

    time.sleep(float(request.GET.get("delay", "1")))
    return HttpResponse("slept", content_type="text/plain")


def sync_secure(request):
    return HttpResponse("secure=%s" % request.is_secure(), content_type="text/plain")


def sync_bytes(request):
    return HttpResponse(io.BytesIO(b"x" * 1000).getvalue(), content_type="application/octet-stream")


def sync_key_error(request):
    raise KeyError("missing")


async def async_key_error(request):
    await asyncio.sleep(0)
    raise KeyError("missing")


def sync_template_title(request):
    return TemplateResponse(request, "page.html", {"title": "plain", "visits": 0})


async def async_template_title(request):
    await asyncio.sleep(0)
    return TemplateResponse(request, "page.html", {"title": "plain", "visits": 0})


def sync_thread_name(request):
    import threading

    return HttpResponse(threading.current_thread().name, content_type="text/plain")


async def async_hook_flag(request):
    return HttpResponse(
        "hook ran: %s" % getattr(request, "async_hook_ran", False), content_type="text/plain"
    )


ENDLESS_STREAMS_CLOSED = []


async def async_endless_stream(request):
    """An event stream that never ends by itself; records when it is closed."""

    async def ticks():
        try:
            while True:
                yield b"data: tick\n\n"
                await asyncio.sleep(0.01)
        finally:
            ENDLESS_STREAMS_CLOSED.append(request.path)

    return StreamingHttpResponse(ticks(), content_type="text/event-stream")


def sync_nested_client(request):
    """Django's own tests call the test client from inside a view."""
    from django.test import Client

    inner = Client().get("/async/hello/")
    return HttpResponse(b"outer saw: " + inner.content, content_type="text/plain")


def sync_user_count(request):
    from django.contrib.auth.models import User

    return HttpResponse(str(User.objects.count()), content_type="text/plain")


async def async_spawns(request):
    async def later():
        await asyncio.sleep(0.05)
        SPAWNED_DONE.append(request.path)

    async_app.spawn(later())
    return HttpResponse("spawned", content_type="text/plain")


SPAWNED_DONE = []


async def async_resolver_kwargs(request, name):
    """Returns the match's kwargs as it got them, then changes them."""
    seen = dict(request.resolver_match.kwargs)
    request.resolver_match.kwargs["changed_by_view"] = True
    return JsonResponse(seen)


def alt_hello(request):
    return HttpResponse("alternative urlconf", content_type="text/plain")
