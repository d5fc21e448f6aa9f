"""The shutdown signal: streams end within seconds when a worker stops.

A streaming response (server-sent events, a long poll, later websockets) can
stay open for hours; a worker that waited for it would hold every deploy for
``graceful_timeout``. When the worker begins a graceful stop (SIGTERM, SIGHUP
from the arbiter's reload, ``max_requests`` recycling), it calls
:func:`begin`. Coroutine code checks :func:`shutting_down` or awaits
:func:`wait_for_shutdown` to finish its stream cleanly (montage's
``/events/`` sends a ``retry:`` hint so browsers reconnect to another
worker). An async iterator that does not react is closed by the worker
after ``ASYNC_APP_STREAM_GRACE`` seconds (default 1.0): :func:`until_shutdown`
wraps what the worker streams, ends the iteration there and the response
then ends normally (a complete chunked body), after which the iterator's
``aclose()`` runs its ``finally`` blocks.
"""

import asyncio
import os
import threading

__all__ = ["begin", "grace_period", "shutting_down", "until_shutdown", "wait_for_shutdown"]

DEFAULT_GRACE = 1.0

_lock = threading.Lock()
_state = {"begun": False, "deadline": None}
_waiters = []  # (loop, future) of wait_for_shutdown() calls
_streams = set()  # _Stream objects being iterated by until_shutdown()


def grace_period():
    """Seconds a stream gets to end by itself after :func:`begin` (``$ASYNC_APP_STREAM_GRACE``)."""
    value = os.environ.get("ASYNC_APP_STREAM_GRACE", "").strip()
    return float(value) if value else DEFAULT_GRACE


def shutting_down():
    """True once this process began a graceful shutdown."""
    return _state["begun"]


async def wait_for_shutdown():
    """Return when this process begins a graceful shutdown (at once if it has)."""
    if _state["begun"]:
        return
    loop = asyncio.get_event_loop()
    future = loop.create_future()
    entry = (loop, future)
    with _lock:
        if _state["begun"]:
            return
        _waiters.append(entry)
    try:
        await future
    finally:
        with _lock:
            if entry in _waiters:
                _waiters.remove(entry)


def _wake(future):
    if not future.done():
        future.set_result(None)


def begin(grace=None):
    """Announce a graceful shutdown (the worker calls this; idempotent).

    Wakes every :func:`wait_for_shutdown`, and makes the streams iterated
    through :func:`until_shutdown` stop ``grace`` seconds from now (default
    :func:`grace_period`). Must be called on the event loop's thread.
    """
    with _lock:
        if _state["begun"]:
            return
        _state["begun"] = True
        waiters = list(_waiters)
        del _waiters[:]
    for loop, future in waiters:
        try:
            loop.call_soon_threadsafe(_wake, future)
        except RuntimeError:  # that loop is closed
            pass
    grace = grace_period() if grace is None else grace
    loop = asyncio.get_event_loop()
    _state["deadline"] = loop.time() + grace
    loop.call_later(grace, _stop_streams)


def _stop_streams():
    for stream in list(_streams):
        stream.stop()


def reset():
    """Forget a shutdown (for tests that begin one in a process that goes on)."""
    with _lock:
        _state["begun"] = False
        _state["deadline"] = None
        del _waiters[:]


class _Stream:
    """Iteration state of one streamed async iterator."""

    def __init__(self, iterator):
        self.iterator = iterator
        self.task = None  # set while awaiting the iterator's next item
        self.stopped = False

    def stop(self):
        self.stopped = True
        if self.task is not None:
            self.task.cancel()


async def until_shutdown(iterable):
    """Iterate ``iterable`` (async) until it ends or the shutdown grace period is over.

    At the end of the grace period a pending ``__anext__()`` is cancelled (the
    cancellation goes into the iterator, whose ``finally`` blocks run) and the
    iteration ends as if the iterator had. The worker streams bodies through
    this; the caller still ``aclose()``s the original iterable.
    """
    stream = _Stream(iterable.__aiter__())
    _streams.add(stream)
    task = (
        asyncio.current_task() if hasattr(asyncio, "current_task") else asyncio.Task.current_task()
    )
    try:
        while True:
            if stream.stopped or _past_deadline():
                return
            stream.task = task
            try:
                item = await stream.iterator.__anext__()
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                if not stream.stopped:
                    raise
                uncancel = getattr(task, "uncancel", None)
                if uncancel is not None:
                    uncancel()
                return
            finally:
                stream.task = None
            if stream.stopped:
                # The iterator took the cancellation and gave a last item.
                uncancel = getattr(task, "uncancel", None)
                if uncancel is not None and task.cancelling():
                    uncancel()
            yield item
    finally:
        _streams.discard(stream)


def _past_deadline():
    deadline = _state["deadline"]
    if deadline is None:
        return False
    try:
        return asyncio.get_event_loop().time() >= deadline
    except RuntimeError:
        return False
