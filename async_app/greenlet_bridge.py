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

import greenlet

from .sync import call_here, enter_coroutine_code, leave_coroutine_code

__all__ = ["await_from_sync", "on_greenlet_bridge", "run_in_greenlet"]

_getcurrent = greenlet.getcurrent


class _BridgeGreenlet(greenlet.greenlet):
    """A child greenlet running sync code for the coroutine in ``driver``."""

    def __init__(self, run, driver):
        super().__init__(run, driver)
        self.driver = driver
        self.gr_context = driver.gr_context


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
        return current.driver.switch(awaitable)
    finally:
        leave_coroutine_code(token)


async def run_in_greenlet(func, *args):
    """Await sync ``func(*args)`` run on this thread, its awaits served by this coroutine.

    If this coroutine is cancelled while ``func`` waits, the ``CancelledError``
    is thrown into ``func`` at its :func:`await_from_sync`; whatever ``func``
    then does, this coroutine ends with ``CancelledError``.
    """
    child = _BridgeGreenlet(call_here, _getcurrent())
    result = child.switch(func, *args)
    cancelled = None
    while not child.dead:
        try:
            value = await result
        except asyncio.CancelledError as exc:
            cancelled = exc
            result = child.throw(exc)
        except BaseException as exc:
            result = child.throw(exc)
        else:
            result = child.switch(value)
    if cancelled is not None:
        raise cancelled
    return result
