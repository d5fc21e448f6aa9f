"""The thread bridge (async_app.sync): a cancelled request cancels what its thread waits for."""

import asyncio
import threading

import pytest

from async_app.sync import async_to_sync, bridge_executor, run_coroutine, run_sync, view_executor


def wait_with_run_coroutine(coro_function, events):
    try:
        return run_coroutine(coro_function(events))
    except asyncio.CancelledError:
        events.append("thread saw CancelledError")
        raise


def wait_with_async_to_sync(coro_function, events):
    try:
        return async_to_sync(coro_function)(events)
    except asyncio.CancelledError:
        events.append("thread saw CancelledError")
        raise


async def slow(events):
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        events.append("coroutine cancelled")
        raise
    return "not cancelled"


@pytest.mark.parametrize("pool", ["view", "bridge"])
@pytest.mark.parametrize("waits_with", [wait_with_run_coroutine, wait_with_async_to_sync])
def test_cancelling_the_awaiting_task_cancels_the_coroutine_the_thread_waits_for(pool, waits_with):
    events = []
    executor = view_executor() if pool == "view" else bridge_executor()
    orphaned = threading.Event()

    async def main():
        task = asyncio.ensure_future(
            run_sync(
                waits_with, slow, events, executor=executor, on_orphan=lambda future: orphaned.set()
            )
        )
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(100):
            if len(events) == 2:
                break
            await asyncio.sleep(0.01)

    asyncio.run(main())
    # (in either order: the thread wakes as the coroutine's task is told to stop)
    assert sorted(events) == ["coroutine cancelled", "thread saw CancelledError"]
    assert orphaned.is_set()


def test_a_coroutine_the_thread_starts_after_the_cancellation_is_cancelled_at_once():
    events = []
    release = threading.Event()

    def late_waiter():
        release.wait(5)
        return wait_with_run_coroutine(slow, events)

    async def main():
        task = asyncio.ensure_future(run_sync(late_waiter))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        for _ in range(100):
            if "thread saw CancelledError" in events:
                break
            await asyncio.sleep(0.01)

    asyncio.run(main())
    assert "thread saw CancelledError" in events


def test_an_uncancelled_coroutine_returns_to_the_thread():
    async def answer():
        await asyncio.sleep(0)
        return threading.get_ident()

    async def main():
        loop_thread = threading.get_ident()
        thread, result = await run_sync(lambda: (threading.get_ident(), run_coroutine(answer())))
        return loop_thread, thread, result

    loop_thread, thread, result = asyncio.run(main())
    assert thread != loop_thread and result == loop_thread
