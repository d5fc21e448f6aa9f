"""Shims that let Django 1.11.29 run on Python 3.8-3.13, and the
``asyncio.coroutine`` polyfill.

:func:`apply` installs them. ``import async_app`` calls it before anything
imports Django, and the ``async_app_compat.pth`` startup hook calls it at
interpreter start in every process of an environment where async_app is
installed (an untouched ``manage.py``, ``django-admin``, the subprocesses that
Django's commands and tests spawn). The hook loads this file by path under the
private name ``_async_app_compat_startup``, so the ``async_app`` package is not
imported and an installed copy never shadows a checkout.

Each shim is applied only where the running Python lacks what Django needs
(a cheap version gate, then a check of the real thing when the module is
imported), and each checks the *patched state* first, so ``apply()`` is
idempotent even across two copies of this file (startup hook + checkout).
Nothing imports Django: shims for Django modules (and for the stdlib modules
that are not always loaded) run from a post-import hook, a ``sys.meta_path``
finder that wraps the loader of exactly those modules.

======================================  =========  ==========================================
shim                                    Python     why
======================================  =========  ==========================================
``collections.Mapping`` etc. aliases    3.10+      the ABC aliases were removed; Django's
                                                   query, fields, migrations and paginator use
                                                   ``collections.Iterator``/``Iterable``/
                                                   ``Sequence``, so ``import django.db`` fails
``gettext`` ``set_output_charset()``    3.11+      removed; ``DjangoTranslation.__init__`` and
and ``translation(codeset=)``                      ``_new_gnu_trans`` call them (i18n breaks)
global regex flags in URL patterns      3.11+      ``(?i)`` not at the very start is an error;
(``django.urls.resolvers``)                        ``url(r'^(?i)x')`` and ``reverse()`` (which
                                                   prepends ``^prefix``) break. Flags are moved
                                                   to the front, the old semantics;
                                                   ``regex.pattern`` keeps the text as written
``URLValidator``: reject ``\\t\\r\\n``  every      ``urlsplit`` strips them (bpo-43882), so
                                        Python     ``http://x.com/\\n`` passed via the IDN
                                        whose      retry: CVE-2021-32052, fixed in Django 2.2.21
                                        urlsplit   but never in 1.11. A security fix, so it is
                                        strips     also applied on 3.7 (3.7.11+ strips)
                                        them
``URLValidator``: ``ValueError`` ->     3.11.4+    ``urlsplit`` validates bracketed hosts with
``ValidationError``                     (and       ``ipaddress`` and raises ``ValueError``
                                        backports) (``http://[1.2.3.4]``), a 500 instead of
                                                   "Enter a valid URL"
``find_module()`` fallback finder       3.12+      the import system stopped calling
                                                   ``find_module()``; Django's bundled six and
                                                   django-wsgi's six 1.10 only have it, so
                                                   ``django.utils.six.moves`` fails to import.
                                                   One finder appended to ``sys.meta_path``
                                                   adapts every find_module-only finder
``smtplib`` ``keyfile``/``certfile``    3.12+      removed from ``SMTP.starttls()`` and
                                                   ``SMTP_SSL()``; Django's SMTP backend always
                                                   passes them (``EMAIL_USE_TLS``/``_SSL``)
``RemoteTestResult.addDuration``        3.12+      unittest reports durations; Django's
                                                   parallel runner's result lacks the method
                                                   (a RuntimeWarning per test). Django 1.11
                                                   has no use for them: a no-op
``SafeMIMEText.set_payload``            3.13.0     the email generator hands surrogate-escaped
surrogates                              (probed)   bodies back to ``set_payload``, which raised
                                                   UnicodeEncodeError for any non-ASCII body
psycopg2 2.9 UTC offset in Django's     every      2.9 passes the connection's offset to
PostgreSQL backend                      Python     ``tzinfo_factory`` as a timedelta; 1.11
(``utc_tzinfo_factory``)                           compares it with 0 ("database connection
                                                   isn't set to UTC" under ``USE_TZ``)
find_module()-only path-entry finders   3.12+      ``PathFinder`` calls ``find_spec()`` on every
(``sys.path_hooks``)                               ``sys.path_hooks`` finder; 3.11's legacy
                                                   fallback, per finder
``zipimporter.find_module``/            3.12+      removed; restored on top of ``find_spec()``
``find_loader``
``datetime.utcnow()``/                  3.12+      deprecated (a warning per ``timezone.now()``
``utcfromtimestamp()`` in Django                   under ``USE_TZ``), slated for removal; the
modules, ``set_cookie(expires=dt)``                modules get a ``datetime`` stand-in with
                                                   warning-free equivalents
``glob.glob1`` in the file cache        3.12+      deprecated (3.13); same semantics, no warning
``override_settings`` warning's         3.12+      ``Signal.send``'s comprehension is inlined
stacklevel (``django.test.signals``)               (PEP 709): one frame fewer, the warning
                                                   pointed into unittest, not the caller
``asyncio.coroutine``                   3.11+      removed; restored (also as
                                                   ``asyncio.coroutines.coroutine``) so legacy
                                                   ``@asyncio.coroutine`` views still work
``cgi`` module                          3.13+      removed; the ``legacy-cgi`` dependency
                                                   provides it (no patch here)
``crypt`` module                        3.13+      removed; the ``crypt-r`` dependency
                                                   provides it for ``CryptPasswordHasher``
                                                   (no patch here)
======================================  =========  ==========================================

Generator-based coroutines on 3.12+: ``asyncio.create_task()`` and
``asyncio.run()`` refuse a bare generator coroutine ("a coroutine was
expected"). Await it from ``async def``, ``yield from`` it, or pass it to
``asyncio.ensure_future()`` / ``loop.run_until_complete()``, which wrap it.
"""

import sys

# Every object this module installs carries this attribute (its value names
# the shim), so any copy of this file can tell that a shim is already in place.
_ROLE = "_async_app_compat_role"

__all__ = ["apply", "coroutine"]


# --------------------------------------------------------------------------
# post-import hooks
# --------------------------------------------------------------------------


class _PostImportFinder:
    """Meta-path finder that runs patch functions right after given modules execute.

    It only answers for module names with registered hooks: it asks the finders
    after it for the real spec and wraps that spec's loader.
    """

    _async_app_compat_role = "post-import"

    def __init__(self):
        self.hooks = {}  # module name -> [(key, func)]

    def add(self, name, key, func):
        """Register ``func(module)`` under ``key``; False if ``key`` is already there."""
        entries = self.hooks.setdefault(name, [])
        if any(k == key for k, _ in entries):
            return False
        entries.append((key, func))
        return True

    def find_spec(self, fullname, path=None, target=None):
        """Return the spec the other finders give, with a loader that runs the hooks."""
        hooks = self.hooks.get(fullname)
        if not hooks:
            return None
        meta_path = list(sys.meta_path)
        try:
            later = meta_path[meta_path.index(self) + 1 :]
        except ValueError:
            return None
        for finder in later:
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _PostImportLoader(spec.loader, hooks)
        return spec


class _PostImportLoader:
    """Loader wrapper: execute the module with the real loader, then run the hooks."""

    def __init__(self, loader, hooks):
        self.loader = loader
        self.hooks = hooks

    def __getattr__(self, name):
        return getattr(self.loader, name)

    def create_module(self, spec):
        create_module = getattr(self.loader, "create_module", None)
        return create_module(spec) if create_module is not None else None

    def exec_module(self, module):
        # Hand the real loader back to the module before its code runs, so
        # nothing (linecache, importlib.resources, reload) ever sees the wrapper.
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self.loader
        if getattr(module, "__loader__", None) is self:
            module.__loader__ = self.loader
        self.loader.exec_module(module)
        for key, func in list(self.hooks):
            _run_hook(key, func, module)


def _run_hook(key, func, module):
    try:
        func(module)
    except Exception as exc:  # a broken shim must not break the import itself
        import warnings

        warnings.warn(
            "async_app.compat: shim %r failed on %s: %r" % (key, module.__name__, exc),
            RuntimeWarning,
        )


def _installed(role):
    for finder in sys.meta_path:
        if getattr(finder, _ROLE, None) == role:
            return finder
    return None


def _when_imported(name, key, func):
    """Run ``func(module)`` now if ``name`` is imported, else right after it is."""
    finder = _installed("post-import")
    if finder is None:
        finder = _PostImportFinder()
        sys.meta_path.insert(0, finder)
    if not finder.add(name, key, func):
        return  # registered (and run, if the module was loaded) by some copy already
    module = sys.modules.get(name)
    if module is not None:
        _run_hook(key, func, module)


# --------------------------------------------------------------------------
# 3.10: collections ABC aliases
# --------------------------------------------------------------------------


def _patch_collections(collections):
    import _collections_abc

    for name in _collections_abc.__all__:
        if not name.startswith("_") and not hasattr(collections, name):
            setattr(collections, name, getattr(_collections_abc, name))


# --------------------------------------------------------------------------
# 3.11: gettext output charset / codeset
# --------------------------------------------------------------------------


def _patch_gettext(gettext):
    import functools

    null = gettext.NullTranslations
    if not hasattr(null, "set_output_charset"):

        def set_output_charset(self, charset):
            """Record the charset (it has had no effect since Python 3.11)."""
            self._output_charset = charset

        def output_charset(self):
            """Return the charset recorded by set_output_charset()."""
            return getattr(self, "_output_charset", None)

        set_output_charset._async_app_compat_role = "gettext-codeset"
        null.set_output_charset = set_output_charset
        null.output_charset = output_charset

    original = gettext.translation
    code = original.__code__
    if "codeset" not in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]:

        @functools.wraps(original)
        def translation(
            domain, localedir=None, languages=None, class_=None, fallback=False, codeset=None
        ):
            t = original(domain, localedir, languages, class_, fallback)
            if codeset is not None:
                t.set_output_charset(codeset)
            return t

        translation._async_app_compat_role = "gettext-codeset"
        gettext.translation = translation


# --------------------------------------------------------------------------
# 3.11: global inline regex flags anywhere in a URL pattern
# --------------------------------------------------------------------------

_FLAG_CHARS = frozenset("aiLmsux")


def _hoist_global_flags(pattern):
    """Move global inline flags such as ``(?i)`` to the front of ``pattern``.

    Before 3.11 a global flag group anywhere applied to the whole pattern; 3.11
    only accepts them at the very start. Returns ``pattern`` itself when there
    is nothing to move (and for anything that is not ``str``).
    """
    if not isinstance(pattern, str) or "(?" not in pattern:
        return pattern
    out = []
    flags = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            # ']' first in a class ('[]x]', '[^]x]') is a literal
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
            if pattern.startswith("]", i):
                out.append("]")
                i += 1
            continue
        if c == "(" and pattern.startswith("?", i + 1):
            j = i + 2
            while j < n and pattern[j] in _FLAG_CHARS:
                j += 1
            if j > i + 2 and j < n and pattern[j] == ")":
                flags.append(pattern[i + 2 : j])
                i = j + 1
                continue
        out.append(c)
        i += 1
    if not flags:
        return pattern
    letters = "".join(sorted(set("".join(flags))))
    hoisted = "(?%s)%s" % (letters, "".join(out))
    return pattern if hoisted == pattern else hoisted


_hoist_cache = {}  # pattern -> hoisted text, or None when unchanged


def _hoisted_or_none(pattern):
    # reverse() searches with a freshly concatenated pattern on every call.
    try:
        return _hoist_cache[pattern]
    except (KeyError, TypeError):
        pass
    hoisted = _hoist_global_flags(pattern)
    result = None if hoisted is pattern else hoisted
    if isinstance(pattern, str) and len(_hoist_cache) < 4096:
        _hoist_cache[pattern] = result
    return result


def _compile_hoisted(pattern, flags=0):
    import re

    return _HoistedPattern(re.compile(_hoist_global_flags(pattern), flags), pattern)


class _HoistedPattern:
    """A compiled pattern whose global flags were moved to the front.

    ``pattern`` stays the text as written: Django's resolver slices and
    concatenates it (``startswith('^')``, parent + child, ``normalize()``).
    Everything else is the real compiled pattern's.
    """

    __slots__ = ("_compiled", "pattern")

    def __init__(self, compiled, pattern):
        object.__setattr__(self, "_compiled", compiled)
        object.__setattr__(self, "pattern", pattern)

    def __getattr__(self, name):
        return getattr(object.__getattribute__(self, "_compiled"), name)

    def __repr__(self):
        return "re.compile(%r)" % (self.pattern,)

    def __eq__(self, other):
        if isinstance(other, _HoistedPattern):
            return self.pattern == other.pattern and self._compiled == other._compiled
        return NotImplemented

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self):
        return hash(self._compiled)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return _compile_hoisted, (self.pattern, self._compiled.flags)


class _GlobalFlagsRe:
    """Stand-in for ``re`` inside ``django.urls.resolvers``: hoists global flags."""

    _async_app_compat_role = "url-regex-flags"

    def __init__(self, re_module):
        self._re = re_module

    def __getattr__(self, name):
        return getattr(self._re, name)

    def compile(self, pattern, flags=0):
        if isinstance(pattern, _HoistedPattern):
            return pattern
        hoisted = _hoisted_or_none(pattern)
        if hoisted is None:
            return self._re.compile(pattern, flags)
        return _HoistedPattern(self._re.compile(hoisted, flags), pattern)

    def search(self, pattern, string, flags=0):
        return self._re.search(_hoisted_or_none(pattern) or pattern, string, flags)

    def match(self, pattern, string, flags=0):
        return self._re.match(_hoisted_or_none(pattern) or pattern, string, flags)

    def fullmatch(self, pattern, string, flags=0):
        return self._re.fullmatch(_hoisted_or_none(pattern) or pattern, string, flags)


def _patch_url_resolvers(resolvers):
    current = resolvers.re
    if getattr(current, _ROLE, None) != "url-regex-flags":
        resolvers.re = _GlobalFlagsRe(current)


# --------------------------------------------------------------------------
# URLValidator: CVE-2021-32052 (every Python that strips) and 3.11.4+ ValueError
# --------------------------------------------------------------------------

_UNSAFE_URL_CHARS = frozenset("\t\r\n")


def _urlsplit_changes():
    """Return (strips_tab_cr_lf, raises_for_bad_bracketed_host) for this Python."""
    from urllib.parse import urlsplit

    strips = urlsplit("http://example.com/\n").path == "/"
    try:
        urlsplit("http://[1.2.3.4]/")
    except ValueError:
        raises = True
    else:
        raises = False
    return strips, raises


def _patch_url_validator(validators):
    import functools

    cls = validators.URLValidator
    original = cls.__call__
    if getattr(original, _ROLE, None) == "url-validator":
        return
    strips, raises = _urlsplit_changes()
    if not (strips or raises):
        return
    ValidationError = validators.ValidationError
    force_text = validators.force_text

    @functools.wraps(original)
    def __call__(self, value):
        if strips and _UNSAFE_URL_CHARS.intersection(force_text(value)):
            raise ValidationError(self.message, code=self.code)
        if not raises:
            return original(self, value)
        try:
            return original(self, value)
        except ValueError:  # urlsplit() rejecting a bracketed host
            raise ValidationError(self.message, code=self.code)

    __call__._async_app_compat_role = "url-validator"
    cls.__call__ = __call__


# --------------------------------------------------------------------------
# 3.12: find_module()-only meta-path finders (six)
# --------------------------------------------------------------------------


class _FindModuleFallbackFinder:
    """Last meta-path finder: asks find_module()-only finders, as Python < 3.12 did.

    Python 3.12 skips meta-path finders without ``find_spec()``. Django's
    bundled six and six 1.10 register such a finder for ``six.moves``.
    """

    _async_app_compat_role = "find-module-fallback"

    def find_spec(self, fullname, path=None, target=None):
        """Return a spec for the first find_module()-only finder that knows ``fullname``."""
        for finder in list(sys.meta_path):
            if finder is self or hasattr(finder, "find_spec"):
                continue
            find_module = getattr(finder, "find_module", None)
            if find_module is None:
                continue
            loader = find_module(fullname, path)
            if loader is not None:
                import importlib.util

                return importlib.util.spec_from_loader(fullname, loader)
        return None


def _install_find_module_fallback():
    if _installed("find-module-fallback") is None:
        sys.meta_path.append(_FindModuleFallbackFinder())


# --------------------------------------------------------------------------
# 3.12: find_module()-only path-entry finders (sys.path_hooks), zipimporter
# --------------------------------------------------------------------------


class _FindModulePathEntryFinder:
    """Gives a find_module()/find_loader()-only path-entry finder ``find_spec()``.

    Python 3.12's ``PathFinder`` calls ``find_spec()`` on every path-entry
    finder; 3.11 fell back to ``find_loader()``/``find_module()``. This is
    3.11's fallback (``PathFinder._legacy_get_spec``), per finder.
    """

    _async_app_compat_role = "path-entry-find-module"

    def __init__(self, finder):
        self.finder = finder

    def find_spec(self, fullname, target=None):
        """The spec for ``fullname`` from the wrapped finder's legacy methods."""
        import importlib.machinery
        import importlib.util

        if hasattr(self.finder, "find_loader"):
            loader, portions = self.finder.find_loader(fullname)
        else:
            loader, portions = self.finder.find_module(fullname), []
        if loader is not None:
            return importlib.util.spec_from_loader(fullname, loader)
        spec = importlib.machinery.ModuleSpec(fullname, None)
        spec.submodule_search_locations = portions
        return spec

    def invalidate_caches(self):
        """Forward to the wrapped finder, if it has caches."""
        invalidate = getattr(self.finder, "invalidate_caches", None)
        if invalidate is not None:
            invalidate()


def _patch_path_finder():
    from importlib.machinery import PathFinder

    lookup = getattr(PathFinder, "_path_importer_cache", None)
    if lookup is None or getattr(lookup, _ROLE, None) == "path-entry-find-module":
        return
    original = lookup.__func__

    def _path_importer_cache(cls, path):
        finder = original(cls, path)
        if (
            finder is not None
            and not hasattr(finder, "find_spec")
            and (hasattr(finder, "find_module") or hasattr(finder, "find_loader"))
        ):
            # sys.path_importer_cache keeps the finder as the hook made it.
            return _FindModulePathEntryFinder(finder)
        return finder

    _path_importer_cache._async_app_compat_role = "path-entry-find-module"
    PathFinder._path_importer_cache = classmethod(_path_importer_cache)


def _patch_zipimport(zipimport):
    cls = zipimport.zipimporter
    if hasattr(cls, "find_module"):
        return

    def find_loader(self, fullname, path=None):
        """``(loader, portions)`` for ``fullname`` in this archive (removed in 3.12)."""
        spec = self.find_spec(fullname)
        if spec is None:
            return None, []
        if spec.loader is None:  # a namespace package portion
            return None, list(spec.submodule_search_locations or ())
        return self, []

    def find_module(self, fullname, path=None):
        """This importer if ``fullname`` is in the archive, else None (removed in 3.12)."""
        return self.find_loader(fullname, path)[0]

    find_loader._async_app_compat_role = "zipimporter-find-module"
    find_module._async_app_compat_role = "zipimporter-find-module"
    cls.find_loader = find_loader
    cls.find_module = find_module


# --------------------------------------------------------------------------
# 3.12: datetime.utcnow()/utcfromtimestamp() and glob.glob1 in Django
# --------------------------------------------------------------------------


class _UTCDatetimeClass:
    """Stand-in for the ``datetime`` class in a Django module.

    ``utcnow()`` and ``utcfromtimestamp()`` warn on 3.12+ (and are slated for
    removal); these give the same naive UTC values through ``now(utc)`` /
    ``fromtimestamp(ts, utc)``. Everything else, ``isinstance()`` included, is
    the real class's.
    """

    _async_app_compat_role = "datetime-utc"

    def __init__(self, cls):
        object.__setattr__(self, "_cls", cls)

    def __getattr__(self, name):
        return getattr(object.__getattribute__(self, "_cls"), name)

    def __call__(self, *args, **kwargs):
        return self._cls(*args, **kwargs)

    def __instancecheck__(self, obj):
        return isinstance(obj, self._cls)

    def __subclasscheck__(self, cls):
        return issubclass(cls, self._cls)

    def __repr__(self):
        return repr(self._cls)

    def utcnow(self):
        """The current UTC date and time, naive (``datetime.utcnow()``)."""
        import datetime

        return self._cls.now(datetime.timezone.utc).replace(tzinfo=None)

    def utcfromtimestamp(self, timestamp):
        """The naive UTC date and time of a POSIX timestamp."""
        import datetime

        return self._cls.fromtimestamp(timestamp, datetime.timezone.utc).replace(tzinfo=None)


class _UTCDatetimeModule:
    """Stand-in for the ``datetime`` module in a Django module: its ``datetime`` is a
    :class:`_UTCDatetimeClass`."""

    _async_app_compat_role = "datetime-utc"

    def __init__(self, module):
        self._module = module
        self.datetime = _UTCDatetimeClass(module.datetime)

    def __getattr__(self, name):
        return getattr(self._module, name)

    def __repr__(self):
        return repr(self._module)


def _patch_datetime_global(module):
    import datetime

    current = module.__dict__.get("datetime")
    if getattr(current, _ROLE, None) == "datetime-utc":
        return
    if current is datetime.datetime:
        module.datetime = _UTCDatetimeClass(current)
    elif current is datetime:
        module.datetime = _UTCDatetimeModule(current)


# Django modules that call datetime.utcnow()/utcfromtimestamp() on the class
# (HttpResponseBase.set_cookie calls it on an instance: _patch_set_cookie).
_UTC_DATETIME_MODULES = (
    "django.utils.timezone",
    "django.core.cache.backends.db",
    "django.core.files.storage",
    "django.contrib.sessions.backends.file",
    "django.utils.feedgenerator",
    "django.utils.version",
)


def _patch_set_cookie(response):
    import datetime
    import functools

    cls = response.HttpResponseBase
    original = cls.set_cookie
    if getattr(original, _ROLE, None) == "datetime-utc":
        return
    timezone = response.timezone

    @functools.wraps(original)
    def set_cookie(self, key, value="", max_age=None, expires=None, *args, **kwargs):
        if isinstance(expires, datetime.datetime):
            # Django 1.11's own conversion, with a naive UTC "now" that does
            # not come from expires.utcnow() (deprecated in 3.12).
            if timezone.is_aware(expires):
                expires = timezone.make_naive(expires, timezone.utc)
            now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
            delta = expires - now + datetime.timedelta(seconds=1)
            max_age, expires = max(0, delta.days * 86400 + delta.seconds), None
        return original(self, key, value, max_age, expires, *args, **kwargs)

    set_cookie._async_app_compat_role = "datetime-utc"
    cls.set_cookie = set_cookie


def _glob1(dirname, pattern):
    """``glob.glob1`` (deprecated in 3.13): names in ``dirname`` that match ``pattern``.

    Hidden names only match a pattern that starts with a dot; an unreadable
    or missing directory has no names.
    """
    import fnmatch
    import os

    try:
        names = os.listdir(dirname or os.curdir)
    except OSError:
        return []
    if not pattern.startswith("."):
        names = [name for name in names if not name.startswith(".")]
    return fnmatch.filter(names, pattern)


class _Glob1Module:
    """Stand-in for ``glob`` in Django's file-based cache: a ``glob1`` that does not warn."""

    _async_app_compat_role = "glob-glob1"

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        return getattr(self._module, name)

    @staticmethod
    def glob1(dirname, pattern):
        """Names in ``dirname`` matching ``pattern`` (``glob.glob1`` without the warning)."""
        return _glob1(dirname, pattern)


def _patch_django_filebased_cache(filebased):
    if getattr(filebased.glob, _ROLE, None) != "glob-glob1":
        filebased.glob = _Glob1Module(filebased.glob)


# --------------------------------------------------------------------------
# 3.12: inlined comprehensions (PEP 709) and override_settings' warning
# --------------------------------------------------------------------------


def _patch_django_test_signals(signals):
    import os
    import warnings

    original = signals.complex_setting_changed
    if getattr(original, _ROLE, None) == "override-warning-stacklevel":
        return

    test_utils = os.path.join("django", "test", "utils.py")

    def caller_stacklevel():
        # The first frame above override_settings' own (django/test/utils.py).
        frame, level, seen = sys._getframe(1), 1, False
        while frame is not None:
            inside = frame.f_code.co_filename.endswith(test_utils)
            if seen and not inside:
                return level
            seen = seen or inside
            frame, level = frame.f_back, level + 1
        return 6

    def complex_setting_changed(**kwargs):
        """Django 1.11's warning for overriding a complex setting, pointing at the caller.

        Django counts 6 frames up to the ``override_settings`` line; one of
        them was ``Signal.send``'s list comprehension, which Python 3.12
        inlines (PEP 709), so the warning landed in unittest instead. The
        frames are counted here instead (``Signal.send`` may be wrapped too).
        """
        if kwargs["enter"] and kwargs["setting"] in signals.COMPLEX_OVERRIDE_SETTINGS:
            warnings.warn(
                "Overriding setting %s can lead to unexpected behavior." % kwargs["setting"],
                stacklevel=caller_stacklevel(),
            )

    complex_setting_changed._async_app_compat_role = "override-warning-stacklevel"
    signals.setting_changed.disconnect(original)
    signals.setting_changed.connect(complex_setting_changed)
    signals.complex_setting_changed = complex_setting_changed


# --------------------------------------------------------------------------
# 3.12: smtplib keyfile/certfile
# --------------------------------------------------------------------------


def _context_from_files(context, keyfile, certfile):
    # Same checks and context as Python 3.11's smtplib.
    if keyfile is None and certfile is None:
        return context
    if context is not None:
        raise ValueError("context and keyfile/certfile arguments are mutually exclusive")
    import warnings

    warnings.warn(
        "keyfile and certfile are deprecated, use a custom context instead", DeprecationWarning, 3
    )
    import ssl

    return ssl._create_stdlib_context(certfile=certfile, keyfile=keyfile)


def _patch_smtplib(smtplib):
    import functools

    smtp = smtplib.SMTP
    if "keyfile" not in smtp.starttls.__code__.co_varnames:
        original_starttls = smtp.starttls

        @functools.wraps(original_starttls)
        def starttls(self, keyfile=None, certfile=None, context=None):
            return original_starttls(self, context=_context_from_files(context, keyfile, certfile))

        starttls._async_app_compat_role = "smtplib-keyfile"
        smtp.starttls = starttls

    smtp_ssl = getattr(smtplib, "SMTP_SSL", None)  # absent without the ssl module
    if smtp_ssl is not None and "keyfile" not in smtp_ssl.__init__.__code__.co_varnames:
        original_init = smtp_ssl.__init__
        default_timeout = smtplib.socket._GLOBAL_DEFAULT_TIMEOUT

        @functools.wraps(original_init)
        def __init__(
            self,
            host="",
            port=0,
            local_hostname=None,
            keyfile=None,
            certfile=None,
            timeout=default_timeout,
            source_address=None,
            context=None,
        ):
            context = _context_from_files(context, keyfile, certfile)
            original_init(
                self,
                host,
                port,
                local_hostname,
                timeout=timeout,
                source_address=source_address,
                context=context,
            )

        __init__._async_app_compat_role = "smtplib-keyfile"
        smtp_ssl.__init__ = __init__


# --------------------------------------------------------------------------
# 3.12: django.test.runner.RemoteTestResult.addDuration
# --------------------------------------------------------------------------


def _patch_django_test_runner(runner):
    import unittest

    cls = runner.RemoteTestResult
    if hasattr(unittest.TestResult, "addDuration") and not hasattr(cls, "addDuration"):

        def addDuration(self, test, elapsed):
            """Accept unittest's test duration (3.12+) and drop it.

            Django 1.11 has no use for durations, and recording an event would
            change the event stream its parallel runner replays.
            """

        addDuration._async_app_compat_role = "remote-test-result-duration"
        cls.addDuration = addDuration


# --------------------------------------------------------------------------
# 3.13.0: surrogate-escaped bodies handed back to SafeMIMEText.set_payload
# --------------------------------------------------------------------------


def _patch_django_mail_message(message):
    cls = message.SafeMIMEText
    if getattr(cls.set_payload, _ROLE, None) == "mail-surrogates":
        return
    try:
        cls("\xe9", "plain", "utf-8").as_string()  # Generator, not BytesGenerator, trips
    except UnicodeEncodeError:
        pass
    else:
        return  # this Python's email generator does not trip Django
    mime_text = message.MIMEText
    limit = message.RFC5322_EMAIL_LINE_LENGTH_LIMIT
    charset_8bit, charset_qp = message.utf8_charset, message.utf8_charset_qp

    def set_payload(self, payload, charset=None):
        """Django 1.11's set_payload, measuring lines of surrogate-escaped bodies too."""
        if charset == "utf-8":
            has_long_lines = any(
                len(line.encode("utf-8", "surrogateescape")) > limit
                for line in payload.splitlines()
            )
            # Quoted-Printable shortens long lines (Django #22561).
            charset = charset_qp if has_long_lines else charset_8bit
        mime_text.set_payload(self, payload, charset=charset)

    set_payload._async_app_compat_role = "mail-surrogates"
    cls.set_payload = set_payload


# --------------------------------------------------------------------------
# psycopg2 2.9: the connection's UTC offset arrives as a timedelta
# --------------------------------------------------------------------------


def _utc_tzinfo_factory_for(utc):
    import datetime

    zero = datetime.timedelta(0)

    def utc_tzinfo_factory(offset):
        """Django 1.11's check that the connection is on UTC, for psycopg2 2.8 and 2.9.

        psycopg2 < 2.9 passes the offset in minutes (an int), 2.9 a timedelta.
        """
        if offset != 0 and offset != zero:
            raise AssertionError("database connection isn't set to UTC")
        return utc

    utc_tzinfo_factory._async_app_compat_role = "psycopg2-utc-offset"
    return utc_tzinfo_factory


def _patch_django_postgresql_utils(utils):
    if getattr(utils.utc_tzinfo_factory, _ROLE, None) != "psycopg2-utc-offset":
        utils.utc_tzinfo_factory = _utc_tzinfo_factory_for(utils.utc)


def _patch_django_postgresql_base(base):
    # base did ``from .utils import utc_tzinfo_factory``: normally the patched
    # one, unless utils was imported before the shims were applied.
    if getattr(base.utc_tzinfo_factory, _ROLE, None) != "psycopg2-utc-offset":
        utils = sys.modules["django.db.backends.postgresql.utils"]
        _patch_django_postgresql_utils(utils)
        base.utc_tzinfo_factory = utils.utc_tzinfo_factory


# --------------------------------------------------------------------------
# 3.11: asyncio.coroutine
# --------------------------------------------------------------------------


def coroutine(func):
    """Decorator for generator-based coroutines: ``asyncio.coroutine`` on every Python.

    Python 3.11 removed ``asyncio.coroutine``; legacy views are written with it.
    A decorated generator function returns a generator-based coroutine that
    ``async def`` code can ``await`` and that can ``yield from`` both generator
    and native coroutines; a plain function is wrapped (an awaitable result is
    awaited); ``asyncio.iscoroutinefunction()`` is true for the result. On
    3.7-3.10 this is ``asyncio.coroutine`` without its DeprecationWarning.
    """
    import asyncio

    native = getattr(asyncio, "coroutine", None)
    if native is not None and getattr(native, _ROLE, None) is None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return native(func)
    return _coroutine_polyfill(func)


coroutine._async_app_compat_role = "asyncio-coroutine"


def _coroutine_polyfill(func):
    # Python 3.10's asyncio.coroutine without debug mode's CoroWrapper.
    import asyncio
    import collections.abc
    import functools
    import inspect
    import types

    if inspect.iscoroutinefunction(func):
        return func
    if inspect.isgeneratorfunction(func):
        coro = func
    else:

        @functools.wraps(func)
        def coro(*args, **kw):
            res = func(*args, **kw)
            if asyncio.isfuture(res) or inspect.isgenerator(res):
                res = yield from res
            else:
                try:
                    await_meth = res.__await__
                except AttributeError:
                    pass
                else:
                    if isinstance(res, collections.abc.Awaitable):
                        res = yield from await_meth()
            return res

    # The generator function itself must get CO_ITERABLE_COROUTINE, or it
    # cannot ``yield from`` a native coroutine.
    coro = types.coroutine(coro)
    marker = getattr(asyncio.coroutines, "_is_coroutine", None)
    if marker is not None:
        coro._is_coroutine = marker  # what asyncio.iscoroutinefunction() looks for
    else:  # pragma: no cover - a Python without the marker
        inspect.markcoroutinefunction(coro)
    return coro


def _patch_asyncio(asyncio):
    if not hasattr(asyncio, "coroutine"):
        asyncio.coroutine = coroutine
        if not hasattr(asyncio.coroutines, "coroutine"):
            asyncio.coroutines.coroutine = coroutine


# --------------------------------------------------------------------------


def apply():
    """Install the shims this Python needs; idempotent, safe from several copies.

    Imports neither Django nor asyncio: shims for modules not loaded yet wait
    for their import.
    """
    version = sys.version_info
    if version >= (3, 10):
        _when_imported("collections", "collections-abc-aliases", _patch_collections)
    if version >= (3, 11):
        _when_imported("gettext", "gettext-codeset", _patch_gettext)
        _when_imported("django.urls.resolvers", "url-regex-flags", _patch_url_resolvers)
        _when_imported("asyncio", "asyncio-coroutine", _patch_asyncio)
    # Not version-gated: the CVE-2021-32052 hole exists wherever urlsplit()
    # strips tab/CR/LF, 3.7.11+ included; the hook checks on Django import.
    _when_imported("django.core.validators", "url-validator", _patch_url_validator)
    # Not version-gated: psycopg2 2.9 exists for every Python here.
    _when_imported(
        "django.db.backends.postgresql.utils", "psycopg2-utc-offset", _patch_django_postgresql_utils
    )
    _when_imported(
        "django.db.backends.postgresql.base", "psycopg2-utc-offset", _patch_django_postgresql_base
    )
    if version >= (3, 12):
        _install_find_module_fallback()
        _patch_path_finder()
        _when_imported("zipimport", "zipimporter-find-module", _patch_zipimport)
        for name in _UTC_DATETIME_MODULES:
            _when_imported(name, "datetime-utc", _patch_datetime_global)
        _when_imported("django.http.response", "datetime-utc", _patch_set_cookie)
        _when_imported(
            "django.core.cache.backends.filebased", "glob-glob1", _patch_django_filebased_cache
        )
        _when_imported(
            "django.test.signals", "override-warning-stacklevel", _patch_django_test_signals
        )
        _when_imported("smtplib", "smtplib-keyfile", _patch_smtplib)
        _when_imported(
            "django.test.runner", "remote-test-result-duration", _patch_django_test_runner
        )
    if version >= (3, 13):
        _when_imported("django.core.mail.message", "mail-surrogates", _patch_django_mail_message)


def when_imported(name, key, func):
    """Run ``func(module)`` right after module ``name`` is imported (now, if it is).

    The post-import hook mechanism above, for other parts of async_app
    (:mod:`async_app.backports`, :mod:`async_app.speedups`); ``key`` makes a
    registration idempotent.
    """
    _when_imported(name, key, func)


def switched_on(variable):
    """False when environment ``variable`` is ``0``, ``false``, ``no`` or ``off`` (default: on).

    The switch of each layer of post-import hooks (``ASYNC_APP_DJANGO5_API``,
    ``ASYNC_APP_SPEEDUPS``).
    """
    import os

    return os.environ.get(variable, "1").strip().lower() not in ("0", "false", "no", "off")
