"""The cache's async methods (Django 4.0): ``await cache.aget(key)`` and friends.

Each ``a<name>()`` of ``BaseCache`` (so of every backend) awaits ``<name>()``
run in the view pool, as Django 4.0's base class does.
"""

from .coroutines import add_twins

__all__ = ["CACHE_TWINS", "install_cache"]

CACHE_TWINS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "get_or_set",
    "has_key",
    "incr",
    "decr",
    "set_many",
    "delete_many",
    "clear",
    "incr_version",
    "decr_version",
    "close",
)


def install_cache(base):
    """Add the a-methods to ``BaseCache`` (idempotent; ``touch`` only where it exists)."""
    add_twins(base.BaseCache, CACHE_TWINS)
