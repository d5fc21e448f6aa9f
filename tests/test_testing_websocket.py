"""AsyncClient.websocket: WebSocket views driven in-process, through the real pipeline.

docs/websockets.md's examples are checked verbatim by tests/test_docs.py.
"""

import pytest
from django.contrib.auth.models import User
from django.test.utils import override_settings

from async_app import database_sync_to_async, shutdown
from async_app.testing import AsyncClient, WebSocketRefused
from async_app.websocket import WebSocketClosed
from tests.apps import websocket_urls
from tests.toolkit_fixtures import db  # noqa: F401

pytest_plugins = ["async_app.testing.pytest_plugin"]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.common.CommonMiddleware",
    "tests.apps.websocket_urls.seen_by_response_middleware",
]


@pytest.fixture(autouse=True)
def websocket_settings(django_test_environment):
    with override_settings(
        ROOT_URLCONF="tests.apps.websocket_urls",
        MIDDLEWARE=MIDDLEWARE,
        ASYNC_APP_WEBSOCKET_MAX_MESSAGE_SIZE=64 * 1024,
        ASYNC_APP_WEBSOCKET_ALLOWED_ORIGINS=["https://trusted.example"],
    ):
        yield


async def test_echo_in_process_and_what_the_response_middleware_sees(db):
    client = AsyncClient()
    session = client.websocket("/ws/echo/?tag=inproc", subprotocols=["echo.v1"])
    async with session as ws:
        assert ws.subprotocol == "echo.v1"
        await ws.send_text("hi")
        assert (await ws.receive_text()) == "echo:hi"
        await ws.send_bytes(b"abc")
        assert (await ws.receive_bytes()) == b"cba"
        await ws.send_json({"a": 1})
        assert (await ws.receive_json()) == {"echo": {"a": 1}}
    # The response phase ran once the conversation was over, on the 101.
    assert session.response.status_code == 101
    assert session.response["X-Seen-By-Middleware"] == "yes"
    assert websocket_urls.RESPONSES_SEEN["/ws/echo/"] == 101


async def test_view_closes_with_a_code(db):
    async with AsyncClient().websocket("/ws/echo/") as ws:
        await ws.send_text("close-me")
        with pytest.raises(WebSocketClosed) as closed:
            await ws.receive()
        assert (closed.value.code, closed.value.reason) == (4000, "as you wish")


async def test_refusal_is_the_views_response(db):
    with pytest.raises(WebSocketRefused) as refused:
        async with AsyncClient().websocket("/ws/hello/"):
            pass
    assert refused.value.response.status_code == 403
    assert refused.value.response.content == b"log in first"


async def test_login_required_and_request_user(db):
    client = AsyncClient()
    with pytest.raises(WebSocketRefused) as refused:
        async with client.websocket("/ws/whoami/"):
            pass
    assert refused.value.response.status_code == 302
    user = await database_sync_to_async(User.objects.create_user)("ws-ann", password="pw")
    await database_sync_to_async(client.force_login)(user)
    async with client.websocket("/ws/whoami/") as ws:
        assert (await ws.receive_text()) == "ws-ann"


async def test_sync_view_that_accepts_gets_a_clear_error(db):
    with pytest.raises(RuntimeError, match="accept_websocket\\(\\) needs a coroutine view"):
        async with AsyncClient().websocket("/ws/sync/"):
            pass


async def test_plain_request_to_a_websocket_view_is_a_400(db):
    response = await AsyncClient().get("/ws/echo/")
    assert response.status_code == 400


async def test_cross_site_origin_is_refused(db):
    client = AsyncClient()
    for origin, allowed in (
        ("http://evil.example", False),
        ("http://testserver", True),
        ("https://testserver", False),
        ("https://trusted.example", True),
    ):
        try:
            async with client.websocket("/ws/echo/", headers={"Origin": origin}):
                pass
        except WebSocketRefused as refused:
            assert not allowed and refused.response.status_code == 403, origin
        else:
            assert allowed, origin


async def test_message_size_limit_closes_with_1009(db):
    async with AsyncClient().websocket("/ws/echo/") as ws:
        await ws.send_bytes(b"a" * (64 * 1024))
        assert len(await ws.receive_bytes()) == 64 * 1024
        await ws.send_bytes(b"a" * (64 * 1024 + 1))
        with pytest.raises(WebSocketClosed) as closed:
            await ws.receive()
        assert closed.value.code == 1009


async def test_shutdown_closes_with_1001_and_the_view_sees_it(db):
    del websocket_urls.CLOSES_SEEN[:]
    try:
        async with AsyncClient().websocket("/ws/wait-close/") as ws:
            assert (await ws.receive_text()) == "ready"
            shutdown.begin(0.5)
            with pytest.raises(WebSocketClosed) as closed:
                await ws.receive()
            assert closed.value.code == 1001
    finally:
        shutdown.reset()
    assert websocket_urls.CLOSES_SEEN == [1001]


async def test_a_view_that_returns_leaves_the_socket_closed(db):
    async with AsyncClient().websocket("/ws/leave-open/") as ws:
        assert (await ws.receive_text()) == "bye"
        with pytest.raises(WebSocketClosed) as closed:
            await ws.receive()
        assert closed.value.code == 1000


async def test_a_view_that_fails_after_accepting_closes_with_1011_and_raises(db):
    with pytest.raises(ValueError, match="view failed after accepting"):
        async with AsyncClient().websocket("/ws/leave-open/?fail=1") as ws:
            assert (await ws.receive_text()) == "bye"
            with pytest.raises(WebSocketClosed) as closed:
                await ws.receive()
            assert closed.value.code == 1011


async def test_chat_answers_in_capitals(db):
    client = AsyncClient()
    user = await database_sync_to_async(User.objects.create_user)("bob", password="pw")
    await database_sync_to_async(client.force_login)(user)
    async with client.websocket("/ws/chat/") as ws:
        assert await ws.receive_json() == {"hello": "bob"}
        await ws.send_text("hi")
        assert await ws.receive_text() == "HI"
