"""async_app.server.upgrade: which requests are upgrades, and the per-worker cap.

The upgrade itself (handshake, frames, close) is tested end to end in
tests/test_websocket.py.
"""

import pytest

from async_app.server.upgrade import DEFAULT_MAX_WEBSOCKETS, WebSocketSlots, is_upgrade


class FakeRequest:
    def __init__(self, method, headers):
        self.method = method
        self.headers = headers


@pytest.mark.parametrize(
    "method, headers, expected",
    [
        ("GET", {"Upgrade": "websocket"}, True),
        ("GET", {"Upgrade": "WebSocket"}, True),
        ("GET", {"Upgrade": "h2c, websocket"}, True),
        ("POST", {"Upgrade": "websocket"}, False),
        ("GET", {"Upgrade": "h2c"}, False),
        ("GET", {}, False),
    ],
)
def test_is_upgrade(method, headers, expected):
    assert is_upgrade(FakeRequest(method, headers)) is expected


def test_slots_cap_and_free(monkeypatch):
    slots = WebSocketSlots(2)
    assert slots.take() and slots.take()
    assert not slots.take()
    slots.give_back()
    assert slots.take()
    monkeypatch.setenv("ASYNC_APP_MAX_WEBSOCKETS", "7")
    assert WebSocketSlots().maximum == 7
    monkeypatch.delenv("ASYNC_APP_MAX_WEBSOCKETS")
    assert WebSocketSlots().maximum == DEFAULT_MAX_WEBSOCKETS
