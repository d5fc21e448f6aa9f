"""Django 5.2's async API on Django 1.11, each name where Django 5.2 puts it.

``import async_app`` calls :func:`apply`, which registers post-import hooks
(:func:`async_app.compat.when_imported`): when Django imports, say,
``django.db.models.query``, the hook adds ``QuerySet.aget`` and friends.
Nothing sync changes. One module per Django area; docs/django5-api.md lists
the whole surface with the Django version each name comes from.

Set ``ASYNC_APP_DJANGO5_API=0`` in the environment (read when ``async_app``
is first imported) for none of it.
"""

import importlib

from ..compat import switched_on, when_imported

__all__ = ["ENV_SWITCH", "HOOKS", "apply", "enabled"]

ENV_SWITCH = "ASYNC_APP_DJANGO5_API"

# Django module -> (backport module, function called with the Django module).
HOOKS = [
    ("django.core.exceptions", "db", "install_exceptions"),
    ("django.utils.deprecation", "middleware", "install_middleware_mixin"),
    ("django.utils.decorators", "middleware", "install_capability_decorators"),
    ("django.core.handlers.base", "handlers", "install_handler"),
    ("django.views.generic.base", "views", "install_view"),
    ("django.db.models.query", "query", "install_queryset"),
    ("django.db.models.manager", "query", "install_manager"),
    ("django.db.backends.base.features", "query", "install_features"),
    ("django.db.models.base", "models", "install_model"),
    ("django.db.models.fields.related_descriptors", "models", "install_related_managers"),
    ("django.contrib.contenttypes.fields", "models", "install_generic_related_managers"),
    ("django.dispatch.dispatcher", "signals", "install_signal"),
    ("django.core.cache.backends.base", "cache", "install_cache"),
    ("django.contrib.sessions.backends.base", "sessions", "install_session"),
    ("django.contrib.sessions.backends.cache", "sessions", "install_cache_session"),
    ("django.contrib.sessions.backends.cached_db", "sessions", "install_cache_session"),
    ("django.contrib.auth", "auth", "install_auth"),
    ("django.contrib.auth.hashers", "auth", "install_hashers"),
    ("django.contrib.auth.base_user", "auth", "install_base_user"),
    ("django.contrib.auth.models", "auth", "install_auth_models"),
    ("django.contrib.auth.backends", "auth", "install_backends"),
    ("django.contrib.auth.middleware", "auth", "install_auth_middleware"),
    ("django.contrib.auth.middleware", "auth", "install_remote_user_middleware"),
    ("django.test.testcases", "testcases", "install_testcases"),
    ("django.test.utils", "testcases", "install_test_utils"),
    ("django.test", "testcases", "install_test_package"),
    ("django.test.client", "testcases", "install_test_package"),
    ("django.test.client", "testcases", "install_client"),
    ("django.shortcuts", "shortcuts", "install_shortcuts"),
    ("django.utils", "db", "install_utils_asyncio"),
    ("django.utils.decorators", "decorators", "install_method_decorator"),
    ("django.views.decorators.http", "decorators", "install_http"),
    ("django.views.decorators.cache", "decorators", "install_cache_decorators"),
    ("django.views.decorators.vary", "decorators", "install_vary"),
    ("django.views.decorators.csrf", "decorators", "install_csrf"),
    ("django.views.decorators.clickjacking", "decorators", "install_clickjacking"),
    ("django.views.decorators.debug", "decorators", "install_debug"),
    ("django.views.debug", "debug", "install_exception_filter"),
    ("django.contrib.auth.decorators", "decorators", "install_auth_decorators"),
]


def enabled():
    """False when ``$ASYNC_APP_DJANGO5_API`` is ``0``, ``false``, ``no`` or ``off``."""
    return switched_on(ENV_SWITCH)


def _hook(backport, func_name):
    def run(module):
        getattr(importlib.import_module(__name__ + "." + backport), func_name)(module)

    return run


def apply():
    """Register the post-import hooks (idempotent), unless switched off."""
    if not enabled():
        return
    for django_module, backport, func_name in HOOKS:
        when_imported(
            django_module, "django5-%s.%s" % (backport, func_name), _hook(backport, func_name)
        )
