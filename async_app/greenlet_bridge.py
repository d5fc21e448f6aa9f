"""Sync code that waits for coroutines without a thread: the greenlet bridge.

A middleware whose ``__call__`` cannot be split into hooks (a function
middleware, a class with its own ``__call__``) calls ``get_response(request)``
synchronously, in the middle of its own code, and the chain below it is a
coroutine. :func:`run_in_greenlet` runs such sync code in a child greenlet on
the loop's own thread; when it calls :func:`await_from_sync`, the child
*switches* back to the coroutine that started it, which awaits the awaitable
on the loop and switches into the child again with the result (or throws
the exception, ``CancelledError`` included, into it). This is SQLAlchemy's
``greenlet_spawn``/``await_only``.

The child shares the parent's :mod:`contextvars` context (``gr_context``), so
context-locals (urlconf, language, ...) read and written on either side are
the same, exactly as for a direct call. While the child runs it is marked as
sync code (the database guard lets it use the ORM, as hooks on the loop
may); while it waits for the awaitable, it is not.
"""

import asyncio
import threading
import types

import greenlet

from .sync import call_here, enter_coroutine_code, leave_coroutine_code

__all__ = ["await_from_sync", "on_greenlet_bridge", "run_in_greenlet"]

_getcurrent = greenlet.getcurrent
_COROUTINE = types.CoroutineType

# What a bridge greenlet hands its driver: an awaitable to await, or the end.
_AWAIT, _RETURNED, _RAISED = "await", "returned", "raised"

# Idle bridge greenlets of each thread: creating one costs ~20 switches.
_idle = threading.local()
_IDLE_MAX = 64


class _BridgeGreenlet(greenlet.greenlet):
    """A greenlet that runs sync code for the coroutine in ``driver``, job after job."""

    def __init__(self):
        super().__init__(self._serve)
        self.driver = None

    def _serve(self, func, args):
        while True:
            try:
                outcome = (_RETURNED, call_here(func, *args))
            except greenlet.GreenletExit:
                raise
            except BaseException as exc:
                outcome = (_RAISED, exc)
            func, args = self.driver.switch(outcome)


def _bridge_for(driver):
    pool = getattr(_idle, "greenlets", None)
    if pool is None:
        pool = _idle.greenlets = []
    child = pool.pop() if pool else _BridgeGreenlet()
    child.driver = child.parent = driver
    child.gr_context = driver.gr_context
    return child, pool


def _driven_by_current(child):
    # This coroutine may be resumed on another greenlet than the one that
    # started it (an outer bridge stepping it): the child reports to that one.
    current = _getcurrent()
    if child.driver is not current:
        child.driver = child.parent = current
    return child


def on_greenlet_bridge():
    """True in sync code started by :func:`run_in_greenlet` (it may :func:`await_from_sync`)."""
    return isinstance(_getcurrent(), _BridgeGreenlet)


def await_from_sync(awaitable):
    """From sync code in :func:`run_in_greenlet`: await ``awaitable`` on the loop, return its result.

    The calling sync code is suspended meanwhile; the loop goes on serving.
    Raises what awaiting raises (``CancelledError`` when the request's task
    is cancelled).
    """
    current = _getcurrent()
    if not isinstance(current, _BridgeGreenlet):
        raise RuntimeError("await_from_sync() called outside run_in_greenlet()")
    token = enter_coroutine_code()
    try:
        if type(awaitable) is _COROUTINE:
            # Step it here first: a chain that finishes without waiting (a
            # quick view) costs no switch; one that waits is handed over.
            try:
                yielded = awaitable.send(None)
            except StopIteration as stop:
                return stop.value
            awaitable = _resumed(awaitable, yielded)
        return current.driver.switch((_AWAIT, awaitable))
    finally:
        leave_coroutine_code(token)


@types.coroutine
def _resumed(coro, yielded):
    """Await the rest of ``coro``, which has just yielded ``yielded`` (what ``await coro`` would do)."""
    while True:
        try:
            sent = yield yielded
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:
            try:
                yielded = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                yielded = coro.send(sent)
            except StopIteration as stop:
                return stop.value


async def run_in_greenlet(func, *args):
    """Await sync ``func(*args)`` run on this thread, its awaits served by this coroutine.

    If this coroutine is cancelled while ``func`` waits, the ``CancelledError``
    is thrown into ``func`` at its :func:`await_from_sync`; whatever ``func``
    then does, this coroutine ends with ``CancelledError``.
    """
    child, pool = _bridge_for(_getcurrent())
    kind, value = child.switch(func, args)
    cancelled = None
    while kind is _AWAIT:
        try:
            result = await value
        except asyncio.CancelledError as exc:
            cancelled = exc
            kind, value = _driven_by_current(child).throw(exc)
        except BaseException as exc:
            kind, value = _driven_by_current(child).throw(exc)
        else:
            kind, value = _driven_by_current(child).switch(result)
    child.gr_context = None  # idle: keep no request's context alive
    if len(pool) < _IDLE_MAX:
        pool.append(child)
    if cancelled is not None:
        raise cancelled
    if kind is _RAISED:
        raise value
    return value
