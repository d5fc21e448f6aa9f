"""montage's live caption editing (montage/photos/live.py) across two gunicorn masters.

Two masters share one SQLite database and media directory and announce over
one throwaway Redis server (``MONTAGE_BROADCAST_URL``): an editor on master A
and one on master B see each other's presence and drafts over their
WebSockets, so the messages crossed processes through ``async_app.pubsub``.
The browser version (two pages) is in tests/test_montage.py.
"""

import asyncio
import os
import re

import aiohttp
import pytest

from tests.test_montage import MontageServer, http_session, png_bytes, run, upload

# Two gunicorn masters and Redis: `make test` (3.11) and the matrix's 3.7 run it.
pytestmark = pytest.mark.cluster


@pytest.fixture
def two_masters(tmp_path, redis_server):
    servers = []
    try:
        for name in ("a", "b"):
            directory = str(tmp_path / name)
            os.mkdir(directory)
            server = MontageServer(directory)
            server.env.update(
                MONTAGE_DB=str(tmp_path / "db.sqlite3"),
                MONTAGE_MEDIA_ROOT=str(tmp_path / "media"),
                MONTAGE_BROADCAST_URL=redis_server.url,
            )
            servers.append(server.start())
        yield servers
    finally:
        for server in servers:
            server.stop()
            print("---- gunicorn log (%s) ----\n%s" % (server.url, server.output()))


async def next_json(ws, wanted, timeout=10):
    """The next JSON message from ``ws`` for which ``wanted(message)`` holds."""
    deadline = asyncio.get_event_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_event_loop().time()
        if remaining <= 0:
            raise AssertionError("no matching message within %ss" % timeout)
        message = await asyncio.wait_for(ws.receive_json(), remaining)
        if wanted(message):
            return message


def test_editors_on_two_masters_see_each_other(two_masters):
    a, b = two_masters

    async def scenario():
        async with http_session() as first, http_session() as second, aiohttp.ClientSession() as stranger:
            await upload(first, a.url, png_bytes((10, 200, 10)), "live")
            async with first.get(a.url + "/") as response:
                pk = re.search(r'href="/photos/(\d+)/"', await response.text()).group(1)
            live = "/photos/%s/live/" % pk
            # A session that never opened the page is refused.
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await stranger.ws_connect(a.url.replace("http", "ws") + live)
            assert refused.value.status == 403
            for session, server in ((first, a), (second, b)):
                async with session.get(server.url + "/photos/%s/" % pk) as response:
                    assert response.status == 200
            ws_a = await first.ws_connect(a.url.replace("http", "ws") + live)
            hello_a = await next_json(ws_a, lambda m: m["type"] == "presence")
            me_a = hello_a["you"]
            ws_b = await second.ws_connect(b.url.replace("http", "ws") + live)
            hello_b = await next_json(
                ws_b, lambda m: m["type"] == "presence" and len(m["editors"]) == 2
            )
            me_b = hello_b["you"]
            assert me_a != me_b and set(hello_b["editors"]) == {me_a, me_b}
            await next_json(ws_a, lambda m: m["type"] == "presence" and len(m["editors"]) == 2)
            await ws_b.send_json({"type": "caption", "caption": "typed on B"})
            draft = await next_json(ws_a, lambda m: m["type"] == "caption")
            assert draft == {"type": "caption", "caption": "typed on B", "editor": me_b}
            await ws_b.close()
            gone = await next_json(ws_a, lambda m: m["type"] == "presence")
            assert gone["editors"] == [me_a]
            await ws_a.close()

    run(scenario())
