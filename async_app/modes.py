"""How each part of the pipeline runs: the one decision, and carrying it out.

Django 3.1's ``BaseHandler.adapt_method_mode`` decides, for each middleware and
view, whether it is called as a coroutine or through a sync/async adapter.
This module is async_app's counterpart, for the coroutine pipeline:

* :func:`is_async_view` decides whether a view is awaited on the loop.
* :func:`middleware_mode` decides how a middleware instance runs
  (:data:`HOOKS`, :data:`ASYNC_HOOKS`, :data:`NATIVE` or :data:`OPAQUE`),
  honouring Django 3.1's ``sync_capable``/``async_capable`` flags.
* :class:`ViewAwaitedOnLoop` is how Django's sync chain calls a view: an
  awaitable it returns (a coroutine view reached through ``request.urlconf``)
  is awaited on the loop.
* :class:`Runner` runs the pipeline's sync code where the settings say:
  on the loop as sync code (the default) or in the bridge pool
  (``ASYNC_APP_MIDDLEWARE_IN_THREADS``); opaque middleware on a greenlet
  bridge on the loop, or in the bridge pool; sync views in the view pool. It
  is what the middleware layers get; they never see the application.
"""

import asyncio
import contextvars
import functools
import inspect
import logging

from django.core import signals
from django.http.response import HttpResponseBase
from django.utils.deprecation import MiddlewareMixin
from django.utils.functional import LazyObject, SimpleLazyObject, empty

from . import db, exception
from .exception import convert_exception
from .greenlet_bridge import run_in_greenlet
from .sync import bridge_executor, call_here, is_inline, run_coroutine, run_sync, view_executor

__all__ = [
    "ASYNC_HOOKS",
    "HOOKS",
    "NATIVE",
    "OPAQUE",
    "Runner",
    "ViewAwaitedOnLoop",
    "is_async_view",
    "is_awaitable",
    "is_coroutine_function",
    "load_lazy_request_state",
    "middleware_mode",
    "note_adaptation",
    "refuse_stray_coroutine",
    "wants_async_get_response",
]

_request_logger = logging.getLogger("django.request")

#: A ``MiddlewareMixin`` whose sync hooks run as the phases of one segment.
HOOKS = "hooks"
#: A ``MiddlewareMixin`` with ``async def`` hooks: each hook awaited.
ASYNC_HOOKS = "async hooks"
#: A middleware whose ``__call__`` is a coroutine: awaited, with an async ``get_response``.
NATIVE = "native"
#: A sync ``__call__`` that cannot be split into hooks: on a greenlet (or a bridge thread).
OPAQUE = "opaque"

_HOOK_NAMES = (
    "process_request",
    "process_view",
    "process_template_response",
    "process_response",
    "process_exception",
)


def is_coroutine_function(func):
    """``asyncio.iscoroutinefunction`` or ``inspect.iscoroutinefunction``."""
    return asyncio.iscoroutinefunction(func) or inspect.iscoroutinefunction(func)


# Response classes inspect.isawaitable() said no to: the common answer, kept.
_PLAIN_RESPONSE_TYPES = set()
_PLAIN_RESPONSE_TYPES_SIZE = 256


def is_awaitable(value):
    """``inspect.isawaitable``; a response of a class already judged is answered at once."""
    if type(value) in _PLAIN_RESPONSE_TYPES:
        return False
    answer = inspect.isawaitable(value)
    if (
        not answer
        and isinstance(value, HttpResponseBase)
        and len(_PLAIN_RESPONSE_TYPES) < _PLAIN_RESPONSE_TYPES_SIZE
    ):
        _PLAIN_RESPONSE_TYPES.add(type(value))
    return answer


# (view, method) -> is_async_view's answer; views are few and long-lived.
_ASYNC_VIEW_ANSWERS = {}
_ASYNC_VIEW_ANSWERS_SIZE = 4096


def is_async_view(view, method=None):
    """Whether calling ``view`` for an HTTP ``method`` should happen on the loop.

    Sees through ``functools.wraps`` decorators (``__wrapped__``: csrf_exempt,
    login_required, ...), ``functools.partial``, callable instances and
    ``as_view()`` functions (``view_class``: the handler for ``method``, or
    ``dispatch``, is a coroutine function). A view judged sync still works if
    it returns an awaitable (a coroutine view it called with the request):
    the pipeline awaits it on the loop; see :func:`refuse_stray_coroutine`.
    """
    try:
        return _ASYNC_VIEW_ANSWERS[view, method]
    except KeyError:
        answer = _judge_view(view, method)
        if len(_ASYNC_VIEW_ANSWERS) < _ASYNC_VIEW_ANSWERS_SIZE:
            _ASYNC_VIEW_ANSWERS[view, method] = answer
        return answer
    except TypeError:  # an unhashable callable
        return _judge_view(view, method)


def _judge_view(view, method):
    seen = set()
    while view is not None and id(view) not in seen:
        seen.add(id(view))
        if is_coroutine_function(view):
            return True
        view_class = getattr(view, "view_class", None)
        if view_class is not None:
            name = (method or "get").lower()
            handler = getattr(view_class, name, None)
            if handler is None and name == "head":
                handler = getattr(view_class, "get", None)
            return is_coroutine_function(handler) or is_coroutine_function(
                getattr(view_class, "dispatch", None)
            )
        if isinstance(view, functools.partial):
            view = view.func
        elif hasattr(view, "__wrapped__"):
            view = view.__wrapped__
        elif not inspect.isfunction(view) and not inspect.ismethod(view) and callable(view):
            view = type(view).__call__
        else:
            view = None
    return False


def refuse_stray_coroutine(view, request, result):
    """Refuse, as Django 3.1+ does, an unawaited coroutine that ``view`` returned.

    A coroutine whose frame holds ``request`` (directly, in ``*args``, or as
    the ``request`` of an object: a class-based view's ``self``) is the
    coroutine of view code a sync-looking wrapper called (an old decorator,
    ``FormView.post`` returning an ``async def form_valid()``): the pipeline
    awaits it. Any other coroutine
    (``return asyncio.sleep(0)``, a forgotten ``await``) is the error Django
    reports: ``ValueError``. Other awaitables are awaited.
    """
    if not asyncio.iscoroutine(result):
        return
    frame = getattr(result, "cr_frame", None) or getattr(result, "gi_frame", None)
    values = list(frame.f_locals.values()) if frame is not None else ()
    for value in values:
        if value is request or getattr(value, "request", None) is request:
            return
        if type(value) is tuple and any(item is request for item in value):
            return
    exception.view_returned_coroutine(view)


def wants_async_get_response(factory, path=None):
    """Whether a middleware factory is handed a coroutine ``get_response``.

    Django 3.1's rule: async-capable and not sync-capable
    (``async_only_middleware``); also a class whose ``__call__`` is a
    coroutine function. A middleware capable of both gets the sync
    ``get_response``, since its instance also serves Django's sync chain.
    One capable of neither is refused, as Django 3.1 refuses it.
    """
    can_sync = getattr(factory, "sync_capable", True)
    can_async = getattr(factory, "async_capable", False)
    if not can_sync and not can_async:
        raise RuntimeError(
            "Middleware %s must have at least one of sync_capable/async_capable set to True."
            % (path or getattr(factory, "__qualname__", factory))
        )
    if can_async and not can_sync:
        return True
    call = getattr(factory, "__call__", None) if isinstance(factory, type) else None
    return is_coroutine_function(call)


def note_adaptation(factory, native, below_is_async, path, debug):
    """Whether the middleware at ``path`` counts as async in Django 5.2's chain; logs an adaptation.

    Django 5.2's ``load_middleware``: a middleware is async if its factory
    wants an async ``get_response`` (``native``), or is async-capable and the
    handler below it (``below_is_async``) is async or it cannot be sync. Where
    that differs from the handler below, Django adapts the handler and, under
    DEBUG, logs "Asynchronous (or Synchronous) handler adapted for middleware
    X."; so does async_app, which runs the middleware that way.
    """
    if native:
        is_async = True
    elif not below_is_async and getattr(factory, "sync_capable", True):
        is_async = False
    else:
        is_async = bool(getattr(factory, "async_capable", False))
    if debug and is_async != below_is_async:
        _request_logger.debug(
            "%s handler adapted for middleware %s.",
            "Synchronous" if is_async else "Asynchronous",
            path,
        )
    return is_async


def has_coroutine_hooks(middleware):
    """Whether any of the middleware's ``process_*`` hooks is a coroutine function."""
    return any(is_coroutine_function(getattr(middleware, name, None)) for name in _HOOK_NAMES)


def middleware_mode(middleware, native, split=True):
    """How a middleware instance runs on the coroutine pipeline.

    ``native``: its factory wanted an async ``get_response``. A
    ``MiddlewareMixin`` with the mixin's own ``__call__`` is split into its
    hooks (:data:`HOOKS`, or :data:`ASYNC_HOOKS`); ``split=False`` treats it as
    :data:`OPAQUE` like any other sync ``__call__`` (the all-opaque mode of
    ``make django-suite``).
    """
    if native:
        return NATIVE
    splittable = (
        isinstance(middleware, MiddlewareMixin)
        and type(middleware).__call__ is MiddlewareMixin.__call__
    )
    if splittable and has_coroutine_hooks(middleware):
        return ASYNC_HOOKS
    if splittable and split:
        return HOOKS
    return OPAQUE


# The current request's _RequestState (set by the application per request).
request_state = contextvars.ContextVar("async_app_request_state", default=None)


class RequestState:
    """Per-request bookkeeping for cancellation (client disconnects)."""

    __slots__ = ("finish_delegated",)

    def __init__(self):
        # True once a sync call that outlived a cancellation will close its
        # response (and so fire request_finished) itself.
        self.finish_delegated = False


class Runner:
    """Runs the pipeline's sync code, opaque middleware, hooks and sync views.

    ``in_threads`` (``ASYNC_APP_MIDDLEWARE_IN_THREADS``) sends sync pipeline
    code and opaque middleware to the bridge pool instead of the loop.
    ``sender`` is the application class: ``request_finished``'s sender when
    a sync call outlives its cancelled request.
    """

    __slots__ = ("in_threads", "sender")

    def __init__(self, in_threads, sender):
        self.in_threads = in_threads
        self.sender = sender

    async def run_sync_code(self, func, *args):
        """Pipeline sync code (hooks, resolving, rendering): on the loop, or in the bridge pool."""
        if not self.in_threads:
            return call_here(func, *args)
        return await self._in_pool(bridge_executor(), func, args)

    def run_opaque(self, func, *args):
        """Sync code that calls opaque middleware: on a greenlet bridge, or in the bridge pool.

        Returns the coroutine to await (no coroutine of its own: one frame less a request).
        """
        if not self.in_threads:
            return run_in_greenlet(func, *args)
        return self._in_pool(bridge_executor(), func, args)

    async def run_in_view_pool(self, func, *args):
        """A sync view (or Django's sync ``_get_response``) in the view pool."""
        return await self._in_pool(view_executor(), func, args)

    async def call_hook(self, hook, *args):
        """A middleware hook: a coroutine one awaited, a sync one as pipeline sync code."""
        if is_coroutine_function(hook):
            result = await hook(*args)
        else:
            result = await self.run_sync_code(hook, *args)
        while inspect.isawaitable(result):
            result = await result
        return result

    async def convert_exception(self, request, exc):
        """:func:`async_app.exception.convert_exception` as sync code; cancellation passes."""
        if isinstance(exc, asyncio.CancelledError):
            raise exc
        return await self.run_sync_code(convert_exception, request, exc)

    async def _in_pool(self, executor, func, args):
        if is_inline():
            return await run_sync(func, *args)
        return await run_sync(
            db.call_closing_connections,
            func,
            *args,
            executor=executor,
            on_orphan=self._orphaned_by(request_state.get()),
        )

    def _orphaned_by(self, state):
        if state is None:
            return None
        loop = asyncio.get_event_loop()

        def finish_on_loop(future):
            try:
                loop.call_soon_threadsafe(call_here, self._finish_orphan, future)
            except RuntimeError:  # the loop is closed (worker exit): finish here
                self._finish_orphan(future)

        def on_orphan(future):
            state.finish_delegated = True
            future.add_done_callback(finish_on_loop)

        return on_orphan

    def _finish_orphan(self, future):
        """A sync call outlived its cancelled request: close what it produced, on the loop."""
        try:
            result = future.result()
        except BaseException:
            result = None
        if type(result) is tuple:  # (request, response): the pipeline's top
            result = result[-1]
        if isinstance(result, HttpResponseBase):
            result._handler_class = self.sender
            result.close()  # fires request_finished
        else:
            signals.request_finished.send(sender=self.sender)


class ViewAwaitedOnLoop:
    """A view for the sync chain; an awaitable result is awaited on the loop.

    Makes a wrongly judged view (a plain function returning a coroutine) and
    a coroutine view reached through ``request.urlconf`` work, at the cost of
    holding the thread while the coroutine runs on the loop.
    """

    __slots__ = ("view",)

    def __init__(self, view):
        self.view = view

    def __call__(self, request, *args, **kwargs):
        judged_async = is_async_view(self.view)
        if judged_async:
            load_lazy_request_state(request)
        response = self.view(request, *args, **kwargs)
        while inspect.isawaitable(response):
            if not judged_async:
                refuse_stray_coroutine(self.view, request, response)
            judged_async = False
            response = run_coroutine(_awaited(response))
        if is_coroutine_function(getattr(response, "render", None)):
            response.render = functools.partial(_render_awaited_on_loop, response, response.render)
        return response


async def _awaited(awaitable):
    return await awaitable


def _render_awaited_on_loop(response, async_render):
    """An ``async def render()`` called by Django's sync ``_get_response``: awaited on the loop."""
    del response.render  # the class's own again (responses get pickled by the cache middleware)
    return run_coroutine(_awaited(async_render()))


def load_lazy_request_state(request):
    """Load ``request.session`` and ``request.user`` now, as sync code.

    Both hit the database lazily, on first use; a coroutine view (or a
    ``login_required`` around one) using them on the event loop would trip
    the database guard. Loading is not using: the session's ``accessed`` flag
    (which makes SessionMiddleware add ``Vary: Cookie``) is set only when the
    view or a later hook really touches the session or the user, as before.
    """
    session = getattr(request, "session", None)
    accessed = getattr(session, "accessed", None)
    if accessed is None or getattr(session, "session_key", None) is None:
        return  # without a session key, neither loads anything from the database
    user = getattr(request, "user", None)
    if isinstance(user, LazyObject) and user._wrapped is empty:
        user._setup()
        request.user = SimpleLazyObject(functools.partial(_touch_session, session, user._wrapped))
    if hasattr(session, "_get_session"):
        session._get_session()
    session.accessed = accessed


def _touch_session(session, value):
    """Mark the session used, as evaluating ``request.user`` would, and return ``value``."""
    session.accessed = True
    return value
