"""The session's async methods (Django 5.0): ``await request.session.aget(key)`` ...

Each awaits the sync method run in the view pool, so every backend (and
custom ones) works; ``aset(key, value)`` is ``session[key] = value``.
"""

from .coroutines import add_twins, async_twin, run_in_pool

__all__ = ["SESSION_TWINS", "install_cache_session", "install_session"]

SESSION_TWINS = (
    "get",
    "pop",
    "setdefault",
    "set_test_cookie",
    "test_cookie_worked",
    "delete_test_cookie",
    "update",
    "has_key",
    "keys",
    "values",
    "items",
    "get_expiry_age",
    "get_expiry_date",
    "set_expiry",
    "get_expire_at_browser_close",
    "flush",
    "cycle_key",
    "exists",
    "create",
    "save",
    "delete",
    "load",
)


async def _aclear_expired(cls):
    """Async ``clear_expired()`` (a classmethod)."""
    return await run_in_pool(cls.clear_expired)()


async def _acache_key(self):
    """Async ``cache_key`` (a property in Django 1.11) of the cache backends (Django 5.0)."""
    return await run_in_pool(lambda: self.cache_key)()


def install_cache_session(backend):
    """``SessionStore.acache_key()`` of the ``cache`` and ``cached_db`` backends."""
    if "acache_key" not in backend.SessionStore.__dict__:
        backend.SessionStore.acache_key = _acache_key


def install_session(base):
    """Add the a-methods to ``SessionBase`` (idempotent)."""
    SessionBase = base.SessionBase
    if SessionBase.__dict__.get("_async_app_backport"):  # not inherited: each class once
        return
    add_twins(SessionBase, SESSION_TWINS)
    aset = async_twin("__setitem__", "Async ``session[key] = value``.")
    aset.__name__ = aset.__qualname__ = "aset"
    SessionBase.aset = aset
    SessionBase.aclear_expired = classmethod(_aclear_expired)
    SessionBase._async_app_backport = True
