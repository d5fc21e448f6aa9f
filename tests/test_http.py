"""http_session(): one shared aiohttp.ClientSession per event loop."""

import asyncio
import json
import threading
import time
from urllib.request import urlopen

import pytest
from aiohttp import web

from async_app import http_session
from async_app.http import close_http_session
from async_app.sync import run_until_complete
from tests.toolkit_fixtures import db, gunicorn_server, server_db, toolkit_server  # noqa: F401

pytest_plugins = ["async_app.testing.pytest_plugin"]


class Backend:
    """A JSON service on a loopback port that answers slowly and notes client ports."""

    def __init__(self, delay=0.0):
        self.delay = delay
        self.client_ports = []
        self.runner = None
        self.url = None

    async def handle(self, request):
        self.client_ports.append(request.transport.get_extra_info("peername")[1])
        await asyncio.sleep(self.delay)
        return web.json_response({"path": request.path})

    async def start(self):
        app = web.Application()
        app.router.add_get("/{name}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = "http://127.0.0.1:%d" % self.runner.addresses[0][1]
        return self

    async def stop(self):
        await self.runner.cleanup()


async def test_one_session_per_loop_created_lazily_and_closed():
    session = http_session()
    assert http_session() is session and not session.closed
    await close_http_session()
    assert session.closed
    fresh = http_session()
    assert fresh is not session and not fresh.closed

    async def session_of_another_loop():
        other = http_session()
        await close_http_session()
        return other

    # Another loop, nested in this thread (as a nested test-client call).
    assert run_until_complete(session_of_another_loop()) is not fresh
    assert http_session() is fresh


def test_http_session_needs_a_running_loop():
    with pytest.raises(RuntimeError, match="coroutine code"):
        http_session()


async def test_view_calls_services_concurrently_through_one_pool(db, async_client):
    backend = await Backend(delay=0.3).start()
    try:
        started = time.monotonic()
        response = await async_client.get("/toolkit/dashboard/", {"backend": backend.url})
        elapsed = time.monotonic() - started
        assert response.json() == {"stock": {"path": "/stock"}, "prices": {"path": "/prices"}}
        assert elapsed < 0.55, "the two 0.3 s calls ran one after the other"

        await async_client.get("/toolkit/dashboard/", {"backend": backend.url})
        # The second request reused the first one's two pooled connections.
        assert len(backend.client_ports) == 4 and len(set(backend.client_ports)) == 2
    finally:
        await backend.stop()


# -- under a real gunicorn -------------------------------------------------------------


def test_under_gunicorn_one_pooled_session_serves_concurrent_calls_across_requests(toolkit_server):
    backend_loop = asyncio.new_event_loop()
    thread = threading.Thread(target=backend_loop.run_forever)
    thread.start()
    try:
        backend = asyncio.run_coroutine_threadsafe(Backend(delay=0.3).start(), backend_loop).result(
            10
        )
        server = toolkit_server()
        url = server.url("/toolkit/dashboard/?backend=" + backend.url)
        for _ in range(2):
            started = time.monotonic()
            with urlopen(url, timeout=10) as response:
                assert json.loads(response.read().decode()) == {
                    "stock": {"path": "/stock"},
                    "prices": {"path": "/prices"},
                }
            assert time.monotonic() - started < 0.55, "the two 0.3 s calls ran one after the other"
        assert len(backend.client_ports) == 4 and len(set(backend.client_ports)) == 2
        server.stop()
        asyncio.run_coroutine_threadsafe(backend.stop(), backend_loop).result(10)
        assert "Unclosed client session" not in server.log()
    finally:
        backend_loop.call_soon_threadsafe(backend_loop.stop)
        thread.join(10)
        backend_loop.close()
