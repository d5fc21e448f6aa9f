"""``django.contrib.auth``'s async API (Django 5.0/5.2): ``alogin``, ``request.auser()``, ...

Each awaits Django 1.11's sync function or method run in the view pool, so
custom backends, user models and signals behave as in sync code.
"""

import functools

from .coroutines import add_twins, run_in_pool
from .debug import sealed_call, sensitive_coroutine

__all__ = [
    "aauthenticate",
    "acheck_password",
    "aget_user",
    "alogin",
    "alogout",
    "aupdate_session_auth_hash",
    "auser",
    "install_auth",
    "install_auth_middleware",
    "install_auth_models",
    "install_backends",
    "install_base_user",
    "install_hashers",
    "install_remote_user_middleware",
]

# Methods of users (PermissionsMixin, AnonymousUser) and of backends with a-twins.
PERMISSION_TWINS = (
    "get_user_permissions",
    "get_group_permissions",
    "get_all_permissions",
    "has_perm",
    "has_perms",
    "has_module_perms",
)
BACKEND_TWINS = ("authenticate", "get_user", "configure_user") + PERMISSION_TWINS


async def aauthenticate(request=None, **credentials):
    """Async ``authenticate()`` (Django 5.0); error reports hide the credentials, as 5.0's do."""
    return await sealed_call(_authenticate_hiding_credentials(), request, **credentials)


sensitive_coroutine(aauthenticate, ("credentials",))  # @sensitive_variables("credentials")


@functools.lru_cache(maxsize=None)
def _authenticate_hiding_credentials():
    # Django 1.11's authenticate() under a sensitive_variables("credentials")
    # frame, as 5.0's authenticate() is decorated; the sync authenticate()
    # itself is left as 1.11 has it.
    from django.contrib import auth
    from django.views.decorators.debug import sensitive_variables

    @sensitive_variables("credentials")
    def authenticate(request=None, **credentials):
        return auth.authenticate(request, **credentials)

    return authenticate


async def alogin(request, user, backend=None):
    """Async ``login()`` (Django 5.0)."""
    from django.contrib import auth

    return await run_in_pool(auth.login)(request, user, backend)


async def alogout(request):
    """Async ``logout()`` (Django 5.0)."""
    from django.contrib import auth

    return await run_in_pool(auth.logout)(request)


async def aget_user(request):
    """Async ``get_user()`` (Django 5.0)."""
    from django.contrib import auth

    return await run_in_pool(auth.get_user)(request)


async def aupdate_session_auth_hash(request, user):
    """Async ``update_session_auth_hash()`` (Django 5.0)."""
    from django.contrib import auth

    return await run_in_pool(auth.update_session_auth_hash)(request, user)


async def auser(request):
    """The request's user, loaded in the view pool once (``request.auser()``, Django 5.0)."""
    if not hasattr(request, "_acached_user"):
        request._acached_user = await aget_user(request)
    return request._acached_user


def _user_permissions(user, obj):
    # Django 3.0's PermissionsMixin.get_user_permissions(), which 1.11 lacks.
    from django.contrib import auth

    permissions = set()
    for backend in auth.get_backends():
        if hasattr(backend, "get_user_permissions"):
            permissions.update(backend.get_user_permissions(user, obj))
    return permissions


async def aget_user_permissions(self, obj=None):
    """The permissions the user has directly (Django 3.0's ``get_user_permissions``, awaited)."""
    if self.is_anonymous:
        return set()
    return await run_in_pool(_user_permissions)(self, obj)


async def acheck_password(password, encoded, setter=None, preferred="default"):
    """See ``check_password()`` (Django 5.0): run in the view pool; an upgrade awaits ``setter``."""
    from django.contrib.auth.hashers import check_password

    upgrade = []
    is_correct = await run_in_pool(check_password)(
        password, encoded, upgrade.append if setter else None, preferred
    )
    if setter and is_correct and upgrade:
        await setter(password)
    return is_correct


def install_hashers(hashers):
    """Add ``acheck_password`` to ``django.contrib.auth.hashers``."""
    if not hasattr(hashers, "acheck_password"):
        hashers.acheck_password = acheck_password


def install_auth(auth):
    """Add the async functions to ``django.contrib.auth``."""
    for func in (aauthenticate, alogin, alogout, aget_user, aupdate_session_auth_hash):
        if not hasattr(auth, func.__name__):
            setattr(auth, func.__name__, func)


def install_base_user(base_user):
    """``AbstractBaseUser.acheck_password``, ``BaseUserManager.aget_by_natural_key``."""
    add_twins(base_user.AbstractBaseUser, ("check_password",))
    add_twins(base_user.BaseUserManager, ("get_by_natural_key",))


def install_auth_models(models):
    """Permission twins on ``PermissionsMixin``/``AnonymousUser``, manager twins."""
    for cls in (models.PermissionsMixin, models.AnonymousUser):
        add_twins(cls, PERMISSION_TWINS)
        if "aget_user_permissions" not in cls.__dict__:
            cls.aget_user_permissions = aget_user_permissions
    add_twins(models.UserManager, ("create_user", "create_superuser"))
    add_twins(models.GroupManager, ("get_by_natural_key",))


def install_backends(backends):
    """a-twins on ``ModelBackend`` (and so its subclasses) and ``RemoteUserBackend``."""
    for cls in (backends.ModelBackend, backends.RemoteUserBackend):
        add_twins(cls, BACKEND_TWINS)


def install_auth_middleware(middleware):
    """``AuthenticationMiddleware`` also sets ``request.auser`` (Django 5.0)."""
    cls = middleware.AuthenticationMiddleware
    if cls.__dict__.get("_async_app_backport"):  # not inherited: each class once
        return
    sync_process_request = cls.process_request

    def process_request(self, request):
        sync_process_request(self, request)
        request.auser = functools.partial(auser, request)

    process_request.__doc__ = sync_process_request.__doc__
    cls.process_request = process_request
    cls._async_app_backport = True


async def aprocess_request(self, request):
    """``RemoteUserMiddleware.aprocess_request`` (Django 5.1), for the middleware's async mode.

    As 5.1's, it reads ``request.META["HTTP_" + self.header]`` (ASGI has no
    ``REMOTE_USER``); the sync ``process_request`` reads ``META[self.header]``.
    """
    from django.contrib import auth
    from django.core.exceptions import ImproperlyConfigured

    # AuthenticationMiddleware is required so that request.user exists.
    if not hasattr(request, "user"):
        raise ImproperlyConfigured(
            "The Django remote user auth middleware requires the"
            " authentication middleware to be installed. Edit your"
            " MIDDLEWARE setting to insert"
            " 'django.contrib.auth.middleware.AuthenticationMiddleware'"
            " before the RemoteUserMiddleware class."
        )
    try:
        username = request.META["HTTP_" + self.header]
    except KeyError:
        # No header: remove an authenticated remote user, or leave the
        # AnonymousUser that AuthenticationMiddleware set.
        if self.force_logout_if_no_header:
            user = await request.auser()
            if user.is_authenticated:
                await self._aremove_invalid_user(request)
        return
    user = await request.auser()
    # Already authenticated as the header's user: persisted in the session.
    if user.is_authenticated:
        if user.get_username() == self.clean_username(username, request):
            return
        # Authenticated as someone else than the header says.
        await self._aremove_invalid_user(request)
    user = await auth.aauthenticate(request, remote_user=username)
    if user:
        request.user = user
        await auth.alogin(request, user)


async def _aremove_invalid_user(self, request):
    """Log the request's user out, but only if a ``RemoteUserBackend`` authenticated them (5.1)."""
    from django.contrib import auth
    from django.contrib.auth.backends import RemoteUserBackend

    try:
        stored_backend = auth.load_backend(await request.session.aget(auth.BACKEND_SESSION_KEY, ""))
    except ImportError:
        await auth.alogout(request)  # the backend failed to load
    else:
        if isinstance(stored_backend, RemoteUserBackend):
            await auth.alogout(request)


def install_remote_user_middleware(middleware):
    """``RemoteUserMiddleware.aprocess_request`` and its ``__acall__`` (Django 5.1).

    Used only in the middleware's async mode (built with a coroutine
    ``get_response``, as Django 5.2's ASGI handler builds it). async_app's
    pipeline hands this hybrid middleware a sync ``get_response`` and runs
    1.11's sync ``process_request``, so what it reads does not change.
    """
    from .middleware import mixin_acall

    cls = middleware.RemoteUserMiddleware
    if "aprocess_request" in cls.__dict__:
        return

    async def __acall__(self, request):
        own = type(self)
        if (
            own.process_request is not cls.process_request
            and own.aprocess_request is cls.aprocess_request
        ):
            # A subclass with its own process_request only: that runs, in the
            # view pool (5.2 deprecates this, 6.1 drops it).
            return await mixin_acall(self, request)
        await self.aprocess_request(request)
        return await self.get_response(request)

    cls.__acall__ = __acall__
    cls.aprocess_request = aprocess_request
    cls._aremove_invalid_user = _aremove_invalid_user
