"""The greenlet bridge: sync code that awaits on the loop's own thread, table-driven."""

import asyncio
import contextvars
import threading

import pytest

from async_app.db import SynchronousOnlyOperation, install_guard
from async_app.greenlet_bridge import await_from_sync, on_greenlet_bridge, run_in_greenlet
from async_app.sync import in_sync_code, run_coroutine

var = contextvars.ContextVar("test_greenlet_bridge_var", default="unset")


async def value(result, delay=0.0):
    await asyncio.sleep(delay)
    return result


async def failing():
    await asyncio.sleep(0)
    raise KeyError("inner")


def returns_plain():
    return "plain"


def awaits_twice():
    return await_from_sync(value(1)) + await_from_sync(value(2, 0.01))


def catches_inner_error():
    try:
        await_from_sync(failing())
    except KeyError as exc:
        return "caught %s" % exc
    return "not raised"


def raises_itself():
    raise ValueError("sync")


def context_both_ways():
    var.set("set by sync code")

    async def inner():
        seen = var.get()
        var.set("set by the coroutine")
        return seen

    seen_inner = await_from_sync(inner())
    return seen_inner, var.get()


def marks():
    async def inner():
        return in_sync_code()

    return in_sync_code(), await_from_sync(inner()), in_sync_code()


def same_thread():
    async def inner():
        return threading.get_ident()

    return threading.get_ident() == await_from_sync(inner())


def nested():
    async def inner():
        return await run_in_greenlet(lambda: "nested " + await_from_sync(value("deep")))

    return await_from_sync(inner())


def via_run_coroutine():
    return on_greenlet_bridge(), run_coroutine(value("through run_coroutine"))


CASES = {
    "no await": (returns_plain, "plain"),
    "two awaits": (awaits_twice, 3),
    "an awaited exception reaches the sync code": (catches_inner_error, "caught 'inner'"),
    "context variables are shared both ways": (
        context_both_ways,
        ("set by sync code", "set by the coroutine"),
    ),
    "sync code is marked sync, the awaited coroutine is not": (marks, (True, False, True)),
    "one thread": (same_thread, True),
    "nested bridges": (nested, "nested deep"),
    "run_coroutine suspends instead of blocking": (
        via_run_coroutine,
        (True, "through run_coroutine"),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_run_in_greenlet(name):
    func, expected = CASES[name]

    async def main():
        result = await run_in_greenlet(func)
        return result, var.get()

    result, after = asyncio.run(main())
    assert result == expected
    if func is context_both_ways:
        assert after == "set by the coroutine"  # the caller sees the changes too


def test_an_exception_of_the_sync_code_propagates():
    with pytest.raises(ValueError, match="sync"):
        asyncio.run(run_in_greenlet(raises_itself))


def test_await_from_sync_outside_a_bridge_is_refused():
    coro = value(1)
    with pytest.raises(RuntimeError):
        await_from_sync(coro)
    coro.close()


def test_the_loop_serves_others_while_sync_code_waits():
    ticks = []

    async def ticker():
        for _ in range(5):
            ticks.append(len(ticks))
            await asyncio.sleep(0.01)

    async def main():
        other = asyncio.ensure_future(ticker())
        result = await run_in_greenlet(lambda: await_from_sync(value("slow", 0.1)))
        await other
        return result

    assert asyncio.run(main()) == "slow"
    assert ticks == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("swallow", [False, True])
def test_cancellation_reaches_the_awaited_coroutine_and_ends_the_bridge_cancelled(swallow):
    events = []

    async def slow():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            events.append("inner cancelled")
            raise

    def sync_code():
        try:
            await_from_sync(slow())
        except asyncio.CancelledError:
            events.append("sync code saw it")
            if not swallow:
                raise
        return "went on"

    async def main():
        task = asyncio.ensure_future(run_in_greenlet(sync_code))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert events == ["inner cancelled", "sync code saw it"]


def test_sync_code_may_use_the_orm_and_the_awaited_coroutine_may_not(django_db):
    from django.contrib.auth.models import Group

    install_guard()

    async def orm_in_coroutine():
        return Group.objects.count()

    def sync_code():
        count = Group.objects.count()
        try:
            await_from_sync(orm_in_coroutine())
        except SynchronousOnlyOperation:
            return count, "refused"
        return count, "allowed"

    assert asyncio.run(run_in_greenlet(sync_code))[1] == "refused"
