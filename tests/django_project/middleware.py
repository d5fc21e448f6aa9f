"""Middleware for the pipeline tests: every style Django 1.11 allows, plus async hooks.

Each records what it was handed into ``EVENTS`` so tests can compare the order
of hooks between handlers, and check that no hook ever saw a coroutine.
"""

import asyncio
import inspect
import threading

from django.http import HttpResponse
from django.utils.deprecation import MiddlewareMixin

EVENTS = []
_lock = threading.Lock()


def record(name, *objects):
    with _lock:
        EVENTS.append((name, tuple(type(o).__name__ for o in objects)))
    for obj in objects:
        if inspect.isawaitable(obj):
            raise AssertionError("%s was handed an awaitable: %r" % (name, obj))


class RecordingMiddleware(MiddlewareMixin):
    """A new-style MiddlewareMixin with every hook."""

    label = "outer"

    def process_request(self, request):
        record(self.label + ".request", request)
        if request.GET.get("short") == self.label:
            return HttpResponse("short-circuited by %s" % self.label)

    def process_view(self, request, view, args, kwargs):
        record(self.label + ".view", request)

    def process_template_response(self, request, response):
        record(self.label + ".template_response", response)
        response.context_data = dict(response.context_data or {}, title="via " + self.label)
        return response

    def process_response(self, request, response):
        record(self.label + ".response", response)
        response["X-Seen-By-" + self.label] = "yes"
        return response

    def process_exception(self, request, exception):
        record(self.label + ".exception", exception)
        if isinstance(exception, KeyError):
            return HttpResponse("handled by %s" % self.label, status=418)


class InnerRecordingMiddleware(RecordingMiddleware):
    label = "inner"


def function_middleware(get_response):
    """A plain function middleware: its __call__ cannot be split into hooks."""

    def middleware(request):
        record("function.before", request)
        response = get_response(request)
        record("function.after", response)
        response["X-Function-Middleware"] = "yes"
        return response

    return middleware


class AsyncHookMiddleware(MiddlewareMixin):
    """Beyond Django 1.11: coroutine hooks, awaited by the pipeline."""

    async def process_request(self, request):
        await asyncio.sleep(0)
        record("async_hooks.request", request)
        request.async_hook_ran = True

    async def process_view(self, request, view, args, kwargs):
        await asyncio.sleep(0)
        record("async_hooks.view", request)

    async def process_response(self, request, response):
        await asyncio.sleep(0)
        record("async_hooks.response", response)
        response["X-Async-Hook"] = "yes"
        return response


class LegacyRecordingMiddleware:
    """An old-style MIDDLEWARE_CLASSES middleware."""

    def process_request(self, request):
        record("legacy.request", request)

    def process_view(self, request, view, args, kwargs):
        record("legacy.view", request)

    def process_response(self, request, response):
        record("legacy.response", response)
        response["X-Legacy"] = "yes"
        return response

    def process_exception(self, request, exception):
        record("legacy.exception", exception)


class ThreadNameMiddleware(MiddlewareMixin):
    """Tells, in a header, which thread ran its process_response."""

    def process_response(self, request, response):
        response["X-Hook-Thread"] = threading.current_thread().name
        return response
