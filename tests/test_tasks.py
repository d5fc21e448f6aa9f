"""spawn() and wait_spawned(): fire-and-forget work that is tracked, logged and waited for."""

import asyncio
import contextvars
import gc
import logging
import os
import re
import signal
import threading
import time
import weakref

import pytest

import async_app
from async_app.sync import inline_mode, run_sync
from async_app.tasks import spawn, wait_spawned
from tests.gunicorn_fixture import pid_alive
from tests.toolkit_fixtures import gunicorn_server, server_db, toolkit_server  # noqa: F401
from tests.toolkit_fixtures import http_get, run_on_fresh_loop

pytest_plugins = ["async_app.testing.pytest_plugin"]

LOG = "async_app.tasks"


async def test_spawned_task_runs_after_the_caller_returns_and_is_waited_for():
    done = []

    async def work():
        await asyncio.sleep(0.05)
        done.append("work")

    task = spawn(work())
    assert not task.done() and done == []
    assert await wait_spawned(5) is True
    assert done == ["work"] and task.done()


async def test_spawned_task_is_held_even_if_nothing_else_references_it():
    future_ref = []
    results = []

    async def waits_on_an_unreferenced_future():
        future = asyncio.get_event_loop().create_future()
        future_ref.append(weakref.ref(future))
        results.append(await future)

    # Plain create_task() leaves the loop only a weak reference to such a
    # task: garbage collection destroys it mid-flight. spawn() holds it.
    spawn(waits_on_an_unreferenced_future())
    await asyncio.sleep(0)
    gc.collect()
    future = future_ref[0]()
    assert future is not None
    future.set_result(42)
    assert await wait_spawned(5)
    assert results == [42]


async def test_exception_is_logged_with_traceback_at_once(caplog):
    async def fails():
        raise ValueError("lost order 7")

    task = spawn(fails())
    await asyncio.sleep(0.01)
    assert task.done()
    [record] = [r for r in caplog.records if r.name == LOG]
    assert record.levelno == logging.ERROR
    assert "fails" in record.getMessage()
    assert record.exc_info[0] is ValueError
    assert "lost order 7" in caplog.text and "Traceback" in caplog.text
    del task
    gc.collect()  # retrieved: asyncio has nothing left to complain about
    assert "never retrieved" not in caplog.text


async def test_wait_includes_tasks_spawned_while_waiting():
    done = []

    async def child():
        await asyncio.sleep(0.05)
        done.append("child")

    async def parent():
        await asyncio.sleep(0.05)
        spawn(child())
        done.append("parent")

    spawn(parent())
    assert await wait_spawned(5)
    assert done == ["parent", "child"]


async def test_tasks_still_running_at_the_deadline_are_cancelled_and_logged_as_lost(caplog):
    cleaned_up = []

    async def slow_upload():
        try:
            await asyncio.sleep(10)
        finally:
            cleaned_up.append(True)

    async def quick():
        await asyncio.sleep(0.01)

    slow = spawn(slow_upload())
    fast = spawn(quick())
    started = asyncio.get_event_loop().time()
    assert await wait_spawned(0.2) is False
    assert 0.2 <= asyncio.get_event_loop().time() - started < 1.5
    assert fast.done() and not fast.cancelled()
    assert slow.cancelled() and cleaned_up == [True]
    lost = [r.getMessage() for r in caplog.records if r.name == LOG]
    assert len(lost) == 1 and "slow_upload" in lost[0] and "lost" in lost[0]
    assert await wait_spawned(0) is True  # nothing tracked any more


async def test_a_spawned_task_waiting_does_not_wait_for_itself():
    async def waits():
        return await wait_spawned(1)

    task = spawn(waits())
    assert await wait_spawned(5)
    assert task.result() is True


async def test_spawn_accepts_generator_based_coroutines():
    done = []

    @async_app.coroutine
    def legacy():
        yield from asyncio.sleep(0.01)
        done.append("legacy")

    spawn(legacy())
    assert await wait_spawned(5)
    assert done == ["legacy"]


async def test_spawned_task_inherits_the_context():
    var = contextvars.ContextVar("var")
    var.set("request 1")
    seen = []

    async def work():
        seen.append(var.get())

    spawn(work())
    assert await wait_spawned(5)
    assert seen == ["request 1"]


def test_spawn_refuses_sync_code_and_no_loop():
    async def work():
        pass

    def spawn_from_sync_code():
        coro = work()
        try:
            spawn(coro)
        finally:
            coro.close()

    with pytest.raises(RuntimeError, match="coroutine code"):
        spawn_from_sync_code()

    async def from_thread_pool():
        await run_sync(spawn_from_sync_code)

    async def from_sync_code_in_inline_mode():
        with inline_mode():
            await run_sync(spawn_from_sync_code)

    for case in (from_thread_pool, from_sync_code_in_inline_mode):
        with pytest.raises(RuntimeError, match="coroutine code"):
            run_on_fresh_loop(case())


def test_spawn_refuses_non_awaitables():
    async def spawns_a_function():
        spawn(test_spawn_refuses_non_awaitables)

    with pytest.raises(TypeError):
        run_on_fresh_loop(spawns_a_function())


async def test_tasks_are_tracked_per_event_loop():
    release = threading.Event()
    other_loop_started = threading.Event()

    async def blocks_other_loop():
        other_loop_started.set()
        await asyncio.get_event_loop().run_in_executor(None, release.wait, 5)

    async def other_worker():
        spawn(blocks_other_loop())
        return await wait_spawned(5)

    results = []
    thread = threading.Thread(target=lambda: results.append(run_on_fresh_loop(other_worker())))
    thread.start()
    try:
        assert other_loop_started.wait(5)
        assert await wait_spawned(0.1) is True  # nothing of ours is pending
    finally:
        release.set()
        thread.join(5)
    assert results == [True]


# -- under a real gunicorn -------------------------------------------------------------


def test_under_gunicorn_sigterm_waits_for_spawned_work(toolkit_server, server_db):
    server = toolkit_server(graceful_timeout=10)
    started = time.monotonic()
    assert http_get(server, "/toolkit/signup/?name=after-sigterm&delay=1.0") == (202, "accepted")
    assert time.monotonic() - started < 0.8  # answered before the work is done
    assert "after-sigterm" not in server_db.group_names()
    server.signal(signal.SIGTERM)
    server.proc.wait(15)
    assert time.monotonic() - started >= 1.0
    assert "after-sigterm" in server_db.group_names()
    assert "lost" not in server.log()


def test_under_gunicorn_work_past_graceful_timeout_is_cancelled_and_logged(
    toolkit_server, server_db
):
    server = toolkit_server(graceful_timeout=1)
    [worker] = server.worker_pids()
    assert http_get(server, "/toolkit/signup/?name=too-slow&delay=30")[0] == 202
    started = time.monotonic()
    # SIGTERM to the worker itself: a master's SIGTERM also starts the
    # arbiter's own graceful_timeout, after which it SIGKILLs the worker,
    # racing the worker's log of the lost work (reported to the worker's owner).
    os.kill(worker, signal.SIGTERM)
    while pid_alive(worker) and time.monotonic() - started < 10:
        time.sleep(0.05)
    assert not pid_alive(worker)
    # The worker stops waiting a margin before graceful_timeout (min(1 s, 25%),
    # so 0.75 s here) to log and cancel the work before the arbiter's SIGKILL.
    assert 0.7 <= time.monotonic() - started < 5
    assert "too-slow" not in server_db.group_names()
    log = server.log()
    assert re.search(
        r"Spawned task record_signup still running after [\d.]+s; cancelling it \(its work is lost\)",
        log,
    ), log


def test_under_gunicorn_max_requests_recycling_waits_for_spawned_work(toolkit_server, server_db):
    # The fixture's start-up probe is request 1; the signup is request 2.
    server = toolkit_server(max_requests=2, max_requests_jitter=0, graceful_timeout=10)
    [worker] = server.worker_pids()
    assert http_get(server, "/toolkit/signup/?name=after-recycling&delay=0.5")[0] == 202
    deadline = time.monotonic() + 10
    while (pid_alive(worker) or len(server.worker_pids()) < 2) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(worker) and len(server.worker_pids()) == 2  # recycled
    assert "after-recycling" in server_db.group_names()
