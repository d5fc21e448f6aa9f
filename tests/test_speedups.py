"""async_app.speedups: Django's own code, faster, with Django's results.

Each speedup is compared with Django 1.11's original on the same inputs: the
originals run in a subprocess with ``ASYNC_APP_SPEEDUPS=0`` (Django as it
is), the fast versions here.
"""

import json

import django.contrib.messages.storage
import django.core.handlers.wsgi
import django.http.request
import django.urls.base
import django.utils.encoding
import django.utils.module_loading
import pytest
from django.http.response import HttpResponseBase
from django.test import RequestFactory

from async_app import speedups

# Text, bytes, lazy text, non-text, None; reserved, unreserved, percent-escapes,
# non-ASCII, spaces and the characters each function keeps or quotes.
CORPUS = r"""
import json, sys
import async_app, django
django.setup()
from django.utils.encoding import escape_uri_path, iri_to_uri
from django.utils.functional import lazy
lazy_text = lazy(lambda: "/lazy ♥/?q=1", str)()
inputs = [
    "", "/", "/trivial-coroutine-hello/", "/a b/c d", "/I ♥ Django/", "/caf\u00e9/%C3%A9/",
    "/%/%2/%zz/%41", "/?q=1&r=2#frag", "/:@&=+$,-_.!~*'();?#[]", "/\t\n\r\x00\x7f",
    "delay=0.1&x=%20y", "/\U0001f600/", "~user/path", "/a/../b/./c",
    b"/bytes path/\xc3\xa9", b"/\xff\xfe", 12345, lazy_text,
]
def outcome(func, value):
    try:
        result = func(value)
    except Exception as exc:
        return ["raises", type(exc).__name__, str(exc)]
    return ["ok", result.decode("latin-1") if isinstance(result, bytes) else result]
results = {}
for func in (escape_uri_path, iri_to_uri):
    results[func.__name__] = [outcome(func, value) for value in inputs]
results["iri_to_uri(None)"] = outcome(iri_to_uri, None)
results["surrogate"] = [outcome(f, "/\udcff") for f in (escape_uri_path, iri_to_uri)]

from django.core.handlers import wsgi
environ = {"PATH_INFO": "/caf\u00c3\u00a9/", "SCRIPT_NAME": "", "EURO": "\u20ac", "1": "one"}
results["get_bytes_from_wsgi"] = [
    outcome(lambda args: wsgi.get_bytes_from_wsgi(environ, *args), args)
    for args in [("PATH_INFO", "/"), ("SCRIPT_NAME", ""), ("MISSING", "/"), ("MISSING", None),
                 ("MISSING", 7), (1, ""), ("EURO", "")]
]
results["path"] = [wsgi.get_path_info(environ), wsgi.get_script_name(environ)]

from django.utils.module_loading import import_string
def named(value):
    return getattr(value, "__module__", "?") + "." + getattr(value, "__qualname__", repr(value))
results["import_string"] = [
    outcome(lambda path: named(import_string(path)), path)
    for path in ["django.contrib.messages.storage.fallback.FallbackStorage", "os.path.join",
                 "collections.abc.Mapping", "json.decoder.JSONDecoder", "nodots", "",
                 "django.nonexistent.X", "os.nonexistent_attr", ".relative.x", 123,
                 "tests.django_project.settings.ROOT_URLCONF"]
]
from django.http import HttpResponse
response = HttpResponse()
def header(args):
    name, value = args
    response[name] = value
    return list(response._headers[name.lower()])
results["headers"] = [
    outcome(header, args)
    for args in [("X-Plain", "text/html; charset=utf-8"), ("X-Latin", "caf\u00e9"),
                 ("X-Euro", "\u20ac 5"), ("X-Bytes", b"caf\xc3\xa9"), ("X-Int", 12),
                 ("X-Newline", "a\nb"), ("X-Return", b"a\rb"), ("X-Ok", ""),
                 ("Caf\u00e9", "name not ascii"), ("X-Lazy", lazy_text)]
]
print(json.dumps(results, default=repr))
"""


def _corpus(run_python, **env):
    result = run_python(CORPUS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_fast_functions_answer_what_djangos_own_answer(run_python):
    djangos = _corpus(run_python, ASYNC_APP_SPEEDUPS="0")
    fast = _corpus(run_python, ASYNC_APP_SPEEDUPS="1")
    assert fast == djangos
    # The corpus exercises both outcomes and real quoting.
    assert djangos["surrogate"][0][:2] == ["raises", "UnicodeEncodeError"]
    assert ["ok", "/I%20%E2%99%A5%20Django/"] in djangos["escape_uri_path"]
    assert djangos["iri_to_uri(None)"] == ["ok", None]
    assert djangos["path"] == ["/caf\u00e9/", ""]
    assert ["ok", "None"] in djangos["get_bytes_from_wsgi"]
    assert djangos["get_bytes_from_wsgi"][-1][:2] == ["raises", "UnicodeEncodeError"]
    assert djangos["import_string"][0] == [
        "ok",
        "django.contrib.messages.storage.fallback.FallbackStorage",
    ]
    headers = djangos["headers"]
    assert headers[0] == ["ok", ["X-Plain", "text/html; charset=utf-8"]]
    assert headers[2] == ["ok", ["X-Euro", "=?utf-8?b?4oKsIDU=?="]]  # MIME-encoded
    assert [h[1] for h in headers[5:7]] == ["BadHeaderError", "BadHeaderError"]
    assert headers[8][:2] == ["raises", "UnicodeEncodeError"]
    assert [o[1] for o in djangos["import_string"][4:8]] == [
        "ImportError",
        "ImportError",
        "ModuleNotFoundError",
        "ImportError",
    ]


def test_every_django_module_that_imports_them_gets_the_fast_ones():
    assert django.utils.encoding.escape_uri_path is speedups.escape_uri_path
    assert django.utils.encoding.iri_to_uri is speedups.iri_to_uri
    assert django.http.request.escape_uri_path is speedups.escape_uri_path
    assert django.http.request.iri_to_uri is speedups.iri_to_uri
    assert django.urls.base.iri_to_uri is speedups.iri_to_uri
    assert django.core.handlers.wsgi.get_bytes_from_wsgi is speedups.get_bytes_from_wsgi
    assert django.utils.module_loading.import_string is speedups.import_string
    assert django.contrib.messages.storage.import_string is speedups.import_string
    assert HttpResponseBase._convert_to_charset is speedups.convert_to_charset


@pytest.mark.parametrize("value, fast", [("0", False), ("off", False), ("1", True)])
def test_environment_switch_leaves_django_as_it_is(value, fast, run_python):
    probe = (
        "import async_app, django.utils.encoding as e, django.http.request as r; "
        "from async_app import speedups as s; "
        "print(e.escape_uri_path is s.escape_uri_path, r.iri_to_uri is s.iri_to_uri)"
    )
    result = run_python(probe, ASYNC_APP_SPEEDUPS=value)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(fast), str(fast)]


def test_a_requests_full_path_is_quoted_as_django_quotes_it():
    request = RequestFactory().get("/I ♥ Django/", {"q": "a b", "next": "/é/"})
    assert request.get_full_path() == "/I%20%E2%99%A5%20Django/?q=a+b&next=%2F%C3%A9%2F"
    assert request.build_absolute_uri("/x y/") == "http://testserver/x%20y/"
