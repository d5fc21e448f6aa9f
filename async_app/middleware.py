"""Django middleware on the coroutine pipeline (internal to async_app.handler).

``AsyncDjangoApplication.load_middleware`` builds Django's own sync chain and,
from the same middleware instances, a chain of coroutine *layers*:

* :class:`HookSegment`: a run of plain ``MiddlewareMixin`` middleware; the
  sync hooks of a whole phase run in one thread hop.
* :class:`AsyncHookLayer`: a ``MiddlewareMixin`` with ``async def`` hooks.
* :class:`BridgeLayer`: a middleware whose ``__call__`` cannot be split into
  hooks (function middleware, custom ``__call__``): it runs in a bridge
  thread, and its ``get_response`` (:class:`GetResponse`) brings the chain
  below back to the event loop.
* :class:`NativeLayer`: a middleware whose ``__call__`` is a coroutine.

Every exception becomes a response through :func:`convert_exception`.
"""
import asyncio
import contextvars
import inspect

from django.core.handlers.exception import response_for_exception
from django.utils.deprecation import MiddlewareMixin

from .sync import bridge_executor, run_coroutine

# True while a request runs the coroutine pipeline: tells middleware
# get_response callables (see GetResponse) which inner chain to call.
on_loop_pipeline = contextvars.ContextVar("async_app_on_loop_pipeline", default=False)


def is_coroutine_function(func):
    return asyncio.iscoroutinefunction(func) or inspect.iscoroutinefunction(func)


def convert_exception(request, exc):
    """Turn ``exc`` into a response exactly as Django does: the one place.

    Django's ``response_for_exception`` reads ``sys.exc_info()`` (tracebacks,
    the technical 500 page, ``got_request_exception`` receivers such as the
    test client's), so re-raise ``exc`` to make it the exception being handled
    in whatever thread this runs in.
    """
    try:
        raise exc
    except Exception:
        return response_for_exception(request, exc)


class GetResponse(object):
    """The ``get_response`` handed to a middleware factory.

    One middleware instance serves both pipelines: on the sync pipeline this
    calls the sync chain below; from a bridge thread on the coroutine pipeline
    it runs the coroutine chain below on the event loop and waits for it.
    """

    __slots__ = ("sync_inner", "async_inner")

    def __init__(self, sync_inner):
        self.sync_inner = sync_inner
        self.async_inner = None  # set once the coroutine chain is built

    def __call__(self, request):
        if on_loop_pipeline.get():
            return run_coroutine(self.async_inner(request))
        return self.sync_inner(request)


class AsyncGetResponse(object):
    """The ``get_response`` handed to an async-native middleware: a coroutine chain."""

    __slots__ = ("async_inner",)

    def __init__(self):
        self.async_inner = None  # set once the coroutine chain is built

    def __call__(self, request):
        return self.async_inner(request)


class HookSegment(object):
    """A run of ``MiddlewareMixin`` middleware on the coroutine pipeline.

    Runs what nested ``MiddlewareMixin.__call__``s (each wrapped by
    ``convert_exception_to_response``) would, with the sync hooks of a whole
    phase in one thread hop: every process_request in order until one returns
    a response, the inner chain, then process_response in reverse.
    """

    def __init__(self, app, middleware, inner):
        self.app = app
        self.middleware = middleware
        self.inner = inner

    async def __call__(self, request):
        response, depth = await self.app._hop(self._process_requests, request)
        if response is None:
            response = await self.inner(request)
        return await self.app._hop(self._process_responses, request, response, depth)

    def _process_requests(self, request):
        """Return (response or None, how many middleware get process_response)."""
        for depth, middleware in enumerate(self.middleware):
            if not hasattr(middleware, "process_request"):
                continue
            try:
                response = middleware.process_request(request)
            except Exception as exc:
                # This middleware's __call__ is aborted: its own
                # process_response does not run, the outer ones do.
                return convert_exception(request, exc), depth
            if response:
                return response, depth + 1
        return None, len(self.middleware)

    def _process_responses(self, request, response, depth):
        for middleware in reversed(self.middleware[:depth]):
            if hasattr(middleware, "process_response"):
                try:
                    response = middleware.process_response(request, response)
                except Exception as exc:
                    response = convert_exception(request, exc)
        return response


class AsyncHookLayer(object):
    """A ``MiddlewareMixin`` middleware with ``async def`` hooks (awaited)."""

    def __init__(self, app, middleware, inner):
        self.app = app
        self.middleware = middleware
        self.inner = inner

    async def __call__(self, request):
        try:
            response = None
            if hasattr(self.middleware, "process_request"):
                response = await self.app._call_hook(self.middleware.process_request, request)
            if not response:
                response = await self.inner(request)
            if hasattr(self.middleware, "process_response"):
                response = await self.app._call_hook(
                    self.middleware.process_response, request, response
                )
            return response
        except Exception as exc:
            return await self.app._convert_exception(request, exc)


class BridgeLayer(object):
    """A middleware whose ``__call__`` cannot be split into hooks.

    Its ``__call__`` runs in a bridge thread; its ``get_response`` (a
    :class:`GetResponse`) brings the coroutine chain below back to the loop.
    """

    def __init__(self, app, middleware):
        self.app = app
        self.middleware = middleware

    async def __call__(self, request):
        try:
            response = await self.app._hop(self.middleware, request, executor=bridge_executor())
            while inspect.isawaitable(response):
                response = await response
            return response
        except Exception as exc:
            return await self.app._convert_exception(request, exc)


class NativeLayer(object):
    """A middleware whose ``__call__`` is a coroutine function (awaited)."""

    def __init__(self, app, middleware):
        self.app = app
        self.middleware = middleware

    async def __call__(self, request):
        try:
            return await self.middleware(request)
        except Exception as exc:
            return await self.app._convert_exception(request, exc)


def is_async_native(factory):
    """Middleware that wants an async ``get_response`` (Django 3.1's opt-in)."""
    if getattr(factory, "async_capable", False) and not getattr(factory, "sync_capable", True):
        return True
    call = getattr(factory, "__call__", None) if isinstance(factory, type) else None
    return is_coroutine_function(call)


def has_coroutine_hooks(middleware):
    return any(
        is_coroutine_function(getattr(middleware, name, None))
        for name in (
            "process_request",
            "process_view",
            "process_template_response",
            "process_response",
            "process_exception",
        )
    )


def is_splittable(middleware):
    """A ``MiddlewareMixin`` whose ``__call__`` is the mixin's own."""
    return isinstance(middleware, MiddlewareMixin) and type(middleware).__call__ is MiddlewareMixin.__call__


def call_with_exception(hook, request, exc):
    """Call an exception hook with ``exc`` as the exception being handled."""
    try:
        raise exc
    except Exception:
        return hook(request, exc)
