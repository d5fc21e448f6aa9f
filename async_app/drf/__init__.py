"""Coroutine handlers in Django REST framework 3.11 (the ``async_app[drf]`` extra).

Importing :mod:`async_app` registers :func:`install`: a post-import hook
that adapts DRF's own classes the moment the project imports them, so

    class ItemView(APIView):
        async def get(self, request): ...

works with ``rest_framework.views.APIView`` itself, as do ``async def``
actions of viewsets (``@action`` included), the generic views and
``@api_view`` on a coroutine function. Nothing here imports DRF: a project
without it pays for one entry in ``sys.meta_path``. A hook rather than base
classes of our own, because existing code, third-party packages and DRF's
own subclasses (``GenericAPIView``, the viewsets) all derive from DRF's
``APIView``; rather than an ``INSTALLED_APPS`` entry, because ``@api_view``
must be adapted before a project module binds the name, which can happen
before apps are ready.

What each module adds (see docs/drf.md):

* :mod:`async_app.drf.views`: ``APIView.dispatch`` picks, per request, DRF's
  sync dispatch (sync handler: unchanged) or ``async_dispatch`` (coroutine
  handler); ``@api_view`` and ``ViewSet.as_view`` expose coroutine handlers
  to the pipeline's ``is_async_view``.
* :mod:`async_app.drf.generics`: adrf's async helpers on ``GenericAPIView``
  and the model mixins (``aget_object``, ``alist``, ``acreate``, ...).
* :mod:`async_app.drf.serializers`: adrf's ``adata``, ``asave``, plus
  ``ais_valid``, on DRF's serializers.
"""

import importlib
import sys

__all__ = ["install", "installed_modules"]

# DRF module -> the async_app.drf module whose ``patch(module)`` adapts it.
_PATCHES = {
    "rest_framework.views": "async_app.drf.views",
    "rest_framework.decorators": "async_app.drf.views",
    "rest_framework.viewsets": "async_app.drf.views",
    "rest_framework.generics": "async_app.drf.generics",
    "rest_framework.mixins": "async_app.drf.generics",
    "rest_framework.serializers": "async_app.drf.serializers",
}

_patched = set()


def installed_modules():
    """The DRF modules adapted so far in this process."""
    return frozenset(_patched)


def _patch(module):
    name = module.__name__
    if name in _patched:
        return
    _patched.add(name)
    importlib.import_module(_PATCHES[name]).patch(module)


class _PatchingLoader:
    """A module's own loader, followed by our patch once the module has run."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _patch(module)

    def __getattr__(self, name):
        # get_data, get_filename, is_package, ...: the real loader's.
        return getattr(self._loader, name)


class _PostImportFinder:
    """A ``sys.meta_path`` entry that only wraps the loaders of ``_PATCHES``' modules."""

    def find_spec(self, fullname, path=None, target=None):
        """The spec the other finders give, with a patching loader."""
        if fullname not in _PATCHES:
            return None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


def install():
    """Adapt DRF's modules now if imported, and on import otherwise (idempotent)."""
    if not any(isinstance(finder, _PostImportFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PostImportFinder())
    for name in _PATCHES:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__spec__", None) is not None:
            _patch(module)
