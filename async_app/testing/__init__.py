"""Test tools: the test client through the coroutine pipeline, and async clients.

* :class:`AsyncClientHandler`: drop-in for Django's ``ClientHandler``.
* :class:`AsyncClient`, :class:`AsyncRequestFactory`: Django 3.1's async test
  client and request factory (``response = await client.get('/')``).
* ``AsyncClient.websocket(path)``: a WebSocket to a view, in-process
  (:mod:`async_app.testing.websocket`).
* :func:`async_test`, :func:`run_async`: run coroutine tests; pytest users
  enable :mod:`async_app.testing.pytest_plugin` instead.
"""

from .client import AsyncClient
from .factory import AsyncRequestFactory
from .handler import AsyncClientHandler
from .runner import async_test, run_async
from .websocket import WebSocketRefused

__all__ = [
    "AsyncClient",
    "AsyncClientHandler",
    "AsyncRequestFactory",
    "WebSocketRefused",
    "async_test",
    "run_async",
]
