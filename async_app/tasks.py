"""Background work that outlives the response: :func:`spawn`.

``loop.create_task(work())`` in a view is fire-and-forget with three holes:
asyncio keeps only a weak reference to the task (it can be garbage-collected
mid-flight), its exception surfaces as "Task exception was never retrieved"
at some later garbage collection, if ever, and a worker that exits (SIGTERM,
``max_requests`` recycling) destroys it half-done without a word.

:func:`spawn` closes them: tasks are held per event loop (one worker = one
loop) until they finish, an exception is logged with its traceback on the
``async_app.tasks`` logger as soon as the task fails, and the worker's graceful
shutdown awaits :func:`wait_spawned` with ``graceful_timeout``. Tasks still
running at that deadline are cancelled and each is logged as lost, so nothing
spawned disappears silently.
"""

import asyncio
import inspect
import logging

from .sync import in_sync_code

__all__ = ["spawn", "wait_spawned"]

logger = logging.getLogger("async_app.tasks")

# How long cancelled tasks get, after the deadline of wait_spawned(), to run
# their cleanup (``finally`` blocks) before the worker goes on exiting.
CANCEL_GRACE = 0.5

# event loop -> {task: description}; an entry lives while it has tasks.
_spawned = {}


def _describe(coro):
    return getattr(coro, "__qualname__", None) or repr(coro)


async def _await(awaitable):
    return await awaitable


def spawn(coro):
    """Run ``coro`` in the background on the running loop; return its task.

    For coroutine code (views, other spawned tasks). The task is tracked
    until done, its exception logged with a traceback, and the worker waits
    for it on graceful shutdown. Accepts native coroutines, generator-based
    ``@asyncio.coroutine`` ones and other awaitables. The task inherits the
    caller's context (active language, urlconf, ...). Like any coroutine
    code it must reach the ORM through :func:`async_app.database_sync_to_async`.
    """
    loop = asyncio._get_running_loop()
    if loop is None or in_sync_code():
        raise RuntimeError(
            "async_app.spawn() must be called from coroutine code running on "
            "the event loop (a coroutine view or another spawned task), not "
            "from sync code"
        )
    if not inspect.isawaitable(coro) and not asyncio.iscoroutine(coro):
        raise TypeError("spawn() needs a coroutine or an awaitable, got %r" % (coro,))
    description = _describe(coro)
    if not inspect.iscoroutine(coro):
        # create_task() refuses generator-based coroutines on Python 3.12+.
        coro = _await(coro)
    task = loop.create_task(coro)
    _spawned.setdefault(loop, {})[task] = description
    task.add_done_callback(_forget)
    return task


def _forget(task):
    loop = task.get_loop() if hasattr(task, "get_loop") else task._loop
    tasks = _spawned.get(loop, {})
    description = tasks.pop(task, None)
    if not tasks:
        _spawned.pop(loop, None)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        logger.error(
            "Spawned task %s failed", description, exc_info=(type(exc), exc, exc.__traceback__)
        )


async def wait_spawned(timeout=None):
    """Wait until every task spawned on this loop is done; True if all finished.

    Tasks spawned while waiting are waited for too. At the deadline
    (``timeout`` seconds; None waits forever) the remaining tasks are logged
    as lost and cancelled, get up to ``CANCEL_GRACE`` seconds to run their
    cleanup, and False is returned. The worker calls this on graceful
    shutdown with ``graceful_timeout``; tests call it to wait for background
    work. A spawned task calling it does not wait for itself.
    """
    loop = asyncio.get_event_loop()
    deadline = None if timeout is None else loop.time() + timeout
    current = asyncio.current_task()
    while True:
        pending = [task for task in _spawned.get(loop, ()) if task is not current]
        if not pending:
            return True
        remaining = None if deadline is None else deadline - loop.time()
        if remaining is not None and remaining <= 0:
            break
        await asyncio.wait(pending, timeout=remaining)
    for task in pending:
        logger.error(
            "Spawned task %s still running after %ss; cancelling it (its work is lost): %r",
            _spawned.get(loop, {}).get(task, "?"),
            timeout,
            task,
        )
        task.cancel()
    await asyncio.wait(pending, timeout=CANCEL_GRACE)
    return False
