"""async_app.compat: the 3.12+ shims for APIs Python removed or deprecated.

* path-entry finders (``sys.path_hooks``) that only have ``find_module()``,
  and ``zipimporter.find_module()`` (both gone in 3.12), exercised as Django
  1.11's own ``utils_tests.test_module_loading.CustomLoader`` does;
* ``datetime.utcnow()``/``utcfromtimestamp()`` in Django modules and
  ``glob.glob1`` in the file-based cache, which warn on 3.12/3.13: the same
  values and no warning.

Every test holds on every Python 3.7-3.13 (where no shim is needed, Python
does it by itself).
"""

import datetime
import os
import sys
import time
import warnings
import zipfile
import zipimport

import pytest

from async_app import compat

PY = sys.version_info[:2]


@pytest.fixture
def egg(tmp_path):
    """A zip archive holding package ``egg_pkg`` with module ``egg_pkg.mod``."""
    path = str(tmp_path / "test_egg.egg")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("egg_pkg/__init__.py", "")
        archive.writestr("egg_pkg/mod.py", "ANSWER = 42\n")
    yield path
    for name in ("egg_pkg.mod", "egg_pkg"):
        sys.modules.pop(name, None)


class FindModuleOnlyFinder:
    """A path hook/finder with only the legacy protocol (like Django's TestFinder)."""

    def __init__(self, path):
        self.importer = zipimport.zipimporter(path)

    def find_module(self, fullname):
        loader = self.importer.find_module(fullname)
        return None if loader is None else LegacyLoader(loader)


class LegacyLoader:
    def __init__(self, importer):
        self.importer = importer

    def load_module(self, name):
        module = self.importer.load_module(name)
        module.__loader__ = self
        return module


def test_find_module_only_path_entry_finder_loads(egg):
    sys.path_hooks.insert(0, FindModuleOnlyFinder)
    sys.path_importer_cache.clear()
    sys.path.insert(0, egg)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ImportWarning/DeprecationWarning of load_module()
            import egg_pkg.mod
        assert egg_pkg.mod.ANSWER == 42
        assert isinstance(egg_pkg.mod.__loader__, LegacyLoader)
        # The cache keeps the finder the hook made, as on 3.11.
        assert isinstance(sys.path_importer_cache[egg], FindModuleOnlyFinder)
    finally:
        sys.path.remove(egg)
        sys.path_hooks.remove(FindModuleOnlyFinder)
        sys.path_importer_cache.clear()


def test_zipimporter_find_module_and_find_loader(egg):
    importer = zipimport.zipimporter(egg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.10/3.11's own
        assert importer.find_module("egg_pkg") is importer
        assert importer.find_module("missing") is None
        assert importer.find_loader("egg_pkg") == (importer, [])
        assert importer.find_loader("missing") == (None, [])
    if PY >= (3, 12):
        assert importer.find_module.__func__._async_app_compat_role == "zipimporter-find-module"


def test_utc_datetime_stand_in_gives_the_same_values():
    real = datetime.datetime
    stand_in = compat._UTCDatetimeClass(real)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DeprecationWarning from the stand-in
        now = stand_in.utcnow()
        assert stand_in.utcfromtimestamp(0) == real(1970, 1, 1)
        assert stand_in.utcfromtimestamp(1500000000.5) == real(2017, 7, 14, 2, 40, 0, 500000)
    expected = real.now(datetime.timezone.utc).replace(tzinfo=None)
    assert now.tzinfo is None and abs(expected - now) < datetime.timedelta(seconds=5)
    assert type(now) is real
    assert isinstance(now, stand_in) and not isinstance(datetime.date.today(), stand_in)
    assert issubclass(real, stand_in)
    assert stand_in(2017, 1, 2) == real(2017, 1, 2) and stand_in.max is real.max
    module = compat._UTCDatetimeModule(datetime)
    assert module.timedelta is datetime.timedelta
    assert module.datetime.utcfromtimestamp(0) == real(1970, 1, 1)


def test_django_modules_call_no_deprecated_datetime_api(tmp_path, settings_use_tz):
    """timezone.now(), the DB cache's and the file session's UTC values, warning-free."""
    from django.contrib.sessions.backends import file as file_sessions
    from django.core.cache.backends import db as db_cache
    from django.core.files import storage
    from django.utils import timezone

    patched = [module.datetime for module in (timezone, db_cache, storage, file_sessions)]
    roles = {getattr(obj, "_async_app_compat_role", None) for obj in patched}
    assert roles == ({"datetime-utc"} if PY >= (3, 12) else {None})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        now = timezone.now()
        ts = storage.FileSystemStorage(location=str(tmp_path))._datetime_from_timestamp(0)
    assert [str(w.message) for w in caught] == []
    assert now.tzinfo is timezone.utc
    assert abs(datetime.datetime.now(datetime.timezone.utc) - now) < datetime.timedelta(seconds=5)
    assert ts == datetime.datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert timezone.is_aware(now) and not timezone.is_naive(now)
    assert timezone.localtime(now, timezone.utc) == now  # isinstance(value, datetime) inside


@pytest.fixture
def settings_use_tz():
    from django.test.utils import override_settings

    with override_settings(USE_TZ=True):
        yield


def test_glob1_matches_like_glob(tmp_path):
    for name in ("a.djcache", "b.djcache", ".hidden.djcache", "c.txt"):
        (tmp_path / name).write_text("x")
    assert sorted(compat._glob1(str(tmp_path), "*.djcache")) == ["a.djcache", "b.djcache"]
    assert compat._glob1(str(tmp_path), ".*.djcache") == [".hidden.djcache"]
    assert compat._glob1(str(tmp_path / "missing"), "*") == []
    import glob

    if hasattr(glob, "glob1"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            for pattern in ("*.djcache", ".*", "*"):
                assert sorted(compat._glob1(str(tmp_path), pattern)) == sorted(
                    glob.glob1(str(tmp_path), pattern)
                )


def test_file_based_cache_warns_nothing(tmp_path):
    from django.core.cache.backends.filebased import FileBasedCache

    cache = FileBasedCache(str(tmp_path / "cache"), {"OPTIONS": {"MAX_ENTRIES": 2}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(4):
            cache.set("key%d" % i, i)
            time.sleep(0.01)
        files = cache._list_cache_files()
        cache.clear()
    assert [str(w.message) for w in caught] == []
    assert 1 <= len(files) <= 3 and all(f.endswith(".djcache") for f in files)
    assert not [f for f in os.listdir(str(tmp_path / "cache")) if f.endswith(".djcache")]


def test_set_cookie_with_datetime_expires_warns_nothing():
    from django.http import HttpResponse
    from django.utils import timezone

    in_an_hour = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    cases = [
        in_an_hour.replace(tzinfo=None),
        in_an_hour.astimezone(timezone.get_fixed_timezone(-300)),
        datetime.datetime(2000, 1, 1),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cookies = []
        for expires in cases:
            response = HttpResponse()
            response.set_cookie("c", "v", expires=expires, httponly=True)
            cookies.append(response.cookies["c"])
        response.set_cookie("s", "v", expires="Thu, 01 Jan 2037 00:00:00 GMT")
    assert [str(w.message) for w in caught] == []
    for cookie in cookies[:2]:  # Django's own arithmetic: max-age rounds to the hour
        assert cookie["max-age"] in (3600, 3601) and cookie["expires"].endswith(" GMT")
        assert cookie["httponly"] is True and cookie["path"] == "/"
    assert cookies[2]["max-age"] == 0
    assert response.cookies["s"]["expires"] == "Thu, 01 Jan 2037 00:00:00 GMT"
    assert response.cookies["s"]["max-age"] == ""


def test_override_settings_warning_points_at_the_caller():
    """Django's warning for a complex setting names the override_settings line (PEP 709)."""
    from django.test import signals
    from django.test.utils import override_settings

    signals.COMPLEX_OVERRIDE_SETTINGS.add("COMPAT_TEST_WARN")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with override_settings(COMPAT_TEST_WARN="x"):
                pass
    finally:
        signals.COMPLEX_OVERRIDE_SETTINGS.discard("COMPAT_TEST_WARN")
    assert [str(w.message) for w in caught] == [
        "Overriding setting COMPAT_TEST_WARN can lead to unexpected behavior."
    ]
    assert os.path.splitext(caught[0].filename)[0] == os.path.splitext(__file__)[0]
