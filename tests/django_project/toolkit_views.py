"""The view-side toolkit in use: the examples of docs/views.md ("Writing coroutine views").

Every code block of that page is copied verbatim from this module
(tests/test_docs.py checks it), and the tests exercise these views
under the test clients and a real gunicorn.

``Group`` stands in for "a model of yours": it is one of Django's own.
"""

import asyncio
import time

from django import forms
from django.contrib.auth.models import Group
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.generic import FormView, View

from async_app import (
    SynchronousOnlyOperation,
    database_sync_to_async,
    http_session,
    spawn,
    sync_to_async,
)

# -- concurrent calls with asyncio.gather ---------------------------------------


async def fetch_json(url):
    async with http_session().get(url) as response:
        response.raise_for_status()
        return await response.json()


async def dashboard(request):
    backend = request.GET["backend"]  # e.g. http://inventory.internal
    stock, prices = await asyncio.gather(
        fetch_json(backend + "/stock"),
        fetch_json(backend + "/prices"),
    )
    return JsonResponse({"stock": stock, "prices": prices})


# -- fire-and-forget with spawn ---------------------------------------------------


async def record_signup(name, delay):
    await asyncio.sleep(delay)  # a slow call to another service, say
    await database_sync_to_async(Group.objects.create)(name=name)


async def signup(request):
    spawn(record_signup(request.GET["name"], float(request.GET.get("delay", "0.1"))))
    return HttpResponse("accepted", status=202)


# -- the ORM through database_sync_to_async -----------------------------------------


@database_sync_to_async
def group_names():
    return list(Group.objects.order_by("name").values_list("name", flat=True))


async def groups(request):
    return JsonResponse({"groups": await group_names()})


async def whoami(request):
    # request.user is loaded before a coroutine view runs; what it refers to
    # (its groups here) is not: query it through the helper.
    groups = await database_sync_to_async(
        lambda: list(request.user.groups.values_list("name", flat=True))
    )()
    return HttpResponse(" ".join([request.user.username] + groups))


# -- an async class-based view -------------------------------------------------------


class GroupView(View):
    async def get(self, request, name):
        exists = await database_sync_to_async(Group.objects.filter(name=name).exists)()
        return JsonResponse({"name": name, "exists": exists}, status=200 if exists else 404)

    async def delete(self, request, name):
        await database_sync_to_async(Group.objects.filter(name=name).delete)()
        return HttpResponse(status=204)


# -- a FormView with an async hook -----------------------------------------------------


class GroupForm(forms.Form):
    name = forms.CharField(max_length=80)


class CreateGroupView(FormView):
    form_class = GroupForm
    template_name = "toolkit/group_form.html"
    success_url = "/toolkit/groups/"

    async def post(self, request, *args, **kwargs):
        form = self.get_form()
        if form.is_valid():
            return await self.form_valid(form)
        return self.form_invalid(form)

    async def form_valid(self, form):
        await database_sync_to_async(Group.objects.create)(name=form.cleaned_data["name"])
        return super().form_valid(form)


# -- an async streaming response ---------------------------------------------------------


async def countdown(request):
    async def events():
        for n in range(3, 0, -1):
            yield "data: %d\n\n" % n
            await asyncio.sleep(0.01)

    return StreamingHttpResponse(events(), content_type="text/event-stream")


# -- blocking code in a coroutine view, and the fixes ------------------------------------------


async def blocking_sleep(request):
    time.sleep(0.5)  # WRONG: blocks the event loop, so every request of this worker waits
    return HttpResponse("slept")


async def thread_sleep(request):
    await sync_to_async(time.sleep)(0.5)  # in the thread pool: the loop serves others meanwhile
    return HttpResponse("slept")


async def orm_on_loop(request):
    return HttpResponse(Group.objects.count())  # WRONG: raises SynchronousOnlyOperation


async def orm_in_thread(request):
    count = await database_sync_to_async(Group.objects.count)()
    return HttpResponse(count)


# -- for the tests ----------------------------------------------------------------------------


def sync_group_count(request):
    return HttpResponse(Group.objects.count())


async def guard_report(request):
    """The guard's verdict on ORM use from this coroutine view (500 would hide which error)."""
    try:
        Group.objects.count()
    except SynchronousOnlyOperation as exc:
        return HttpResponse("guarded: %s" % exc)
    return HttpResponse("not guarded")


async def redirect_loop(request):
    return redirect(request.path)


async def set_cookie(request):
    response = HttpResponse("set")
    response.set_cookie("flavour", "lemon")
    return response


async def echo_cookie(request):
    return HttpResponse(request.COOKIES.get("flavour", ""))


async def slow_note(request):
    await asyncio.sleep(float(request.GET["delay"]))
    return TemplateResponse(request, "toolkit/note.html", {"n": request.GET["n"]})


async def slow_error(request):
    await asyncio.sleep(float(request.GET["delay"]))
    raise ValueError("slow boom")


def passthrough_middleware(get_response):
    """Function-style middleware: its __call__ cannot be split into hooks."""

    def middleware(request):
        return get_response(request)

    return middleware
