"""Crossing between the event loop and threads.

Sync code (views, middleware hooks, ORM calls) must never block the event
loop, and coroutines must be reachable from sync code (a middleware whose
``__call__`` wraps a coroutine view). This module owns the two thread pools
and the two crossings:

* :func:`run_sync` awaits a sync callable run in a pool thread.
* :func:`run_coroutine` runs a coroutine from sync code and returns its result.
  Called from a pool thread that :func:`run_sync` started, it waits for the
  coroutine on the originating loop; if the awaiting task is cancelled
  meanwhile (a client disconnect), that coroutine is cancelled too. Called
  from sync code on a greenlet bridge (:mod:`async_app.greenlet_bridge`), it
  suspends the greenlet instead of blocking.

Both carry the caller's :mod:`contextvars` across the hop *and back*, so
request state kept in context-locals (:mod:`async_app.locals`: urlconf,
script prefix, language, time zone) follows the request wherever it runs.

The pools:

* the **view pool** (``threads`` workers, Gunicorn's setting) runs sync views
  and sync WSGI applications, as the gthread worker would;
* the **bridge pool** runs the ``__call__`` of a middleware that wraps a
  coroutine view (and, with ``ASYNC_APP_MIDDLEWARE_IN_THREADS``, the sync
  middleware hooks around coroutine views). It is separate so that these
  never queue behind slow sync views, and large, because such a ``__call__``
  holds its thread for as long as the coroutine view below it runs.

Under the test client the pipeline runs in *inline mode*
(:func:`inline_mode`): sync code runs on the calling thread, so a
``TestCase`` transaction stays visible to views.
"""

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = [
    "async_to_sync",
    "bridge_executor",
    "call_here",
    "configure",
    "enter_coroutine_code",
    "in_sync_code",
    "inline_mode",
    "leave_coroutine_code",
    "run_coroutine",
    "run_sync",
    "shutdown_executors",
    "submit",
    "sync_to_async",
    "view_executor",
]

DEFAULT_THREADS = 10
DEFAULT_BRIDGE_THREADS = 1000

_lock = threading.Lock()
_sizes = {"view": None, "bridge": None}
_executors = {}

# True while sync code started through this module runs (in a pool thread or
# inline); the database guard (async_app.db) lets such code use the ORM.
_sync_code = contextvars.ContextVar("async_app_sync_code", default=False)
# True while the pipeline runs in inline mode (the test client).
_inline = contextvars.ContextVar("async_app_inline", default=False)
# The event loop a pool thread was started from: run_coroutine() sends
# coroutines back to it.
_origin_loop = contextvars.ContextVar("async_app_origin_loop", default=None)
# The _CancelScope of the run_sync() call a pool thread serves.
_cancel_scope = contextvars.ContextVar("async_app_cancel_scope", default=None)

_MISSING = object()


def configure(threads=None, bridge_threads=None):
    """Size the pools; the worker calls this once per process before serving.

    ``threads`` defaults to ``$ASYNC_APP_THREADS`` or 10; ``bridge_threads``
    to ``$ASYNC_APP_BRIDGE_THREADS`` or 1000 (threads start on demand).
    Pools already created keep their size.
    """
    with _lock:
        if threads:
            _sizes["view"] = int(threads)
        if bridge_threads:
            _sizes["bridge"] = int(bridge_threads)


def _executor(kind, env_var, default):
    executor = _executors.get(kind)
    if executor is None:
        with _lock:
            executor = _executors.get(kind)
            if executor is None:
                size = _sizes[kind] or int(os.environ.get(env_var, default))
                executor = ThreadPoolExecutor(
                    max_workers=size, thread_name_prefix="async_app-%s" % kind
                )
                _executors[kind] = executor
    return executor


def view_executor():
    """The bounded pool for sync views, sync WSGI apps and ORM calls."""
    return _executor("view", "ASYNC_APP_THREADS", DEFAULT_THREADS)


def bridge_executor():
    """The pool for sync middleware around coroutine views."""
    return _executor("bridge", "ASYNC_APP_BRIDGE_THREADS", DEFAULT_BRIDGE_THREADS)


def shutdown_executors(wait=True):
    """Shut both pools down (worker exit); they are recreated on next use."""
    with _lock:
        executors = list(_executors.values())
        _executors.clear()
    for executor in executors:
        executor.shutdown(wait=wait)


def in_sync_code():
    """True while running sync code started by :func:`run_sync`."""
    return _sync_code.get()


@contextlib.contextmanager
def inline_mode():
    """Run sync code on the calling thread instead of the pools (test client)."""
    token = _inline.set(True)
    try:
        yield
    finally:
        _inline.reset(token)


def is_inline():
    """True inside :func:`inline_mode`."""
    return _inline.get()


def enter_coroutine_code():
    """Mark what runs from here as coroutine code, not sync code; returns a token.

    For sync code that hands control to coroutines on its own thread (the
    greenlet bridge): the database guard must see them as coroutines.
    """
    return _sync_code.set(False)


def leave_coroutine_code(token):
    """Undo :func:`enter_coroutine_code`."""
    _sync_code.reset(token)


class _CancelScope:
    """The futures a pool thread waits on for one :func:`run_sync` call."""

    __slots__ = ("futures", "cancelled")

    def __init__(self):
        self.futures = set()
        self.cancelled = False

    def cancel(self):
        self.cancelled = True
        for future in list(self.futures):
            future.cancel()


def _adopt(context):
    """Copy every variable of ``context`` into the current context."""
    for var, value in context.items():
        if var.get(_MISSING) is not value:
            var.set(value)


def _call_in_pool_thread(scope, loop, func, args, kwargs):
    token = _cancel_scope.set(scope)
    try:
        return _call_marked_sync(loop, func, args, kwargs)
    finally:
        _cancel_scope.reset(token)


def _call_marked_sync(loop, func, args, kwargs):
    sync_token = _sync_code.set(True)
    loop_token = _origin_loop.set(loop)
    try:
        return func(*args, **kwargs)
    finally:
        _origin_loop.reset(loop_token)
        _sync_code.reset(sync_token)


def call_here(func, *args, **kwargs):
    """Call sync ``func`` right here, on the loop's thread, marked as sync code.

    For short sync code the pipeline runs on the loop rather than pay for a
    thread hop; the database guard lets it use the ORM, like any sync code.
    """
    # No origin loop is set: run_coroutine() from the loop's own thread runs
    # the coroutine on a private loop whatever it says, and looking the loop
    # up costs a getpid() system call on Python 3.7-3.11.
    token = _sync_code.set(True)
    try:
        return func(*args, **kwargs)
    finally:
        _sync_code.reset(token)


async def run_sync(func, *args, executor=None, on_orphan=None, **kwargs):
    """Await ``func(*args, **kwargs)`` run in a pool thread (default: view pool).

    Context variables go to the thread and their changes come back. In
    inline mode the call runs right here instead, blocking the loop (which
    then only serves the test client's request).

    If the awaiting task is cancelled while ``func`` is already running (a
    thread cannot be interrupted), ``on_orphan(future)`` is called at once
    with its ``concurrent.futures.Future``, so that whatever ``func`` still
    produces can be cleaned up (``future.add_done_callback``); coroutines
    that ``func`` waits for through :func:`run_coroutine` are cancelled.
    """
    loop = asyncio.get_event_loop()
    if _inline.get():
        return _call_marked_sync(loop, func, args, kwargs)
    scope = _CancelScope()
    context, future = _start_in_pool(executor, scope, loop, func, args, kwargs)
    try:
        return await asyncio.wrap_future(future)
    except asyncio.CancelledError:
        if not future.cancel():
            scope.cancel()  # coroutines the thread waits for (run_coroutine)
            if on_orphan is not None:
                on_orphan(future)
        raise
    finally:
        _adopt(context)


def submit(func, *args, executor=None, **kwargs):
    """Start ``func(*args, **kwargs)`` in a pool thread; an asyncio future of its result.

    :func:`run_sync` without a task of its own, for the server's request
    cycle (one loop step less per hand-off): the thread runs in a copy of the
    caller's context, whose changes stay there, and can reach the loop with
    :func:`run_coroutine`. Cancelling the future cancels the call if it has
    not started.
    """
    loop = asyncio.get_event_loop()
    if _inline.get():
        future = loop.create_future()
        try:
            future.set_result(_call_marked_sync(loop, func, args, kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future
    _, future = _start_in_pool(executor, _CancelScope(), loop, func, args, kwargs)
    return asyncio.wrap_future(future, loop=loop)


def _start_in_pool(executor, scope, loop, func, args, kwargs):
    """Submit the call to ``executor`` (default: view pool), in a copy of this context.

    Returns the copy and the ``concurrent.futures.Future``.
    """
    context = contextvars.copy_context()
    future = (executor or view_executor()).submit(
        context.run, _call_in_pool_thread, scope, loop, func, args, kwargs
    )
    return context, future


async def _capture_context(coro, box):
    # The coroutine runs on a loop, so it is not sync code even though its
    # context is copied from sync code: the database guard and spawn() must
    # treat it as coroutine code.
    token = _sync_code.set(False)
    try:
        return await coro
    finally:
        _sync_code.reset(token)
        box.append(contextvars.copy_context())


def run_coroutine(coro):
    """Run ``coro`` from sync code and return its result (or raise).

    From a pool thread started by :func:`run_sync`, the coroutine runs on the
    originating event loop while this thread waits. Anywhere else, including
    inline mode where the loop's own thread is the caller, it runs to
    completion on a private event loop in this thread (nesting if a loop is
    already running here). Context changes made by the coroutine come back.
    """
    from .greenlet_bridge import await_from_sync, on_greenlet_bridge

    if on_greenlet_bridge():
        return await_from_sync(coro)
    box = []
    loop = _origin_loop.get()
    if loop is not None and loop.is_running() and not _runs_in_this_thread(loop):
        return _wait_on_loop(loop, coro, box)
    return run_until_complete(_capture_context(coro, box), box)


def _wait_on_loop(loop, coro, box):
    """Run ``coro`` on ``loop`` (another thread's) and wait; a cancelled request cancels it."""
    future = asyncio.run_coroutine_threadsafe(_capture_context(coro, box), loop)
    scope = _cancel_scope.get()
    if scope is not None:
        scope.futures.add(future)
        if scope.cancelled:
            future.cancel()
    try:
        return future.result()
    except concurrent.futures.CancelledError:
        raise asyncio.CancelledError() from None
    finally:
        if scope is not None:
            scope.futures.discard(future)
        if box:
            _adopt(box[0])


def _runs_in_this_thread(loop):
    return asyncio._get_running_loop() is loop


def run_until_complete(coro, box=None):
    """Run ``coro`` on a new event loop in this thread, even inside a running one.

    The loop already running here (if any) is blocked in the sync code that
    called us, so it is safe to step aside and restore it afterwards.
    """
    outer = asyncio._get_running_loop()
    loop = asyncio.new_event_loop()
    if outer is not None:
        asyncio.events._set_running_loop(None)
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
            if outer is not None:
                asyncio.events._set_running_loop(outer)
            if box:
                _adopt(box[0])


def sync_to_async(func=None, *, executor=None):
    """Wrap a blocking callable so coroutines can await it, run in the view pool.

    Usable as ``sync_to_async(func)`` or ``@sync_to_async``. Context variables
    cross the hop in both directions; inline mode runs it on the caller's
    thread.
    """
    if func is None:
        return functools.partial(sync_to_async, executor=executor)

    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        return await run_sync(func, *args, executor=executor, **kwargs)

    return wrapper


def async_to_sync(func):
    """Wrap a coroutine function so sync code can call it (see :func:`run_coroutine`)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return run_coroutine(func(*args, **kwargs))

    return wrapper
