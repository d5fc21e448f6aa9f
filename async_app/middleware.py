"""Django middleware on the coroutine pipeline: the layers and the chain.

The handler's ``load_middleware`` builds Django's own sync chain and, from the
same middleware instances, a chain of coroutine *layers*
(:func:`build_async_chain`), one per middleware, chosen by
:func:`async_app.modes.middleware_mode`:

* :class:`HookSegment`: a run of plain ``MiddlewareMixin`` middleware; the
  sync hooks of a whole phase run as one piece of sync code.
* :class:`AsyncHookLayer`: a ``MiddlewareMixin`` with ``async def`` hooks.
* :class:`SyncRun`: a run of sync middleware with at least one whose
  ``__call__`` cannot be split into hooks (function middleware, custom
  ``__call__``): the whole run is one piece of sync code on a greenlet bridge
  on the loop (or, with ``ASYNC_APP_MIDDLEWARE_IN_THREADS``, in a bridge
  thread); the opaque middleware's ``__call__`` is called right there, the
  hooks of its ``MiddlewareMixin`` neighbours too, and the last
  ``get_response`` (:class:`GetResponse`) suspends it while the chain below
  is awaited on the loop.
* :class:`NativeLayer`: a middleware whose ``__call__`` is a coroutine.

Layers get a :class:`async_app.modes.Runner` (where sync code runs) and the
layer below; every exception becomes a response through
:func:`async_app.exception.convert_exception`.
"""

import contextvars
import types

from .exception import convert_exception, convert_unless_cancelled
from .modes import HOOKS, NATIVE, OPAQUE, is_awaitable
from .greenlet_bridge import await_from_sync, on_greenlet_bridge
from .sync import run_coroutine

__all__ = [
    "AsyncGetResponse",
    "AsyncHookLayer",
    "GetResponse",
    "HookSegment",
    "NativeLayer",
    "SyncRun",
    "build_async_chain",
    "catching",
    "on_loop_pipeline",
    "wait_from_sync",
]

# True while a request runs the coroutine pipeline: tells middleware
# get_response callables (see GetResponse) which inner chain to call.
on_loop_pipeline = contextvars.ContextVar("async_app_on_loop_pipeline", default=False)


def wait_from_sync(awaitable):
    """From sync code of the pipeline: ``awaitable`` awaited on the loop, its result.

    On a greenlet bridge the greenlet is suspended meanwhile; in a bridge
    thread the thread waits.
    """
    if on_greenlet_bridge():
        return await_from_sync(awaitable)
    if type(awaitable) is not types.CoroutineType:
        awaitable = _awaited(awaitable)
    return run_coroutine(awaitable)


async def _awaited(awaitable):
    return await awaitable


class GetResponse:
    """The ``get_response`` handed to a middleware factory.

    One middleware instance serves both pipelines: on the sync pipeline this
    calls the sync chain below; on the coroutine pipeline, in a
    :class:`SyncRun`, the sync code of the run below (``bridged_inner``), or
    at the run's end the chain below awaited on the loop (suspending the
    greenlet it is called on, or blocking the bridge thread).
    """

    __slots__ = ("sync_inner", "async_inner", "bridged_inner")

    def __init__(self, sync_inner):
        self.sync_inner = sync_inner
        self.async_inner = None  # set once the coroutine chain is built
        self.bridged_inner = None  # set for an opaque middleware of a SyncRun

    def __call__(self, request):
        if on_loop_pipeline.get():
            if self.bridged_inner is not None:
                return self.bridged_inner(request)
            return wait_from_sync(self.async_inner(request))
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


class SyncRun:
    """A run of sync middleware, one of them opaque, as one piece of sync code.

    ``step`` (see :func:`_sync_steps`) runs the whole run: it is called where
    :meth:`async_app.modes.Runner.run_opaque` puts it (a greenlet bridge, or a
    bridge thread), and only the chain below the run is awaited on the loop.
    """

    def __init__(self, runner, step):
        self.runner = runner
        self.step = step

    async def __call__(self, request):
        try:
            return await self.runner.run_opaque(self.step, request)
        except Exception as exc:
            return await self.runner.convert_exception(request, exc)


def _opaque_step(middleware):
    """An opaque middleware's ``__call__`` as sync code of a :class:`SyncRun`.

    Its exceptions become responses (its ``convert_exception_to_response``);
    an awaitable it returns is awaited on the loop.
    """

    def step(request):
        try:
            response = middleware(request)
            while is_awaitable(response):
                response = wait_from_sync(response)
            return response
        except Exception as exc:
            return convert_unless_cancelled(request, exc)

    return step


def _hooks_step(segment, below):
    """A run of ``MiddlewareMixin`` (a :class:`HookSegment`) as sync code of a :class:`SyncRun`."""

    def step(request):
        response, depth = segment.process_requests(request)
        if response is None:
            response = below(request)
        return segment.process_responses(request, response, depth)

    return step


def _awaiting_step(async_inner):
    """The end of a :class:`SyncRun`: the chain below awaited on the loop."""

    def step(request):
        return wait_from_sync(async_inner(request))

    return step


def _sync_steps(runner, run, below):
    """The sync code of a :class:`SyncRun` over ``run`` (innermost first) above ``below``."""
    hooks = []  # consecutive HOOKS middleware, innermost first
    for middleware, get_response, mode in run + [(None, None, None)]:
        if mode == HOOKS:
            hooks.append(middleware)
            continue
        if hooks:
            below = _hooks_step(HookSegment(runner, hooks[::-1], None), below)
            hooks = []
        if middleware is not None:
            get_response.bridged_inner = below
            below = _opaque_step(middleware)
    return below


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
    layer below it. When ``fuse`` is given, the run of :data:`HOOKS`
    middleware right above the view (maybe none) becomes ``fuse(segment)``:
    the segment and the view as one layer, with a ``from_sync`` for sync code
    above it. Any other run of :data:`HOOKS` and :data:`OPAQUE` middleware
    becomes a :class:`SyncRun` if it holds an opaque one, else a
    :class:`HookSegment`.
    Returns the outermost layer.
    """
    async_handler = innermost
    from_sync = None  # the layer below as sync code, if it has one
    fused = 0
    while fuse is not None and fused < len(built) and built[fused][2] == HOOKS:
        built[fused][1].async_inner = innermost
        fused += 1
    if fuse is not None:
        async_handler = fuse(
            HookSegment(runner, [item[0] for item in built[:fused][::-1]], innermost)
        )
        from_sync = async_handler.from_sync
    run = []  # consecutive HOOKS and OPAQUE middleware, innermost first
    for middleware, get_response, mode in built[fused:] + [(None, None, None)]:
        if mode in (HOOKS, OPAQUE):
            get_response.async_inner = async_handler
            run.append((middleware, get_response, mode))
            continue
        if run:
            if any(item[2] == OPAQUE for item in run):
                below = from_sync or _awaiting_step(async_handler)
                async_handler = SyncRun(runner, _sync_steps(runner, run, below))
            else:
                async_handler = HookSegment(runner, [item[0] for item in run[::-1]], async_handler)
            run = []
        from_sync = None
        if middleware is None:
            break
        get_response.async_inner = async_handler
        if mode == NATIVE:
            layer = NativeLayer(runner, middleware)
        else:
            layer = AsyncHookLayer(runner, middleware, async_handler)
        async_handler = catching(runner, layer)
    return async_handler
