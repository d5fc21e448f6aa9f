"""AsyncClientHandler: Django's test client, through the coroutine pipeline."""

import inspect

from django.core.handlers.base import BaseHandler
from django.core.signals import request_finished, request_started
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections
from django.test.client import ClientHandler, closing_iterator_wrapper, conditional_content_removal

from ..streaming import aclose_iterator
from ..sync import inline_mode, run_until_complete

__all__ = ["AsyncClientHandler"]

_MIDDLEWARE_ATTRIBUTES = (
    "_request_middleware",
    "_view_middleware",
    "_template_response_middleware",
    "_response_middleware",
    "_exception_middleware",
    "_middleware_chain",
)


class AsyncClientHandler(ClientHandler):
    """A drop-in for ``django.test.client.ClientHandler`` (same constructor).

    Each test-client request goes through
    :meth:`async_app.AsyncDjangoApplication.get_response` on a private event
    loop in the test's own thread. Sync views and middleware run inline on
    that thread, so a ``TestCase``'s transaction stays visible to them;
    coroutine views are awaited on the loop. A request made from inside a
    view (nested test-client calls) gets a nested private loop.

    Work started with :func:`async_app.spawn` during the request is awaited,
    and the request loop's shared HTTP session closed, before the client call
    returns: a test sees the effects of fire-and-forget work.

    ``django.test.client.ClientHandler = AsyncClientHandler`` (before clients
    are created) routes every ``django.test.Client`` through the pipeline.
    ``is_async``: the handler of an ``AsyncClient`` (Django 5.2's
    ``AsyncClientHandler``) rather than of a sync ``Client``; under DEBUG
    the application then logs the adaptations of Django 5.2's async chain.
    """

    def __init__(self, enforce_csrf_checks=True, *args, is_async=False, **kwargs):
        # Not ClientHandler.__init__: its py2-style super(ClientHandler, self)
        # recurses once django.test.client.ClientHandler names this class.
        self.enforce_csrf_checks = enforce_csrf_checks
        self.is_async = is_async
        BaseHandler.__init__(self, *args, **kwargs)
        self._application = None

    @property
    def application(self):
        """The AsyncDjangoApplication, built at the first request (settings may change before)."""
        if self._application is None:
            from ..handler import AsyncDjangoApplication

            self._application = AsyncDjangoApplication(is_async=self.is_async)
            # Share the hook lists: tests may edit client.handler's lists in place.
            for name in _MIDDLEWARE_ATTRIBUTES:
                setattr(self, name, getattr(self._application, name))
        return self._application

    def load_middleware(self):
        """Build (or rebuild) the application and its middleware chains."""
        self._application = None
        return self.application

    def get_response(self, request):
        """The application's ``get_response(request)`` coroutine (awaited by the caller).

        ``ClientHandler`` subclasses that override ``get_response`` to adjust
        the request and return ``super().get_response(request)`` (DRF's
        ``ForceAuthClientHandler``) keep working: what they return is awaited.
        """
        return self.application.get_response(request)

    def __call__(self, environ):
        return run_until_complete(self._handle_and_drain(environ))

    async def _handle_and_drain(self, environ):
        from ..http import close_http_session
        from ..tasks import wait_spawned

        try:
            return await self.handle_async(environ)
        finally:
            await wait_spawned()
            await close_http_session()

    async def handle_async(self, environ):
        """``ClientHandler.__call__`` as a coroutine, on the running event loop."""
        if self._application is None:
            self.load_middleware()  # as ClientHandler: before request_started
        request_started.disconnect(close_old_connections)
        request_started.send(sender=self.__class__, environ=environ)
        request_started.connect(close_old_connections)
        request = WSGIRequest(environ)
        # As ClientHandler: get round CsrfViewMiddleware unless asked not to.
        request._dont_enforce_csrf_checks = not self.enforce_csrf_checks

        with inline_mode():
            response = self.get_response(request)
            while inspect.isawaitable(response):
                response = await response

        conditional_content_removal(request, response)
        response.wsgi_request = request
        if response.streaming and response.is_async:
            response.streaming_content = _aclosing_iterator_wrapper(
                response.streaming_content, response.close
            )
        elif response.streaming:
            response.streaming_content = closing_iterator_wrapper(
                response.streaming_content, response.close
            )
        else:
            request_finished.disconnect(close_old_connections)
            response.close()  # fires request_finished
            request_finished.connect(close_old_connections)
        return response


async def _aclosing_iterator_wrapper(iterable, close):
    """``closing_iterator_wrapper`` for an async stream."""
    try:
        async for item in iterable:
            yield item
    finally:
        await aclose_iterator(iterable)
        request_finished.disconnect(close_old_connections)
        close()  # fires request_finished
        request_finished.connect(close_old_connections)
