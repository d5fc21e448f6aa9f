"""URL resolving for the pipeline: the root urlconf's answers, cached per path.

Resolving walks every pattern with regular expressions; a path resolves the
same way until the urlconf changes (a new ``ROOT_URLCONF``,
``clear_url_caches()``: both give a new resolver object, which empties the
cache). Each request gets its own copy of a cached ``ResolverMatch``.
"""

from django.conf import settings
from django.urls import ResolverMatch, get_resolver, get_urlconf, set_urlconf

__all__ = ["ResolvedPaths", "view_call"]

# How many resolved paths of the root urlconf an application remembers.
RESOLVED_CACHE_SIZE = 2048


class ResolvedPaths:
    """A per-application cache of the root urlconf's matches."""

    __slots__ = ("_matches", "_resolver")

    def __init__(self):
        self._matches = {}
        self._resolver = None

    def root_match(self, path_info):
        """The root urlconf's match for ``path_info`` (None if none), cached per path."""
        resolver = get_resolver(settings.ROOT_URLCONF)
        matches = self._matches
        if self._resolver is not resolver:
            matches.clear()
            self._resolver = resolver
        try:
            return matches[path_info]
        except KeyError:
            pass
        try:
            match = resolver.resolve(path_info)
        except Exception:
            match = None  # 404 and the like: resolved again, and raised, by the pipeline
        if len(matches) < RESOLVED_CACHE_SIZE:
            matches[path_info] = match
        return match

    def resolve(self, request):
        """``_get_response``'s resolving (``request.urlconf`` honoured); sets ``resolver_match``."""
        if hasattr(request, "urlconf"):
            urlconf = request.urlconf
            set_urlconf(urlconf)
            resolver_match = get_resolver(urlconf).resolve(request.path_info)
        else:
            cached = None
            if get_urlconf() == settings.ROOT_URLCONF:
                cached = self.root_match(request.path_info)
            if cached is None:
                resolver_match = get_resolver().resolve(request.path_info)
            else:
                resolver_match = _copy_match(cached)
        request.resolver_match = resolver_match
        return resolver_match


def _copy_match(match):
    """A request's own copy of a cached ResolverMatch (views may change its containers)."""
    copy = ResolverMatch.__new__(ResolverMatch)
    copy.__dict__.update(match.__dict__)
    copy.args = tuple(match.args)
    copy.kwargs = dict(match.kwargs)
    copy.app_names = list(match.app_names)
    copy.namespaces = list(match.namespaces)
    return copy


def view_call(match):
    """``(callback, args, kwargs)`` of a resolver match.

    A ``ResolverMatch`` unpacks through its Python ``__getitem__``: four calls
    and an IndexError each time; its attributes are the same three values.
    """
    if type(match) is ResolverMatch:
        return match.func, match.args, match.kwargs
    callback, callback_args, callback_kwargs = match
    return callback, callback_args, callback_kwargs
