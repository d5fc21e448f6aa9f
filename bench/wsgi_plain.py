"""Plain WSGI apps (no Django): the 3-line hello, sync and as a coroutine.

``application`` is what both AiohttpWorker and gthread serve;
``coroutine_application`` is the same hello as a coroutine WSGI app (what
``bench/server_cost.py`` measures the server layer with).
"""


def application(environ, start_response):
    """``Hello world!`` for any request."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "12")])
    return [b"Hello world!"]


async def coroutine_application(environ, start_response):
    """``Hello world!`` for any request, from a coroutine."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "12")])
    return [b"Hello world!"]
