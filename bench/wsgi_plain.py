"""A plain WSGI app (no Django): the 3-line hello both AiohttpWorker and gthread serve."""


def application(environ, start_response):
    """``Hello world!`` for any request."""
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "12")])
    return [b"Hello world!"]
