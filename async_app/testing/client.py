"""``AsyncClient``: Django 3.1's async test client for Django 1.11.

Use it from coroutine tests (see :mod:`async_app.testing.pytest_plugin`)::

    response = await client.get('/orders/', follow=True)

:class:`AsyncClient` is Django 1.11's ``Client`` whose request methods are
coroutines: the request runs through the real pipeline
(``AsyncDjangoApplication``) on the test's own, already running event loop,
so a test can ``asyncio.gather`` several requests, or serve a fake backend
on the same loop while a view calls it. Sync code runs inline, on the test's
thread, so the data of a ``TestCase`` transaction is visible to views.
Everything else is ``Client``'s: cookies and ``session``, ``login()`` and
``force_login()`` (sync: call them outside the loop or through
``database_sync_to_async``), ``response.context`` / ``templates`` /
``json()`` / ``resolver_match`` / ``redirect_chain``, and exceptions raised by
a view re-raised in the test.

Unlike Django 3.1's, ``follow=True`` is supported, and concurrent requests
from one client keep their templates, contexts and exceptions apart.
Its requests are built by :class:`~async_app.testing.factory.AsyncRequestFactory`.
"""

import contextvars
import sys

from django.core.signals import got_request_exception
from django.http import QueryDict
from django.template import TemplateDoesNotExist
from django.test import signals
from django.test.client import (
    MULTIPART_CONTENT,
    Client,
    RedirectCycleError,
    store_rendered_templates,
)
from django.urls import resolve
from django.utils import six
from django.utils.functional import SimpleLazyObject, curry
from django.utils.six.moves.urllib.parse import urljoin, urlsplit

# AsyncRequestFactory, JSON_CONTENT_TYPE_RE and _HEADERS stay importable from
# here, where they were defined before factory.py.
from .factory import (  # noqa: F401
    _ENVIRON,
    _HEADERS,
    _OCTET_STREAM,
    JSON_CONTENT_TYPE_RE,
    AsyncRequestFactory,
)

__all__ = ["AsyncClient", "AsyncRequestFactory"]

# The AsyncClient request being served in this context: signal receivers of
# concurrent requests use it to keep to their own request.
_current_request = contextvars.ContextVar("async_app_client_request", default=None)


class AsyncClient(AsyncRequestFactory, Client):
    """Django's test ``Client`` with coroutine request methods (see the module doc).

    ``enforce_csrf_checks`` is ``Client``'s; ``**defaults`` (and
    ``headers=``) are headers sent with every request, and ``json_encoder``
    encodes JSON bodies, as in :class:`AsyncRequestFactory`.
    """

    def __init__(self, enforce_csrf_checks=False, **defaults):
        super().__init__(enforce_csrf_checks=enforce_csrf_checks, **defaults)
        from .handler import AsyncClientHandler

        self.handler = AsyncClientHandler(enforce_csrf_checks, is_async=True)

    async def request(self, **request):
        """Serve one request through the pipeline on the running loop; return the response."""
        environ = self._base_environ(**request)
        marker = object()
        data = {}
        raised = []

        def on_template_render(signal, sender, template, context, **kwargs):
            if _current_request.get() is marker:
                store_rendered_templates(data, signal, sender, template, context, **kwargs)

        def on_exception(**kwargs):
            if _current_request.get() is marker:
                raised.append(sys.exc_info())

        uid = "async-client-%s" % id(marker)
        signals.template_rendered.connect(on_template_render, dispatch_uid=uid, weak=False)
        got_request_exception.connect(on_exception, dispatch_uid=uid, weak=False)
        token = _current_request.set(marker)
        try:
            try:
                response = await self.handler.handle_async(environ)
            except TemplateDoesNotExist as e:
                # As Client: a missing 500.html hides the view's exception,
                # which is re-raised below instead.
                if e.args != ("500.html",):
                    raise
            if raised:
                six.reraise(*raised[0])

            response.client = self
            response.request = request
            response.templates = data.get("templates", [])
            response.context = data.get("context")
            response.json = curry(self._parse_json, response)
            response.resolver_match = SimpleLazyObject(lambda: resolve(request["PATH_INFO"]))
            if response.context and len(response.context) == 1:
                response.context = response.context[0]
            if response.cookies:
                self.cookies.update(response.cookies)
            return response
        finally:
            _current_request.reset(token)
            signals.template_rendered.disconnect(dispatch_uid=uid)
            got_request_exception.disconnect(dispatch_uid=uid)

    # AsyncRequestFactory's methods build the environ and return
    # self.request(...), here a coroutine: await it, then follow redirects as
    # Client does.

    async def get(
        self,
        path,
        data=None,
        follow=False,
        secure=False,
        *,
        headers=None,
        query_params=None,
        **extra,
    ):
        """GET ``path``; ``data`` (or ``query_params``) becomes the query string."""
        response = await AsyncRequestFactory.get(
            self,
            path,
            data=data,
            secure=secure,
            headers=headers,
            query_params=query_params,
            **extra,
        )
        return await self._follow(response, follow, headers, extra)

    async def post(
        self,
        path,
        data=None,
        content_type=MULTIPART_CONTENT,
        follow=False,
        secure=False,
        *,
        headers=None,
        query_params=None,
        **extra,
    ):
        """POST ``data`` (a dict is form-encoded as multipart, or JSON) to ``path``."""
        response = await AsyncRequestFactory.post(
            self,
            path,
            data=data,
            content_type=content_type,
            secure=secure,
            headers=headers,
            query_params=query_params,
            **extra,
        )
        return await self._follow(response, follow, headers, extra)

    async def head(
        self,
        path,
        data=None,
        follow=False,
        secure=False,
        *,
        headers=None,
        query_params=None,
        **extra,
    ):
        """HEAD ``path``."""
        response = await AsyncRequestFactory.head(
            self,
            path,
            data=data,
            secure=secure,
            headers=headers,
            query_params=query_params,
            **extra,
        )
        return await self._follow(response, follow, headers, extra)

    async def options(
        self,
        path,
        data="",
        content_type=_OCTET_STREAM,
        follow=False,
        secure=False,
        *,
        headers=None,
        query_params=None,
        **extra,
    ):
        """OPTIONS ``path``."""
        response = await AsyncRequestFactory.options(
            self,
            path,
            data=data,
            content_type=content_type,
            secure=secure,
            headers=headers,
            query_params=query_params,
            **extra,
        )
        return await self._follow(response, follow, headers, extra)

    async def put(
        self,
        path,
        data="",
        content_type=_OCTET_STREAM,
        follow=False,
        secure=False,
        *,
        headers=None,
        query_params=None,
        **extra,
    ):
        """PUT ``data`` to ``path``."""
        response = await AsyncRequestFactory.put(
            self,
            path,
            data=data,
            content_type=content_type,
            secure=secure,
            headers=headers,
            query_params=query_params,
            **extra,
        )
        return await self._follow(response, follow, headers, extra)

    async def patch(
        self,
        path,
        data="",
        content_type=_OCTET_STREAM,
        follow=False,
        secure=False,
        *,
        headers=None,
        query_params=None,
        **extra,
    ):
        """PATCH ``path`` with ``data``."""
        response = await AsyncRequestFactory.patch(
            self,
            path,
            data=data,
            content_type=content_type,
            secure=secure,
            headers=headers,
            query_params=query_params,
            **extra,
        )
        return await self._follow(response, follow, headers, extra)

    async def delete(
        self,
        path,
        data="",
        content_type=_OCTET_STREAM,
        follow=False,
        secure=False,
        *,
        headers=None,
        query_params=None,
        **extra,
    ):
        """DELETE ``path``."""
        response = await AsyncRequestFactory.delete(
            self,
            path,
            data=data,
            content_type=content_type,
            secure=secure,
            headers=headers,
            query_params=query_params,
            **extra,
        )
        return await self._follow(response, follow, headers, extra)

    async def trace(
        self, path, data="", follow=False, secure=False, *, headers=None, query_params=None, **extra
    ):
        """TRACE ``path``."""
        response = await AsyncRequestFactory.trace(
            self, path, secure=secure, headers=headers, query_params=query_params, **extra
        )
        return await self._follow(response, follow, headers, extra)

    def websocket(self, path, data=None, subprotocols=(), secure=False, *, headers=None, **extra):
        """Open a WebSocket to the view at ``path``, in-process: ``async with client.websocket(path) as ws``.

        See :class:`async_app.testing.websocket.WebSocketSession`; a refused
        handshake raises :class:`~async_app.testing.websocket.WebSocketRefused`.
        """
        from .websocket import WebSocketSession

        return WebSocketSession(
            self,
            path,
            data=data,
            subprotocols=subprotocols,
            secure=secure,
            headers=headers,
            **extra,
        )

    async def _follow(self, response, follow, headers, extra):
        if follow:
            extra = dict(extra)
            extra.pop("QUERY_STRING", None)
            response = await self._handle_redirects(response, headers=headers, **extra)
        return response

    async def _handle_redirects(self, response, headers=None, **extra):
        """Follow redirects with GET requests: ``Client._handle_redirects``, awaited."""
        response.redirect_chain = []
        while response.status_code in (301, 302, 303, 307):
            response_url = response.url
            redirect_chain = response.redirect_chain
            redirect_chain.append((response_url, response.status_code))

            url = urlsplit(response_url)
            environ = {}
            if url.scheme:
                environ["wsgi.url_scheme"] = url.scheme
            if url.hostname:
                environ["SERVER_NAME"] = url.hostname
            if url.port:
                environ["SERVER_PORT"] = str(url.port)

            path = url.path
            if not path.startswith("/"):
                path = urljoin(response.request["PATH_INFO"], path)

            extra[_ENVIRON] = environ
            response = await self.get(
                path, QueryDict(url.query), follow=False, headers=headers, **extra
            )
            response.redirect_chain = redirect_chain

            if redirect_chain[-1] in redirect_chain[:-1]:
                raise RedirectCycleError("Redirect loop detected.", last_response=response)
            if len(redirect_chain) > 20:
                raise RedirectCycleError("Too many redirects.", last_response=response)
        return response
