"""In-process WSGI clients for comparing Django's WSGIHandler with AsyncDjangoApplication.

Both speak real WSGI: the stock handler is called in a plain thread, the async
application is awaited on an event loop running in its own thread (with the
real thread pools), exactly as a server would drive them. Each client keeps
its own cookie jar.
"""

import asyncio
import io
import threading
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit


class Response:
    """What a WSGI server would have sent: status, headers, body."""

    def __init__(self, status, headers, body):
        self.status = status
        self.status_code = int(status.split()[0])
        self.headers = headers
        self.body = body

    def header(self, name):
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[0] if values else None

    def cookies(self):
        jar = SimpleCookie()
        for name, value in self.headers:
            if name.lower() == "set-cookie":
                jar.load(value)
        return jar


class BaseWSGIClient:
    """Builds environs, keeps cookies; subclasses call the application."""

    def __init__(self, application, script_name=""):
        self.application = application
        self.script_name = script_name
        self.cookies = SimpleCookie()

    def environ(self, method, path, body=b"", content_type=None, headers=None):
        url = urlsplit(path)
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": self.script_name,
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query,
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "testserver",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)),
        }
        if content_type:
            environ["CONTENT_TYPE"] = content_type
        if self.cookies:
            environ["HTTP_COOKIE"] = "; ".join(
                "%s=%s" % (k, m.value) for k, m in self.cookies.items()
            )
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        return environ

    def request(self, method, path, data=None, headers=None):
        body, content_type = b"", None
        if data is not None:
            body, content_type = urlencode(data).encode(), "application/x-www-form-urlencoded"
        response = self.call(self.environ(method, path, body, content_type, headers))
        for name, morsel in response.cookies().items():
            if morsel["max-age"] == 0 or morsel.value == "":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, data=None, **kwargs):
        return self.request("POST", path, data=data or {}, **kwargs)


class StockClient(BaseWSGIClient):
    """Calls a sync WSGI application in a fresh thread, like a threaded server."""

    def call(self, environ):
        result = {}

        def run():
            captured = {}

            def start_response(status, headers, exc_info=None):
                captured["status"], captured["headers"] = status, headers

            body = self.application(environ, start_response)
            try:
                data = b"".join(body)
            finally:
                if hasattr(body, "close"):
                    body.close()
            result["response"] = Response(captured["status"], captured["headers"], data)

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(30)
        return result["response"]


class EventLoopThread:
    """An event loop running in a daemon thread, for driving coroutine apps."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout=30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class AsyncAppClient(BaseWSGIClient):
    """Awaits a coroutine WSGI application on an event loop, as the worker does."""

    def __init__(self, application, loop_thread, script_name=""):
        super().__init__(application, script_name)
        self.loop_thread = loop_thread

    async def serve(self, environ):
        """The worker's side of the seam: await the app, send the body, close it."""
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers

        body = await self.application(environ, start_response)
        chunks = []
        try:
            if hasattr(body, "__aiter__"):
                async for chunk in body:
                    chunks.append(chunk)
            else:
                for chunk in body:
                    chunks.append(chunk)
        finally:
            if hasattr(body, "aclose"):
                await body.aclose()
            elif hasattr(body, "close"):
                body.close()
        return Response(captured["status"], captured["headers"], b"".join(chunks))

    def call(self, environ):
        return self.loop_thread.run(self.serve(environ))
