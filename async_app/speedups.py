"""Django 1.11 code that is slow on Python 3, made fast with the same results.

``import async_app`` calls :func:`apply`, which registers post-import hooks
(:func:`async_app.compat.when_imported`), so the fast version is in place
before any Django module imports the slow one. Set ``ASYNC_APP_SPEEDUPS=0``
in the environment (read when ``async_app`` is first imported) to leave
Django as it is: ``make bench`` measures its floor, Django's own cost, so.

The speedups, each in place of the Django function named:

* ``django.utils.encoding.escape_uri_path`` and ``iri_to_uri``: 1.11 passes
  ``safe`` to ``urllib.parse.quote`` as bytes, which Python 3 turns into
  ASCII with a Python loop over its characters on every call.
  ``request.get_full_path()`` calls both, and ``CommonMiddleware`` calls it
  twice a request: 31,000 instructions, 8% of a stock request behind it
  (``bench.floor``). Django 2.0+ passes the same characters as ``str``, as
  these do.
* ``django.utils.module_loading.import_string``: 1.11 goes through
  ``importlib.import_module`` (Python code) on every call, even for a module
  long imported, and ``MessageMiddleware`` calls it every request
  (``default_storage``). Django 4.0+ takes a fully imported module from
  ``sys.modules``, as this does; any other case, and every error, goes to
  Django's own.
* ``django.core.handlers.wsgi.get_bytes_from_wsgi``: 1.11 converts ``key``
  and ``default`` with ``str()`` and checks ``six.PY3`` on each of its 7-8
  calls a request (path, script name, query string); this converts only
  what is not a ``str`` already (Django 2.0+ no longer converts at all).
* ``django.http.response.HttpResponseBase._convert_to_charset``: 1.11
  checks each header name and value against bytes, ``six.text_type`` and
  ``six.PY3`` (two calls per header set, 4-6 headers a response). A ``str``
  without CR or LF that encodes in the charset is returned at once; anything
  else, and every error, goes to Django's own.
"""

import sys
from urllib.parse import quote

from .compat import switched_on, when_imported

__all__ = [
    "ENV_SWITCH",
    "apply",
    "convert_to_charset",
    "enabled",
    "escape_uri_path",
    "get_bytes_from_wsgi",
    "import_string",
    "iri_to_uri",
]

ENV_SWITCH = "ASYNC_APP_SPEEDUPS"

# Django 1.11's safe characters, as text (they are ASCII).
_PATH_SAFE = "/:@&+$,-_.!~*'()"
_IRI_SAFE = "/#%[]=:;$&()+,!?*@'~"

# django.utils.encoding.force_bytes, once that module is imported.
_force_bytes = None


def escape_uri_path(path):
    """Django's ``escape_uri_path``: ``path`` quoted as a URI path (RFC 2396 3.3)."""
    return quote(_force_bytes(path), safe=_PATH_SAFE)


def iri_to_uri(iri):
    """Django's ``iri_to_uri``: ``iri`` as an ASCII URI (RFC 3987 3.1); None stays None."""
    if iri is None:
        return iri
    return quote(_force_bytes(iri), safe=_IRI_SAFE)


def get_bytes_from_wsgi(environ, key, default):
    """Django's ``get_bytes_from_wsgi``: the environ's ``key`` (or ``default``) as bytes."""
    if type(key) is not str:
        key = str(key)
    if type(default) is not str:
        default = str(default)
    # WSGI strings are latin-1: re-encoding recovers the original bytes.
    return environ.get(key, default).encode("iso-8859-1")


# Django's own import_string, once django.utils.module_loading is imported.
_import_string = None
_MISSING = object()


def import_string(dotted_path):
    """Django's ``import_string``: the attribute named by the last part of ``dotted_path``."""
    if type(dotted_path) is str:
        module_path, dot, name = dotted_path.rpartition(".")
        module = sys.modules.get(module_path) if dot else None
        spec = getattr(module, "__spec__", None)
        if spec is not None and getattr(spec, "_initializing", False) is False:
            value = getattr(module, name, _MISSING)
            if value is not _MISSING:
                return value
    return _import_string(dotted_path)  # anything else, and every error, as Django does


# HttpResponseBase's own _convert_to_charset, once django.http.response is imported.
_convert_to_charset = None


def convert_to_charset(self, value, charset, mime_encode=False):
    """Django's ``HttpResponseBase._convert_to_charset``: a header name or value, checked."""
    if type(value) is str and "\n" not in value and "\r" not in value:
        try:
            value.encode(charset)
        except UnicodeError:
            pass  # Django's own MIME-encodes it or raises
        else:
            return value
    return _convert_to_charset(self, value, charset, mime_encode)


def _patch_response(response):
    global _convert_to_charset
    base = response.HttpResponseBase
    _convert_to_charset = base._convert_to_charset
    base._convert_to_charset = convert_to_charset


def _patch_wsgi(wsgi):
    wsgi.get_bytes_from_wsgi = get_bytes_from_wsgi


def _patch_module_loading(module_loading):
    global _import_string
    _import_string = module_loading.import_string
    module_loading.import_string = import_string


def _patch_encoding(encoding):
    global _force_bytes
    _force_bytes = encoding.force_bytes
    encoding.escape_uri_path = escape_uri_path
    encoding.iri_to_uri = iri_to_uri


def enabled():
    """False when ``$ASYNC_APP_SPEEDUPS`` is ``0``, ``false``, ``no`` or ``off``."""
    return switched_on(ENV_SWITCH)


def apply():
    """Register the post-import hooks (idempotent), unless switched off."""
    if enabled():
        when_imported("django.utils.encoding", "speedups-encoding", _patch_encoding)
        when_imported("django.utils.module_loading", "speedups-import", _patch_module_loading)
        when_imported("django.core.handlers.wsgi", "speedups-wsgi", _patch_wsgi)
        when_imported("django.http.response", "speedups-response", _patch_response)
