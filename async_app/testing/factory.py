"""``AsyncRequestFactory``: Django 3.1's async request factory for Django 1.11.

It builds the ``WSGIRequest`` objects a coroutine view gets under the aiohttp
worker (``await view(rf.get('/'))``), with Django 5.2's semantics: keyword
arguments are headers, ``headers=`` and ``query_params=`` are accepted, and
JSON content types encode dicts and lists. :class:`~async_app.testing.AsyncClient`
builds its requests with it.
"""

import json
import re

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.test.client import MULTIPART_CONTENT, RequestFactory
from django.utils.encoding import force_bytes
from django.utils.http import urlencode

__all__ = ["AsyncRequestFactory"]

_OCTET_STREAM = "application/octet-stream"
JSON_CONTENT_TYPE_RE = re.compile(r"^application\/(.+\+)?json")


class AsyncRequestFactory(RequestFactory):
    """Build requests to pass straight to coroutine views: ``await view(rf.get('/'))``.

    The counterpart of Django 3.1's ``AsyncRequestFactory``, with its
    semantics (Django 5.2's): extra keyword arguments and the constructor's
    ``defaults`` are HTTP *headers* (``AUTHORIZATION="x"`` sets
    ``HTTP_AUTHORIZATION``; ``QUERY_STRING`` stays what it is), ``headers=``
    (Django 4.2) and ``query_params=`` (Django 5.1) are accepted, and a dict,
    list or tuple sent with a JSON content type is encoded as JSON (Django
    2.1, ``json_encoder``). Its methods are sync and return ``WSGIRequest``
    objects, the request class the ``AsyncDjangoApplication`` pipeline gives
    views under the aiohttp worker.
    """

    def __init__(self, json_encoder=DjangoJSONEncoder, *, headers=None, **defaults):
        self.json_encoder = json_encoder
        if headers:
            defaults.update(headers)
        super().__init__(**defaults)

    def _base_environ(self, **request):
        # The defaults are headers here, merged in generic(), not raw environ keys.
        defaults, self.defaults = self.defaults, {}
        try:
            return super()._base_environ(**request)
        finally:
            self.defaults = defaults

    def _encode_json(self, data, content_type):
        """JSON for a dict, list or tuple sent as ``application/json`` (Django 2.1)."""
        should_encode = JSON_CONTENT_TYPE_RE.match(content_type) and isinstance(
            data, (dict, list, tuple)
        )
        return json.dumps(data, cls=self.json_encoder) if should_encode else data

    def get(self, path, data=None, secure=False, *, headers=None, query_params=None, **extra):
        """Construct a GET request."""
        return self._query_request(
            RequestFactory.get, path, data, secure, headers, query_params, extra
        )

    def head(self, path, data=None, secure=False, *, headers=None, query_params=None, **extra):
        """Construct a HEAD request."""
        return self._query_request(
            RequestFactory.head, path, data, secure, headers, query_params, extra
        )

    def trace(self, path, secure=False, *, headers=None, query_params=None, **extra):
        """Construct a TRACE request."""
        extra = self._with_query_params(
            data=None, headers=headers, query_params=query_params, extra=extra
        )
        return RequestFactory.trace(self, path, secure=secure, **extra)

    def post(
        self,
        path,
        data=None,
        content_type=MULTIPART_CONTENT,
        secure=False,
        *,
        headers=None,
        query_params=None,
        **extra,
    ):
        """Construct a POST request (a dict as multipart form, or as JSON)."""
        data = self._encode_json({} if data is None else data, content_type)
        extra = self._with_query_params(None, headers, query_params, extra)
        return RequestFactory.post(self, path, data, content_type, secure=secure, **extra)

    def _body_request(self, base, path, data, content_type, secure, headers, query_params, extra):
        data = self._encode_json(data, content_type)
        extra = self._with_query_params(None, headers, query_params, extra)
        return base(self, path, data, content_type, secure=secure, **extra)

    def put(
        self,
        path,
        data="",
        content_type=_OCTET_STREAM,
        secure=False,
        *,
        headers=None,
        query_params=None,
        **extra,
    ):
        """Construct a PUT request."""
        return self._body_request(
            RequestFactory.put, path, data, content_type, secure, headers, query_params, extra
        )

    def patch(
        self,
        path,
        data="",
        content_type=_OCTET_STREAM,
        secure=False,
        *,
        headers=None,
        query_params=None,
        **extra,
    ):
        """Construct a PATCH request."""
        return self._body_request(
            RequestFactory.patch, path, data, content_type, secure, headers, query_params, extra
        )

    def delete(
        self,
        path,
        data="",
        content_type=_OCTET_STREAM,
        secure=False,
        *,
        headers=None,
        query_params=None,
        **extra,
    ):
        """Construct a DELETE request."""
        return self._body_request(
            RequestFactory.delete, path, data, content_type, secure, headers, query_params, extra
        )

    def options(
        self,
        path,
        data="",
        content_type=_OCTET_STREAM,
        secure=False,
        *,
        headers=None,
        query_params=None,
        **extra,
    ):
        """Construct an OPTIONS request."""
        return self._body_request(
            RequestFactory.options, path, data, content_type, secure, headers, query_params, extra
        )

    def _query_request(self, base, path, data, secure, headers, query_params, extra):
        if query_params and data:
            raise ValueError("query_params and data arguments are mutually exclusive.")
        extra = self._with_query_params(data, headers, query_params, extra)
        return base(self, path, data=data, secure=secure, **extra)

    @staticmethod
    def _with_query_params(data, headers, query_params, extra):
        if query_params and data:
            raise ValueError("query_params and data arguments are mutually exclusive.")
        extra = dict(extra)
        if headers:
            extra[_HEADERS] = dict(headers)
        if query_params:
            extra["QUERY_STRING"] = urlencode(query_params, doseq=True)
        return extra

    def generic(self, method, path, data="", content_type=_OCTET_STREAM, secure=False, **extra):
        """Construct an arbitrary request; ``extra`` (and the defaults) are headers."""
        environ = extra.pop(_ENVIRON, {})
        headers = extra.pop(_HEADERS, None) or {}
        merged = dict(self.defaults)
        merged.update(extra)
        if "QUERY_STRING" in merged:
            environ.setdefault("QUERY_STRING", merged.pop("QUERY_STRING"))
        for key, value in merged.items():
            environ[_environ_name(key)] = value
        for key, value in headers.items():
            environ[_environ_name(key)] = value
        body = force_bytes(data, settings.DEFAULT_CHARSET)
        if body:
            # A WSGI environ holds strings (Django 1.11's factory puts an int here).
            environ.setdefault("CONTENT_LENGTH", str(len(body)))
        return super().generic(method, path, body, content_type, secure=secure, **environ)


# Private keys of generic()'s **extra: raw environ entries (redirects) and headers=.
_ENVIRON = "_async_app_environ"
_HEADERS = "_async_app_headers"


def _environ_name(header):
    """``AUTHORIZATION``/``x-token``/``Content-Type`` -> WSGI environ key (as ASGI headers map)."""
    name = header.upper().replace("-", "_")
    if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return name
    return "HTTP_" + name
