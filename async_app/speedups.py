"""Django 1.11 code that is slow on Python 3, made fast with the same results.

``import async_app`` calls :func:`apply`, which registers post-import hooks
(:func:`async_app.compat.when_imported`), so the fast version is in place
before any Django module imports the slow one. Set ``ASYNC_APP_SPEEDUPS=0``
in the environment (read when ``async_app`` is first imported) to leave
Django as it is: ``make bench`` measures its floor, Django's own cost, so.

===============================  ==============================================
speedup                          why
===============================  ==============================================
``escape_uri_path`` and          1.11 passes ``safe`` to ``urllib.parse.quote``
``iri_to_uri``                   as bytes, which Python 3 turns into ASCII with
(``django.utils.encoding``)      a Python loop over its characters on every
                                 call. ``request.get_full_path()`` calls both,
                                 and ``CommonMiddleware`` calls it twice a
                                 request: 31,000 instructions, 8% of a stock
                                 request behind it (``bench.floor``). Django
                                 2.0+ passes the same characters as ``str``,
                                 as these do; nothing else changes
===============================  ==============================================
"""

import os
from urllib.parse import quote

from .compat import when_imported

__all__ = ["ENV_SWITCH", "apply", "enabled", "escape_uri_path", "iri_to_uri"]

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


def _patch_encoding(encoding):
    global _force_bytes
    _force_bytes = encoding.force_bytes
    encoding.escape_uri_path = escape_uri_path
    encoding.iri_to_uri = iri_to_uri


def enabled():
    """False when ``$ASYNC_APP_SPEEDUPS`` is ``0``, ``false``, ``no`` or ``off``."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def apply():
    """Register the post-import hooks (idempotent), unless switched off."""
    if enabled():
        when_imported("django.utils.encoding", "speedups-encoding", _patch_encoding)
