"""Tests for async_app.compat: each shim, the startup hook, the coroutine polyfill.

The Django-level checks run in subprocesses with settings of their own, twice:
``startup`` mode never imports async_app (the ``async_app_compat.pth`` startup
hook of the installed package must be enough, as for an untouched
``manage.py``), ``import`` mode disables site processing (``python -S``, so no
startup hook) and imports async_app from the checkout first. Each shim's test
asserts on what the probe saw in both modes. Every expectation holds on every
Python 3.7-3.13: where a Python needs no shim, Django works by itself.
"""

import asyncio
import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
import sysconfig
import textwrap
import warnings

import pytest

import async_app
from async_app import compat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
PY = sys.version_info[:2]

PROBE = r'''
import json, os, sys, traceback, warnings

mode, root, site_dirs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
results = {
    "preloaded": sorted(m for m in sys.modules
                        if m.split(".")[0] in ("async_app", "django", "asyncio")),
    "startup_module": "_async_app_compat_startup" in sys.modules,
}
if mode == "import":
    sys.path[:0] = [root]
    sys.path.extend(site_dirs)
    import async_app  # noqa: F401

import django
from django.conf import settings

settings.configure(
    SECRET_KEY="probe",
    USE_I18N=True,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    PASSWORD_HASHERS=["django.contrib.auth.hashers.CryptPasswordHasher"],
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
)
django.setup()
warnings.simplefilter("ignore")  # Django's and Python's deprecations are not the point


def check(fn):
    try:
        results[fn.__name__] = fn()
    except Exception:
        results[fn.__name__] = {"error": traceback.format_exc()}
    return fn


@check
def collections_abc():
    import collections
    import collections.abc
    from django.core.paginator import Paginator
    from django.db import models

    names = ("Iterator", "Iterable", "Mapping", "MutableMapping", "Sequence", "Callable")
    page = Paginator(list(range(10)), 3).page(2)
    field = models.CharField(max_length=1, choices=iter([("a", "A")]))
    return {
        "aliases": all(getattr(collections, n, None) is getattr(collections.abc, n) for n in names),
        "page": list(page),
        "choices": [list(c) for c in field.choices],
    }


@check
def gettext_codeset():
    from django.utils import translation

    out = {}
    for lang in ("fr", "de"):
        with translation.override(lang):
            out[lang] = str(translation.gettext("Yes"))
    return out


@check
def url_flags():
    import types
    from django.conf.urls import include, url
    from django.core.exceptions import ImproperlyConfigured
    from django.urls import resolve, reverse

    def view(request, *args, **kwargs):
        pass

    urls = types.ModuleType("probe_urls")
    urls.urlpatterns = [
        url(r"^(?i)CaseInsensitive/(\w+)/$", view, name="insensitive"),
        url(r"^(?i)shop/", include([url(r"^item/(?P<pk>\d+)/$", view, name="item")])),
        url(r"^plain/(?i)mid/$", view, name="mid"),
    ]
    match = resolve("/caseINSENSITIVE/fred/", urls)
    item = resolve("/SHOP/item/3/", urls)
    try:
        url(r"^(?P<x", view).regex
    except ImproperlyConfigured:
        bad = "ImproperlyConfigured"
    return {
        "resolve": [match.url_name, list(match.args)],
        "reverse": reverse("insensitive", args=["fred"], urlconf=urls),
        "include_resolve": [item.url_name, item.kwargs],
        "include_reverse": reverse("item", kwargs={"pk": 3}, urlconf=urls),
        "mid_resolve": resolve("/PLAIN/MID/", urls).url_name,
        "mid_reverse": reverse("mid", urlconf=urls),
        "pattern": urls.urlpatterns[0].regex.pattern,
        "bad_regex": bad,
    }


@check
def url_validator():
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    validate = URLValidator()
    out = {}
    for value in json.loads(os.environ["PROBE_URLS"]):
        try:
            validate(value)
            out[value] = "valid"
        except ValidationError:
            out[value] = "invalid"
        except Exception as exc:
            out[value] = type(exc).__name__
    return out


@check
def six_moves():
    import six
    from django.utils.six.moves import http_client
    from django.utils.six.moves.urllib.parse import urlparse
    from six.moves.urllib.parse import quote

    return {
        "django_six": urlparse("http://x/y?z").path,
        "django_http_client": http_client.__name__,
        "six": six.__version__,
        "six_quote": quote("a b"),
    }


@check
def multipart():
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import templates  # noqa: F401  (imports cgi)
    from django.test import RequestFactory

    request = RequestFactory().post(
        "/", {"name": "value", "upload": SimpleUploadedFile("a.txt", b"hello")})
    return {"name": request.POST["name"], "upload": request.FILES["upload"].read().decode()}


@check
def smtp():
    import socket
    import threading
    from django.core.mail.backends.smtp import EmailBackend

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(20)
    port = server.getsockname()[1]
    seen = []

    def handle(conn):  # a fake SMTP server that offers STARTTLS, then hangs up
        with conn, conn.makefile("rwb") as f:
            f.write(b"220 probe ESMTP\r\n")
            f.flush()
            for line in f:
                command = line.strip().upper().decode()
                seen.append(command.split()[0])
                if command.startswith("EHLO"):
                    f.write(b"250-probe\r\n250 STARTTLS\r\n")
                elif command == "STARTTLS":
                    f.write(b"220 go ahead\r\n")
                    f.flush()
                    break
                else:
                    f.write(b"250 ok\r\n")
                f.flush()

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    out = {}
    cases = {
        "starttls": dict(use_tls=True),
        "starttls_missing_cert": dict(use_tls=True, ssl_certfile="/nonexistent/cert.pem"),
        "ssl_missing_cert": dict(use_ssl=True, ssl_certfile="/nonexistent/cert.pem"),
    }
    for name, kwargs in cases.items():
        backend = EmailBackend(host="127.0.0.1", port=port, timeout=20, **kwargs)
        try:
            backend.open()
            out[name] = "opened"
        except Exception as exc:
            out[name] = type(exc).__name__
    server.close()
    out["seen"] = seen
    return out


@check
def mail():
    import email
    from django.core import mail as django_mail

    out = {}
    bodies = {"short": "Café crème, ünïcödé", "long": "é" * 600 + "\nfin"}
    for name, body in bodies.items():
        django_mail.send_mail("Sujet", body, "from@example.com", ["to@example.com"])
        message = django_mail.outbox[-1].message()
        text = message.as_string()
        parsed = email.message_from_bytes(message.as_bytes())
        out[name] = {
            "roundtrip": parsed.get_payload(decode=True).decode("utf-8") == body,
            "cte": parsed["Content-Transfer-Encoding"],
            "as_string": "Sujet" in text,
        }
    return out


@check
def crypt_hasher():
    from django.contrib.auth.hashers import check_password, identify_hasher, make_password

    encoded = make_password("l\xe8tmein", "ab", "crypt")
    return {
        "algorithm": identify_hasher(encoded).algorithm,
        "right": check_password("l\xe8tmein", encoded),
        "wrong": check_password("wrong", encoded),
    }


@check
def remote_test_result():
    import unittest
    from django.test.runner import RemoteTestRunner

    class Sample(unittest.TestCase):
        def test_ok(self):
            pass

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = RemoteTestRunner().run(unittest.TestSuite([Sample("test_ok")]))
    return {
        "events": [event[0] for event in result.events],
        "warnings": [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)],
    }


results["async_app_imported"] = "async_app" in sys.modules
print(json.dumps(results))
'''

# (url, expected) for URLValidator; the newline/tab/CR cases are Django
# 2.2.21's tests for CVE-2021-32052.
URL_CASES = [
    ("http://www.djangoproject.com/\n", "invalid"),
    ("http://[::ffff:192.9.5.5]\n", "invalid"),
    ("http://www.djangoproject.com/\r", "invalid"),
    ("http://[::ffff:192.9.5.5]\r", "invalid"),
    ("http://www.django\rproject.com/", "invalid"),
    ("http://[::\rffff:192.9.5.5]", "invalid"),
    ("http://\twww.djangoproject.com/", "invalid"),
    ("http://\t[::ffff:192.9.5.5]", "invalid"),
    ("http://[1.2.3.4]/", "invalid"),  # urlsplit raises ValueError on 3.11.4+
    ("http://[::1:2::3]:8080/", "invalid"),
    ("http://www.djangoproject.com/", "valid"),
    ("http://[::1]:8080/path", "valid"),
    ("http://\u4f8b\u5b50.\u6d4b\u8bd5/", "valid"),  # IDN
]


def _site_dirs():
    paths = sysconfig.get_paths()
    return sorted({paths["purelib"], paths["platlib"]})


def _run_probe(mode, cwd):
    command = [sys.executable]
    if mode == "import":
        command.append("-S")
    command += ["-c", PROBE, mode, ROOT, json.dumps(_site_dirs())]
    env = dict(os.environ, PROBE_URLS=json.dumps([url for url, _ in URL_CASES]))
    env.pop("PYTHONPATH", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.run(
        command,
        cwd=str(cwd),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module", params=["startup", "import"])
def probe(request, tmp_path_factory):
    """What the Django-level checks saw, in one of the two modes."""
    return _run_probe(request.param, tmp_path_factory.mktemp("probe-" + request.param))


def _result(probe, name):
    value = probe[name]
    assert not (isinstance(value, dict) and "error" in value), value["error"]
    return value


# ---------------------------------------------------------------- entry paths


def test_probe_entry_path(probe):
    """startup: the hook alone, no async_app; import: no hook, async_app first."""
    assert probe["preloaded"] == []  # the hook imports neither Django nor asyncio
    if probe["startup_module"]:  # startup mode
        assert probe["async_app_imported"] is False
    else:
        assert probe["async_app_imported"] is True


def test_startup_hook_is_installed_in_this_environment():
    """The venv running the tests has the .pth hook; it left no async_app behind."""
    assert os.path.exists(os.path.join(_site_dirs()[0], "async_app_compat.pth"))
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; print(sorted(m for m in sys.modules if 'async_app' in m))",
        ],
        stdout=subprocess.PIPE,
        universal_newlines=True,
        cwd="/",
        check=True,
    )
    assert proc.stdout.strip() == "['_async_app_compat_startup']"


def test_apply_imports_neither_django_nor_asyncio(tmp_path):
    code = textwrap.dedent("""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("_probe_compat", sys.argv[1])
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.apply()
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("django", "asyncio", "async_app")))
    """)
    proc = subprocess.run(
        [sys.executable, "-S", "-c", code, compat.__file__],
        cwd=str(tmp_path),
        stdout=subprocess.PIPE,
        universal_newlines=True,
        check=True,
    )
    assert proc.stdout.strip() == "[]"


def test_django_admin_subprocess_never_imports_async_app(tmp_path):
    """An untouched django-admin works through the startup hook alone."""
    (tmp_path / "probe_settings.py").write_text(
        textwrap.dedent("""
        SECRET_KEY = "probe"
        INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
        DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
        ROOT_URLCONF = "probe_urls"
        ALLOWED_HOSTS = ["testserver"]
    """)
    )
    (tmp_path / "probe_urls.py").write_text(
        textwrap.dedent("""
        from django.conf.urls import url
        from django.http import HttpResponse
        urlpatterns = [url(r"^(?i)hello/$", lambda request: HttpResponse("hi"), name="hello")]
    """)
    )
    env = dict(
        os.environ,
        PYTHONPATH=str(tmp_path),
        DJANGO_SETTINGS_MODULE="probe_settings",
        PYTHONWARNINGS="ignore",
    )
    admin = os.path.join(BIN, "django-admin")

    def run(*args):
        proc = subprocess.run(
            [admin] + list(args),
            cwd=str(tmp_path),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout + proc.stderr

    assert run("--version").strip() == "1.11.29"
    assert "System check identified no issues" in run("check")
    out = run(
        "shell",
        "-c",
        textwrap.dedent("""
        import sys
        from django.test import Client
        from django.urls import reverse
        from django.utils.six.moves.urllib.parse import urlparse
        response = Client().get("/HELLO/")
        print(response.status_code, reverse("hello"), "async_app" in sys.modules)
    """),
    )
    assert out.split() == ["200", "/hello/", "False"]


# ---------------------------------------------------------------- one test per shim


def test_collections_abc_aliases(probe):
    result = _result(probe, "collections_abc")
    assert result == {"aliases": True, "page": [3, 4, 5], "choices": [["a", "A"]]}


def test_gettext_codeset_and_output_charset(probe):
    assert _result(probe, "gettext_codeset") == {"fr": "Oui", "de": "Ja"}


def test_url_patterns_with_global_flags_resolve_and_reverse(probe):
    assert _result(probe, "url_flags") == {
        "resolve": ["insensitive", ["fred"]],
        "reverse": "/CaseInsensitive/fred/",
        "include_resolve": ["item", {"pk": "3"}],
        "include_reverse": "/shop/item/3/",
        "mid_resolve": "mid",
        "mid_reverse": "/plain/mid/",
        "pattern": r"^(?i)CaseInsensitive/(\w+)/$",  # as written, not hoisted
        "bad_regex": "ImproperlyConfigured",
    }


def test_url_validator_rejects_unsafe_chars_and_bad_brackets(probe):
    assert _result(probe, "url_validator") == dict(URL_CASES)


def test_six_moves_import(probe):
    result = _result(probe, "six_moves")
    assert result["django_six"] == "/y"
    assert result["django_http_client"] == "http.client"
    assert result["six"] == "1.10.0"  # django-wsgi's pin, find_module() only
    assert result["six_quote"] == "a%20b"


def test_cgi_multipart_requests(probe):
    assert _result(probe, "multipart") == {"name": "value", "upload": "hello"}


def test_smtp_backend_passes_keyfile_and_certfile(probe):
    result = _result(probe, "smtp")
    # STARTTLS was sent and the TLS handshake then failed against the fake
    # server (not a TypeError about keyfile=).
    assert result["starttls"] in (
        "SSLError",
        "SSLEOFError",
        "SSLZeroReturnError",
        "ConnectionResetError",
        "SMTPServerDisconnected",
    )
    assert "STARTTLS" in result["seen"]
    # The certfile really reaches the SSL context, as on Python 3.11.
    assert result["starttls_missing_cert"] == "FileNotFoundError"
    assert result["ssl_missing_cert"] == "FileNotFoundError"


def test_mail_with_non_ascii_bodies(probe):
    assert _result(probe, "mail") == {
        "short": {"roundtrip": True, "cte": "8bit", "as_string": True},
        "long": {"roundtrip": True, "cte": "quoted-printable", "as_string": True},
    }


def test_crypt_password_hasher(probe):
    assert _result(probe, "crypt_hasher") == {"algorithm": "crypt", "right": True, "wrong": False}


def test_parallel_runner_result_accepts_durations(probe):
    result = _result(probe, "remote_test_result")
    assert result["events"] == ["startTest", "addSuccess", "stopTest"]
    assert result["warnings"] == []


# ---------------------------------------------------------------- flag hoisting


@pytest.mark.parametrize(
    "pattern, expected",
    [
        (r"^(?i)abc/$", r"(?i)^abc/$"),
        (r"^abc/(?i)def$", r"(?i)^abc/def$"),
        (r"^a(?s)b(?im)c", r"(?ims)^abc"),
        (r"^(?i:scoped)(?s)x", r"(?s)^(?i:scoped)x"),
        (r"^(?P<x>a)(?u)b", r"(?u)^(?P<x>a)b"),
        (r"(?i)already/first", None),
        (r"^[(?i)]x", None),  # inside a character class
        (r"^[]()(?i)]x", None),  # ']' first in a class is a literal
        (r"^\(?i\)x", None),  # escaped parenthesis
        (r"^(?#comment)(?=look)(?:group)", None),
        (b"^(?i)bytes", None),
    ],
)
def test_hoist_global_flags(pattern, expected):
    hoisted = compat._hoist_global_flags(pattern)
    if expected is None:
        assert hoisted is pattern
    else:
        assert hoisted == expected


@pytest.mark.parametrize(
    "pattern, text, matches",
    [
        (r"^abc/(?i)DEF$", "ABC/def", True),
        (r"^x[(?i)]$", "xi", True),
        (r"^x[(?i)]$", "xI", False),
        (r"^a b(?x)$", "ab", True),
        (r"^a.(?s)$", "a\n", True),
    ],
)
def test_hoisted_patterns_match_like_python_before_3_11(pattern, text, matches):
    hoisted = compat._hoist_global_flags(pattern)
    assert bool(re.match(hoisted, text)) is matches
    if PY < (3, 11):  # the old semantics, straight from the old re module
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            assert bool(re.match(pattern, text)) is matches


def test_resolver_re_keeps_pattern_text_and_behaviour():
    fake_re = compat._GlobalFlagsRe(re)
    compiled = fake_re.compile(r"^shop/(?i)item/$")
    assert compiled.pattern == r"^shop/(?i)item/$"
    assert compiled.search("SHOP/ITEM/").group() == "SHOP/ITEM/"
    assert fake_re.compile(compiled) is compiled
    assert fake_re.search(r"^/" + r"(?i)abc$", "/ABC")
    assert fake_re.compile("^plain$").__class__ is re.compile("x").__class__
    assert fake_re.escape("a.b") == re.escape("a.b")


# ---------------------------------------------------------------- apply() itself


def _shim_state():
    import collections
    import gettext
    import smtplib

    state = {
        "meta_path": list(sys.meta_path),
        "translation": gettext.translation,
        "set_output_charset": getattr(gettext.NullTranslations, "set_output_charset", None),
        "starttls": smtplib.SMTP.starttls,
        "smtp_ssl_init": smtplib.SMTP_SSL.__init__,
        "Mapping": getattr(collections, "Mapping", None),
        "asyncio.coroutine": getattr(asyncio, "coroutine", None),
    }
    finder = compat._installed("post-import")
    if finder is not None:
        state["hooks"] = {name: list(entries) for name, entries in finder.hooks.items()}
    return state


def test_apply_is_idempotent_across_copies():
    """A second copy of compat.py (like the startup hook's) patches nothing twice."""
    compat.apply()
    before = _shim_state()
    spec = importlib.util.spec_from_file_location("_compat_copy_for_test", compat.__file__)
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    copy.apply()
    compat.apply()
    assert _shim_state() == before
    roles = [getattr(f, "_async_app_compat_role", None) for f in sys.meta_path]
    assert roles.count("post-import") == 1
    assert roles.count("find-module-fallback") == (1 if PY >= (3, 12) else 0)


def test_shims_applied_only_where_needed():
    """Each stdlib shim is there exactly when this Python lacks the thing."""
    import collections
    import gettext
    import smtplib

    role = "_async_app_compat_role"
    assert (getattr(gettext.translation, role, None) is not None) == (PY >= (3, 11))
    assert (getattr(smtplib.SMTP.starttls, role, None) is not None) == (PY >= (3, 12))
    assert (getattr(asyncio.coroutine, role, None) is not None) == (PY >= (3, 11))
    assert collections.Mapping is __import__("collections.abc").abc.Mapping  # 3.7-3.9: Python's own
    if PY >= (3, 11):
        wrapped = gettext.translation.__wrapped__
        assert "codeset" not in inspect.signature(wrapped).parameters  # wrapped once only


def test_find_module_fallback_adapts_legacy_finders():
    """A meta-path finder with only find_module() works on every Python."""
    import types

    class LegacyFinder:
        def find_module(self, fullname, path=None):
            return self if fullname == "_compat_legacy_module" else None

        def load_module(self, fullname):
            module = sys.modules.setdefault(fullname, types.ModuleType(fullname))
            module.answer = 42
            module.__loader__ = self
            return module

        def is_package(self, fullname):
            return False

    finder = LegacyFinder()
    sys.meta_path.append(finder)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ImportWarning)
            module = importlib.import_module("_compat_legacy_module")
        assert module.answer == 42
    finally:
        sys.meta_path.remove(finder)
        sys.modules.pop("_compat_legacy_module", None)


# ---------------------------------------------------------------- asyncio.coroutine


async def _native(value):
    await asyncio.sleep(0)
    return value


def _run(awaitable_factory):
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(awaitable_factory())
    finally:
        loop.close()


def test_coroutine_is_exported():
    assert async_app.coroutine is compat.coroutine
    assert asyncio.coroutine is not None  # legacy ``@asyncio.coroutine`` views


def test_coroutine_decorated_generator():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DeprecationWarning on any Python

        @async_app.coroutine
        def inner(x):
            yield from asyncio.sleep(0)
            return x * 2

        @async_app.coroutine
        def outer(x):
            a = yield from _native(x)  # a native coroutine
            b = yield from inner(x)  # a generator-based one
            return a + b

    assert asyncio.iscoroutinefunction(outer)
    assert inspect.isawaitable(outer(1))  # CO_ITERABLE_COROUTINE

    async def main():
        return await outer(5)

    assert _run(main) == 15
    assert _run(lambda: outer(2)) == 6  # run_until_complete of the bare coroutine

    async def via_ensure_future():
        return await asyncio.ensure_future(outer(3))

    assert _run(via_ensure_future) == 9


def test_coroutine_wraps_plain_functions():
    @async_app.coroutine
    def plain(x):
        return x + 1

    @async_app.coroutine
    def returns_awaitable(x):
        return _native(x)

    assert asyncio.iscoroutinefunction(plain)
    assert asyncio.iscoroutinefunction(returns_awaitable)

    async def main():
        return (await plain(1)), (await returns_awaitable(7))

    assert _run(main) == (2, 7)


def test_coroutine_leaves_native_coroutine_functions_alone():
    async def native():
        return 1

    assert async_app.coroutine(native) is native


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_legacy_asyncio_coroutine_view_style():
    @asyncio.coroutine
    def view(request):
        yield from asyncio.sleep(0)
        body = yield from _native(b"ok")
        return request, body

    assert asyncio.iscoroutinefunction(view)

    async def main():
        return await view("req")

    assert _run(main) == ("req", b"ok")
