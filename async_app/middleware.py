"""Django middleware on the coroutine pipeline: the layers and the chain.

The handler's ``load_middleware`` builds Django's own sync chain and, from the
same middleware instances, a chain of coroutine *layers*
(:func:`build_async_chain`), one per middleware, chosen by
:func:`async_app.modes.middleware_mode`:

* :class:`HookSegment`: a run of plain ``MiddlewareMixin`` middleware; the
  sync hooks of a whole phase run as one piece of sync code.
* :class:`AsyncHookLayer`: a ``MiddlewareMixin`` with ``async def`` hooks.
* :class:`OpaqueLayer`: a middleware whose ``__call__`` cannot be split into
  hooks (function middleware, custom ``__call__``): its ``__call__`` runs on a
  greenlet bridge on the loop (or, with ``ASYNC_APP_MIDDLEWARE_IN_THREADS``,
  in a bridge thread), and its ``get_response`` (:class:`GetResponse`)
  suspends it while the chain below is awaited on the loop.
* :class:`NativeLayer`: a middleware whose ``__call__`` is a coroutine.

Layers get a :class:`async_app.modes.Runner` (where sync code runs) and the
layer below; every exception becomes a response through
:func:`async_app.exception.convert_exception`.
"""

import contextvars
import inspect

from .exception import convert_exception
from .modes import ASYNC_HOOKS, HOOKS, NATIVE
from .greenlet_bridge import await_from_sync, on_greenlet_bridge
from .sync import run_coroutine

__all__ = [
    "AsyncGetResponse",
    "AsyncHookLayer",
    "GetResponse",
    "HookSegment",
    "NativeLayer",
    "OpaqueLayer",
    "build_async_chain",
    "catching",
    "on_loop_pipeline",
]

# True while a request runs the coroutine pipeline: tells middleware
# get_response callables (see GetResponse) which inner chain to call.
on_loop_pipeline = contextvars.ContextVar("async_app_on_loop_pipeline", default=False)


class GetResponse:
    """The ``get_response`` handed to a middleware factory.

    One middleware instance serves both pipelines: on the sync pipeline this
    calls the sync chain below; on the coroutine pipeline it has the chain
    below awaited on the loop (suspending the greenlet it is called on, or
    blocking the bridge thread) and returns its response.
    """

    __slots__ = ("sync_inner", "async_inner")

    def __init__(self, sync_inner):
        self.sync_inner = sync_inner
        self.async_inner = None  # set once the coroutine chain is built

    def __call__(self, request):
        if on_loop_pipeline.get():
            if on_greenlet_bridge():
                return await_from_sync(self.async_inner(request))
            return run_coroutine(self.async_inner(request))
        return self.sync_inner(request)


class AsyncGetResponse:
    """The ``get_response`` handed to an async-native middleware: a coroutine chain."""

    __slots__ = ("async_inner",)

    def __init__(self):
        self.async_inner = None  # set once the coroutine chain is built

    def __call__(self, request):
        return self.async_inner(request)


def catching(runner, get_response):
    """``convert_exception_to_response`` for a coroutine ``get_response``."""

    async def inner(request):
        try:
            return await get_response(request)
        except Exception as exc:
            return await runner.convert_exception(request, exc)

    return inner


class HookSegment:
    """A run of ``MiddlewareMixin`` middleware on the coroutine pipeline.

    Runs what nested ``MiddlewareMixin.__call__``s (each wrapped by
    ``convert_exception_to_response``) would, with the sync hooks of a whole
    phase as one piece of sync code: every process_request in order until one
    returns a response, the inner chain, then process_response in reverse.
    """

    def __init__(self, runner, middleware, inner):
        self.runner = runner
        self.middleware = middleware
        self.inner = inner

    async def __call__(self, request):
        response, depth = await self.runner.run_sync_code(self.process_requests, request)
        if response is None:
            response = await self.inner(request)
        return await self.runner.run_sync_code(self.process_responses, request, response, depth)

    def process_requests(self, request):
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

    def process_responses(self, request, response, depth):
        """Every process_response of the first ``depth`` middleware, innermost first."""
        for middleware in reversed(self.middleware[:depth]):
            if hasattr(middleware, "process_response"):
                try:
                    response = middleware.process_response(request, response)
                except Exception as exc:
                    response = convert_exception(request, exc)
        return response


class AsyncHookLayer:
    """A ``MiddlewareMixin`` middleware with ``async def`` hooks (awaited)."""

    def __init__(self, runner, middleware, inner):
        self.runner = runner
        self.middleware = middleware
        self.inner = inner

    async def __call__(self, request):
        try:
            response = None
            if hasattr(self.middleware, "process_request"):
                response = await self.runner.call_hook(self.middleware.process_request, request)
            if not response:
                response = await self.inner(request)
            if hasattr(self.middleware, "process_response"):
                response = await self.runner.call_hook(
                    self.middleware.process_response, request, response
                )
            return response
        except Exception as exc:
            return await self.runner.convert_exception(request, exc)


class OpaqueLayer:
    """A middleware whose sync ``__call__`` cannot be split into hooks.

    Its ``__call__`` runs where :meth:`async_app.modes.Runner.run_opaque`
    puts it; its ``get_response`` (a :class:`GetResponse`) has the coroutine
    chain below awaited on the loop.
    """

    def __init__(self, runner, middleware):
        self.runner = runner
        self.middleware = middleware

    async def __call__(self, request):
        try:
            response = await self.runner.run_opaque(self.middleware, request)
            while inspect.isawaitable(response):
                response = await response
            return response
        except Exception as exc:
            return await self.runner.convert_exception(request, exc)


class NativeLayer:
    """A middleware whose ``__call__`` is a coroutine function (awaited)."""

    def __init__(self, runner, middleware):
        self.runner = runner
        self.middleware = middleware

    async def __call__(self, request):
        try:
            return await self.middleware(request)
        except Exception as exc:
            return await self.runner.convert_exception(request, exc)


def build_async_chain(runner, built, innermost, fuse=None):
    """The coroutine chain over the middleware of Django's chain.

    ``built``: ``(middleware, get_response, mode)`` innermost first, as
    ``load_middleware`` made them; ``innermost``: the coroutine that runs the
    view. Each middleware's ``get_response.async_inner`` is pointed at the
    layer below it. A run of :data:`HOOKS` middleware right above the view
    becomes ``fuse(middleware)`` (the segment and the view as one layer) when
    ``fuse`` is given. Returns the outermost layer.
    """
    async_handler = innermost
    run = []  # consecutive HOOKS middleware, innermost first
    for middleware, get_response, mode in built + [(None, None, None)]:
        if mode == HOOKS:
            get_response.async_inner = async_handler
            run.append(middleware)
            continue
        if run:
            if fuse is not None and async_handler is innermost:
                async_handler = fuse(HookSegment(runner, run[::-1], innermost))
            else:
                async_handler = HookSegment(runner, run[::-1], async_handler)
            run = []
        if middleware is None:
            break
        get_response.async_inner = async_handler
        if mode == NATIVE:
            layer = NativeLayer(runner, middleware)
        elif mode == ASYNC_HOOKS:
            layer = AsyncHookLayer(runner, middleware, async_handler)
        else:
            layer = OpaqueLayer(runner, middleware)
        async_handler = catching(runner, layer)
    return async_handler
