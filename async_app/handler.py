"""AsyncDjangoApplication: the WSGI adapter over the coroutine core.

As Django's ``WSGIHandler`` is a thin WSGI adapter over ``BaseHandler``, this
is one over :class:`async_app.core.AsyncBaseHandler`: it turns a WSGI environ
into a request, awaits the core's response and hands the worker a WSGI body
that it closes asynchronously. Where views, middleware and hooks run is
decided in :mod:`async_app.modes`; the middleware layers live in
:mod:`async_app.middleware`, exceptions become responses in
:mod:`async_app.exception`.

``request_started`` and ``request_finished`` of one request fire on the same
thread, the loop's, as sync code (under the test client: the test's thread).

Importing this module sets Django up (as ``get_wsgi_application`` does), so
``DJANGO_SETTINGS_MODULE`` must be set first.
"""

import asyncio
import functools
import io

import django
from django.apps import apps

if not apps.ready:
    django.setup(set_prefix=False)

from django.core import signals  # noqa: E402
from django.core.handlers.base import BaseHandler  # noqa: E402
from django.core.handlers.wsgi import get_path_info, get_script_name  # noqa: E402
from django.urls import set_script_prefix  # noqa: E402
from django.utils.encoding import force_str  # noqa: E402
from django_wsgi.handler import DjangoWSGIRequest  # noqa: E402

from . import db, locals as context_locals, streaming  # noqa: E402
from .core import AsyncBaseHandler  # noqa: E402
from .modes import RequestState, is_async_view, request_state  # noqa: E402
from .streaming import aclose_iterator  # noqa: E402
from .sync import call_here  # noqa: E402

__all__ = ["AsyncDjangoApplication", "is_async_view"]

context_locals.install()
streaming.install()
db.install_guard()


class _ResponseBody(list):
    """The WSGI body of a non-streaming response: in memory, closed async."""

    def __init__(self, chunks, closer):
        super().__init__(chunks)
        self._closer = closer

    async def aclose(self):
        """Close the Django response (fires ``request_finished``)."""
        self._closer()


class _StreamingBody:
    """The WSGI body of a streaming response over a sync iterator (may block)."""

    def __init__(self, response, closer):
        self.response = response
        self._closer = closer

    def __iter__(self):
        return iter(self.response)

    async def aclose(self):
        """Close the response (fires ``request_finished``)."""
        self._closer()


class _AsyncStreamingBody(_StreamingBody):
    """The WSGI body of a streaming response over an async iterator."""

    __iter__ = None

    def __aiter__(self):
        return self.response.__aiter__()

    async def aclose(self):
        """Close the stream's async iterator, then the response."""
        await aclose_iterator(self.response._iterator)
        self._closer()


class AsyncDjangoApplication(AsyncBaseHandler):
    """A Django 1.11 WSGI application whose ``__call__`` is a coroutine.

    Swap it in for ``get_wsgi_application()`` in ``wsgi.py`` and serve it with
    ``async_app.worker.AiohttpWorker``. ``__call__(environ, start_response)``
    and :meth:`get_response` are coroutines; the worker awaits ``__call__``.
    """

    async def __call__(self, environ, start_response):
        """Serve one request: the coroutine counterpart of ``WSGIHandler.__call__``."""
        set_script_prefix(get_script_name(environ))
        state = RequestState()
        request_state.set(state)
        call_here(signals.request_started.send, sender=self.__class__, environ=environ)
        try:
            path_info = environ.get("PATH_INFO", "/")
            if not path_info.isascii():
                path_info = get_path_info(environ)  # the UTF-8 in the latin-1 string
            if self.runs_sync(path_info, environ.get("REQUEST_METHOD")):
                response = await self._runner.run_in_view_pool(self._respond_sync, environ)
            else:
                request, response = await self.get_response_on_loop(
                    None, self._make_request, environ
                )
        except asyncio.CancelledError:
            if not state.finish_delegated:
                call_here(signals.request_finished.send, sender=self.__class__)
            raise
        return self._start_response(response, environ, start_response)

    def _make_request(self, environ):
        if issubclass(self.request_class, DjangoWSGIRequest):
            _declare_seekable_input(environ)
        return self.request_class(environ)

    def _respond_sync(self, environ):
        """``WSGIHandler.__call__`` after ``request_started``, up to the response, in one thread."""
        return BaseHandler.get_response(self, self._make_request(environ))

    def _start_response(self, response, environ, start_response):
        response._handler_class = self.__class__
        status = "%d %s" % (response.status_code, response.reason_phrase)
        response_headers = [(str(k), str(v)) for k, v in response.items()]
        for cookie in response.cookies.values():
            response_headers.append((str("Set-Cookie"), str(cookie.output(header=""))))
        start_response(force_str(status), response_headers)

        closer = functools.partial(call_here, response.close)
        file_wrapper = environ.get("wsgi.file_wrapper")
        if getattr(response, "file_to_stream", None) is not None and file_wrapper:
            return self._wrap_file(response, file_wrapper)
        if response.streaming and response.is_async:
            return _AsyncStreamingBody(response, closer)
        if response.streaming:
            return _StreamingBody(response, closer)
        return _ResponseBody([response.content], closer)

    @staticmethod
    def _wrap_file(response, file_wrapper):
        # The server closes the file wrapper, not the response: route that
        # close() to response.close() so request_finished still fires (as
        # Django 2.1+ does), keeping the file's own close for the response.
        filelike = response.file_to_stream
        file_close = filelike.close
        response._closable_objects = [
            _Closer(file_close) if obj is filelike else obj for obj in response._closable_objects
        ]
        filelike.close = response.close
        return file_wrapper(filelike, response.block_size)


def _declare_seekable_input(environ):
    """Spare WebOb (django-wsgi's request) a copy of a body that is already seekable.

    ``DjangoWSGIRequest`` makes the body seekable, copying ``wsgi.input``
    unless ``webob.is_body_seekable`` says it is. The worker hands over an
    in-memory or spooled body at offset 0, with its ``CONTENT_LENGTH`` when
    it has one. Without one, the environ is left as WebOb's copy would leave
    it: ``CONTENT_LENGTH`` is the body's size (``"0"`` for a body it would
    not read).
    """
    stream = environ.get("wsgi.input")
    if "webob.is_body_seekable" in environ:
        return
    seekable = getattr(stream, "seekable", None)
    if seekable is None or not seekable() or stream.tell() != 0:
        return
    if "CONTENT_LENGTH" not in environ:
        if environ.get("wsgi.input_terminated", environ.get("webob.is_body_readable", False)):
            size = stream.seek(0, io.SEEK_END)
            stream.seek(0)
        else:
            environ["wsgi.input"] = io.BytesIO()
            size = 0
        environ["CONTENT_LENGTH"] = str(size)
    environ["webob.is_body_seekable"] = True


class _Closer:
    """Something with a ``close()`` that calls the given function."""

    __slots__ = ("close",)

    def __init__(self, close):
        self.close = close
