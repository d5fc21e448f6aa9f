"""async_app.pubsub on its three backends, with real PostgreSQL and Redis servers.

Two :class:`~async_app.pubsub.Broker` objects on one URL stand for two worker
processes (each has its own connections); the servers are the throwaway ones
of ``tests/services.py``, restarted mid-test to check that subscribers
recover and that the log says so.
"""

import asyncio
import logging
import os
import threading
import time

import pytest

from async_app import pubsub
from async_app.sync import run_until_complete


def run(coro):
    return run_until_complete(coro)


async def next_message(subscription, timeout=5.0):
    return await asyncio.wait_for(subscription.get(), timeout)


# --------------------------------------------------------------------------
# the in-process backend and the API


def test_memory_publish_reaches_every_subscriber_in_order():
    broker = pubsub.Broker("memory://")

    async def scenario():
        async with broker.subscribe("photos") as one, broker.subscribe("photos") as two:
            other = await broker.subscribe("other")
            for n in range(3):
                await broker.publish("photos", {"n": n})
            got = []
            for subscription in (one, two):
                got.append([(await next_message(subscription))["n"] for _ in range(3)])
            other.close()
            return got, list(other._items)

    got, other = run(scenario())
    assert got == [[0, 1, 2], [0, 1, 2]]
    assert other == []


def test_memory_publish_from_another_loop_and_thread():
    broker = pubsub.Broker("memory://")
    ready = threading.Event()
    result = []

    async def listener():
        async with broker.subscribe("c") as subscription:
            ready.set()
            result.append(await next_message(subscription))

    thread = threading.Thread(target=run, args=(listener(),))
    thread.start()
    assert ready.wait(5)
    run(broker.publish("c", {"from": "elsewhere"}))
    thread.join(5)
    assert result == [{"from": "elsewhere"}]


def test_full_queue_loses_the_subscribers_own_messages_and_reports_a_gap():
    broker = pubsub.Broker("memory://")

    async def scenario():
        slow = await broker.subscribe("c", maxsize=3, gaps=True)
        fast = await broker.subscribe("c", maxsize=100)
        for n in range(10):
            await broker.publish("c", n)
        slow_got = [await next_message(slow) for _ in range(4)]
        fast_got = [await next_message(fast) for _ in range(10)]
        return slow_got, slow.dropped, fast_got, fast.dropped

    slow_got, dropped, fast_got, fast_dropped = run(scenario())
    assert isinstance(slow_got[0], pubsub.Gap) and slow_got[0].reason == "overflow"
    assert slow_got[1:] == [0, 1, 2]
    assert dropped == 7
    assert fast_got == list(range(10)) and fast_dropped == 0


def test_close_ends_iteration_and_limits_are_enforced():
    broker = pubsub.Broker("memory://")

    async def scenario():
        subscription = await broker.subscribe("c")
        loop = asyncio.get_event_loop()
        loop.call_later(0.05, subscription.close)
        seen = [m async for m in subscription]
        with pytest.raises(pubsub.MessageTooLarge):
            await broker.publish("c", "x" * pubsub.MAX_MESSAGE_BYTES)
        await broker.publish("c", "x" * (pubsub.MAX_MESSAGE_BYTES - 2))  # quotes included
        with pytest.raises(ValueError):
            broker.subscribe("no spaces")
        return seen, broker.hub(loop).channels

    seen, channels = run(scenario())
    assert seen == [] and channels == {}


def test_a_subscription_cancelled_while_starting_is_not_left_behind():
    broker = pubsub.Broker("memory://")

    async def scenario():
        subscription = broker.subscribe("c")
        task = asyncio.ensure_future(subscription.start())
        await asyncio.sleep(0)  # now waiting for the backend's confirmation
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.01)
        return broker.hub(asyncio.get_event_loop()).channels, subscription._closed

    assert run(scenario()) == ({}, True)


def test_default_broker_follows_the_setting(monkeypatch):
    from django.test import override_settings

    with override_settings(ASYNC_APP_PUBSUB_URL="redis://127.0.0.1:1/0"):
        assert pubsub.configure().url == "redis://127.0.0.1:1/0"
    monkeypatch.setenv("ASYNC_APP_PUBSUB_URL", "postgres://u@127.0.0.1:1/d")
    assert pubsub.configure().url == "postgres://u@127.0.0.1:1/d"
    monkeypatch.delenv("ASYNC_APP_PUBSUB_URL")
    assert pubsub.configure().url == "memory://"
    with pytest.raises(ValueError):
        pubsub.Broker("amqp://x")


def test_a_missing_driver_names_the_extra(monkeypatch):
    import sys

    monkeypatch.delitem(sys.modules, "async_app.pubsub.redis", raising=False)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ImportError, match=r"pip install async_app\[redis\]"):
        pubsub.Broker("redis://127.0.0.1:1/0")


# --------------------------------------------------------------------------
# PostgreSQL and Redis: two brokers = two processes


@pytest.fixture(params=["postgres", "redis"])
def backend_server(request):
    """A session-wide PostgreSQL or Redis server (tests/services.py) that tests may restart."""
    return request.getfixturevalue("restartable_%s_server" % request.param)


def test_message_reaches_subscribers_of_every_broker(backend_server):
    a, b = pubsub.Broker(backend_server.url), pubsub.Broker(backend_server.url)

    async def scenario():
        subs = [
            await a.subscribe("photos"),
            await b.subscribe("photos"),
            await b.subscribe("photos"),
        ]
        started = time.monotonic()
        await a.publish("photos", {"type": "upload", "caption": "é ü"})
        got = [await next_message(s) for s in subs]
        latency = time.monotonic() - started
        # Unsubscribed channels stop arriving; others keep working.
        subs[0].close()
        await b.publish("photos", {"n": 2})
        got2 = [await next_message(s) for s in subs[1:]]
        await a.close()
        await b.close()
        return got, got2, latency, list(subs[0]._items)

    got, got2, latency, closed_items = run(scenario())
    assert got == [{"type": "upload", "caption": "é ü"}] * 3
    assert got2 == [{"n": 2}] * 2
    assert closed_items == []
    assert latency < 1.0


def test_subscribers_recover_after_the_server_restarts(backend_server, caplog):
    caplog.set_level(logging.INFO, logger="async_app.pubsub")
    a, b = pubsub.Broker(backend_server.url), pubsub.Broker(backend_server.url)

    async def scenario():
        loop = asyncio.get_event_loop()
        one = await a.subscribe("live", gaps=True)
        two = await b.subscribe("live", gaps=True)
        await a.publish("live", 1)
        before = [await next_message(one), await next_message(two)]
        await loop.run_in_executor(None, backend_server.restart, 0.5)
        gaps = [await next_message(one, 20), await next_message(two, 20)]
        deadline = loop.time() + 20
        while True:  # the publisher's own connection may need a moment too
            try:
                await b.publish("live", 2)
                break
            except pubsub.PublishError:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.2)
        after = [await next_message(one), await next_message(two)]
        await a.close()
        await b.close()
        return before, gaps, after

    before, gaps, after = run(scenario())
    assert before == [1, 1]
    assert [(type(g), g.reason) for g in gaps] == [(pubsub.Gap, "reconnect")] * 2
    assert after == [2, 2]
    messages = [r.getMessage() for r in caplog.records if r.name == "async_app.pubsub"]
    kind = "PostgreSQL" if "postgres" in backend_server.url else "Redis"
    assert sum("lost the connection to %s" % kind in m for m in messages) == 2, messages
    assert sum("reconnected to %s" % kind in m for m in messages) == 2, messages


# --------------------------------------------------------------------------
# docs/pubsub.md's examples are this code


async def announce_upload(photo_id):
    await pubsub.publish("photos", {"type": "upload", "id": photo_id})


async def first_uploads(count):
    seen = []
    async with pubsub.subscribe("photos") as subscription:
        async for message in subscription:
            seen.append(message["id"])
            if len(seen) == count:
                return seen


def test_the_docs_example_delivers(monkeypatch):
    monkeypatch.delenv("ASYNC_APP_PUBSUB_URL", raising=False)
    pubsub.configure()

    async def scenario():
        listener = asyncio.ensure_future(first_uploads(2))
        await asyncio.sleep(0.05)
        for photo_id in (1, 2, 3):
            await announce_upload(photo_id)
        return await asyncio.wait_for(listener, 5)

    assert run(scenario()) == [1, 2]


def test_docs_examples_are_tested_code():
    import inspect
    import re
    import sys

    from tests import test_shutdown
    from tests.gunicorn_fixture import ROOT

    with open(os.path.join(ROOT, "docs", "pubsub.md")) as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    sources = inspect.getsource(sys.modules[__name__]) + inspect.getsource(test_shutdown)
    assert len(blocks) >= 2
    for block in blocks:
        assert block in sources, "docs example not found verbatim in the tested code:\n" + block
